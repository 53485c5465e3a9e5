import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '@city/logger';
import { QUEUES } from '@city/queue';
import type { AlertMetrics } from './alert-metrics.ts';
import { WEBHOOK_HEADERS, signWebhook, type Webhook } from './webhooks.ts';

export interface DeliverWebhookDeps {
  hooks: readonly Webhook[];
  alertMetrics: AlertMetrics;
  logger: Logger;
  /**
   * A receiver that has not answered by then has failed this attempt.
   * @defaultValue 5000
   */
  timeoutMs?: number;
  now?: () => number;
}

/** Status codes worth retrying; any other 4xx means the receiver will never take this delivery. */
const RETRYABLE = new Set([408, 425, 429]);

/**
 * One POST of one event to one webhook, signed. A 2xx completes the job; a network error, a timeout, a 5xx,
 * 408/425/429 throw and the queue retries with backoff; another 4xx fails at once. A delivery that runs out of
 * attempts stays in the queue's failed set: the dead letters, with the event, for replay.
 */
export function createDeliverWebhook({ hooks, alertMetrics, logger, timeoutMs = 5000, now = Date.now }: DeliverWebhookDeps) {
  const byId = new Map(hooks.map((h) => [h.id, h]));
  return async function deliverWebhook(job: Job): Promise<{ status: number }> {
    const { hook: hookId, event } = QUEUES.alertWebhooks.schema.parse(job.data);
    const hook = byId.get(hookId);
    if (!hook) throw new UnrecoverableError(`webhook "${hookId}" is no longer configured`);
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const fail = (err: Error, retryable: boolean): never => {
      const dead = !retryable || lastAttempt;
      alertMetrics.webhookDeliveries.inc({ hook: hook.id, result: dead ? 'dead_lettered' : 'failed' });
      logger.warn({ hook: hook.id, event: event.id, attempt: job.attemptsMade + 1, err: err.message, deadLettered: dead }, 'webhook delivery failed');
      throw retryable ? err : new UnrecoverableError(err.message);
    };

    const body = JSON.stringify(event);
    const timestamp = Math.floor(now() / 1000);
    let response: Response;
    try {
      response = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'city-telemetry-alerts',
          [WEBHOOK_HEADERS.eventId]: event.id,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signWebhook(hook.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel();
    } catch (err) {
      return fail(err as Error, true);
    }
    if (response.ok) {
      alertMetrics.webhookDeliveries.inc({ hook: hook.id, result: 'ok' });
      return { status: response.status };
    }
    return fail(new Error(`webhook ${hook.id} answered ${response.status}`), response.status >= 500 || RETRYABLE.has(response.status));
  };
}
