import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { QUEUES, alertJobId } from '@city/queue';
import { activeAlertTopic, alertTopic, type AlertEvent } from '@city/schema';
import type { AlertMetrics } from './alerts/alert-metrics.ts';
import type { AlertStore } from './alerts/alert-store.ts';
import { webhookWants, type Webhook } from './alerts/webhooks.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface PublishAlertDeps {
  mqtt: MqttClient;
  redis: Redis;
  store: AlertStore;
  historyQueue: Queue;
  webhooksQueue: Queue;
  hooks: readonly Webhook[];
  /** Overrides of the webhook jobs' retry settings. */
  webhookJobOptions?: Pick<JobsOptions, 'attempts' | 'backoff'>;
  metrics: WorkerMetrics;
  alertMetrics: AlertMetrics;
  /**
   * A publish not acknowledged by the broker by then fails, and the queue retries it.
   * @defaultValue 5000
   */
  publishTimeoutMs?: number;
  /**
   * How long to wait for another worker publishing the same alert's retained message.
   * @defaultValue 5000
   */
  lockWaitMs?: number;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} not done within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Delivers one alert transition. First the fan-out to its own queues (history, one job per webhook; the job ids
 * make a retry add nothing), so an MQTT outage delays neither; then the event stream
 * `city/v1/alerts/{severity}/{family}/{deviceId}` (QoS 1; not for silenced events); then the retained
 * `city/v1/alerts/active/{ruleId}/{deviceId}`.
 *
 * Retained messages must end at the newest transition even when several workers deliver transitions of one
 * alert at once: under a per-(rule, device) Redis lock, a transition older than the last one published there
 * is skipped, and the lock is held until the broker acknowledged the publish.
 */
export function createPublishAlert(deps: PublishAlertDeps) {
  const { mqtt, redis, store, metrics, publishTimeoutMs = 5000, lockWaitMs = 5000 } = deps;

  async function publishRetained(event: AlertEvent): Promise<void> {
    const lockKey = store.keys.lock(event.rule, event.device);
    const token = `${process.pid}:${event.id}:${Math.random()}`;
    const deadline = Date.now() + lockWaitMs;
    while ((await redis.set(lockKey, token, 'PX', publishTimeoutMs * 2, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new Error(`retained topic of ${event.rule}/${event.device} locked for over ${lockWaitMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      const publishedKey = store.keys.published(event.rule, event.device);
      const last = Number((await redis.get(publishedKey)) ?? 0);
      if (event.seq <= last) return;
      const payload = event.state === 'resolved' ? '' : JSON.stringify(event);
      await withTimeout(mqtt.publishAsync(activeAlertTopic(event.rule, event.device), payload, { qos: 1, retain: true }), publishTimeoutMs, 'retained alert publish');
      await redis.set(publishedKey, String(event.seq), 'PX', 30 * 86_400_000);
    } finally {
      // Release only our own lock (it may have expired and been taken by another worker).
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lockKey, token);
    }
  }

  return async function publishAlert(job: Job): Promise<void> {
    const event = QUEUES.alerts.schema.parse(job.data);
    const jobId = alertJobId(event.id);
    await deps.historyQueue.add(QUEUES.alertHistory.jobName, event, { ...QUEUES.alertHistory.jobOptions, jobId });
    const hooks = deps.hooks.filter((hook) => webhookWants(hook, event));
    if (hooks.length > 0) {
      await deps.webhooksQueue.addBulk(
        hooks.map((hook) => ({ name: QUEUES.alertWebhooks.jobName, data: { hook: hook.id, event }, opts: { ...QUEUES.alertWebhooks.jobOptions, ...deps.webhookJobOptions, jobId: `${hook.id}_${jobId}` } })),
      );
    }
    try {
      if (!event.silenced) {
        await withTimeout(mqtt.publishAsync(alertTopic(event.severity, event.family, event.device), JSON.stringify(event), { qos: 1 }), publishTimeoutMs, 'alert publish');
      }
      await publishRetained(event);
    } catch (err) {
      metrics.alertPublishErrors.inc();
      throw err;
    }
    metrics.alertsPublished.inc();
  };
}
