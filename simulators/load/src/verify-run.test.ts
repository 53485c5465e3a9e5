import { describe, expect, it } from 'vitest';
import type { AlertRule } from '@city/schema';
import { buildScenarioFleet, episodeMemberships, resolveEpisodes, ScenarioSchema } from '@city/simulator';
import { deadmanNeedsMs, expectAlerts } from './expected-alerts.ts';
import { emptyLedger } from './fleet-ledger.ts';
import { verifyRun, type ObservedOutcome } from './verify-run.ts';

const devices = ['a', 'b', 'c'];
function ledger() {
  const l = emptyLedger(3);
  l.ackedStoredByDevice.set([10, 20, 30]);
  l.ackedPoints = 60;
  l.ackedLate = 2;
  l.ackedRejects = { invalid_json: 3, out_of_range: 1 };
  l.faults.injected = { malformedJson: 3, outOfRange: 1, late: 2, duplicate: 4 };
  l.faults.acked = { malformedJson: 3, outOfRange: 1, late: 2, duplicate: 4 };
  return l;
}
const observed = (o: Partial<ObservedOutcome> = {}): ObservedOutcome => ({
  storedByDevice: new Map([['a', 10], ['b', 20], ['c', 30]]),
  storedLate: 2,
  deadLetters: { invalid_json: 3, out_of_range: 1 },
  authFailures: {},
  failedJobs: 0,
  raised: new Set(),
  raisedByRule: {},
  ...o,
});
const verify = (l = ledger(), o = observed(), expectedAlerts: { rule: string; device: string; because: string }[] = []) =>
  verifyRun({ ledger: l, deviceIds: devices, qos: 1, observed: o, expectedAlerts, unchecked: [], troubled: { stuck: 0, drifting: 0, silent: 0 } });

describe('verifyRun', () => {
  it('passes when every acknowledged point is stored and every fault shows where it should', () => {
    const v = verify();
    expect(v).toMatchObject({ ok: true, lost: 0, unexplainedPoints: 0, ackedPoints: 60, storedPoints: 60, problems: [] });
    expect(v.faults.map((f) => [f.fault, f.ok])).toEqual([['malformedJson', true], ['outOfRange', true], ['late', true], ['duplicate', true]]);
  });

  it('counts a missing point as lost, per device, even when another device has one too many', () => {
    const v = verify(ledger(), observed({ storedByDevice: new Map([['a', 9], ['b', 21], ['c', 30]]) }));
    expect(v.ok).toBe(false);
    expect(v.lost).toBe(1);
    expect(v.unexplainedPoints).toBe(1);
    expect(v.devicesWithLoss).toEqual([{ device: 'a', acked: 10, stored: 9 }]);
    expect(v.faults.find((f) => f.fault === 'duplicate')?.ok).toBe(false);
  });

  it('allows what was in flight at the end, and nothing more', () => {
    const l = ledger();
    l.unackedStoredByDevice.set([0, 2, 0]);
    l.extraRejectsPossible = { invalid_json: 1 };
    expect(verify(l, observed({ storedByDevice: new Map([['a', 10], ['b', 22], ['c', 30]]), deadLetters: { invalid_json: 4, out_of_range: 1 } })).ok).toBe(true);
    const v = verify(l, observed({ storedByDevice: new Map([['a', 10], ['b', 23], ['c', 30]]), deadLetters: { invalid_json: 5, out_of_range: 1, inconsistent_metrics: 1 } }));
    expect(v.unexplainedPoints).toBe(1);
    expect(v.rejects.filter((r) => !r.ok).map((r) => r.reason)).toEqual(['inconsistent_metrics', 'invalid_json']);
    expect(v.problems).toContain('dead letters "invalid_json": expected 3–4, the stream has 5');
  });

  it('fails on unmarked late points, wrong-token refusals that do not add up, and alerts not raised', () => {
    const l = ledger();
    l.connections.wrongCredentialAttempts = 2;
    const v = verify(l, observed({ storedLate: 1, authFailures: { bad_token: 1 }, raised: new Set(['pm25-spike|a']) }), [
      { rule: 'pm25-spike', device: 'a', because: 'episode 0 (smog)' },
      { rule: 'pm25-spike', device: 'b', because: 'episode 0 (smog)' },
    ]);
    expect(v.problems).toEqual([
      'late points: expected 2, InfluxDB has 1',
      'wrong credentials: 2 attempts, the broker counted 1 bad_token refusals',
      'alerts not raised: pm25-spike (episode 0 (smog)) on 1 devices',
    ]);
    expect(v.alerts).toMatchObject({ expected: 2, raised: 1 });
  });

  it('reports alerts nobody expected, by rule, without failing', () => {
    const v = verify(ledger(), observed({ raised: new Set(['traffic-congestion|a', 'traffic-congestion|b', 'aqi-1h|c']) }));
    expect(v.ok).toBe(true);
    expect(v.alerts.otherByRule).toEqual({ 'traffic-congestion': 2, 'aqi-1h': 1 });
  });
});

describe('expectAlerts', () => {
  const scenario = ScenarioSchema.parse({
    name: 'x',
    seed: 3,
    time: { start: '2026-01-14T15:00:00+05:00', acceleration: 60 },
    devices: { airquality: { count: 12, interval: '60s' }, electricity: { count: 12, interval: '60s' } },
    episodes: [
      { kind: 'smog', from: '+1h', duration: '6h', pm25Peak: 300, expectAlerts: ['pm25-spike', 'no-such-rule'], expectWithin: '2h' },
      { kind: 'power-outage', from: '+2h', duration: '30m', share: 0.5, expectAlerts: ['electricity-silent'], expectWithin: '30m' },
    ],
  });
  const start = Date.parse('2026-01-14T15:00:00+05:00');
  const fleet = buildScenarioFleet(scenario);
  const episodes = resolveEpisodes(scenario.episodes, start);
  const rules = [
    { id: 'pm25-spike', kind: 'threshold', family: 'airquality', metric: 'pm25' },
    { id: 'electricity-silent', kind: 'deadman', family: 'electricity', expectedIntervalMs: 60_000, factor: 5, severity: 'medium' },
  ] as unknown as AlertRule[];
  const base = { devices: fleet, episodes, memberships: episodeMemberships(fleet, episodes, scenario), rules, simStartMs: start, registeredIntervalMs: () => 1000, sweepIntervalMs: 1000, silent: undefined, runMs: 60_000 };

  it("expects an episode's alerts on its devices once the run reached the checkpoint; says why not otherwise", () => {
    const short = expectAlerts({ ...base, simEndMs: start + 2 * 3_600_000, speed: 60 });
    expect(short.expected).toEqual([]);
    expect(short.unchecked.map((u) => [u.rule, u.why.slice(0, 40)])).toEqual([
      ['pm25-spike', "the run's simulated time (2026-01-14T10:"],
      ['no-such-rule', 'no such rule in the rules file'],
      ['electricity-silent', "the run's simulated time (2026-01-14T10:"],
    ]);
    const long = expectAlerts({ ...base, simEndMs: start + 4 * 3_600_000, speed: 60 });
    expect(long.expected.filter((e) => e.rule === 'pm25-spike')).toHaveLength(12);
    // 30 simulated minutes at ×60 is 30 s dark: enough for 5 × 1 s + two sweeps + 2 s.
    const dark = long.expected.filter((e) => e.rule === 'electricity-silent');
    expect(dark.length).toBeGreaterThan(0);
    expect(dark.length).toBeLessThan(12);
    const fast = expectAlerts({ ...base, simEndMs: start + 4 * 3_600_000, speed: 600 });
    expect(fast.expected.filter((e) => e.rule === 'electricity-silent')).toEqual([]);
    expect(fast.unchecked.find((u) => u.rule === 'electricity-silent')?.why).toBe('dark for 3 s of real time; the rule needs 9 s');
    expect(deadmanNeedsMs(rules[1] as Extract<AlertRule, { kind: 'deadman' }>, 1000, 1000)).toBe(9000);
  });

  it('leaves out devices whose alert state a stored clock-skewed reading may hold ahead, and says so', () => {
    const skewed = fleet.find((d) => d.family === 'airquality')!.deviceId;
    const { expected, unchecked } = expectAlerts({ ...base, simEndMs: start + 4 * 3_600_000, speed: 60, leftOut: { devices: new Set([skewed]), why: 'skewed' } });
    expect(expected.filter((e) => e.rule === 'pm25-spike').map((e) => e.device)).not.toContain(skewed);
    expect(expected.filter((e) => e.rule === 'pm25-spike')).toHaveLength(11);
    expect(unchecked).toContainEqual({ because: 'episode 0 (smog)', rule: 'pm25-spike', devices: 1, why: 'skewed' });
  });
});
