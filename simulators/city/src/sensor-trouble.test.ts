import { DEVICE_READING_SCHEMAS, FAMILIES } from '@city/schema';
import { describe, expect, it } from 'vitest';
import { buildFleet } from './build-fleet.ts';
import { generateReading, type DeviceState } from './generate-reading.ts';
import { createRng } from './random.ts';
import { applySensorTrouble, DRIFT, type SensorTroubleState } from './sensor-trouble.ts';

const T0 = Date.UTC(2026, 0, 14, 6);
const fleet = buildFleet({ devicesPerFamily: 1 });

function run(device: (typeof fleet)[number], trouble: { stuckFromReading?: number; drifting: boolean }, readings: number, stepMs: number) {
  let state: DeviceState = {};
  let t: SensorTroubleState = { readings: 0 };
  const rng = createRng(2);
  const out = [];
  for (let k = 0; k < readings; k++) {
    const g = generateReading(device, state, T0 + k * stepMs, rng);
    state = g.state;
    const r = applySensorTrouble({ family: device.family, drifting: trouble.drifting, ...(trouble.stuckFromReading !== undefined ? { stuckFromReading: trouble.stuckFromReading } : {}) }, t, g.reading);
    t = r.state;
    out.push(r.reading);
  }
  return out;
}

describe('applySensorTrouble', () => {
  it('a frozen sensor repeats its values from the reading it stuck at, with fresh timestamps', () => {
    for (const device of fleet) {
      const readings = run(device, { stuckFromReading: 3, drifting: false }, 10, 60_000);
      const { ts: _a, ...frozen } = readings[3]!;
      for (const r of readings.slice(4)) {
        const { ts, ...values } = r;
        expect(values).toEqual(frozen);
        expect(ts).toBeGreaterThan(readings[3]!.ts as number);
      }
      expect(readings[2]).not.toEqual({ ...readings[3], ts: readings[2]!.ts });
    }
  });

  it('a drifting sensor wanders away from the truth and stays valid', () => {
    for (const family of FAMILIES) {
      const device = fleet.find((d) => d.family === family)!;
      const honest = run(device, { drifting: false }, 48, 3_600_000);
      const drifting = run(device, { drifting: true }, 48, 3_600_000);
      const { metric, perHour } = DRIFT[family];
      const gap = (drifting[47]![metric] as number) - (honest[47]![metric] as number);
      expect(Math.sign(gap), `${family} ${metric}`).toBe(Math.sign(perHour));
      expect(Math.abs(gap)).toBeGreaterThan(Math.abs(perHour) * 20);
      for (const r of drifting) expect(DEVICE_READING_SCHEMAS[family].safeParse(r).success, `${family}: ${JSON.stringify(r)}`).toBe(true);
    }
  });
});
