import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { MqttClient } from 'mqtt';
import type { Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import { QUEUES } from '@city/queue';
import type { AlertRule } from '@city/schema';
import { createPublishAlert } from './publish-alert.ts';
import { createStoreTelemetry } from './store-telemetry.ts';
import { registerQueueDepth, type WorkerMetrics } from './worker-metrics.ts';

export interface WorkerDeps {
  /** A Redis connection for BullMQ workers (`maxRetriesPerRequest: null`); each Worker duplicates it. */
  connection: ConnectionOptions;
  prefix: string;
  logger: Logger;
  metrics: WorkerMetrics;
  roles: ReadonlyArray<'storage' | 'alerts'>;
  /** Needed by the storage role. */
  sink?: Sink;
  rules?: () => readonly AlertRule[];
  /** Needed by the alerts role: a client connected to the broker. */
  mqtt?: MqttClient;
  /** @defaultValue 4 */
  storageConcurrency?: number;
}

export interface TelemetryWorker {
  workers: Worker[];
  queues: { alerts: Queue; telemetry: Queue };
  /** Finish the jobs in hand (their writes complete), take no new ones, close connections. */
  close(): Promise<void>;
}

/** Wires the worker's roles onto their queues. Listening and signals are `main.ts`'s business. */
export function buildWorker(deps: WorkerDeps): TelemetryWorker {
  const { connection, prefix, logger, metrics } = deps;
  const alerts = new Queue(QUEUES.alerts.name, { connection, prefix });
  const telemetry = new Queue(QUEUES.telemetry.name, { connection, prefix });
  for (const queue of [alerts, telemetry]) queue.on('error', (err) => logger.warn({ queue: queue.name, err: err.message }, 'queue error'));
  registerQueueDepth(metrics.registry, [telemetry, alerts]);
  const workers: Worker[] = [];

  if (deps.roles.includes('storage')) {
    if (!deps.sink || !deps.rules) throw new TypeError('the storage role needs a sink and rules');
    const storeTelemetry = createStoreTelemetry({ sink: deps.sink, rules: deps.rules, alertsQueue: alerts, metrics, logger });
    workers.push(new Worker(QUEUES.telemetry.name, storeTelemetry, { connection, prefix, concurrency: deps.storageConcurrency ?? 4 }));
  }
  if (deps.roles.includes('alerts')) {
    if (!deps.mqtt) throw new TypeError('the alerts role needs an MQTT client');
    workers.push(new Worker(QUEUES.alerts.name, createPublishAlert({ mqtt: deps.mqtt, metrics }), { connection, prefix, concurrency: 16 }));
  }
  for (const worker of workers) {
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) logger.error({ queue: worker.name, jobId: job.id, err: err.message }, 'job failed for good');
    });
    worker.on('error', (err) => logger.warn({ queue: worker.name, err: err.message }, 'worker error'));
  }

  return {
    workers,
    queues: { alerts, telemetry },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([alerts.close(), telemetry.close()]);
    },
  };
}
