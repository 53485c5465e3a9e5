import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import { SEVERITIES } from '@city/schema';
import { createAlertMetrics } from './alerts/alert-metrics.ts';
import { createStorageMetrics } from './storage/storage-metrics.ts';

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export function createWorkerMetrics(registry = new Registry()) {
  const registers = [registry];
  const metrics = {
    registry,
    batchesWritten: new Counter({ name: 'city_worker_batches_written_total', help: 'Telemetry batches stored in InfluxDB', registers }),
    pointsWritten: new Counter({ name: 'city_worker_points_written_total', help: 'Points stored in InfluxDB', registers }),
    writeErrors: new Counter({ name: 'city_worker_write_errors_total', help: 'Failed InfluxDB writes, by error code', labelNames: ['code'], registers }),
    writeSeconds: new Histogram({
      name: 'city_worker_write_duration_seconds',
      help: 'Time for one batch write to InfluxDB',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    alertsRaised: new Counter({ name: 'city_worker_alerts_raised_total', help: 'Threshold crossings raised as alerts', labelNames: ['severity'], registers }),
    alertsPublished: new Counter({ name: 'city_worker_alerts_published_total', help: 'Alerts published to the operators\' MQTT topics', registers }),
    alertPublishErrors: new Counter({ name: 'city_worker_alert_publish_errors_total', help: 'Alert publishes that failed (retried by the queue)', registers }),
    /** The alert engine's: transitions, reading outcomes, webhooks, rule reloads. */
    alerts: createAlertMetrics(registry),
    /** The storage path under faults: coalesced writes, pauses, failed jobs, dead letters, health (storage/). */
    storage: createStorageMetrics(registry),
  };
  for (const severity of SEVERITIES) metrics.alertsRaised.inc({ severity }, 0);
  return metrics;
}

/** `city_queue_jobs{queue,state}`: read from Redis on each scrape. */
export function registerQueueDepth(registry: Registry, queues: Queue[]): void {
  new Gauge({
    name: 'city_queue_jobs',
    help: 'Jobs per queue and state (waiting = backlog)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      for (const queue of queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, count] of Object.entries(counts)) this.set({ queue: queue.name, state }, count);
      }
    },
  });
}
