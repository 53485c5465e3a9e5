import type { Queue } from 'bullmq';
import { deadmanDeadline, resolveAlert, ruleSelects, stepAlert, tickDeadman, type DeviceInfo, type StepOptions } from '@city/core';
import type { Logger } from '@city/logger';
import type { AlertEvent, AlertRule, DeadmanRule, Reading, Silence } from '@city/schema';
import type { WorkerMetrics } from '../worker-metrics.ts';
import type { AlertMetrics } from './alert-metrics.ts';
import type { AlertStore } from './alert-store.ts';
import { updateAlertStates, type StateUpdate } from './update-alert-states.ts';

/** What the device registry knows of devices (district, tags, expected interval); absent until it is wired in. */
export type DeviceDirectory = (deviceIds: readonly string[]) => Promise<ReadonlyMap<string, DeviceInfo>>;

export interface AlertEvaluatorOptions {
  store: AlertStore;
  alertsQueue: Queue;
  /** Read on every batch, so a reload takes effect on the next one. */
  rules: () => readonly AlertRule[];
  /** Maintenance windows from the rules file; ad-hoc silences live in Redis. */
  maintenance?: () => readonly Silence[];
  devices?: DeviceDirectory;
  metrics: WorkerMetrics;
  alertMetrics: AlertMetrics;
  logger: Logger;
  step?: StepOptions;
  now?: () => number;
}

export type AlertEvaluator = ReturnType<typeof createAlertEvaluator>;

/**
 * The stateful side of the alert engine: each (rule, device) state lives in Redis and is advanced by the pure
 * `stepAlert` under compare-and-set (`updateAlertStates`). N workers on readings of one device serialise per
 * (rule, device), and because the step puts late readings in their event-time place, the outcome does not
 * depend on which worker won.
 */
export function createAlertEvaluator(options: AlertEvaluatorOptions) {
  const { store, alertsQueue, alertMetrics, metrics, logger } = options;
  const now = options.now ?? Date.now;

  async function run(updates: StateUpdate[], extra: { devices?: ReadonlyMap<string, DeviceInfo>; replayOutbox?: boolean } = {}): Promise<AlertEvent[]> {
    if (updates.length === 0) return [];
    const silences = [...(options.maintenance?.() ?? []), ...(await store.silences())];
    const { events, conflicts } = await updateAlertStates(updates, { store, alertsQueue, silences, now: now(), ...extra }).catch((err: unknown) => {
      alertMetrics.casConflicts.inc();
      throw err;
    });
    if (conflicts > 0) alertMetrics.casConflicts.inc(conflicts);
    for (const event of events) {
      alertMetrics.transitions.inc({ transition: event.transition, severity: event.severity });
      if (event.transition === 'raised') metrics.alertsRaised.inc({ severity: event.severity });
    }
    return events;
  }

  return {
    /**
     * Steps a batch of readings through every rule that selects them; resolves with the events it raised.
     * `retry`: the batch was seen before, so the last events of every state it touches are enqueued again (their
     * ids make that a no-op when they were delivered): a crash between the state write and the enqueue loses nothing.
     */
    async evaluate(readings: readonly Reading[], { retry = false } = {}): Promise<AlertEvent[]> {
      const rules = options.rules();
      if (rules.length === 0) return [];
      const devices = options.devices ? await options.devices([...new Set(readings.map((r) => r.deviceId))]) : undefined;
      const groups = new Map<string, { rule: AlertRule; device: string; district: string | undefined; readings: Reading[] }>();
      for (const reading of readings) {
        for (const rule of rules) {
          if (!ruleSelects(rule, reading, devices?.get(reading.deviceId))) continue;
          const key = `${rule.id}:${reading.deviceId}`;
          let group = groups.get(key);
          if (!group) groups.set(key, (group = { rule, device: reading.deviceId, district: reading.district, readings: [] }));
          group.readings.push(reading);
        }
      }
      const deadlines = new Map<string, Map<string, number>>();
      // Per group, from its last (committed) round: a lost race re-runs the step.
      const outcomes = new Map<string, Map<string, number>>();
      const updates: StateUpdate[] = [...groups.values()].map((group) => {
        // Event-time order within the batch, so the common case never needs a replay.
        const sorted = group.readings.sort((a, b) => a.ts - b.ts);
        return {
          rule: group.rule,
          device: group.device,
          ...(group.district !== undefined ? { district: group.district } : {}),
          apply: (state, context) => {
            let next = state;
            const events: AlertEvent[] = [];
            const counts = new Map<string, number>();
            outcomes.set(`${group.rule.id}:${group.device}`, counts);
            for (const reading of sorted) {
              const step = stepAlert(next, group.rule, reading, { ...context, ...(options.step ? { options: options.step } : {}) });
              counts.set(step.outcome, (counts.get(step.outcome) ?? 0) + 1);
              next = step.state;
              events.push(...step.events);
            }
            if (group.rule.kind === 'deadman' && next.lastHeardAt !== null) {
              let perRule = deadlines.get(group.rule.id);
              if (!perRule) deadlines.set(group.rule.id, (perRule = new Map<string, number>()));
              perRule.set(group.device, deadmanDeadline(group.rule, next.lastHeardAt, context));
            }
            return { state: next, events };
          },
        };
      });
      const events = await run(updates, { ...(devices ? { devices } : {}), replayOutbox: retry });
      for (const counts of outcomes.values()) for (const [outcome, count] of counts) if (outcome !== 'ignored') alertMetrics.readings.inc({ outcome }, count);
      for (const [rule, perRule] of deadlines) await store.setDeadlines(rule, perRule);
      return events;
    },

    /** Raises deadman alerts for devices silent past their deadline. Run periodically (one worker per tick). */
    async sweepDeadman(): Promise<AlertEvent[]> {
      const at = now();
      const events: AlertEvent[] = [];
      for (const rule of options.rules().filter((r): r is DeadmanRule => r.kind === 'deadman')) {
        const due = await store.dueDevices(rule.id, at);
        if (due.length === 0) continue;
        const devices = options.devices ? await options.devices(due) : undefined;
        events.push(...(await run(due.map((device) => ({ rule, device, apply: (state, context) => tickDeadman(state, rule, at, context) })), devices ? { devices } : {})));
        // Raised (or already raised): off the schedule until the device reports again.
        for (const device of due) await store.removeIfDue(rule.id, device, at);
      }
      return events;
    },

    /** After a reload: the open alerts of rules that no longer exist are resolved by the system. */
    async resolveRemoved(previous: readonly AlertRule[], current: readonly AlertRule[]): Promise<AlertEvent[]> {
      const kept = new Set(current.map((r) => r.id));
      const removed = new Map(previous.filter((r) => !kept.has(r.id)).map((r) => [r.id, r]));
      if (removed.size === 0) return [];
      const at = now();
      const pairs = (await store.openPairs()).filter((p) => removed.has(p.rule));
      const events = await run(
        pairs.map(({ rule: id, device }) => {
          const rule = removed.get(id)!;
          return {
            rule,
            device,
            apply: (state, context) => {
              const outcome = resolveAlert(state, rule, { by: 'system', at, note: 'rule removed' }, context);
              return outcome.ok ? { state: { ...outcome.state, latched: false }, events: outcome.events } : { state, events: [] };
            },
          };
        }),
      );
      if (events.length > 0) logger.info({ resolved: events.length, rules: [...removed.keys()] }, 'resolved the open alerts of removed rules');
      return events;
    },
  };
}
