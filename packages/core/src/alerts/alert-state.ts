import type { AlertEvent, AlertRule, Severity } from '@city/schema';
import { initialCondition, type Condition } from './fold-sample.ts';
import type { Sample } from './select-reading.ts';

/** The one open alert of a (rule, device). */
export interface OpenAlert {
  /** `{rule}:{device}:{raisedAt}` */
  id: string;
  severity: Severity;
  /** Event time it was raised at (for a deadman: the time the silence was noticed). */
  raisedAt: number;
  state: 'active' | 'acknowledged';
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  note?: string;
  flapping: boolean;
}

/**
 * Everything the engine keeps per (rule, device), stored as one Redis value. Bounded: `tail` holds at most
 * `maxTail` samples, windows at most 1440 buckets, flapping at most 51 change times, the outbox at most 16 events.
 *
 * Readings are final once at or before `watermark`: they are folded into `base`. Newer ones sit in `tail` in
 * event-time order, so a late one (within the rule's allowed lateness) is put in its place and the tail replayed.
 * `cond` is always `base` with `tail` folded in.
 */
export interface AlertState {
  v: 1;
  rule: string;
  device: string;
  /** Hash of the rule the condition was built with: an edited rule starts a fresh condition. */
  ruleHash: string;
  watermark: number | null;
  base: Condition | null;
  tail: Sample[];
  cond: Condition | null;
  /** Latest receive time of any reading (deadman rules). */
  lastHeardAt: number | null;
  district?: string;
  alert: OpenAlert | null;
  /** Resolved by hand while the condition still held: no new alert until the condition clears (or the device returns). */
  latched: boolean;
  /** Transitions emitted so far. */
  seq: number;
  /** The last step's events, re-enqueued by a retried batch (their ids make that idempotent). */
  outbox: AlertEvent[];
}

const hashes = new WeakMap<AlertRule, string>();

/** FNV-1a over the rule's JSON: stable, and good enough to notice an edit. Rules are immutable once loaded: cached. */
export function ruleHash(rule: AlertRule): string {
  const cached = hashes.get(rule);
  if (cached !== undefined) return cached;
  const text = JSON.stringify(rule);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  const result = (hash >>> 0).toString(16).padStart(8, '0');
  hashes.set(rule, result);
  return result;
}

export function initialAlertState(rule: AlertRule, device: string): AlertState {
  const cond = rule.kind === 'threshold' ? initialCondition(rule) : null;
  return { v: 1, rule: rule.id, device, ruleHash: ruleHash(rule), watermark: null, base: cond, tail: [], cond, lastHeardAt: null, alert: null, latched: false, seq: 0, outbox: [] };
}

/**
 * The state under the current version of its rule. After an edit the condition starts afresh, seeded at the open
 * alert's severity (or the nearest the new rule has below it), so the alert carries on rather than flapping.
 */
export function adoptRule(state: AlertState, rule: AlertRule): AlertState {
  const hash = ruleHash(rule);
  if (state.ruleHash === hash) return state;
  if (rule.kind === 'deadman') return { ...state, ruleHash: hash, watermark: null, base: null, tail: [], cond: null };
  const SEVERITY_ORDER = ['informational', 'low', 'medium', 'high', 'critical'];
  let seed = -1;
  if (state.alert) {
    const rank = SEVERITY_ORDER.indexOf(state.alert.severity);
    rule.levels.forEach((level, i) => {
      if (SEVERITY_ORDER.indexOf(level.severity) <= rank) seed = i;
    });
    if (seed < 0) seed = 0;
  }
  const cond = initialCondition(rule, seed, state.alert?.raisedAt ?? null);
  return { ...state, ruleHash: hash, watermark: null, base: cond, tail: [], cond };
}
