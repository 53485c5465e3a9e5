/**
 * The registry's writes, each one Lua script so the record, its index entry and the change notification happen
 * together: a broker never hears of a change that is not in Redis yet, nor misses one that is.
 */

/** KEYS: record, index. ARGV: channel, message, member, field, value, … → 1 added, 0 the record exists. */
const ADD = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

/** KEYS: record. ARGV: channel, message, n, n fields to delete, field, value, … → 1 updated, 0 no such record. */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + n)) end
if #ARGV > 3 + n then redis.call('HSET', KEYS[1], unpack(ARGV, 4 + n)) end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

/** KEYS: record, index. ARGV: channel, message, member → 1 deleted, 0 no such record. */
const DELETE = `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

/**
 * KEYS: device records. ARGV: now → how many were written. Only records that exist (a deleted device is not brought
 * back as a stub) and only forward in time (two brokers flushing out of order do not move it back).
 */
const TOUCH = `
local now = tonumber(ARGV[1])
local written = 0
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    local seen = tonumber(redis.call('HGET', key, 'lastSeenAt') or '0')
    if seen < now then
      redis.call('HSET', key, 'lastSeenAt', ARGV[1])
      written = written + 1
    end
  end
end
return written`;

export type Fields = Record<string, string>;
const flat = (fields: Fields) => Object.entries(fields).flat();

export interface Notice {
  channel: string;
  message: string;
}

/** `[script, numKeys, ...keys, ...args]`: spread into `redis.eval(...)` or `pipeline.eval(...)`. */
type EvalArgs = [string, number, ...string[]];

export const scripts = {
  add: (keys: [record: string, index: string], notice: Notice, member: string, fields: Fields): EvalArgs => [
    ADD, 2, ...keys, notice.channel, notice.message, member, ...flat(fields),
  ],
  update: (key: string, notice: Notice, set: Fields, del: readonly string[] = []): EvalArgs => [
    UPDATE, 1, key, notice.channel, notice.message, String(del.length), ...del, ...flat(set),
  ],
  delete: (keys: [record: string, index: string], notice: Notice, member: string): EvalArgs => [
    DELETE, 2, ...keys, notice.channel, notice.message, member,
  ],
  touch: (keys: readonly string[], now: number): EvalArgs => [TOUCH, keys.length, ...keys, String(now)],
};
