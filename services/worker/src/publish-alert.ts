import type { Job } from 'bullmq';
import type { MqttClient } from 'mqtt';
import { QUEUES } from '@city/queue';
import { alertTopic } from '@city/schema';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface PublishAlertDeps {
  mqtt: MqttClient;
  metrics: WorkerMetrics;
  /**
   * A publish not acknowledged by the broker by then fails, and the queue retries it.
   * @defaultValue 5000
   */
  publishTimeoutMs?: number;
}

/** Delivers one alert event to `city/v1/alerts/{severity}/{family}/{deviceId}` at QoS 1. */
export function createPublishAlert({ mqtt, metrics, publishTimeoutMs = 5000 }: PublishAlertDeps) {
  return async function publishAlert(job: Job): Promise<void> {
    const event = QUEUES.alerts.schema.parse(job.data);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        mqtt.publishAsync(alertTopic(event.severity, event.family, event.device), JSON.stringify(event), { qos: 1 }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`alert not acknowledged by the broker within ${publishTimeoutMs} ms`)), publishTimeoutMs);
        }),
      ]);
    } catch (err) {
      metrics.alertPublishErrors.inc();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    metrics.alertsPublished.inc();
  };
}
