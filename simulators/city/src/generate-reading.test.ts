import { DEVICE_READING_SCHEMAS, FAMILIES, type Family } from '@city/schema';
import { describe, expect, it } from 'vitest';
import { buildFleet, type SimDevice } from './build-fleet.ts';
import { generateReading, type DeviceState, type SimReading } from './generate-reading.ts';
import { OVER_THRESHOLD_SAMPLES } from './over-threshold-samples.ts';
import { createRng } from './random.ts';

const HOUR_MS = 3_600_000;
/** Local midnight (UTC+5) starting Thursday 2026-01-15. */
const THURSDAY_MIDNIGHT = Date.UTC(2026, 0, 14, 19, 0);
const fleet = buildFleet({ devicesPerFamily: 8 });
const ofFamily = (family: Family): SimDevice[] => fleet.filter((d) => d.family === family);

/** A day of readings every 10 minutes for each device, over several seeds and days. */
function simulate(
  devices: readonly SimDevice[],
  seeds = [1, 2, 3],
  days = [0, 3, 9],
): { device: SimDevice; reading: SimReading; hour: number }[] {
  const out: { device: SimDevice; reading: SimReading; hour: number }[] = [];
  for (const seed of seeds) {
    const rng = createRng(seed);
    for (const device of devices) {
      for (const day of days) {
        let state: DeviceState = {};
        for (let m = 0; m < 24 * 60; m += 10) {
          const r = generateReading(device, state, THURSDAY_MIDNIGHT + day * 24 * HOUR_MS + m * 60_000, rng);
          state = r.state;
          out.push({ device, reading: r.reading, hour: m / 60 });
        }
      }
    }
  }
  return out;
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const num = (r: SimReading, metric: string): number => r[metric] as number;

describe('generateReading', () => {
  it.each(FAMILIES)('%s: every reading passes the device contract, across seeds and times of day', (family) => {
    const samples = simulate(ofFamily(family));
    expect(samples.length).toBeGreaterThan(10_000);
    for (const { reading } of samples) {
      const result = DEVICE_READING_SCHEMAS[family].safeParse(reading);
      if (!result.success) throw new Error(`${JSON.stringify(reading)}: ${result.error.message}`);
    }
  });

  it('is deterministic: the same seed gives the same readings', () => {
    const run = (seed: number) => {
      const rng = createRng(seed);
      return fleet.map((d) => generateReading(d, {}, THURSDAY_MIDNIGHT + 8 * HOUR_MS, rng).reading);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('does not mutate the state it is given', () => {
    const [device] = ofFamily('water');
    const state: DeviceState = Object.freeze({ lastMs: THURSDAY_MIDNIGHT, waterConsumptionM3: 100 });
    const r = generateReading(device!, state, THURSDAY_MIDNIGHT + HOUR_MS, createRng(1));
    expect(state).toEqual({ lastMs: THURSDAY_MIDNIGHT, waterConsumptionM3: 100 });
    expect(r.state.waterConsumptionM3).toBeGreaterThan(100);
  });

  it.each([
    ['water', 'waterConsumption'],
    ['electricity', 'activeEnergyImport'],
    ['gas', 'gasConsumption'],
    ['heating', 'thermalEnergy'],
  ] as const)('%s: the cumulative %s never goes back, and grows over a day', (family, counter) => {
    for (const device of ofFamily(family)) {
      const rng = createRng(11);
      let state: DeviceState = {};
      const values: number[] = [];
      for (let i = 0; i < 24 * 60; i++) {
        // A clock that jumps back a little now and then must not run the meter backwards.
        const jitterMs = i % 97 === 0 ? -90_000 : 0;
        const r = generateReading(device, state, THURSDAY_MIDNIGHT + i * 60_000 + jitterMs, rng);
        state = r.state;
        values.push(num(r.reading, counter));
      }
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]!);
      expect(values.at(-1)!).toBeGreaterThan(values[0]!);
    }
  });

  it('traffic: weekday rush hours carry far more vehicles than the night, and speed falls as occupancy rises', () => {
    const samples = simulate(ofFamily('traffic'), [1, 2], [0]);
    const at = (from: number, to: number) => samples.filter((s) => s.hour >= from && s.hour < to).map((s) => s.reading);
    const morningRush = at(8, 9);
    const eveningRush = at(18, 19);
    const night = at(2, 4);
    expect(mean(morningRush.map((r) => num(r, 'intensity')))).toBeGreaterThan(
      4 * mean(night.map((r) => num(r, 'intensity'))),
    );
    expect(mean(eveningRush.map((r) => num(r, 'intensity')))).toBeGreaterThan(
      4 * mean(night.map((r) => num(r, 'intensity'))),
    );
    expect(mean(morningRush.map((r) => num(r, 'occupancy')))).toBeGreaterThan(
      mean(night.map((r) => num(r, 'occupancy'))),
    );
    expect(mean(morningRush.map((r) => num(r, 'averageVehicleSpeed')))).toBeLessThan(
      mean(night.map((r) => num(r, 'averageVehicleSpeed'))),
    );
    expect(morningRush.filter((r) => r.congested === true).length).toBeGreaterThan(
      night.filter((r) => r.congested === true).length,
    );

    const all = samples.map((s) => s.reading);
    const busy = all.filter((r) => num(r, 'occupancy') > 0.6).map((r) => num(r, 'averageVehicleSpeed'));
    const free = all.filter((r) => num(r, 'occupancy') < 0.2).map((r) => num(r, 'averageVehicleSpeed'));
    expect(mean(busy)).toBeLessThan(mean(free) / 2);
  });

  it('air quality: a winter in Almaty — pm10 above pm25, PM in the tens, frost, humidity as a fraction', () => {
    const readings = simulate(ofFamily('airquality')).map((s) => s.reading);
    for (const r of readings) {
      expect(num(r, 'pm10')).toBeGreaterThan(num(r, 'pm25'));
      expect(num(r, 'temperature')).toBeGreaterThanOrEqual(-15);
      expect(num(r, 'temperature')).toBeLessThanOrEqual(5);
      expect(num(r, 'relativeHumidity')).toBeGreaterThan(0);
      expect(num(r, 'relativeHumidity')).toBeLessThanOrEqual(1);
    }
    const pm25 = mean(readings.map((r) => num(r, 'pm25')));
    expect(pm25).toBeGreaterThan(10);
    expect(pm25).toBeLessThan(100);
    expect(mean(readings.map((r) => num(r, 'temperature')))).toBeLessThan(0);
    expect(readings.some((r) => r.no2 !== undefined)).toBe(true); // reference stations measure gases too
  });

  it('water: pressure 3–5 bar; flow peaks in the morning and evening', () => {
    const samples = simulate(ofFamily('water'));
    for (const { reading } of samples) {
      expect(num(reading, 'pressure')).toBeGreaterThanOrEqual(3);
      expect(num(reading, 'pressure')).toBeLessThanOrEqual(5);
    }
    const flowAt = (from: number, to: number) =>
      mean(samples.filter((s) => s.hour >= from && s.hour < to).map((s) => num(s.reading, 'flow')));
    expect(flowAt(7, 8)).toBeGreaterThan(2 * flowAt(2, 4));
    expect(flowAt(20, 21)).toBeGreaterThan(2 * flowAt(2, 4));
  });

  it('electricity: 230 V within a few percent, 50 Hz within 0.05, power = V·I·cosφ', () => {
    for (const { reading } of simulate(ofFamily('electricity'))) {
      expect(Math.abs(num(reading, 'voltage') - 230)).toBeLessThanOrEqual(230 * 0.04);
      expect(Math.abs(num(reading, 'frequency') - 50)).toBeLessThanOrEqual(0.05);
      const power = num(reading, 'voltage') * num(reading, 'current') * num(reading, 'powerFactor');
      expect(Math.abs(num(reading, 'activePower') - power) / power).toBeLessThan(0.01);
    }
  });

  it('over-threshold readings clearly cross the sample rules; normal readings never do', () => {
    for (const family of FAMILIES) {
      const { metric, comparison, threshold } = OVER_THRESHOLD_SAMPLES[family];
      const crosses = (v: number) => (comparison === 'above' ? v > threshold : v < threshold);
      const rng = createRng(21);
      for (const device of ofFamily(family)) {
        for (let h = 0; h < 24; h++) {
          const r = generateReading(device, {}, THURSDAY_MIDNIGHT + h * HOUR_MS, rng, { overThreshold: true }).reading;
          expect(DEVICE_READING_SCHEMAS[family].safeParse(r).success).toBe(true);
          expect(crosses(num(r, metric)), `${family} ${metric}=${String(r[metric])}`).toBe(true);
        }
      }
      for (const { reading } of simulate(ofFamily(family), [4], [0, 5]))
        expect(crosses(num(reading, metric))).toBe(false);
    }
  });

  it('writes ts as epoch ms, ISO 8601 or not at all, and the district unless told not to', () => {
    const [device] = fleet;
    const at = THURSDAY_MIDNIGHT + 8 * HOUR_MS + 123;
    const rng = createRng(1);
    expect(generateReading(device!, {}, at, rng).reading.ts).toBe(at);
    const iso = generateReading(device!, {}, at, rng, { timestamp: 'iso' }).reading;
    expect(iso.ts).toBe('2026-01-15T03:00:00.123Z');
    expect(DEVICE_READING_SCHEMAS[device!.family].safeParse(iso).success).toBe(true);
    const bare = generateReading(device!, {}, at, rng, { timestamp: 'none', includeDistrict: false }).reading;
    expect(bare).not.toHaveProperty('ts');
    expect(bare).not.toHaveProperty('district');
    expect(DEVICE_READING_SCHEMAS[device!.family].safeParse(bare).success).toBe(true);
  });
});
