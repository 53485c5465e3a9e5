import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { MqttClient } from 'mqtt';
import type { Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import { QUEUES, createDeadLetterStore } from '@city/queue';
import type { AlertRule } from '@city/schema';
import { buildAlertRoles, type AlertEngineOptions, type AlertRoles } from './alerts/build-alert-roles.ts';
import { createStoreTelemetry } from './store-telemetry.ts';
import { Redis } from 'ioredis';
import { createCounterResetMarker } from './create-counter-reset-marker.ts';
import { registerQueueDepth, type WorkerMetrics } from './worker-metrics.ts';
import { createStorageRole, mqttStatusPublisher, type StorageRole, type StorageRoleOptions } from './storage/create-storage-role.ts';
import { registerOldestWaiting } from './storage/storage-metrics.ts';

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
  /** Needed by the alerts role: a client connected to the broker. The storage role publishes pipeline status on it. */
  mqtt?: MqttClient;
  /** Webhooks, maintenance windows, the device directory, deadman sweep and lateness settings. */
  alerts?: AlertEngineOptions;
  /** Overrides `storage.concurrency`. @defaultValue 64 */
  storageConcurrency?: number;
  /** Write coalescing, the pause while the database is down, locks, when operators hear of it (storage/). */
  storage?: StorageRoleOptions;
}

export interface TelemetryWorker {
  workers: Worker[];
  queues: { alerts: Queue; telemetry: Queue };
  /** The alert engine's store, evaluator, queues and workers. */
  alertEngine: AlertRoles;
  /** The storage role's write path and health (absent without the storage role). */
  storage?: StorageRole;
  /** Finish the jobs in hand (their writes complete), take no new ones, close connections. */
  close(): Promise<void>;
}

/** Wires the worker's roles onto their queues. Listening and signals are `main.ts`'s business. */
export function buildWorker(deps: WorkerDeps): TelemetryWorker {
  const { connection, prefix, logger, metrics } = deps;
  const alerts = new Queue(QUEUES.alerts.name, { connection, prefix });
  const telemetry = new Queue(QUEUES.telemetry.name, { connection, prefix });
  for (const queue of [alerts, telemetry]) queue.on('error', (err) => logger.warn({ queue: queue.name, err: err.message }, 'queue error'));
  const workers: Worker[] = [];
  const alertEngine = buildAlertRoles({
    connection, prefix, logger, metrics, roles: deps.roles, alertsQueue: alerts,
    ...(deps.rules ? { rules: deps.rules } : {}), ...(deps.sink ? { sink: deps.sink } : {}), ...(deps.mqtt ? { mqtt: deps.mqtt } : {}), ...(deps.alerts ? { options: deps.alerts } : {}),
  });
  registerQueueDepth(metrics.registry, [telemetry, alerts, ...Object.values(alertEngine.queues)]);
  registerOldestWaiting(metrics.registry, [telemetry, alerts, ...Object.values(alertEngine.queues)]);
  let storage: StorageRole | undefined;

  if (deps.roles.includes('storage')) {
    if (!deps.sink || !alertEngine.evaluator) throw new TypeError('the storage role needs a sink and rules');
    // Counter state lives in the worker's Redis (the connection main.ts passes is an ioredis instance).
    const counters = connection instanceof Redis ? createCounterResetMarker({ redis: connection, prefix }) : undefined;
    storage = createStorageRole({
      sink: deps.sink,
      queue: telemetry,
      ...(connection instanceof Redis ? { deadLetters: createDeadLetterStore({ redis: connection, prefix }) } : {}),
      metrics,
      logger,
      ...(deps.mqtt ? { publishStatus: mqttStatusPublisher(deps.mqtt) } : {}),
      options: { ...deps.storage, ...(deps.storageConcurrency !== undefined ? { concurrency: deps.storageConcurrency } : {}) },
    });
    const storeTelemetry = createStoreTelemetry({ storage, alerts: alertEngine.evaluator, metrics, logger, ...(counters ? { counters } : {}) });
    workers.push(new Worker(QUEUES.telemetry.name, storeTelemetry, { connection, prefix, ...storage.workerOptions }));
  }
  for (const worker of [...workers, ...alertEngine.workers]) {
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) logger.error({ queue: worker.name, jobId: job.id, err: err.message }, 'job failed for good');
    });
    worker.on('error', (err) => logger.warn({ queue: worker.name, err: err.message }, 'worker error'));
  }

  return {
    workers,
    queues: { alerts, telemetry },
    alertEngine,
    ...(storage ? { storage } : {}),
    async close() {
      await Promise.all([...workers.map((w) => w.close()), alertEngine.close()]);
      await storage?.close();
      await Promise.all([alerts.close(), telemetry.close()]);
    },
  };
}
