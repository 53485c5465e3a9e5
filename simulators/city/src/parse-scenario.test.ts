import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseScenario } from './parse-scenario.ts';

const scenarios = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../scenarios');

describe('parseScenario', () => {
  it('accepts every shipped scenario', () => {
    const files = readdirSync(scenarios);
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      const parsed = parseScenario(readFileSync(path.join(scenarios, file), 'utf8'), file);
      expect(parsed.ok ? [] : parsed.problems, file).toEqual([]);
    }
  });

  it('reads durations and instants into milliseconds, and fills the defaults', () => {
    const parsed = parseScenario(
      JSON.stringify({ name: 'x', time: { start: '2026-01-14T15:00:00+05:00', acceleration: 60 }, devices: { water: { count: 3, interval: '5m' } }, episodes: [{ kind: 'water-leak', from: '+90m', duration: '2.5h' }] }),
      'x.json',
    );
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    const s = parsed.scenario;
    expect(s.time.start).toEqual({ kind: 'absolute', ms: Date.UTC(2026, 0, 14, 10) });
    expect(s.devices.water).toEqual({ count: 3, interval: 300_000, readingsPerMessage: 1 });
    expect(s.episodes[0]).toMatchObject({ from: { kind: 'offset', ms: 5_400_000 }, duration: 9_000_000, share: 1, leakLph: 400, expectWithin: 3_600_000 });
    expect(s).toMatchObject({ seed: 1, qos: 1, inFlightWindow: 8, utcOffsetMinutes: 300 });
    expect(s.faults.malformedJson).toBe(0);
  });

  it('lists every problem at once, each with its path and the value found', () => {
    const yaml = `
name: Bad Name
time: { start: now, acceleration: 10 }
devices:
  airquality: { count: 5, interval: 500ms }
  trams: { count: 1, interval: 60s }
episodes:
  - { kind: smog, from: tomorrow, duration: 2h, pm25Peak: 20, districts: [medeu, downtown] }
  - { kind: meteor, from: +1h, duration: 1h }
faults: { malformedJson: 0.6, oversize: 0.6, typo: 1 }
`;
    const parsed = parseScenario(yaml, 'bad.yaml');
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.problems;
    const expectOne = (pattern: RegExp) => expect(problems.some((p) => pattern.test(p)), `${pattern} in\n${problems.join('\n')}`).toBe(true);
    expectOne(/^bad\.yaml: name: lowercase letters, digits and - \(got "Bad Name"\)$/);
    expectOne(/^bad\.yaml: devices\.airquality\.interval: must be at least 1s \(got "500ms"\)$/);
    expectOne(/^bad\.yaml: devices: Unrecognized key: "trams"$/);
    expectOne(/^bad\.yaml: episodes\.0\.from: must be ISO 8601 with a zone .* \(got "tomorrow"\)$/);
    expectOne(/^bad\.yaml: episodes\.0\.pm25Peak: .*50/);
    expectOne(/^bad\.yaml: episodes\.1\.kind: /);
    expectOne(/^bad\.yaml: faults: the per-message fault rates add up to 1\.2; at most 1/);
    expectOne(/^bad\.yaml: faults: Unrecognized key: "typo"$/);
  });

  it('refuses an accelerated clock that starts now, and episode districts the scenario does not have', () => {
    const parsed = parseScenario(
      JSON.stringify({ name: 'x', districts: ['medeu'], time: { start: 'now', acceleration: 60 }, devices: { traffic: { count: 2, interval: '60s' } }, episodes: [{ kind: 'traffic-jam', districts: ['turksib'], from: '+1h', duration: '1h' }, { kind: 'smog', from: '+1h', duration: '1h', pm25Peak: 300 }] }),
      'x.json',
    );
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      'x.json: time.acceleration: must be 1 with start "now": simulated time would run into the future (start in the past, e.g. "now-2d", to accelerate) (got 60)',
      `x.json: episodes.0.districts.0: "turksib" is not one of the scenario's districts (medeu) (got "turksib")`,
      'x.json: episodes.1.kind: smog acts on airquality, weather, and the scenario has none of those devices (got "smog")',
    ]);
  });

  it('says which format failed to parse', () => {
    expect(parseScenario('{ nope', 'a.json')).toMatchObject({ ok: false, problems: [expect.stringMatching(/^a\.json: not valid JSON: /)] });
    expect(parseScenario('a: [', 'a.yaml')).toMatchObject({ ok: false, problems: [expect.stringMatching(/^a\.yaml: not valid YAML: /)] });
  });
});
