import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import type { StepOptions } from '@city/core';
import type { Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import { QUEUES } from '@city/queue';
import type { AlertRule, Silence } from '@city/schema';
import { createPublishAlert } from '../publish-alert.ts';
import type { WorkerMetrics } from '../worker-metrics.ts';
import { registerActiveAlerts } from './alert-metrics.ts';
import { createAlertStore, type AlertStore } from './alert-store.ts';
import { createAlertEvaluator, type AlertEvaluator, type DeviceDirectory } from './create-alert-evaluator.ts';
import { createDeliverWebhook } from './deliver-webhook.ts';
import type { Webhook } from './webhooks.ts';
import { createWriteAlertHistory } from './write-alert-history.ts';

/** Settings of the alert engine inside a worker. */
export interface AlertEngineOptions {
  /** Where the alerts role sends events besides MQTT. */
  webhooks?: readonly Webhook[];
  /** Maintenance windows of the rules file (read on every batch, so a reload applies). */
  maintenance?: () => readonly Silence[];
  /** The device registry's view of devices (district, tags, expected interval). */
  devices?: DeviceDirectory;
  step?: StepOptions;
  /**
   * How often one of the workers checks for silent devices (deadman rules).
   * @defaultValue 5000
   */
  sweepIntervalMs?: number;
  /** Overrides of the webhook jobs' retry settings (attempts, backoff). */
  webhookJobOptions?: Pick<JobsOptions, 'attempts' | 'backoff'>;
  /** @defaultValue 5000 */
  webhookTimeoutMs?: number;
}

export interface AlertRolesDeps {
  connection: ConnectionOptions;
  prefix: string;
  /** Commands of the alert store; the BullMQ connection when it is an ioredis client. */
  redis?: Redis;
  logger: Logger;
  metrics: WorkerMetrics;
  roles: ReadonlyArray<'storage' | 'alerts'>;
  alertsQueue: Queue;
  rules?: () => readonly AlertRule[];
  sink?: Sink;
  mqtt?: MqttClient;
  options?: AlertEngineOptions;
}

export interface AlertRoles {
  store: AlertStore;
  /** The storage role's evaluator (absent in an alerts-only process). */
  evaluator?: AlertEvaluator;
  workers: Worker[];
  queues: { history: Queue; webhooks: Queue; sweeps: Queue };
  close(): Promise<void>;
}

/**
 * The alert engine's queues and workers. Storage role: evaluation (called by the telemetry job), the deadman
 * sweep and the `alerts` measurement. Alerts role: MQTT delivery and webhooks.
 */
export function buildAlertRoles(deps: AlertRolesDeps): AlertRoles {
  const { connection, prefix, logger, metrics, options = {} } = deps;
  const redis = deps.redis ?? (connection instanceof Redis ? connection : undefined);
  if (!redis) throw new TypeError('the alert engine needs an ioredis client (deps.redis)');
  const store = createAlertStore({ redis, prefix });
  const alertMetrics = metrics.alerts;
  const history = new Queue(QUEUES.alertHistory.name, { connection, prefix });
  const webhooks = new Queue(QUEUES.alertWebhooks.name, { connection, prefix });
  const sweeps = new Queue(QUEUES.alertSweeps.name, { connection, prefix });
  const queues = { history, webhooks, sweeps };
  for (const queue of Object.values(queues)) queue.on('error', (err) => logger.warn({ queue: queue.name, err: err.message }, 'queue error'));
  registerActiveAlerts(metrics.registry, store);
  const workers: Worker[] = [];
  let evaluator: AlertEvaluator | undefined;

  if (deps.roles.includes('storage')) {
    if (!deps.sink || !deps.rules) throw new TypeError('the storage role needs a sink and rules');
    evaluator = createAlertEvaluator({
      store,
      alertsQueue: deps.alertsQueue,
      rules: deps.rules,
      ...(options.maintenance ? { maintenance: options.maintenance } : {}),
      ...(options.devices ? { devices: options.devices } : {}),
      ...(options.step ? { step: options.step } : {}),
      metrics,
      alertMetrics,
      logger,
    });
    const sweeper = evaluator;
    workers.push(new Worker(QUEUES.alertHistory.name, createWriteAlertHistory({ sink: deps.sink, metrics }), { connection, prefix, concurrency: 4 }));
    workers.push(new Worker(QUEUES.alertSweeps.name, async () => (await sweeper.sweepDeadman()).length, { connection, prefix, concurrency: 1 }));
    // One scheduler per prefix however many workers run: upserting it again only updates it.
    void sweeps
      .upsertJobScheduler('deadman', { every: options.sweepIntervalMs ?? 5000 }, { name: QUEUES.alertSweeps.jobName, data: {}, opts: QUEUES.alertSweeps.jobOptions })
      .catch((err: unknown) => logger.error({ err: (err as Error).message }, 'could not schedule the deadman sweep'));
  }
  if (deps.roles.includes('alerts')) {
    if (!deps.mqtt) throw new TypeError('the alerts role needs an MQTT client');
    const hooks = options.webhooks ?? [];
    const publish = createPublishAlert({ mqtt: deps.mqtt, redis, store, historyQueue: history, webhooksQueue: webhooks, hooks, metrics, alertMetrics, ...(options.webhookJobOptions ? { webhookJobOptions: options.webhookJobOptions } : {}) });
    workers.push(new Worker(QUEUES.alerts.name, publish, { connection, prefix, concurrency: 16 }));
    const deliver = createDeliverWebhook({ hooks, alertMetrics, logger, ...(options.webhookTimeoutMs ? { timeoutMs: options.webhookTimeoutMs } : {}) });
    workers.push(new Worker(QUEUES.alertWebhooks.name, deliver, { connection, prefix, concurrency: 8 }));
  }

  return {
    store,
    ...(evaluator ? { evaluator } : {}),
    workers,
    queues,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
