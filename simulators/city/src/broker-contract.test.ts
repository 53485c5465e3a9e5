import { describe, expect, it } from 'vitest';
import { ingestPayload } from '@city/core';
import { telemetryTopic } from '@city/schema';
import { buildFleet } from './build-fleet.ts';
import type { DeviceState } from './generate-reading.ts';
import { planMessage } from './plan-message.ts';
import { createRng } from './random.ts';

// The simulator's own labels are what the load test counts against: every planned message must get exactly the
// outcome it was planned for from the broker's real ingestion code.
describe('simulator ↔ broker contract', () => {
  it.each([
    { batchSize: 1, ts: 'epoch-ms' as const },
    { batchSize: 1, ts: 'none' as const },
    { batchSize: 3, ts: 'iso' as const },
  ])('planned messages (batch $batchSize, ts $ts) get exactly the planned readings and reject reason', ({ batchSize, ts }) => {
    const rng = createRng(7);
    const fleet = buildFleet({ devicesPerFamily: 3, seed: 7 });
    const states = new Map<string, DeviceState>();
    const mismatches: string[] = [];
    let now = Date.UTC(2026, 0, 15, 6);
    for (let i = 0; i < 3000; i++) {
      const device = fleet[i % fleet.length]!;
      now += 997;
      const plan = planMessage(device, states.get(device.deviceId) ?? {}, now, rng, {
        batchSize,
        invalidRate: 0.5,
        overThresholdRate: 0.1,
        reading: { timestamp: ts },
      });
      states.set(device.deviceId, plan.state);
      const outcome = ingestPayload({
        topic: telemetryTopic(device.family, device.deviceId),
        payload: new TextEncoder().encode(plan.payload),
        clientId: device.deviceId,
        receivedAt: now,
      });
      if (outcome.kind !== 'ingest') throw new Error('telemetry topics are always ingested');
      const got = { readings: outcome.readings.length, reasons: outcome.rejects.map((r) => r.reason) };
      const want = { readings: plan.readings, reasons: plan.invalid ? [plan.invalid] : [] };
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${plan.payload} → ${JSON.stringify(got)}, planned ${JSON.stringify(want)}`);
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });
});
