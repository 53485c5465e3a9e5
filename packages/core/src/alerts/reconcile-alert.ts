import { SEVERITIES, type AlertEvent, type AlertRule, type Severity } from '@city/schema';
import type { AlertState, OpenAlert } from './alert-state.ts';
import { buildAlertEvent } from './build-alert-event.ts';
import type { DeviceInfo } from './select-reading.ts';

export interface EventContext {
  /** A silence or maintenance window covers this (rule, device): events are recorded but not notified. */
  silenced: boolean;
  device?: DeviceInfo;
}

/** What the condition says the alert should be now. */
export interface AlertTarget {
  on: boolean;
  severity: Severity;
  flapping: boolean;
  /** When the condition became true (the raised alert's time). */
  since: number;
  value?: number | null;
  /** The threshold of a severity, for the event. */
  thresholdOf: (severity: Severity) => number | undefined;
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/**
 * Moves the open alert to what the condition says, one event per transition: one alert per (rule, device) at a
 * time, repeats of the same severity change nothing. An escalation reopens an acknowledged alert (the operator
 * acknowledged something milder); a de-escalation keeps the acknowledgement.
 */
export function reconcileAlert(
  state: AlertState,
  rule: AlertRule,
  target: AlertTarget,
  at: number,
  context: EventContext,
): { state: AlertState; events: AlertEvent[] } {
  let next = state;
  const events: AlertEvent[] = [];
  const emit = (alert: OpenAlert, facts: Omit<Parameters<typeof buildAlertEvent>[3], 'at' | 'value'>) => {
    const event = buildAlertEvent(next, rule, alert, { ...facts, at, value: target.value }, context);
    next = { ...next, seq: event.seq };
    events.push(event);
  };

  if (next.latched) {
    if (!target.on) next = { ...next, latched: false };
    return { state: next, events };
  }
  const open = next.alert;
  if (!open) {
    if (!target.on) return { state: next, events };
    const alert: OpenAlert = { id: `${rule.id}:${next.device}:${target.since}`, severity: target.severity, raisedAt: target.since, state: 'active', flapping: target.flapping };
    next = { ...next, alert };
    emit(alert, { transition: 'raised', threshold: target.thresholdOf(alert.severity) });
    return { state: next, events };
  }
  if (!target.on) {
    emit(open, { transition: 'resolved', threshold: target.thresholdOf(open.severity) });
    next = { ...next, alert: null };
    return { state: next, events };
  }
  let alert = open;
  if (target.severity !== alert.severity) {
    const up = rank(target.severity) > rank(alert.severity);
    alert = { ...alert, severity: target.severity };
    if (up && alert.state === 'acknowledged') {
      alert.state = 'active';
      delete alert.acknowledgedBy;
      delete alert.acknowledgedAt;
      delete alert.note;
    }
    next = { ...next, alert };
    emit(alert, { transition: up ? 'escalated' : 'deescalated', previousSeverity: open.severity, threshold: target.thresholdOf(alert.severity) });
  }
  if (target.flapping !== alert.flapping) {
    alert = { ...alert, flapping: target.flapping };
    next = { ...next, alert };
    emit(alert, { transition: target.flapping ? 'flapping' : 'stable', threshold: target.thresholdOf(alert.severity) });
  }
  return { state: next, events };
}
