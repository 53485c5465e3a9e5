import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { acknowledgeAlert, resolveAlert, type AlertState, type OperatorOutcome } from '@city/core';
import { QUEUES } from '@city/queue';
import { SilenceSchema, type AlertEvent, type AlertRule, type Severity, type Silence } from '@city/schema';
import { createAlertStore } from './alert-store.ts';
import { updateAlertStates } from './update-alert-states.ts';

export interface AlertOperationsOptions {
  redis: Redis;
  prefix: string;
  /** The rules in force (an event names its rule's title, category, metric). */
  rules: () => readonly AlertRule[];
  now?: () => number;
}

/** One open alert, as an operator lists it. */
export interface OpenAlertSummary {
  rule: string;
  device: string;
  district?: string;
  id: string;
  severity: Severity;
  state: 'active' | 'acknowledged';
  raisedAt: string;
  flapping: boolean;
  acknowledgedBy?: string;
  acknowledgedAt?: string;
  note?: string;
  /** The rule's compared value at the last reading. */
  value?: number;
}

export type OperatorResult = { ok: true; event: AlertEvent } | { ok: false; reason: 'no_open_alert' | 'already_acknowledged' | 'unknown_rule' };

export interface OperatorRequest {
  rule: string;
  device: string;
  /** Who: an operator login (the CLI uses `cli:{os user}`). */
  by: string;
  note?: string;
}

export type AlertOperations = ReturnType<typeof createAlertOperations>;

/**
 * What operators do to alerts, as functions: the CLI calls them now and the operator API will. Acknowledge and
 * resolve go through the same compare-and-set as the engine, and their events through the same delivery.
 */
export function createAlertOperations({ redis, prefix, rules, now = Date.now }: AlertOperationsOptions) {
  const store = createAlertStore({ redis, prefix });
  const alertsQueue = new Queue(QUEUES.alerts.name, { connection: redis, prefix });

  async function act(request: OperatorRequest, action: typeof acknowledgeAlert): Promise<OperatorResult> {
    const rule = rules().find((r) => r.id === request.rule);
    if (!rule) return { ok: false, reason: 'unknown_rule' };
    const at = now();
    let failure: Extract<OperatorOutcome, { ok: false }> | undefined;
    const { events } = await updateAlertStates(
      [
        {
          rule,
          device: request.device,
          apply: (state: AlertState, context) => {
            const outcome = action(state, rule, { by: request.by, at, ...(request.note !== undefined ? { note: request.note } : {}) }, context);
            failure = outcome.ok ? undefined : outcome;
            return outcome.ok ? { state: outcome.state, events: outcome.events } : { state, events: [] };
          },
        },
      ],
      { store, alertsQueue, silences: await store.silences(), now: at },
    );
    if (failure) return failure;
    return { ok: true, event: events[0]! };
  }

  return {
    store,
    /** Open alerts, most severe first, then oldest first. */
    async list(): Promise<OpenAlertSummary[]> {
      const states = await store.load(await store.openPairs());
      const order = ['critical', 'high', 'medium', 'low', 'informational'];
      return states
        .flatMap(({ state }) => {
          if (!state?.alert) return [];
          const { alert } = state;
          const summary: OpenAlertSummary = {
            rule: state.rule, device: state.device, id: alert.id, severity: alert.severity, state: alert.state,
            raisedAt: new Date(alert.raisedAt).toISOString(), flapping: alert.flapping,
          };
          if (state.district !== undefined) summary.district = state.district;
          if (alert.acknowledgedBy !== undefined) summary.acknowledgedBy = alert.acknowledgedBy;
          if (alert.acknowledgedAt !== undefined) summary.acknowledgedAt = new Date(alert.acknowledgedAt).toISOString();
          if (alert.note !== undefined) summary.note = alert.note;
          if (state.cond?.signal !== undefined && state.cond.signal !== null) summary.value = state.cond.signal;
          return [summary];
        })
        .sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity) || a.raisedAt.localeCompare(b.raisedAt));
    },
    acknowledge: (request: OperatorRequest) => act(request, acknowledgeAlert),
    resolve: (request: OperatorRequest) => act(request, resolveAlert),
    async silence(silence: Silence): Promise<Silence> {
      const parsed = SilenceSchema.parse(silence);
      await store.pruneSilences(now());
      await store.addSilence(parsed);
      return parsed;
    },
    unsilence: (id: string) => store.removeSilence(id),
    silences: () => store.silences(),
    /**
     * Asks every worker to reload its rules file; resolves with each worker's outcome that arrived within `waitMs`.
     */
    async reload(waitMs = 1500): Promise<{ receivers: number; outcomes: Record<string, { ok: boolean; rules: number; error?: string }> }> {
      const sent = now();
      const receivers = await redis.publish(store.keys.reloadChannel, String(sent));
      const deadline = sent + waitMs;
      type Outcome = { ok: boolean; rules: number; error?: string; at: number };
      let outcomes: Record<string, Outcome> = {};
      while (now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const all = await redis.hgetall(`${prefix}:alerts:rules-status`);
        const entries: Array<[string, Outcome]> = Object.entries(all).map(([worker, json]) => [worker, JSON.parse(json) as Outcome]);
        outcomes = Object.fromEntries(entries.filter(([, outcome]) => outcome.at >= sent));
        if (Object.keys(outcomes).length >= receivers) break;
      }
      return { receivers, outcomes };
    },
    async close(): Promise<void> {
      await alertsQueue.close();
    },
  };
}
