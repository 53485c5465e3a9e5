import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import { evaluateThresholds, toLineProtocol } from '@city/core';
import { SinkWriteError, type Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import { QUEUES, alertJobId } from '@city/queue';
import type { AlertRule } from '@city/schema';
import type { WorkerMetrics } from './worker-metrics.ts';

export interface StoreTelemetryDeps {
  sink: Sink;
  /** Read on every job, so a reload (issue 5) takes effect on the next batch. */
  rules: () => readonly AlertRule[];
  alertsQueue: Queue;
  metrics: WorkerMetrics;
  logger: Logger;
}

/**
 * Processes one telemetry batch: raise its alerts, then store its points. The job completes only after
 * InfluxDB accepted every point; any throw hands the batch back to BullMQ, which retries it with backoff.
 *
 * Alerts go first and do not wait for storage, so a database outage does not silence operators. A retry
 * raises the same alerts again, but their job ids are their event ids, so BullMQ ignores the repeats.
 */
export function createStoreTelemetry(deps: StoreTelemetryDeps) {
  const { sink, alertsQueue, metrics, logger } = deps;
  return async function storeTelemetry(job: Job): Promise<{ points: number; alerts: number }> {
    const parsed = QUEUES.telemetry.schema.safeParse(job.data);
    // A job that does not match the schema was not made by our broker; retrying will not fix it.
    if (!parsed.success) throw new UnrecoverableError(`telemetry job ${job.id} does not match the schema: ${parsed.error.message}`);
    const { readings } = parsed.data;

    const alerts = evaluateThresholds(deps.rules(), readings);
    if (alerts.length > 0) {
      await alertsQueue.addBulk(
        alerts.map((event) => ({ name: QUEUES.alerts.jobName, data: event, opts: { ...QUEUES.alerts.jobOptions, jobId: alertJobId(event.id) } })),
      );
      for (const event of alerts) metrics.alertsRaised.inc({ severity: event.severity });
    }

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
