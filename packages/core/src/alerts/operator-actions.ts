import type { AlertEvent, AlertRule } from '@city/schema';
import type { AlertState } from './alert-state.ts';
import { buildAlertEvent, type EventFacts } from './build-alert-event.ts';
import { thresholdOf } from './fold-sample.ts';
import type { EventContext } from './reconcile-alert.ts';

export interface OperatorAction {
  /** Who did it: an operator's login, or `cli:{user}`. */
  by: string;
  /** When, epoch ms. */
  at: number;
  note?: string;
}

/** The value and threshold the alert stands at, for an operator's event. */
function currentFacts(state: AlertState, rule: AlertRule): Pick<EventFacts, 'value' | 'threshold'> {
  if (rule.kind !== 'threshold' || !state.cond || !state.alert) return {};
  const severity = state.alert.severity;
  const threshold = thresholdOf(rule, rule.levels.findIndex((l) => l.severity === severity), state.cond.signal);
  return { value: state.cond.signal, ...(threshold !== undefined ? { threshold } : {}) };
}

export type OperatorOutcome =
  | { ok: true; state: AlertState; events: AlertEvent[] }
  | { ok: false; reason: 'no_open_alert' | 'already_acknowledged' };

/** Acknowledge the open alert: recorded who and when; it stays open until the condition clears or someone resolves it. */
export function acknowledgeAlert(state: AlertState, rule: AlertRule, action: OperatorAction, context: EventContext): OperatorOutcome {
  const open = state.alert;
  if (!open) return { ok: false, reason: 'no_open_alert' };
  if (open.state === 'acknowledged') return { ok: false, reason: 'already_acknowledged' };
  const alert = { ...open, state: 'acknowledged' as const, acknowledgedBy: action.by, acknowledgedAt: action.at, ...(action.note !== undefined ? { note: action.note } : {}) };
  const event = buildAlertEvent(state, rule, alert, { ...currentFacts(state, rule), transition: 'acknowledged', at: action.at, by: action.by }, context);
  return { ok: true, state: { ...state, alert, seq: event.seq }, events: [event] };
}

/**
 * Resolve by hand. While the condition still holds the (rule, device) is latched: no new alert until the
 * condition clears (threshold rules) or the device reports again (deadman), so resolving is not undone by the
 * next reading.
 */
export function resolveAlert(state: AlertState, rule: AlertRule, action: OperatorAction, context: EventContext): OperatorOutcome {
  const open = state.alert;
  if (!open) return { ok: false, reason: 'no_open_alert' };
  const event = buildAlertEvent(state, rule, open, { ...currentFacts(state, rule), transition: 'resolved', at: action.at, by: action.by, ...(action.note !== undefined ? { note: action.note } : {}) }, context);
  const stillOn = rule.kind === 'deadman' || (state.cond !== null && state.cond.visible >= 0);
  return { ok: true, state: { ...state, alert: null, latched: stillOn, seq: event.seq }, events: [event] };
}
