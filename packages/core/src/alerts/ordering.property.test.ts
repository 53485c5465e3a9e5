import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertRuleSchema, type AlertEvent, type AlertRule, type Reading } from '@city/schema';
import { initialAlertState, type AlertState } from './alert-state.ts';
import { stepAlert, type StepContext } from './step-alert.ts';

const T0 = Date.UTC(2026, 0, 15, 8);
const MIN = 60_000;
const LEVELS = [
  { severity: 'medium', threshold: 35, clear: 30 },
  { severity: 'high', threshold: 75, clear: 65 },
  { severity: 'critical', threshold: 150, clear: 140 },
];
/** One rule of each kind of state the engine keeps. */
const RULES: AlertRule[] = [
  {},
  { forMs: 5 * MIN },
  { nOfM: { n: 2, m: 3 } },
  { flapping: { windowMs: 10 * MIN, maxChanges: 3 } },
  { forMs: 2 * MIN, flapping: { windowMs: 10 * MIN, maxChanges: 4 } },
  { signal: { kind: 'window', fn: 'mean', windowMs: 10 * MIN, bucketMs: 2 * MIN, minCoverage: 0.4 } },
  { signal: { kind: 'change', windowMs: 6 * MIN, bucketMs: MIN }, levels: [{ severity: 'high', threshold: 40, clear: 20 }] },
  { signal: { kind: 'delta' }, comparison: 'below', levels: [{ severity: 'low', threshold: -50 }] },
].map((extra, i) => AlertRuleSchema.parse({ id: `r${i}`, kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: LEVELS, ...extra }));

/** Readings of one device at distinct minutes (0..59) with values 0..200. */
const readingsArb = fc
  .uniqueArray(fc.record({ minute: fc.integer({ min: 0, max: 59 }), value: fc.integer({ min: 0, max: 200 }) }), { selector: (r) => r.minute, minLength: 1, maxLength: 30 })
  .map((rs) => rs.map(({ minute, value }): Reading => ({ family: 'airquality', deviceId: 'aq-1', ts: T0 + minute * MIN, receivedAt: T0 + minute * MIN, metrics: { pm25: value } })));

/** Readings plus an arrival order: any permutation, with some readings delivered twice (a retried batch). */
const arrivalArb = readingsArb.chain((readings) =>
  fc.tuple(fc.constant(readings), fc.shuffledSubarray(readings, { minLength: readings.length, maxLength: readings.length }), fc.subarray(readings)).map(
    ([sorted, shuffled, repeats]) => ({ sorted: [...sorted].sort((a, b) => a.ts - b.ts), arrival: [...shuffled, ...repeats] }),
  ),
);

function run(rule: AlertRule, readings: Reading[], context: StepContext) {
  let state: AlertState = initialAlertState(rule, 'aq-1');
  const events: AlertEvent[] = [];
  for (const reading of readings) {
    const step = stepAlert(state, rule, reading, context);
    state = step.state;
    events.push(...step.events);
  }
  return { state, events };
}

/** The parts of the state that must not depend on arrival order. */
const outcome = (state: AlertState) => ({ cond: state.cond, base: state.base, tail: state.tail, watermark: state.watermark, open: state.alert?.severity ?? null, flapping: state.alert?.flapping ?? null });

describe('ordering properties (fast-check)', () => {
  const lenient: StepContext = { silenced: false, options: { allowedLatenessMs: 24 * 60 * MIN, maxTail: 1000 } };

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: any arrival order, with redeliveries, ends in the state of event-time order', (_id, rule) => {
    fc.assert(
      fc.property(arrivalArb, ({ sorted, arrival }) => {
        expect(outcome(run(rule, arrival, lenient).state)).toEqual(outcome(run(rule, sorted, lenient).state));
      }),
      { numRuns: 300 },
    );
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: the events of any arrival order form a valid lifecycle that ends where the state is', (_id, rule) => {
    fc.assert(
      fc.property(arrivalArb, ({ arrival }) => {
        const { state, events } = run(rule, arrival, lenient);
        let open: string | null = null;
        for (const [i, e] of events.entries()) {
          expect(e.seq).toBe(i + 1);
          if (e.transition === 'raised') {
            expect(open).toBeNull();
            open = e.alertId;
          } else {
            expect(e.alertId).toBe(open);
            if (e.transition === 'resolved') open = null;
          }
        }
        expect(open).toBe(state.alert?.id ?? null);
      }),
      { numRuns: 200 },
    );
  });

  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s: with no allowed lateness, a reading older than the newest changes nothing', (_id, rule) => {
    const strict: StepContext = { silenced: false, options: { allowedLatenessMs: 0 } };
    fc.assert(
      fc.property(arrivalArb, ({ arrival }) => {
        let state = initialAlertState(rule, 'aq-1');
        let newest = -Infinity;
        for (const reading of arrival) {
          const step = stepAlert(state, rule, reading, strict);
          if (reading.ts <= newest) expect([step.outcome, step.events, step.state]).toEqual(['stale', [], state]);
          newest = Math.max(newest, reading.ts);
          state = step.state;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('bounded state: the tail never exceeds maxTail and window buckets never exceed the window', () => {
    const rule = RULES[5]!;
    fc.assert(
      fc.property(arrivalArb, fc.integer({ min: 1, max: 8 }), ({ arrival }, maxTail) => {
        let state = initialAlertState(rule, 'aq-1');
        for (const reading of arrival) {
          state = stepAlert(state, rule, reading, { silenced: false, options: { maxTail } }).state;
          expect(state.tail.length).toBeLessThanOrEqual(maxTail);
          expect(state.cond!.buckets.length).toBeLessThanOrEqual(5);
        }
      }),
      { numRuns: 200 },
    );
  });
});
