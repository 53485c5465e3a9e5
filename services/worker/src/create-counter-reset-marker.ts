import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { cumulativeMetricsOf, type Reading } from '@city/schema';

/**
 * Cumulative meter counters (water m³, energy kWh…) never go back, except when a meter is reset, replaced, or its
 * register rolls over. A reading whose counter is below the device's previous reading (in event time) is stored as
 * sent, with `counterReset: true`, so a consumption computed across it (`non_negative_difference`, or a delta that
 * skips marked points) is never negative. Rejecting it would lose the new meter's readings until someone intervened.
 *
 * That needs the device's earlier readings, across messages and worker processes: per device and counter, Redis
 * keeps the last `historyLength` (event time, value) pairs in a sorted set. One Lua script per counter compares
 * each reading with the one just before it in event time and records it, atomically, so concurrent jobs of one
 * device cannot interleave. A decision depends only on that history, so a retried job (its write failed) or a
 * resent message marks exactly what the first attempt marked, and a late reading is judged against its own
 * predecessor without moving the latest value back. A reading older than everything kept has no predecessor and is
 * stored unmarked.
 */
export interface CounterResetMarkerOptions {
  redis: Redis;
  /** Key prefix shared with the queues. */
  prefix: string;
  /**
   * Readings kept per device and counter. A retried batch holding more readings of one meter than this judges
   * its oldest ones without their predecessor (unmarked).
   * @defaultValue 64
   */
  historyLength?: number;
  /**
   * A counter's history expires this long after its last reading (a meter that reports again later starts afresh).
   * @defaultValue 90 days
   */
  stateTtlMs?: number;
}

export interface CounterResetMarker {
  /** The readings, those whose counter went back marked `counterReset: true`. Throws on Redis errors (the job retries). */
  mark(readings: readonly Reading[]): Promise<Reading[]>;
}

// KEYS[1]: one counter's history, members "{ts}:{value}" scored by ts. ARGV[1]: TTL ms, ARGV[2]: history length,
// then pairs of event time (ms) and value, in event-time order. Returns 1 (went back) or 0 per pair.
const SCRIPT = `
local out = {}
for i = 3, #ARGV, 2 do
  local t, v = ARGV[i], ARGV[i + 1]
  local before = redis.call('ZREVRANGEBYSCORE', KEYS[1], '(' .. t, '-inf', 'LIMIT', 0, 1)
  local r = 0
  if before[1] and tonumber(v) < tonumber(string.match(before[1], ':(.*)$')) then r = 1 end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], t, t)
  redis.call('ZADD', KEYS[1], t, t .. ':' .. v)
  out[#out + 1] = r
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return out
`;
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

export function createCounterResetMarker({ redis, prefix, historyLength = 64, stateTtlMs = 90 * 86_400_000 }: CounterResetMarkerOptions): CounterResetMarker {
  return {
    async mark(readings) {
      // Per counter of a device, its readings in event-time order: a batch may hold several readings of one meter.
      const byCounter = new Map<string, Array<{ reading: Reading; value: number }>>();
      for (const reading of readings) {
        for (const metric of cumulativeMetricsOf(reading.family)) {
          const value = reading.metrics[metric];
          if (typeof value !== 'number') continue;
          const key = `${prefix}:counter:${reading.family}:${reading.deviceId}:${metric}`;
          let list = byCounter.get(key);
          if (!list) byCounter.set(key, (list = []));
          list.push({ reading, value });
        }
      }
      if (byCounter.size === 0) return [...readings];

      const keys = [...byCounter.keys()];
      const argsOf = (key: string) => {
        const list = byCounter.get(key)!.sort((a, b) => a.reading.ts - b.reading.ts);
        return [String(stateTtlMs), String(historyLength), ...list.flatMap(({ reading, value }) => [String(reading.ts), String(value)])];
      };
      const run = async (useSha: boolean) => {
        const pipeline = redis.pipeline();
        for (const key of keys) {
          if (useSha) pipeline.evalsha(SHA, 1, key, ...argsOf(key));
          else pipeline.eval(SCRIPT, 1, key, ...argsOf(key));
        }
        return (await pipeline.exec()) ?? [];
      };
      let results = await run(true);
      if (results.some(([err]) => err?.message.startsWith('NOSCRIPT'))) results = await run(false);

      const reset = new Set<Reading>();
      keys.forEach((key, i) => {
        const [err, decisions] = results[i] ?? [new Error('no reply')];
        if (err) throw err;
        (decisions as number[]).forEach((decision, j) => {
          if (decision === 1) reset.add(byCounter.get(key)![j]!.reading);
        });
      });
      return readings.map((r) => (reset.has(r) ? { ...r, counterReset: true as const } : r));
    },
  };
}
