import type { AlertEvent, AlertRule, AlertTransition, Family, Severity } from '@city/schema';
import type { AlertState, OpenAlert } from './alert-state.ts';
import type { DeviceInfo } from './select-reading.ts';

/** FIWARE Alert categories where the data model has one (traffic, environment); `infrastructure` is ours. */
const CATEGORIES: Partial<Record<Family, { category: string; subCategory?: string }>> = {
  traffic: { category: 'traffic', subCategory: 'trafficJam' },
  airquality: { category: 'environment', subCategory: 'airPollution' },
  water: { category: 'infrastructure', subCategory: 'waterNetwork' },
  electricity: { category: 'infrastructure', subCategory: 'powerQuality' },
};

export interface EventFacts {
  transition: AlertTransition;
  /** When the transition happened (event time, or the operator's action time), epoch ms. */
  at: number;
  value?: number | null;
  threshold?: number;
  previousSeverity?: Severity;
  by?: string;
  note?: string;
}

/** One transition as operators see it; `alert` is the alert after the transition. */
export function buildAlertEvent(
  state: AlertState,
  rule: AlertRule,
  alert: OpenAlert,
  facts: EventFacts,
  context: { silenced: boolean; device?: DeviceInfo },
): AlertEvent {
  const seq = state.seq + 1;
  const defaults = CATEGORIES[rule.family] ?? { category: 'infrastructure' };
  const event: AlertEvent = {
    id: `${rule.id}:${state.device}:${seq}`,
    type: 'Alert',
    category: rule.category ?? defaults.category,
    severity: alert.severity,
    dateIssued: new Date(alert.raisedAt).toISOString(),
    dateObserved: new Date(facts.at).toISOString(),
    alertSource: state.device,
    alertId: alert.id,
    seq,
    transition: facts.transition,
    state: facts.transition === 'resolved' ? 'resolved' : alert.state,
    rule: rule.id,
    ruleKind: rule.kind,
    family: rule.family,
    device: state.device,
    comparison: rule.kind === 'deadman' ? 'silent' : rule.comparison,
    flapping: alert.flapping,
    silenced: context.silenced,
  };
  const subCategory = rule.subCategory ?? defaults.subCategory;
  if (subCategory !== undefined) event.subCategory = subCategory;
  const description = rule.description ?? rule.title;
  if (description !== undefined) event.description = description;
  if (facts.previousSeverity !== undefined) event.previousSeverity = facts.previousSeverity;
  const district = context.device?.district ?? state.district;
  if (district !== undefined) event.district = district;
  if (context.device?.location) event.location = { type: 'Point', coordinates: [context.device.location.lon, context.device.location.lat] };
  if (rule.kind === 'threshold') event.metric = rule.metric;
  if (facts.value !== undefined && facts.value !== null) event.value = facts.value;
  if (facts.threshold !== undefined) event.threshold = facts.threshold;
  if (alert.acknowledgedBy !== undefined) event.acknowledgedBy = alert.acknowledgedBy;
  if (alert.acknowledgedAt !== undefined) event.acknowledgedAt = new Date(alert.acknowledgedAt).toISOString();
  if (facts.transition === 'resolved') event.resolvedBy = facts.by ?? 'engine';
  const note = facts.note ?? alert.note;
  if (note !== undefined) event.note = note;
  return event;
}
