import type { JobsOptions } from 'bullmq';
import { AlertEventSchema, AlertWebhookJobSchema, TelemetryBatchSchema } from '@city/schema';
import { z } from 'zod';

/** The telemetry jobs' backoff, computed by the storage worker's `backoffStrategy` from TELEMETRY_RETRY. */
export const TELEMETRY_BACKOFF_TYPE = 'capped-exponential';

/** Unexpected errors on a telemetry job: 1 s, 2 s, 4 s … capped at 10 min, each less up to half at random. */
export const TELEMETRY_RETRY = { baseMs: 1000, maxMs: 600_000, jitter: 0.5 } as const;

/**
 * Every queue, the schema of its jobs, and who retries what. Producers and consumers both read this,
 * so a job is typed by the same schema on both sides (and parsed again when taken off the queue).
 * Queue names and job ids may not contain `:` (BullMQ uses it in its keys).
 */
export const QUEUES = {
  /** Micro-batches of validated readings, broker → storage worker. */
  telemetry: {
    name: 'telemetry',
    jobName: 'batch',
    schema: TelemetryBatchSchema,
    jobOptions: {
      // A job completes only after InfluxDB accepted its points. A database that is down or throttling costs no
      // attempt (the storage role pauses and hands the job back, services/worker/src/storage/); attempts are for
      // unexpected errors, retried on TELEMETRY_RETRY: 24 attempts wait at least ~73 min in all.
      attempts: 24,
      backoff: { type: TELEMETRY_BACKOFF_TYPE },
      // Completed jobs keep their readings in Redis: keep few, Redis memory is what backpressure guards.
      removeOnComplete: { count: 100 },
      // A batch that ran out of attempts still holds acknowledged readings: keep it for replay.
      removeOnFail: false,
    } satisfies JobsOptions,
  },
  /** Alert events, storage worker → alert dispatch (MQTT now, webhooks later). */
  alerts: {
    name: 'alerts',
    jobName: 'alert',
    schema: AlertEventSchema,
    jobOptions: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 500, jitter: 0.5 },
      // The job id is the event id: a redelivered telemetry batch re-adds the same ids, and BullMQ ignores
      // a re-add while the first job is kept, so operators hear of a crossing once. Kept a day for that.
      removeOnComplete: { age: 86_400, count: 100_000 },
      removeOnFail: { age: 7 * 86_400 },
    } satisfies JobsOptions,
  },
  /** Alert transitions for the `alerts` measurement: alerts role → storage role (it has the sink). */
  alertHistory: {
    name: 'alert-history',
    jobName: 'event',
    schema: AlertEventSchema,
    jobOptions: {
      attempts: 12,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: false,
    } satisfies JobsOptions,
  },
  /** One alert event to one webhook. Retried with backoff; the failed set is the dead letter, kept for replay. */
  alertWebhooks: {
    name: 'alert-webhooks',
    jobName: 'delivery',
    schema: AlertWebhookJobSchema,
    jobOptions: {
      attempts: 8,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { age: 86_400, count: 10_000 },
      removeOnFail: false,
    } satisfies JobsOptions,
  },
  /** Periodic deadman sweeps: a job scheduler puts one job per tick, so one worker sweeps at a time. */
  alertSweeps: {
    name: 'alert-sweeps',
    jobName: 'deadman',
    schema: z.object({}),
    jobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } } satisfies JobsOptions,
  },
} as const;

/** Rejected payloads: a Redis stream (`{prefix}:dead-letter`), capped so a garbage flood cannot fill Redis. */
export const DEAD_LETTER_STREAM = 'dead-letter';

/** BullMQ job ids may not contain `:`; event ids are made of rule, device and time. */
export function alertJobId(eventId: string): string {
  return eventId.replaceAll(':', '_');
}
