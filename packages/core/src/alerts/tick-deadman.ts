import type { AlertEvent, DeadmanRule } from '@city/schema';
import { adoptRule, type AlertState } from './alert-state.ts';
import { reconcileAlert, type EventContext } from './reconcile-alert.ts';

/** The device's reporting interval: the registry's when it has one, else the rule's. */
export function expectedIntervalMs(rule: DeadmanRule, context: EventContext): number {
  return context.device?.expectedIntervalMs ?? rule.expectedIntervalMs;
}

/** When a device last heard at `lastHeardAt` becomes silent for this rule, epoch ms. */
export function deadmanDeadline(rule: DeadmanRule, lastHeardAt: number, context: EventContext): number {
  return lastHeardAt + rule.factor * expectedIntervalMs(rule, context);
}

/**
 * The clock's side of a deadman rule: raises the alert once the device has been silent (by receive time) for
 * longer than `factor` × its expected interval. A reading resolves it (`stepAlert`).
 */
export function tickDeadman(state: AlertState, rule: DeadmanRule, now: number, context: EventContext): { state: AlertState; events: AlertEvent[] } {
  const adopted = adoptRule(state, rule);
  if (adopted.lastHeardAt === null) return { state: adopted, events: [] };
  const limit = rule.factor * expectedIntervalMs(rule, context);
  const silentMs = now - adopted.lastHeardAt;
  if (silentMs <= limit) return { state: adopted, events: [] };
  return reconcileAlert(
    adopted,
    rule,
    { on: true, severity: rule.severity, flapping: false, since: now, value: silentMs, thresholdOf: () => limit },
    now,
    context,
  );
}
