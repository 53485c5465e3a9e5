import { DEVICE_READING_SCHEMAS } from '@city/schema';
import { describe, expect, it } from 'vitest';
import { buildFleet } from './build-fleet.ts';
import type { DeviceState } from './generate-reading.ts';
import { OVER_THRESHOLD_SAMPLES } from './over-threshold-samples.ts';
import { planMessage } from './plan-message.ts';
import { createRng } from './random.ts';

const NOW = Date.UTC(2026, 0, 15, 3, 30);
const fleet = buildFleet({ devicesPerFamily: 2 });

describe('planMessage', () => {
  it('sends one valid reading per message by default', () => {
    const rng = createRng(1);
    for (const device of fleet) {
      const plan = planMessage(device, {}, NOW, rng);
      expect(plan).toMatchObject({ readings: 1, overThreshold: false });
      expect(plan.invalid).toBeUndefined();
      expect(DEVICE_READING_SCHEMAS[device.family].safeParse(JSON.parse(plan.payload)).success).toBe(true);
    }
  });

  it('batches readings as an array spread over the interval, carrying the device state through', () => {
    const device = fleet.find((d) => d.family === 'water')!;
    let state: DeviceState = {};
    const rng = createRng(2);
    let last = -Infinity;
    for (let tick = 0; tick < 20; tick++) {
      const plan = planMessage(device, state, NOW + tick * 10_000, rng, { batchSize: 5, intervalMs: 10_000 });
      state = plan.state;
      const batch = JSON.parse(plan.payload) as { ts: number; waterConsumption: number }[];
      expect(batch).toHaveLength(5);
      expect(plan.readings).toBe(5);
      for (const r of batch) {
        expect(DEVICE_READING_SCHEMAS.water.safeParse(r).success).toBe(true);
        expect(r.ts).toBeLessThanOrEqual(NOW + tick * 10_000);
        expect(r.waterConsumption).toBeGreaterThanOrEqual(last);
        last = r.waterConsumption;
      }
      expect(batch.map((r) => r.ts)).toEqual([...batch.map((r) => r.ts)].sort((a, b) => a - b));
    }
  });

  it('gives every reading of a batch its own ts, even when told to leave ts out', () => {
    const device = fleet[0]!;
    const single = JSON.parse(
      planMessage(device, {}, NOW, createRng(1), { reading: { timestamp: 'none' } }).payload,
    ) as object;
    expect(single).not.toHaveProperty('ts');
    const batch = JSON.parse(
      planMessage(device, {}, NOW, createRng(1), { batchSize: 3, reading: { timestamp: 'none' } }).payload,
    ) as object[];
    for (const r of batch) expect(r).toHaveProperty('ts');
  });

  it('mixes invalid and over-threshold messages at about the asked rates', () => {
    const rng = createRng(3);
    let invalid = 0;
    let over = 0;
    const n = 4000;
    for (let i = 0; i < n; i++) {
      const device = fleet[i % fleet.length]!;
      const plan = planMessage(device, {}, NOW, rng, { invalidRate: 0.1, overThresholdRate: 0.2 });
      if (plan.invalid !== undefined) {
        invalid++;
        expect(plan.readings).toBe(0);
        continue;
      }
      const reading = JSON.parse(plan.payload) as Record<string, number>;
      expect(DEVICE_READING_SCHEMAS[device.family].safeParse(reading).success).toBe(true);
      if (plan.overThreshold) {
        over++;
        const { metric, comparison, threshold } = OVER_THRESHOLD_SAMPLES[device.family];
        expect(comparison === 'above' ? reading[metric]! > threshold : reading[metric]! < threshold).toBe(true);
      }
    }
    expect(invalid / n).toBeGreaterThan(0.08);
    expect(invalid / n).toBeLessThan(0.12);
    expect(over / (n - invalid)).toBeGreaterThan(0.17);
    expect(over / (n - invalid)).toBeLessThan(0.23);
  });

  it('in a batch, a reading-level fault spoils exactly one reading; a payload-level one the whole message', () => {
    const rng = createRng(4);
    for (let i = 0; i < 300; i++) {
      const device = fleet[i % fleet.length]!;
      const plan = planMessage(device, {}, NOW, rng, { batchSize: 4, invalidRate: 1 });
      expect(plan.invalid).toBeDefined();
      if (plan.invalid === 'invalid_json') {
        expect(() => JSON.parse(plan.payload) as unknown).toThrow();
        expect(plan.readings).toBe(0);
      } else if (plan.invalid === 'empty_batch') {
        expect(plan.payload).toBe('[]');
        expect(plan.readings).toBe(0);
      } else {
        const batch = JSON.parse(plan.payload) as unknown[];
        const failing = batch.filter((r) => !DEVICE_READING_SCHEMAS[device.family].safeParse(r).success);
        expect(batch).toHaveLength(4);
        expect(failing).toHaveLength(1);
        expect(plan.readings).toBe(3);
      }
    }
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const rng = createRng(9);
      return fleet.map((d) => planMessage(d, {}, NOW, rng, { batchSize: 3, invalidRate: 0.3, overThresholdRate: 0.3 }));
    };
    expect(run()).toEqual(run());
  });
});
