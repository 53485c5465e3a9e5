import { DEFAULT_EVENT_TIME_WINDOW, ingestPayload } from '@city/core';
import { telemetryTopic } from '@city/schema';
import { describe, expect, it } from 'vitest';
import { buildScenarioFleet, type ScenarioDevice } from './build-scenario-fleet.ts';
import { NORMAL_CONDITIONS } from './conditions.ts';
import { initialScenarioDeviceState, MESSAGE_FAULTS, planScenarioMessage, type MessageFault, type ScenarioDeviceState } from './plan-scenario-message.ts';
import { createRng } from './random.ts';
import { FaultsSchema, ScenarioSchema } from './scenario-schema.ts';

const WALL = Date.UTC(2026, 0, 15, 6, 0);
const scenario = ScenarioSchema.parse({
  name: 't',
  time: { start: 'now' },
  devices: { airquality: { count: 4, interval: '60s' }, water: { count: 4, interval: '60s', readingsPerMessage: 5 }, parking: { count: 3, interval: '60s' } },
});
const fleet = buildScenarioFleet(scenario);
const only = (fault: MessageFault) => FaultsSchema.parse({ [fault]: 1 });
const live = { wallNowMs: WALL, eventTimeWindow: DEFAULT_EVENT_TIME_WINDOW, maxPayloadBytes: 4096, utcOffsetMinutes: 300, conditionsAt: () => NORMAL_CONDITIONS };

/** Drives one device for `ticks` messages in live time, as the runner does. */
function drive(device: ScenarioDevice, fault: MessageFault | undefined, ticks: number, seed = 1) {
  const rng = createRng(seed);
  let state: ScenarioDeviceState = initialScenarioDeviceState();
  const messages = [];
  for (let k = 0; k < ticks; k++) {
    // One second apart, from a minute ago: inside the broker's window, never late.
    const ts = Array.from({ length: device.readingsPerMessage }, (_, i) => WALL - 60_000 + (k * device.readingsPerMessage + i) * 1000);
    const planned = planScenarioMessage({ ...live, device, state, ts, rng, ...(fault ? { faults: only(fault) } : {}) });
    state = planned.state;
    if (planned.message) messages.push(planned.message);
  }
  return messages;
}

/** What the broker's own judge (ingestPayload) makes of a payload. */
function judged(device: ScenarioDevice, payload: string) {
  const outcome = ingestPayload({ topic: telemetryTopic(device.family, device.deviceId), payload: Buffer.from(payload), clientId: device.deviceId, receivedAt: WALL }, { maxPayloadBytes: 4096, maxReadingsPerMessage: 1000 });
  if (outcome.kind !== 'ingest') throw new Error('not telemetry');
  return { stored: outcome.readings.length, late: outcome.readings.filter((r) => r.late === true).length, rejects: outcome.rejects.map((r) => r.reason).sort() };
}

describe('planScenarioMessage', () => {
  it('labels every fault with the outcome the broker then gives it (checked against ingestPayload)', () => {
    for (const fault of MESSAGE_FAULTS) {
      for (const device of fleet) {
        for (const message of drive(device, fault, 12)) {
          const expected = { stored: message.stored, late: message.late, rejects: [...message.rejects].sort() };
          expect(judged(device, message.payload), `${fault} ${device.deviceId}: ${message.payload.slice(0, 300)}`).toEqual(expected);
        }
      }
    }
  });

  it('clean messages are stored whole: one point per reading, not late', () => {
    for (const device of fleet) {
      for (const message of drive(device, undefined, 5)) {
        expect(message).toMatchObject({ stored: device.readingsPerMessage, late: 0, rejects: [], publishTwice: false });
        expect(message.fault).toBeUndefined();
      }
    }
  });

  it('never puts two stored readings of a device on one event time, whatever the faults', () => {
    const faults = FaultsSchema.parse({ outOfOrder: 0.2, late: 0.2, clockSkew: 0.2, schemaViolation: 0.1 });
    for (const device of fleet) {
      const rng = createRng(9);
      let state = initialScenarioDeviceState();
      const seen = new Set<number>();
      for (let k = 0; k < 200; k++) {
        const ts = Array.from({ length: device.readingsPerMessage }, (_, i) => WALL - 3_600_000 + (k * device.readingsPerMessage + i) * device.intervalMs);
        const planned = planScenarioMessage({ ...live, device, state, ts, rng, faults });
        state = planned.state;
        if (!planned.message) continue;
        const outcome = ingestPayload({ topic: telemetryTopic(device.family, device.deviceId), payload: Buffer.from(planned.message.payload), clientId: device.deviceId, receivedAt: WALL }, { maxPayloadBytes: 4096, maxReadingsPerMessage: 1000 });
        if (outcome.kind !== 'ingest') throw new Error('not telemetry');
        for (const r of outcome.readings) {
          expect(seen.has(r.ts), `${device.deviceId} ts ${r.ts} twice`).toBe(false);
          seen.add(r.ts);
        }
      }
    }
  });

  it("sends a held-back reading after the next message's readings (out of order), and a duplicate twice", () => {
    const device = fleet.find((d) => d.family === 'airquality')!;
    const messages = drive(device, 'outOfOrder', 4);
    // Tick 0 is held back whole (nothing to send); tick 1 goes with it, newest first; tick 2 is held back again.
    expect(messages).toHaveLength(2);
    const carried = (JSON.parse(messages[0]!.payload) as { ts: number }[]).map((r) => r.ts);
    expect(carried).toEqual([WALL - 59_000, WALL - 60_000]);
    expect(messages[0]).toMatchObject({ stored: 2, readings: 2 });
    expect(drive(device, 'duplicate', 1)[0]).toMatchObject({ publishTwice: true, stored: 1 });
  });

  it("late readings are older than the broker's late threshold and marked late; skewed clocks are judged like the broker", () => {
    const device = fleet.find((d) => d.family === 'water')!;
    const late = drive(device, 'late', 5);
    expect(late.every((m) => m.late === 1 && m.stored === device.readingsPerMessage + 1)).toBe(true);
    const skewed = drive(device, 'clockSkew', 40);
    const reasons = new Set(skewed.flatMap((m) => m.rejects));
    expect(reasons).toEqual(new Set(['timestamp_in_future', 'timestamp_too_old', 'invalid_timestamp']));
  });

  it('keeps a dark meter silent: no message while its power is out', () => {
    const device = fleet.find((d) => d.family === 'airquality')!;
    const planned = planScenarioMessage({ ...live, device, state: initialScenarioDeviceState(), ts: [WALL], rng: createRng(1), conditionsAt: () => ({ ...NORMAL_CONDITIONS, powerOut: true }) });
    expect(planned.message).toBeUndefined();
    expect(planned.dark).toBe(1);
  });
});
