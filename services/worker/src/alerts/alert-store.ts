import type { Redis, Result } from 'ioredis';
import { SilenceSchema, type Silence } from '@city/schema';
import type { AlertState } from '@city/core';

/**
 * Compare-and-set of one (rule, device) state: writes only if the version is still the one the caller read,
 * and keeps the open-alerts index in step in the same script, so no reader sees one without the other.
 * Closed states expire (a device gone for good leaves nothing behind); open ones never do.
 */
const CAS_SCRIPT = `
local v = redis.call('HGET', KEYS[1], 'v')
if (v or '0') ~= ARGV[1] then return 0 end
local nv = tonumber(ARGV[1]) + 1
redis.call('HSET', KEYS[1], 'v', nv, 's', ARGV[2])
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[2], ARGV[4])
  redis.call('PERSIST', KEYS[1])
else
  redis.call('SREM', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return nv
`;

/** Removes a device from a deadman schedule only if its deadline has not moved past `now` meanwhile. */
const ZREM_IF_DUE_SCRIPT = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    cityAlertCas(stateKey: string, openKey: string, version: string, state: string, open: string, member: string, ttlMs: string): Result<number, Context>;
    cityAlertZremIfDue(key: string, member: string, now: string): Result<number, Context>;
  }
}

export interface StoredState {
  /** '0' when the (rule, device) has no state yet. */
  version: string;
  state: AlertState | null;
  /** The stored JSON, to tell an unchanged state without serialising twice. */
  json: string | null;
}

export interface AlertStoreOptions {
  redis: Redis;
  prefix: string;
  /**
   * A closed (rule, device) state expires this long after its last change.
   * @defaultValue 30 days
   */
  closedStateTtlMs?: number;
}

export type AlertStore = ReturnType<typeof createAlertStore>;

/** The alert engine's Redis keys, all under `{prefix}:alerts:`. */
export function createAlertStore({ redis, prefix, closedStateTtlMs = 30 * 86_400_000 }: AlertStoreOptions) {
  if (!redis.cityAlertCas) {
    redis.defineCommand('cityAlertCas', { numberOfKeys: 2, lua: CAS_SCRIPT });
    redis.defineCommand('cityAlertZremIfDue', { numberOfKeys: 1, lua: ZREM_IF_DUE_SCRIPT });
  }
  const root = `${prefix}:alerts`;
  const keys = {
    state: (rule: string, device: string) => `${root}:state:${rule}:${device}`,
    open: `${root}:open`,
    deadman: (rule: string) => `${root}:deadman:${rule}`,
    silences: `${root}:silences`,
    published: (rule: string, device: string) => `${root}:published:${rule}:${device}`,
    lock: (rule: string, device: string) => `${root}:lock:${rule}:${device}`,
    reloadChannel: `${root}:reload`,
  };

  return {
    keys,
    async load(pairs: ReadonlyArray<{ rule: string; device: string }>): Promise<StoredState[]> {
      if (pairs.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const { rule, device } of pairs) pipeline.hmget(keys.state(rule, device), 'v', 's');
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, reply]) => {
        if (err) throw err;
        const [version, json] = reply as [string | null, string | null];
        return { version: version ?? '0', state: json === null ? null : (JSON.parse(json) as AlertState), json };
      });
    },
    /** Writes each state if its version is unchanged; true where it was written. */
    async commit(writes: ReadonlyArray<{ version: string; state: AlertState; json?: string }>): Promise<boolean[]> {
      if (writes.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const { version, state, json } of writes) {
        pipeline.cityAlertCas(keys.state(state.rule, state.device), keys.open, version, json ?? JSON.stringify(state), state.alert ? '1' : '0', `${state.rule}:${state.device}`, String(closedStateTtlMs));
      }
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([err, reply]) => {
        if (err) throw err;
        return Number(reply) > 0;
      });
    },
    /** Every (rule, device) with an open alert. */
    async openPairs(): Promise<Array<{ rule: string; device: string }>> {
      const members = await redis.smembers(keys.open);
      return members.map((m) => {
        const i = m.indexOf(':');
        return { rule: m.slice(0, i), device: m.slice(i + 1) };
      });
    },
    /** Devices whose deadline passed, per deadman rule. */
    async dueDevices(rule: string, now: number, limit = 1000): Promise<string[]> {
      return redis.zrangebyscore(keys.deadman(rule), '-inf', now, 'LIMIT', 0, limit);
    },
    async setDeadlines(rule: string, deadlines: ReadonlyMap<string, number>): Promise<void> {
      if (deadlines.size === 0) return;
      const args: Array<string | number> = [];
      for (const [device, deadline] of deadlines) args.push(deadline, device);
      // GT: a batch that arrives late never pulls a deadline back.
      await redis.zadd(keys.deadman(rule), 'GT', ...args);
    },
    async removeIfDue(rule: string, device: string, now: number): Promise<void> {
      await redis.cityAlertZremIfDue(keys.deadman(rule), device, String(now));
    },
    async silences(): Promise<Silence[]> {
      const all = await redis.hgetall(keys.silences);
      return Object.values(all).flatMap((json) => {
        const parsed = SilenceSchema.safeParse(JSON.parse(json));
        return parsed.success ? [parsed.data] : [];
      });
    },
    async addSilence(silence: Silence): Promise<void> {
      await redis.hset(keys.silences, silence.id, JSON.stringify(SilenceSchema.parse(silence)));
    },
    async removeSilence(id: string): Promise<boolean> {
      return (await redis.hdel(keys.silences, id)) > 0;
    },
    /** Drops silences that ended before `now`. */
    async pruneSilences(now: number): Promise<void> {
      const ended = (await this.silences()).filter((s) => (typeof s.until === 'number' ? s.until : Date.parse(s.until)) <= now).map((s) => s.id);
      if (ended.length > 0) await redis.hdel(keys.silences, ...ended);
    },
  };
}
