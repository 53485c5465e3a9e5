import type { AlertEvent, AlertRule, Reading, ThresholdRule } from '@city/schema';
import { adoptRule, type AlertState } from './alert-state.ts';
import { foldSample, thresholdOf, type Condition } from './fold-sample.ts';
import { reconcileAlert, type AlertTarget, type EventContext } from './reconcile-alert.ts';
import { sampleOf, type Sample } from './select-reading.ts';

export interface StepOptions {
  /**
   * How far behind the newest reading of a (rule, device) a late reading may be and still be put in its
   * event-time place; a rule's `allowedLatenessMs` overrides it. 0: every reading older than the newest is stale.
   * @defaultValue 300000
   */
  allowedLatenessMs?: number;
  /**
   * Samples kept for replay per (rule, device); beyond it the oldest become final early.
   * @defaultValue 64
   */
  maxTail?: number;
}

export interface StepContext extends EventContext {
  options?: StepOptions;
}

/**
 * - `applied`: the newest reading so far, folded in;
 * - `reordered`: late but within the allowed lateness: put in its event-time place and the tail replayed;
 * - `duplicate`: a reading with this event time is already in the tail (a redelivered batch);
 * - `stale`: at or before the watermark: too late to change anything, ignored;
 * - `ignored`: the rule has nothing to look at in this reading (metric absent, outside its hours).
 */
export type StepOutcome = 'applied' | 'reordered' | 'duplicate' | 'stale' | 'ignored';

export interface StepResult {
  state: AlertState;
  events: AlertEvent[];
  outcome: StepOutcome;
}

const DEFAULT_ALLOWED_LATENESS_MS = 300_000;
const DEFAULT_MAX_TAIL = 64;

/** The alert a threshold rule's condition asks for. */
export function thresholdTarget(rule: ThresholdRule, cond: Condition): AlertTarget {
  const level = Math.max(cond.visible, 0);
  return {
    on: cond.visible >= 0,
    severity: rule.levels[level]!.severity,
    flapping: cond.flapping,
    since: cond.activeSince ?? cond.lastTs ?? 0,
    value: cond.signal,
    thresholdOf: (severity) => thresholdOf(rule, rule.levels.findIndex((l) => l.severity === severity), cond.signal),
  };
}

function insertSorted(tail: Sample[], sample: Sample): Sample[] {
  const i = tail.findIndex((s) => s.ts > sample.ts);
  return i < 0 ? [...tail, sample] : [...tail.slice(0, i), sample, ...tail.slice(i)];
}

function stepThreshold(state: AlertState, rule: ThresholdRule, reading: Reading, context: StepContext): StepResult {
  const sample = sampleOf(rule, reading);
  if (!sample) return { state, events: [], outcome: 'ignored' };
  if (state.watermark !== null && sample.ts <= state.watermark) return { state, events: [], outcome: 'stale' };
  if (state.tail.some((s) => s.ts === sample.ts)) return { state, events: [], outcome: 'duplicate' };
  const base = state.base!;
  const current = state.cond!;

  let tail: Sample[];
  let cond: Condition;
  let outcome: StepOutcome;
  if (current.lastTs === null || sample.ts > current.lastTs) {
    tail = [...state.tail, sample];
    cond = foldSample(rule, current, sample);
    outcome = 'applied';
  } else {
    tail = insertSorted(state.tail, sample);
    cond = tail.reduce((c, s) => foldSample(rule, c, s), base);
    outcome = 'reordered';
  }

  // Samples older than the allowed lateness become final: folded into the base, behind the watermark.
  const lateness = rule.allowedLatenessMs ?? context.options?.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  const maxTail = context.options?.maxTail ?? DEFAULT_MAX_TAIL;
  const limit = cond.lastTs! - lateness;
  let final = 0;
  while (final < tail.length && (tail[final]!.ts <= limit || tail.length - final > maxTail)) final++;
  let next: AlertState = { ...state, tail, cond };
  if (final > 0) {
    // Folding all of the tail gives `cond` itself (the fold is deterministic): no need to fold it twice.
    const newBase = final === tail.length ? cond : tail.slice(0, final).reduce((c, s) => foldSample(rule, c, s), base);
    next = { ...next, base: newBase, tail: tail.slice(final), watermark: tail[final - 1]!.ts };
  }
  if (reading.district !== undefined) next.district = reading.district;

  const { state: reconciled, events } = reconcileAlert(next, rule, thresholdTarget(rule, cond), reading.ts, context);
  return { state: reconciled, events, outcome };
}

/**
 * One reading through one rule for one device: `(state, reading, rule, context) → { state, events }`. Pure: the
 * worker loads the state, steps it, and writes it back only if nobody else wrote in between (compare-and-set).
 *
 * Readings of a device may arrive out of event-time order (several workers, retried batches). Within the allowed
 * lateness the result is the same as if they had arrived in event-time order; a reading older than that cannot
 * change the condition at all, so a late reading never flips an alert back on its own authority.
 */
export function stepAlert(state: AlertState, rule: AlertRule, reading: Reading, context: StepContext): StepResult {
  const adopted = adoptRule(state, rule);
  if (rule.kind === 'threshold') return stepThreshold(adopted, rule, reading, context);

  // Deadman: any reading is a sign of life, in or out of order.
  let next: AlertState = { ...adopted, lastHeardAt: Math.max(adopted.lastHeardAt ?? reading.receivedAt, reading.receivedAt) };
  if (reading.district !== undefined) next.district = reading.district;
  const target: AlertTarget = { on: false, severity: rule.severity, flapping: false, since: reading.receivedAt, thresholdOf: () => undefined };
  const { state: reconciled, events } = reconcileAlert(next, rule, target, reading.receivedAt, context);
  next = reconciled;
  return { state: next, events, outcome: 'applied' };
}
