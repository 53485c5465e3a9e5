import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '@city/queue';
import type { Reading } from '@city/schema';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { createCounterResetMarker } from './create-counter-reset-marker.ts';

const water = (deviceId: string, ts: number, waterConsumption: number, extra: Reading['metrics'] = {}): Reading => ({
  family: 'water', deviceId, ts, receivedAt: ts, metrics: { waterConsumption, ...extra },
});
const marks = (readings: Reading[]) => readings.map((r) => r.counterReset === true);

describe('createCounterResetMarker (real Redis)', () => {
  const redis = createRedis(testEnv.redisUrl, 'worker');
  afterAll(() => redis.quit());
  const marker = () => createCounterResetMarker({ redis, prefix: uniqueName('counters') });

  it('marks a counter that went back, across batches, and leaves a rising one alone', async () => {
    const m = marker();
    expect(marks(await m.mark([water('w-1', 1000, 100), water('w-1', 2000, 100.5)]))).toEqual([false, false]);
    expect(marks(await m.mark([water('w-1', 3000, 0.2)]))).toEqual([true]); // a new meter
    expect(marks(await m.mark([water('w-1', 4000, 0.9)]))).toEqual([false]); // counting up again from there
  });

  it('orders a batch by event time per device, and keeps devices apart', async () => {
    const m = marker();
    const out = await m.mark([water('w-2', 3000, 5), water('w-3', 1000, 900), water('w-2', 1000, 10), water('w-2', 2000, 12)]);
    expect(marks(out)).toEqual([true, false, false, false]);
    expect(out.map((r) => r.metrics.waterConsumption)).toEqual([5, 900, 10, 12]); // stored as sent
  });

  it('decides a retried batch, or a resent reading, exactly as the first attempt did', async () => {
    const m = marker();
    await m.mark([water('w-4', 1000, 50)]);
    const batch = [water('w-4', 2000, 3), water('w-4', 3000, 4)];
    expect(marks(await m.mark(batch))).toEqual([true, false]);
    expect(marks(await m.mark(batch))).toEqual([true, false]);
    expect(marks(await m.mark([water('w-4', 2000, 3)]))).toEqual([true]);
  });

  it('judges a late reading against its own predecessor, without moving the latest value back', async () => {
    const m = marker();
    await m.mark([water('w-6', 1000, 10), water('w-6', 5000, 100)]);
    expect(marks(await m.mark([water('w-6', 3000, 5)]))).toEqual([true]); // below 10, its predecessor
    expect(marks(await m.mark([water('w-6', 4000, 60)]))).toEqual([false]);
    expect(marks(await m.mark([water('w-6', 6000, 99)]))).toEqual([true]); // still compared with 100
    expect(marks(await m.mark([water('w-6', 500, 1)]))).toEqual([false]); // nothing before it: not judged
  });

  it('keeps a bounded history per counter', async () => {
    const prefix = uniqueName('counters');
    const m = createCounterResetMarker({ redis, prefix, historyLength: 3 });
    await m.mark(Array.from({ length: 10 }, (_, i) => water('w-7', 1000 * (i + 1), i)));
    expect(await redis.zcard(`${prefix}:counter:water:w-7:waterConsumption`)).toBe(3);
    expect(await redis.pttl(`${prefix}:counter:water:w-7:waterConsumption`)).toBeGreaterThan(86_400_000);
  });

  it('judges each counter of a reading, and ignores readings without one', async () => {
    const m = marker();
    const e = (ts: number, imp: number, exp: number): Reading => ({ family: 'electricity', deviceId: 'e-1', ts, receivedAt: ts, metrics: { activeEnergyImport: imp, activeEnergyExport: exp, voltage: 230 } });
    await m.mark([e(1000, 10, 5)]);
    expect(marks(await m.mark([e(2000, 11, 1), { family: 'airquality', deviceId: 'a', ts: 1, receivedAt: 1, metrics: { pm25: 1 } }]))).toEqual([true, false]);
  });
});
