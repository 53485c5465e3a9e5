import { describe, expect, it } from 'vitest';
import { buildScenarioFleet } from './build-scenario-fleet.ts';
import { conditionsAt, episodeMemberships, episodeShape, resolveEpisodes } from './episode-conditions.ts';
import { generateReading } from './generate-reading.ts';
import { createRng } from './random.ts';
import { ScenarioSchema } from './scenario-schema.ts';

const HOUR = 3_600_000;
const START = Date.parse('2026-01-14T15:00:00+05:00');
const scenario = ScenarioSchema.parse({
  name: 'episodes',
  seed: 4,
  time: { start: '2026-01-14T15:00:00+05:00', acceleration: 60 },
  devices: { airquality: { count: 40, interval: '60s' }, weather: { count: 8, interval: '60s' }, heating: { count: 16, interval: '5m' }, electricity: { count: 40, interval: '60s' } },
  episodes: [
    { kind: 'smog', districts: ['medeu', 'bostandyk'], from: '+1h', duration: '10h', rise: '2h', pm25Peak: 320 },
    { kind: 'cold-snap', from: '+12h', duration: '20h', temperatureDropC: 18 },
    { kind: 'power-outage', share: 0.25, from: '+2h', duration: '1h' },
  ],
});
const fleet = buildScenarioFleet(scenario);
const episodes = resolveEpisodes(scenario.episodes, START);
const members = episodeMemberships(fleet, episodes, scenario);

describe('episodes', () => {
  it('rise, hold and clear on their schedule', () => {
    expect(episodeShape(START, START + HOUR, START + 3 * HOUR, HOUR / 2)).toBe(0);
    expect(episodeShape(START + HOUR + HOUR / 4, START + HOUR, START + 3 * HOUR, HOUR / 2)).toBeCloseTo(0.5);
    expect(episodeShape(START + 2 * HOUR, START + HOUR, START + 3 * HOUR, HOUR / 2)).toBe(1);
    expect(episodeShape(START + 3 * HOUR, START + HOUR, START + 3 * HOUR, HOUR / 2)).toBe(0);
  });

  it('smog: PM2.5 in the hundreds for hours in the episode districts, tens elsewhere', () => {
    const pm25 = (deviceId: string, t: number) => {
      const device = fleet.find((d) => d.deviceId === deviceId)!;
      return generateReading(device, {}, t, createRng(t), { conditions: conditionsAt(t, members.get(deviceId) ?? [], 0) }).reading.pm25 as number;
    };
    const inSmog = fleet.filter((d) => d.family === 'airquality' && ['medeu', 'bostandyk'].includes(d.district));
    const outside = fleet.filter((d) => d.family === 'airquality' && !['medeu', 'bostandyk'].includes(d.district));
    expect(inSmog.length).toBeGreaterThan(0);
    for (let h = 3; h <= 9; h++) {
      const t = START + h * HOUR;
      for (const d of inSmog) expect(pm25(d.deviceId, t)).toBeGreaterThan(200);
      for (const d of outside) expect(pm25(d.deviceId, t)).toBeLessThan(151);
    }
    // Inversion: the wind dies down at the weather stations in the smog.
    const station = fleet.find((d) => d.family === 'weather' && members.has(d.deviceId));
    if (station) expect(conditionsAt(START + 5 * HOUR, members.get(station.deviceId)!, 0).inversion).toBe(true);
  });

  it('cold snap: outdoor temperatures fall, and the district heating supply rises with them', () => {
    const station = fleet.find((d) => d.family === 'weather')!;
    const substation = fleet.find((d) => d.family === 'heating')!;
    // The same instants and noise, with and without the snap: the difference is the episode's alone.
    const read = (device: typeof station, metric: string, t: number, snap: boolean) =>
      generateReading(device, {}, t, createRng(t), { conditions: conditionsAt(t, snap ? (members.get(device.deviceId) ?? []) : [], 0) }).reading[metric] as number;
    for (let h = 17; h <= 27; h += 2) {
      const t = START + h * HOUR; // the snap's plateau: it sets in over its first fifth, lifts over its last
      expect(read(station, 'temperature', t, true) - read(station, 'temperature', t, false)).toBeCloseTo(-18, 0);
      expect(read(substation, 'outdoorTemperature', t, true) - read(substation, 'outdoorTemperature', t, false)).toBeCloseTo(-18, 0);
      expect(read(substation, 'supplyTemperature', t, true)).toBeGreaterThan(read(substation, 'supplyTemperature', t, false) + 15);
    }
    expect(read(station, 'temperature', START + 6 * HOUR, true)).toBe(read(station, 'temperature', START + 6 * HOUR, false));
  });

  it('power outage: a seeded share of the meters goes dark, the same ones every time', () => {
    const meters = fleet.filter((d) => d.family === 'electricity');
    const dark = meters.filter((d) => conditionsAt(START + 2.5 * 3_600_000, members.get(d.deviceId) ?? [], 0).powerOut);
    expect(dark.length).toBeGreaterThan(meters.length * 0.1);
    expect(dark.length).toBeLessThan(meters.length * 0.45);
    expect(episodeMemberships(fleet, episodes, scenario)).toEqual(members);
    for (const d of dark) expect(conditionsAt(START + 3.5 * HOUR, members.get(d.deviceId)!, 0).powerOut).toBe(false);
  });

  it('without episodes, a device lives in the scenario climate only', () => {
    expect(conditionsAt(START, [], -8).temperatureOffsetC).toBe(-8);
    expect(conditionsAt(START, [], 0).smogPm25).toBe(0);
  });
});
