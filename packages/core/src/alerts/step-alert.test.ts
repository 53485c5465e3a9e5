import { describe, expect, it } from 'vitest';
import { AlertRuleSchema, type AlertEvent, type AlertRule, type AlertRuleInput, type Reading } from '@city/schema';
import { initialAlertState, type AlertState } from './alert-state.ts';
import { acknowledgeAlert, resolveAlert } from './operator-actions.ts';
import { stepAlert, type StepContext } from './step-alert.ts';
import { tickDeadman } from './tick-deadman.ts';

const T0 = Date.UTC(2026, 0, 15, 8);
const MIN = 60_000;
const ctx: StepContext = { silenced: false };

export const makeRule = (input: Partial<AlertRuleInput> & Record<string, unknown>): AlertRule =>
  AlertRuleSchema.parse({ id: 'r', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', ...input });

const PM25_LEVELS = [
  { severity: 'medium', threshold: 35, clear: 30 },
  { severity: 'high', threshold: 75, clear: 65 },
  { severity: 'critical', threshold: 150, clear: 140 },
];

function reading(ts: number, metrics: Reading['metrics'], extra: Partial<Reading> = {}): Reading {
  return { family: 'airquality', deviceId: 'aq-1', ts, receivedAt: ts, metrics, ...extra };
}

/** Feeds [minute, value] pairs of pm25; returns the transitions as "transition:severity" and the final state. */
function feed(rule: AlertRule, points: Array<[number, number]>, start: AlertState = initialAlertState(rule, 'aq-1'), context = ctx) {
  let state = start;
  const events: AlertEvent[] = [];
  for (const [minute, value] of points) {
    const result = stepAlert(state, rule, reading(T0 + minute * MIN, { [rule.kind === 'threshold' ? rule.metric : 'pm25']: value }), context);
    state = result.state;
    events.push(...result.events);
  }
  return { state, events, transitions: events.map((e) => `${e.transition}:${e.severity}`) };
}

describe('stepAlert: threshold levels and hysteresis', () => {
  const rule = makeRule({ levels: PM25_LEVELS });
  it.each<[string, number[], string[]]>([
    ['below every level: nothing', [10, 20, 34.9], []],
    ['exactly at the threshold does not raise (above means above)', [35], []],
    ['raise, repeats do not spam', [40, 45, 50], ['raised:medium']],
    ['raise straight to high', [80], ['raised:high']],
    ['escalate step by step', [40, 80, 160], ['raised:medium', 'escalated:high', 'escalated:critical']],
    ['a value between clear and threshold holds the level', [80, 70, 66, 74], ['raised:high']],
    ['below the clear value de-escalates', [80, 64], ['raised:high', 'deescalated:medium']],
    ['hovering at the line does not flap', [36, 34, 36, 33, 35.5, 31], ['raised:medium']],
    ['clears below the clear value', [36, 29], ['raised:medium', 'resolved:medium']],
    ['a fall from critical to clean resolves at once', [200, 5], ['raised:critical', 'resolved:critical']],
    ['after resolving, a new crossing raises a new alert', [40, 10, 40], ['raised:medium', 'resolved:medium', 'raised:medium']],
  ])('%s', (_name, values, expected) => {
    expect(feed(rule, values.map((v, i) => [i, v])).transitions).toEqual(expected);
  });

  it('below and outside bands', () => {
    const pressure = makeRule({ family: 'water', metric: 'pressure', comparison: 'below', levels: [{ severity: 'medium', threshold: 2, clear: 2.3 }, { severity: 'high', threshold: 1.5, clear: 1.8 }] });
    const volts = makeRule({ family: 'electricity', metric: 'voltage', comparison: 'outside', levels: [{ severity: 'medium', low: 207, high: 253, clearLow: 210, clearHigh: 250 }, { severity: 'high', low: 195.5, high: 264.5 }] });
    const feedMetric = (r: AlertRule, family: Reading['family'], metric: string, values: number[]) => {
      let state = initialAlertState(r, 'd');
      const out: string[] = [];
      values.forEach((v, i) => {
        const step = stepAlert(state, r, reading(T0 + i * MIN, { [metric]: v }, { family }), ctx);
        state = step.state;
        out.push(...step.events.map((e) => `${e.transition}:${e.severity}:${e.threshold}`));
      });
      return out;
    };
    expect(feedMetric(pressure, 'water', 'pressure', [3, 1.9, 2.1, 1.4, 1.7, 1.9, 2.4])).toEqual([
      'raised:medium:2', 'escalated:high:1.5', 'deescalated:medium:2', 'resolved:medium:2',
    ]);
    expect(feedMetric(volts, 'electricity', 'voltage', [230, 254, 251, 249, 200, 190, 209, 211])).toEqual([
      'raised:medium:253', 'resolved:medium:253', 'raised:medium:207', 'escalated:high:195.5', 'deescalated:medium:207', 'resolved:medium:207',
    ]);
  });

  it('describes the transition in the FIWARE Alert shape with our fields', () => {
    const { events } = feed(rule, [[0, 80]]);
    expect(events[0]).toEqual({
      id: 'r:aq-1:1', type: 'Alert', category: 'environment', subCategory: 'airPollution', severity: 'high',
      dateIssued: '2026-01-15T08:00:00.000Z', dateObserved: '2026-01-15T08:00:00.000Z', alertSource: 'aq-1',
      alertId: `r:aq-1:${T0}`, seq: 1, transition: 'raised', state: 'active', rule: 'r', ruleKind: 'threshold',
      family: 'airquality', device: 'aq-1', metric: 'pm25', value: 80, threshold: 75, comparison: 'above',
      flapping: false, silenced: false,
    });
  });

  it('marks events raised during a silence, and carries the district and registry location', () => {
    let state = initialAlertState(rule, 'aq-1');
    const step = stepAlert(state, rule, reading(T0, { pm25: 80 }, { district: 'medeu' }), { silenced: true, device: { location: { lat: 43.2, lon: 76.9 } } });
    state = step.state;
    expect(step.events[0]).toMatchObject({ silenced: true, district: 'medeu', location: { type: 'Point', coordinates: [76.9, 43.2] } });
  });
});

describe('stepAlert: durations, N of M, flapping', () => {
  it.each<[string, Record<string, unknown>, Array<[number, number]>, string[]]>([
    ['forMs: a spike shorter than the duration raises nothing', { forMs: 10 * MIN }, [[0, 80], [5, 80], [6, 10], [20, 10]], []],
    ['forMs: raised once the condition held long enough (event time)', { forMs: 10 * MIN }, [[0, 80], [5, 80], [10, 80]], ['raised:high']],
    ['forMs: escalation waits too, de-escalation does not', { forMs: 10 * MIN }, [[0, 40], [10, 40], [11, 80], [15, 80], [21, 80], [22, 10]], ['raised:medium', 'escalated:high', 'resolved:high']],
    ['forMs: raises at the level held long enough, below a newer spike', { forMs: 10 * MIN }, [[0, 40], [5, 80], [10, 80]], ['raised:medium']],
    ['nOfM 3 of 5: two crossings are not enough', { nOfM: { n: 3, m: 5 } }, [[0, 80], [1, 10], [2, 80], [3, 10], [4, 10]], []],
    ['nOfM 3 of 5: the third crossing raises', { nOfM: { n: 3, m: 5 } }, [[0, 80], [1, 10], [2, 80], [3, 10], [4, 80]], ['raised:high']],
  ])('%s', (_name, extra, points, expected) => {
    expect(feed(makeRule({ levels: PM25_LEVELS, ...extra }), points).transitions).toEqual(expected);
  });

  it('flapping: too many changes in the window hold the alert, mark it, and release it when calm', () => {
    const rule = makeRule({ levels: [{ severity: 'high', threshold: 75 }], flapping: { windowMs: 10 * MIN, maxChanges: 3 } });
    const { transitions, events } = feed(rule, [[0, 80], [1, 10], [2, 80], [3, 10], [4, 80], [5, 10], [30, 80], [31, 10]]);
    // The 4th change in 10 minutes marks it flapping and holds it open; 25 calm minutes later it is stable again.
    expect(transitions).toEqual(['raised:high', 'resolved:high', 'raised:high', 'flapping:high', 'stable:high', 'resolved:high']);
    expect(events.find((e) => e.transition === 'flapping')).toMatchObject({ flapping: true, state: 'active' });
  });
});

describe('stepAlert: signals', () => {
  it('window mean: the 24-hour mean in hourly buckets, only once 75 % of the buckets have data', () => {
    const rule = makeRule({ levels: [{ severity: 'medium', threshold: 15 }], signal: { kind: 'window', fn: 'mean', windowMs: 24 * 60 * MIN, bucketMs: 60 * MIN, minCoverage: 0.75 } });
    // 17 hourly readings of 40: the mean is over 15, but 17 of 24 hours is under 75 %.
    const hours = (from: number, to: number, v: number) => Array.from({ length: to - from }, (_, i): [number, number] => [(from + i) * 60, v]);
    expect(feed(rule, hours(0, 17, 40)).transitions).toEqual([]);
    const { transitions, state } = feed(rule, [...hours(0, 18, 40)]);
    expect(transitions).toEqual(['raised:medium']);
    expect(state.cond!.buckets).toHaveLength(18);
    // A day later, clean air: the old hours leave the window, the mean falls.
    const later = feed(rule, [...hours(0, 18, 40), ...hours(18, 48, 2)]);
    expect(later.transitions).toEqual(['raised:medium', 'resolved:medium']);
    expect(later.state.cond!.buckets.length).toBeLessThanOrEqual(24);
  });

  it('change: water pressure dropping more than 1 bar within 10 minutes', () => {
    const rule = makeRule({ family: 'water', metric: 'pressure', comparison: 'below', levels: [{ severity: 'high', threshold: -1 }], signal: { kind: 'change', windowMs: 10 * MIN, bucketMs: MIN } });
    let state = initialAlertState(rule, 'w');
    const out: string[] = [];
    [[0, 4], [2, 3.9], [4, 3.5], [6, 2.8], [20, 2.8]].forEach(([m, v]) => {
      const step = stepAlert(state, rule, reading(T0 + m! * MIN, { pressure: v! }, { family: 'water' }), ctx);
      state = step.state;
      out.push(...step.events.map((e) => `${e.transition}:${e.value?.toFixed(1)}`));
    });
    expect(out).toEqual(['raised:-1.2', 'resolved:0.0']);
  });

  it('delta: a cumulative meter counter going down is a reset', () => {
    const rule = makeRule({ family: 'water', metric: 'waterConsumption', comparison: 'below', levels: [{ severity: 'low', threshold: 0 }], signal: { kind: 'delta' } });
    let state = initialAlertState(rule, 'w');
    const out: string[] = [];
    [100, 101, 102, 0.5, 1].forEach((v, i) => {
      const step = stepAlert(state, rule, reading(T0 + i * MIN, { waterConsumption: v }, { family: 'water' }), ctx);
      state = step.state;
      out.push(...step.events.map((e) => `${e.transition}:${e.value}`));
    });
    expect(out).toEqual(['raised:-101.5', 'resolved:0.5']);
  });

  it('schedule: heating supply below the temperature the schedule wants for the outdoor temperature', () => {
    const rule = makeRule({ family: 'airquality', metric: 'temperature', comparison: 'below', levels: [{ severity: 'medium', threshold: -5 }], signal: { kind: 'schedule', input: 'relativeHumidity', points: [[0, 10], [1, 20]] } });
    // (the input here is a stand-in metric: the arithmetic is what is tested) wanted at 0.5 = 15
    let state = initialAlertState(rule, 'h');
    const a = stepAlert(state, rule, reading(T0, { temperature: 11, relativeHumidity: 0.5 }), ctx);
    state = a.state;
    const b = stepAlert(state, rule, reading(T0 + MIN, { temperature: 9, relativeHumidity: 0.5 }), ctx);
    expect([a.events, b.events.map((e) => e.value)]).toEqual([[], [-6]]);
  });

  it('aqi: the derived metric', () => {
    const rule = makeRule({ metric: 'aqi', levels: [{ severity: 'low', threshold: 100 }, { severity: 'medium', threshold: 150 }, { severity: 'high', threshold: 200 }, { severity: 'critical', threshold: 300 }] });
    let state = initialAlertState(rule, 'aq-1');
    const out: string[] = [];
    // pm25 40 → AQI 112, 60 → 154, 130 → 205, 250 → 350
    [40, 60, 130, 250].forEach((pm25, i) => {
      const step = stepAlert(state, rule, reading(T0 + i * MIN, { pm25, pm10: 20 }), ctx);
      state = step.state;
      out.push(...step.events.map((e) => `${e.transition}:${e.severity}:${e.value}`));
    });
    expect(out).toEqual(['raised:low:112', 'escalated:medium:154', 'escalated:high:205', 'escalated:critical:350']);
  });

  it('hours: night flow only counts between 02:00 and 05:00 Almaty time (UTC+5)', () => {
    const rule = makeRule({ family: 'water', metric: 'flow', levels: [{ severity: 'medium', threshold: 100 }], hours: { fromHour: 2, toHour: 5, utcOffsetMinutes: 300 } });
    const at = (localHour: number) => Date.UTC(2026, 0, 15, localHour - 5 + 24) ;
    let state = initialAlertState(rule, 'w');
    const outcomes: string[] = [];
    for (const hour of [14, 3]) {
      const step = stepAlert(state, rule, reading(at(hour), { flow: 500 }, { family: 'water' }), ctx);
      state = step.state;
      outcomes.push(step.outcome, ...step.events.map((e) => e.transition));
    }
    expect(outcomes).toEqual(['ignored', 'applied', 'raised']);
  });
});

describe('stepAlert: late and repeated readings', () => {
  const rule = makeRule({ levels: PM25_LEVELS });
  it('a redelivered reading is a duplicate and changes nothing', () => {
    const first = feed(rule, [[0, 80]]);
    const again = stepAlert(first.state, rule, reading(T0, { pm25: 80 }), ctx);
    expect([again.outcome, again.events, again.state]).toEqual(['duplicate', [], first.state]);
  });

  it('with no allowed lateness, a reading older than the last one is stale: it cannot clear an active alert', () => {
    const strict = makeRule({ levels: PM25_LEVELS, allowedLatenessMs: 0 });
    const { state } = feed(strict, [[0, 80], [10, 80]]);
    const late = stepAlert(state, strict, reading(T0 + 5 * MIN, { pm25: 1 }), ctx);
    expect([late.outcome, late.events, late.state.alert?.severity]).toEqual(['stale', [], 'high']);
  });

  it('within the allowed lateness, a late reading is put in its place: the result is the event-time one', () => {
    const { state } = feed(rule, [[0, 80], [10, 70]]);
    // Arrival order held high (70 is inside high's hysteresis band). In event time: 80 (high), 1 (clear), 70 (medium).
    const late = stepAlert(state, rule, reading(T0 + 5 * MIN, { pm25: 1 }), ctx);
    expect(late.outcome).toBe('reordered');
    expect(late.events.map((e) => `${e.transition}:${e.severity}`)).toEqual(['deescalated:medium']);
    expect(late.state.cond).toEqual(feed(rule, [[0, 80], [5, 1], [10, 70]]).state.cond);
  });

  it('a reading older than the allowed lateness is stale', () => {
    // Default lateness 5 minutes: after minute 20, minutes up to 15 are final.
    const { state } = feed(rule, [[0, 80], [10, 80], [20, 80]]);
    expect(state.watermark).toBe(T0 + 10 * MIN);
    expect(stepAlert(state, rule, reading(T0 + 16 * MIN, { pm25: 1 }), ctx).outcome).toBe('reordered');
    const stale = stepAlert(state, rule, reading(T0 + 9 * MIN, { pm25: 1 }), ctx);
    expect([stale.outcome, stale.state]).toEqual(['stale', state]);
  });

  it('an edited rule carries the open alert on instead of resolving it', () => {
    const { state } = feed(makeRule({ levels: PM25_LEVELS }), [[0, 80]]);
    const edited = makeRule({ levels: PM25_LEVELS, forMs: 30 * MIN, description: 'now with a duration' });
    const next = stepAlert(state, edited, reading(T0 + MIN, { pm25: 80 }), ctx);
    expect([next.events, next.state.alert?.severity]).toEqual([[], 'high']);
  });
});

describe('operators and the deadman', () => {
  const rule = makeRule({ levels: PM25_LEVELS });
  it('acknowledge records who and when; an escalation reopens it; resolving by hand latches until the air clears', () => {
    const { state } = feed(rule, [[0, 40]]);
    const acked = acknowledgeAlert(state, rule, { by: 'aigerim', at: T0 + MIN, note: 'crew sent' }, ctx);
    if (!acked.ok) throw new Error(acked.reason);
    expect(acked.events[0]).toMatchObject({ transition: 'acknowledged', state: 'acknowledged', acknowledgedBy: 'aigerim', acknowledgedAt: new Date(T0 + MIN).toISOString(), note: 'crew sent' });
    expect(acknowledgeAlert(acked.state, rule, { by: 'x', at: T0 }, ctx)).toEqual({ ok: false, reason: 'already_acknowledged' });
    const up = feed(rule, [[2, 80]], acked.state);
    expect(up.events.map((e) => [e.transition, e.state])).toEqual([['escalated', 'active']]);

    const resolved = resolveAlert(up.state, rule, { by: 'aigerim', at: T0 + 3 * MIN }, ctx);
    if (!resolved.ok) throw new Error(resolved.reason);
    expect(resolved.events[0]).toMatchObject({ transition: 'resolved', state: 'resolved', resolvedBy: 'aigerim' });
    // Still smoggy: no new alert; once clear and smoggy again: a new one.
    expect(feed(rule, [[4, 90], [5, 10], [6, 50]], resolved.state).transitions).toEqual(['raised:medium']);
    expect(resolveAlert(resolved.state, rule, { by: 'x', at: T0 }, ctx)).toEqual({ ok: false, reason: 'no_open_alert' });
  });

  it('deadman: raised when silent longer than factor × interval, resolved by the next reading', () => {
    const dead = AlertRuleSchema.parse({ id: 'silent', kind: 'deadman', family: 'airquality', severity: 'medium', expectedIntervalMs: MIN, factor: 3 });
    if (dead.kind !== 'deadman') throw new Error('unreachable');
    let state = stepAlert(initialAlertState(dead, 'aq-1'), dead, reading(T0, { pm25: 1 }), ctx).state;
    expect(tickDeadman(state, dead, T0 + 3 * MIN, ctx).events).toEqual([]);
    const fired = tickDeadman(state, dead, T0 + 3 * MIN + 1, ctx);
    expect(fired.events).toMatchObject([{ transition: 'raised', comparison: 'silent', value: 3 * MIN + 1, threshold: 3 * MIN, ruleKind: 'deadman' }]);
    expect(tickDeadman(fired.state, dead, T0 + 10 * MIN, ctx).events).toEqual([]);
    // The registry's interval wins over the rule's.
    expect(tickDeadman(state, dead, T0 + 3 * MIN + 1, { silenced: false, device: { expectedIntervalMs: 10 * MIN } }).events).toEqual([]);
    state = stepAlert(fired.state, dead, reading(T0 + 11 * MIN, { pm25: 1 }), ctx).state;
    expect(state.alert).toBeNull();
  });
});
