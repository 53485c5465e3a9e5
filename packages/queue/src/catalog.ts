import type { JobsOptions } from 'bullmq';
import { AlertEventSchema, TelemetryBatchSchema } from '@city/schema';

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
      // A job completes only after InfluxDB accepted its points; until then BullMQ retries it.
      attempts: 12,
      backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
      removeOnComplete: { count: 1000 },
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
} as const;

/** Rejected payloads: a Redis stream (`{prefix}:dead-letter`), capped so a garbage flood cannot fill Redis. */
export const DEAD_LETTER_STREAM = 'dead-letter';

/** BullMQ job ids may not contain `:`; event ids are made of rule, device and time. */
export function alertJobId(eventId: string): string {
  return eventId.replaceAll(':', '_');
}
