import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { ingestPayload } from '@city/core';
import type { DeadLetterEntry } from '@city/schema';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { QUEUES } from './catalog.ts';
import { createRedis } from './create-redis.ts';
import { listDeadLetters } from './dead-letter-list.ts';
import { replayDeadLetters } from './dead-letter-replay.ts';
import { createDeadLetterStore } from './dead-letter-store.ts';

const now = Date.now();
const rejectsOf = (topic: string, payload: unknown, receivedAt = now): DeadLetterEntry[] => {
  const outcome = ingestPayload({ topic, payload: new TextEncoder().encode(JSON.stringify(payload)), clientId: topic.split('/')[3]!, receivedAt });
  if (outcome.kind !== 'ingest') throw new Error('expected ingest');
  return outcome.rejects;
};
const AQ = 'city/v1/airquality/aq-1/telemetry';
const W = 'city/v1/water/w-1/telemetry';

describe('dead-letter list and replay (real Redis, real BullMQ queue)', () => {
  const redis = createRedis(testEnv.redisUrl, 'producer', { enableOfflineQueue: true });
  const prefix = uniqueName('dl');
  const store = createDeadLetterStore({ redis, prefix });
  const telemetryQueue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
  const old = now - 10 * 86_400_000;

  beforeAll(async () => {
    await store.add(rejectsOf(AQ, { ts: old, pm25: 10 })); // too old under the default 7-day window
    await store.add(rejectsOf(AQ, { pm25: -3 })); // out of range: no fix makes it valid
    await store.add(rejectsOf(W, [{ ts: now - 1000, flow: 1 }, { ts: now - 500, flow: 'x' }])); // index 1, invalid_type
    await store.add([{ ...rejectsOf(W, { pm25: 1 })[0]!, truncated: true }]);
  });
  afterAll(async () => {
    await telemetryQueue.close();
    await redis.quit();
  });

  it('lists by reason, device and time, newest first, with counts by reason and device', async () => {
    const all = await listDeadLetters({ store });
    expect(all.entries.map((e) => e.reason)).toEqual(['unknown_field', 'invalid_type', 'out_of_range', 'timestamp_too_old']);
    expect(all.summary.byDevice).toEqual([
      { device: 'aq-1', count: 2, reasons: { out_of_range: 1, timestamp_too_old: 1 } },
      { device: 'w-1', count: 2, reasons: { invalid_type: 1, unknown_field: 1 } },
    ]);
    expect((await listDeadLetters({ store, filter: { device: 'w-1', reasons: ['invalid_type'] } })).entries).toEqual([expect.objectContaining({ index: 1, payload: `{"ts":${now - 500},"flow":"x"}` })]);
    expect((await listDeadLetters({ store, filter: { sinceMs: Date.now() + 60_000 } })).summary.total).toBe(0);
    expect(await listDeadLetters({ store, limit: 1, maxScan: 2 })).toMatchObject({ scanned: 2, complete: false, entries: [expect.objectContaining({ reason: 'unknown_field' })] });
  });

  it('replays what a fix makes valid once, and reports the rest', async () => {
    const entries = await store.list(10);
    const [truncated, invalidType, outOfRange, tooOld] = entries;
    const limits = { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000, maxAgeMs: 30 * 86_400_000 };
    const first = await replayDeadLetters({ store, telemetryQueue, ids: [tooOld!.id, outOfRange!.id, truncated!.id, '999-0', 'nonsense'], limits, now: () => now });
    expect(first.map((r) => [r.id, r.status])).toEqual([
      ['nonsense', 'not_found'], [tooOld!.id, 'replayed'], [outOfRange!.id, 'still_invalid'], [truncated!.id, 'not_replayable'], ['999-0', 'not_found'],
    ]);
    expect(first[2]?.rejects).toEqual([{ reason: 'out_of_range', detail: 'pm25 is below the minimum 0 µg/m³' }]);
    const job = await telemetryQueue.getJob(`replay-${tooOld!.id}`);
    expect(job?.data).toEqual({ readings: [{ family: 'airquality', deviceId: 'aq-1', ts: old, receivedAt: now, metrics: { pm25: 10 }, late: true }] });

    const again = await replayDeadLetters({ store, telemetryQueue, ids: [tooOld!.id], limits, now: () => now });
    expect(again).toEqual([{ id: tooOld!.id, status: 'already_replayed', readings: 1, jobId: `replay-${tooOld!.id}` }]);
    expect(await telemetryQueue.getJobCounts('waiting')).toEqual({ waiting: 1 });

    const byFilter = await replayDeadLetters({ store, telemetryQueue, filter: { device: 'w-1' }, now: () => now, dryRun: true });
    expect(byFilter.map((r) => r.status)).toEqual(['still_invalid', 'not_replayable']);
    expect(invalidType).toBeDefined();
  });
});
