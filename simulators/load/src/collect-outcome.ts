import type { Redis } from 'ioredis';
import { FAMILY_SPECS, type Family, type ReasonCode } from '@city/schema';
import { ALWAYS_SENT_METRIC } from '@city/simulator';
import type { Tally } from './fleet-ledger.ts';
import { influxQuery, quoteIdentifier } from './influx-v1.ts';

/**
 * Points per device in the run's database, counted on a metric every simulated reading of the family carries.
 * A point is a (measurement, tags, time) key: a reading stored twice (a resend, a duplicate) counts once.
 */
export async function countStoredByDevice(url: string, db: string, families: readonly Family[]): Promise<{ byDevice: Map<string, number>; late: number }> {
  const statements = families.flatMap((family) => {
    const m = quoteIdentifier(FAMILY_SPECS[family].measurement);
    const f = quoteIdentifier(ALWAYS_SENT_METRIC[family]);
    return [`SELECT COUNT(${f}) FROM ${m} GROUP BY "device"`, `SELECT COUNT(${f}) FROM ${m} WHERE "late" = true`];
  });
  const results = await influxQuery(url, db, statements.join('; '));
  const byDevice = new Map<string, number>();
  let late = 0;
  results.forEach((rows, i) => {
    for (const row of rows) {
      const count = Number(row.count ?? 0);
      if (i % 2 === 0) byDevice.set(String(row.device), (byDevice.get(String(row.device)) ?? 0) + count);
      else late += count;
    }
  });
  return { byDevice, late };
}

/** Entries of the dead-letter stream `{prefix}:dead-letter`, by reason, read in pages. */
export async function countDeadLetters(redis: Redis, prefix: string): Promise<Tally<ReasonCode>> {
  const key = `${prefix}:dead-letter`;
  const counts: Tally<ReasonCode> = {};
  let start = '-';
  for (;;) {
    const rows = await redis.xrange(key, start, '+', 'COUNT', 5000);
    for (const [, fields] of rows) {
      const reason = fields[fields.indexOf('reason') + 1] as ReasonCode | undefined;
      if (reason !== undefined) counts[reason] = (counts[reason] ?? 0) + 1;
    }
    if (rows.length < 5000) return counts;
    start = `(${rows[rows.length - 1]![0]}`;
  }
}

/** Telemetry jobs BullMQ gave up on (their readings are not stored), and those still to do. */
export async function telemetryJobs(redis: Redis, prefix: string): Promise<{ failed: number; waiting: number; active: number; delayed: number }> {
  const base = `${prefix}:telemetry`;
  const [failed, waiting, active, delayed, prioritized] = await Promise.all([
    redis.zcard(`${base}:failed`),
    redis.llen(`${base}:wait`),
    redis.llen(`${base}:active`),
    redis.zcard(`${base}:delayed`),
    redis.zcard(`${base}:prioritized`),
  ]);
  return { failed, waiting: waiting + prioritized, active, delayed };
}

/** Deletes every key under the run's prefix (queues, dead letters, registry, alert state). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
