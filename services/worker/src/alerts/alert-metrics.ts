import { Counter, Gauge, type Registry } from 'prom-client';
import { ALERT_TRANSITIONS, SEVERITIES } from '@city/schema';
import type { AlertStore } from './alert-store.ts';

export type AlertMetrics = ReturnType<typeof createAlertMetrics>;

/** The alert engine's metrics, on the worker's registry. */
export function createAlertMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    transitions: new Counter({
      name: 'city_worker_alert_transitions_total',
      help: 'Alert transitions (raised, escalated, deescalated, acknowledged, resolved, flapping, stable) by severity',
      labelNames: ['transition', 'severity'],
      registers,
    }),
    readings: new Counter({
      name: 'city_worker_alert_readings_total',
      help: 'Readings stepped through a rule, by outcome (applied, reordered, duplicate, stale)',
      labelNames: ['outcome'],
      registers,
    }),
    casConflicts: new Counter({ name: 'city_worker_alert_cas_conflicts_total', help: 'Alert state writes that lost a race and were retried', registers }),
    webhookDeliveries: new Counter({
      name: 'city_worker_webhook_deliveries_total',
      help: 'Webhook delivery attempts by hook and result (ok, failed = will retry, dead_lettered)',
      labelNames: ['hook', 'result'],
      registers,
    }),
    ruleReloads: new Counter({ name: 'city_worker_alert_rule_reloads_total', help: 'Alert rule reloads by result (ok, failed: the old rules stay)', labelNames: ['result'], registers }),
    rulesLoaded: new Gauge({ name: 'city_worker_alert_rules', help: 'Alert rules in force', registers }),
  };
  for (const result of ['ok', 'failed']) metrics.ruleReloads.inc({ result }, 0);
  for (const transition of ALERT_TRANSITIONS) for (const severity of SEVERITIES) metrics.transitions.inc({ transition, severity }, 0);
  return metrics;
}

/** `city_worker_alerts_active{severity}`: open alerts, read from Redis on each scrape. */
export function registerActiveAlerts(registry: Registry, store: AlertStore): void {
  new Gauge({
    name: 'city_worker_alerts_active',
    help: 'Open (active or acknowledged) alerts by severity',
    labelNames: ['severity'],
    registers: [registry],
    async collect() {
      const states = await store.load(await store.openPairs());
      const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
      for (const { state } of states) if (state?.alert) counts[state.alert.severity]! += 1;
      for (const [severity, count] of Object.entries(counts)) this.set({ severity }, count);
    },
  });
}
