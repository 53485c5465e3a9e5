import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '@city/logger';
import { QUEUES } from '@city/queue';
import type { AlertEvaluator } from './alerts/create-alert-evaluator.ts';
import type { WorkerMetrics } from './worker-metrics.ts';
import type { CounterResetMarker } from './create-counter-reset-marker.ts';
import type { StorageRole } from './storage/create-storage-role.ts';

export interface StoreTelemetryDeps {
  /** Coalesced writes, and what a failed write does to the job (storage/create-storage-role.ts). */
  storage: Pick<StorageRole, 'store'>;
  /** The alert engine: steps the readings through the rules in force and enqueues the transitions. */
  alerts: Pick<AlertEvaluator, 'evaluate'>;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Marks cumulative counters that went back (create-counter-reset-marker.ts); absent, nothing is marked. */
  counters?: CounterResetMarker;
}

/**
 * Processes one telemetry batch: raise its alerts, then store its points. The job completes only after
 * InfluxDB accepted every point (or dead-lettered the ones it refused); a database that is down hands the job back
 * without using an attempt, any other throw makes BullMQ retry it with backoff (storage/create-storage-role.ts).
 *
 * Alerts go first and do not wait for storage, so a database outage does not silence operators. A retry finds
 * its readings already in the alert state (duplicates: no new transition) and re-enqueues the last events of
 * the states it touches, whose job ids are their event ids, so BullMQ ignores the ones already delivered.
 */
export function createStoreTelemetry(deps: StoreTelemetryDeps) {
  const { metrics } = deps;
  return async function storeTelemetry(job: Job): Promise<{ points: number; alerts: number }> {
    const parsed = QUEUES.telemetry.schema.safeParse(job.data);
    // A job that does not match the schema was not made by our broker; retrying will not fix it.
    if (!parsed.success) throw new UnrecoverableError(`telemetry job ${job.id} does not match the schema: ${parsed.error.message}`);
    const readings = deps.counters ? await deps.counters.mark(parsed.data.readings) : parsed.data.readings;

    // Seen before: a retry, a job handed back while the database was down, or one whose worker died mid-way.
    const alerts = await deps.alerts.evaluate(readings, { retry: job.attemptsMade > 0 || job.attemptsStarted > 1 });

    await deps.storage.store(job, readings);
    metrics.batchesWritten.inc();
    return { points: readings.length, alerts: alerts.length };
  };
}
