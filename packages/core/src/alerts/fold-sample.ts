import type { AlertLevel, ThresholdRule } from '@city/schema';
import type { Sample } from './select-reading.ts';

/** One time bucket of a `window` or `change` signal: a bounded summary of the samples that fell in it. */
export interface Bucket {
  start: number;
  n: number;
  sum: number;
  min: number;
  max: number;
  /** The bucket's earliest sample (samples are folded in event-time order). */
  first: number;
}

/**
 * What a threshold rule knows about one device after folding its samples in event-time order. A plain value:
 * folding the same samples in the same order always gives an equal condition. Level indices point into
 * `rule.levels`; -1 is "no level".
 */
export interface Condition {
  lastTs: number | null;
  /** The compared value after the last sample; null while a window lacks coverage or a delta has no predecessor. */
  signal: number | null;
  /** The level the signal is at, with hysteresis. */
  raw: number;
  /** Per level: since when (event time) `raw` has been at or above it, for `forMs`. */
  since: Array<number | null>;
  /** The last `nOfM.m` raw levels. */
  recent: number[];
  /** `raw` after `forMs` / `nOfM`. */
  confirmed: number;
  /** What the alert shows: `confirmed`, or held while flapping. */
  visible: number;
  flapping: boolean;
  /** Event times of the last changes of `confirmed`, within the flapping window. */
  changes: number[];
  buckets: Bucket[];
  /** The previous sample's metric value (`delta`). */
  prev: number | null;
  /** Event time at which `visible` last left -1. */
  activeSince: number | null;
}

/**
 * A fresh condition. `seedLevel` continues an open alert across a rule edit: the condition starts at that level
 * as if it had held for ever, so the edit alone neither resolves nor re-raises the alert.
 */
export function initialCondition(rule: ThresholdRule, seedLevel = -1, seedTs: number | null = null): Condition {
  const level = Math.min(seedLevel, rule.levels.length - 1);
  return {
    lastTs: null,
    signal: null,
    raw: level,
    since: rule.levels.map((_, i) => (i <= level ? Number.MIN_SAFE_INTEGER : null)),
    recent: rule.nOfM ? new Array<number>(rule.nOfM.m).fill(level) : [],
    confirmed: level,
    visible: level,
    flapping: false,
    changes: [],
    buckets: [],
    prev: null,
    activeSince: level >= 0 ? seedTs : null,
  };
}

function interpolate(points: ReadonlyArray<readonly [number, number]>, x: number): number {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (x <= first[0]) return first[1];
  if (x >= last[0]) return last[1];
  const i = points.findIndex(([px]) => px >= x);
  const [x0, y0] = points[i - 1]!;
  const [x1, y1] = points[i]!;
  return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
}

/** Adds the sample to its bucket and drops buckets that left the window; returns the window's signal. */
function windowSignal(rule: ThresholdRule, buckets: Bucket[], sample: Sample): { buckets: Bucket[]; signal: number | null } {
  const signal = rule.signal;
  if (signal.kind !== 'window' && signal.kind !== 'change') return { buckets, signal: null };
  const { windowMs, bucketMs } = signal;
  const start = Math.floor(sample.ts / bucketMs) * bucketMs;
  const count = Math.ceil(windowMs / bucketMs);
  const oldest = start - (count - 1) * bucketMs;
  // Buckets are shared with earlier states (base, the stored copy): only the one that changes is copied.
  const next = buckets[0] !== undefined && buckets[0].start >= oldest ? [...buckets] : buckets.filter((b) => b.start >= oldest);
  const last = next[next.length - 1];
  if (last && last.start === start) {
    next[next.length - 1] = { ...last, n: last.n + 1, sum: last.sum + sample.v, min: Math.min(last.min, sample.v), max: Math.max(last.max, sample.v) };
  } else {
    next.push({ start, n: 1, sum: sample.v, min: sample.v, max: sample.v, first: sample.v });
  }
  if (signal.kind === 'change') return { buckets: next, signal: sample.v - next[0]!.first };
  if (next.length < signal.minCoverage * count) return { buckets: next, signal: null };
  switch (signal.fn) {
    case 'mean':
      return { buckets: next, signal: next.reduce((s, b) => s + b.sum, 0) / next.reduce((s, b) => s + b.n, 0) };
    case 'min':
      return { buckets: next, signal: Math.min(...next.map((b) => b.min)) };
    case 'max':
      return { buckets: next, signal: Math.max(...next.map((b) => b.max)) };
  }
}

/** Is level `level` on for this signal, given the level held now (hysteresis: a held level ends at its clear value)? */
function levelOn(rule: ThresholdRule, level: AlertLevel, held: boolean, s: number): boolean {
  switch (rule.comparison) {
    case 'above':
      return s > level.threshold! || (held && s > (level.clear ?? level.threshold!));
    case 'below':
      return s < level.threshold! || (held && s < (level.clear ?? level.threshold!));
    case 'outside':
      return s < level.low! || s > level.high! || (held && (s < (level.clearLow ?? level.low!) || s > (level.clearHigh ?? level.high!)));
  }
}

/** The highest level the signal is at, given the current one. */
export function levelOf(rule: ThresholdRule, signal: number, current: number): number {
  for (let i = rule.levels.length - 1; i >= 0; i--) if (levelOn(rule, rule.levels[i]!, current >= i, signal)) return i;
  return -1;
}

/** The threshold an operator should see for a level: the nearer edge of a band. */
export function thresholdOf(rule: ThresholdRule, level: number, signal: number | null): number | undefined {
  const spec = rule.levels[level];
  if (!spec) return undefined;
  if (rule.comparison !== 'outside') return spec.threshold;
  return signal !== null && signal > (spec.low! + spec.high!) / 2 ? spec.high : spec.low;
}

/**
 * Folds one sample, which must be newer than every sample folded before, into the condition. Pure and
 * deterministic: the engine's ordering guarantee rests on this.
 */
export function foldSample(rule: ThresholdRule, cond: Condition, sample: Sample): Condition {
  const ts = sample.ts;
  let buckets = cond.buckets;
  let prev = cond.prev;
  let signal: number | null;
  switch (rule.signal.kind) {
    case 'value':
      signal = sample.v;
      break;
    case 'window':
    case 'change':
      ({ buckets, signal } = windowSignal(rule, cond.buckets, sample));
      break;
    case 'delta':
      signal = prev === null ? null : sample.v - prev;
      prev = sample.v;
      break;
    case 'schedule':
      signal = sample.v - interpolate(rule.signal.points, sample.x!);
      break;
  }
  // Without a signal (window not covered yet) the levels stay as they are.
  const raw = signal === null ? cond.raw : levelOf(rule, signal, cond.raw);
  const since = cond.since.map((s, i) => (raw >= i ? (s ?? ts) : null));
  const recent = rule.nOfM ? [...cond.recent, raw].slice(-rule.nOfM.m) : cond.recent;

  let confirmed = raw;
  if (rule.forMs !== undefined) {
    const forMs = rule.forMs;
    while (confirmed >= 0 && ts - since[confirmed]! < forMs) confirmed--;
  }
  if (rule.nOfM) {
    const { n } = rule.nOfM;
    let byCount = rule.levels.length - 1;
    while (byCount >= 0 && recent.filter((l) => l >= byCount).length < n) byCount--;
    confirmed = Math.min(confirmed, byCount);
  }

  let { flapping, changes } = cond;
  let visible = confirmed;
  if (rule.flapping) {
    const { windowMs, maxChanges } = rule.flapping;
    changes = [...changes, ...(confirmed !== cond.confirmed ? [ts] : [])].filter((t) => t > ts - windowMs).slice(-(maxChanges + 1));
    if (!flapping && changes.length > maxChanges) flapping = true;
    else if (flapping && changes.length <= Math.floor(maxChanges / 2)) flapping = false;
    // Held: a flapping alert stays at the highest level it reached until the changes calm down.
    if (flapping) visible = Math.max(cond.visible, confirmed);
  }
  const activeSince = visible < 0 ? null : cond.visible < 0 ? ts : cond.activeSince;
  return { lastTs: ts, signal, raw, since, recent, confirmed, visible, flapping, changes, buckets, prev, activeSince };
}
