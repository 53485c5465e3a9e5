import { UnrecoverableError, type Job } from 'bullmq';
import { toLineProtocol } from '@city/core';
import { SinkWriteError, type Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import { QUEUES } from '@city/queue';
import type { AlertEvaluator } from './alerts/create-alert-evaluator.ts';
import type { WorkerMetrics } from './worker-metrics.ts';
import type { CounterResetMarker } from './create-counter-reset-marker.ts';

export interface StoreTelemetryDeps {
  sink: Sink;
  /** The alert engine: steps the readings through the rules in force and enqueues the transitions. */
  alerts: Pick<AlertEvaluator, 'evaluate'>;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Marks cumulative counters that went back (create-counter-reset-marker.ts); absent, nothing is marked. */
  counters?: CounterResetMarker;
}

/**
 * Processes one telemetry batch: raise its alerts, then store its points. The job completes only after
 * InfluxDB accepted every point; any throw hands the batch back to BullMQ, which retries it with backoff.
 *
 * Alerts go first and do not wait for storage, so a database outage does not silence operators. A retry finds
 * its readings already in the alert state (duplicates: no new transition) and re-enqueues the last events of
 * the states it touches, whose job ids are their event ids, so BullMQ ignores the ones already delivered.
 */
export function createStoreTelemetry(deps: StoreTelemetryDeps) {
  const { sink, metrics, logger } = deps;
  return async function storeTelemetry(job: Job): Promise<{ points: number; alerts: number }> {
    const parsed = QUEUES.telemetry.schema.safeParse(job.data);
    // A job that does not match the schema was not made by our broker; retrying will not fix it.
    if (!parsed.success) throw new UnrecoverableError(`telemetry job ${job.id} does not match the schema: ${parsed.error.message}`);
    const readings = deps.counters ? await deps.counters.mark(parsed.data.readings) : parsed.data.readings;

    const alerts = await deps.alerts.evaluate(readings, { retry: job.attemptsMade > 0 });

    const end = metrics.writeSeconds.startTimer();
    try {
      await sink.write(readings.map((r) => toLineProtocol(r)));
    } catch (err) {
      const code = err instanceof SinkWriteError ? err.code : 'unknown';
      metrics.writeErrors.inc({ code });
      logger.warn({ jobId: job.id, attempt: job.attemptsMade + 1, code, err: (err as Error).message }, 'InfluxDB write failed');
      // Retrying a write the server will never take (missing database, bad request) only delays the operator:
      // fail the job now; it stays in the failed set with its readings, for replay once fixed.
      if (err instanceof SinkWriteError && !err.retryable) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    } finally {
      end();
    }
    metrics.batchesWritten.inc();
    metrics.pointsWritten.inc(readings.length);
    return { points: readings.length, alerts: alerts.length };
  };
}
