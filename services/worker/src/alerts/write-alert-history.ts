import { UnrecoverableError, type Job } from 'bullmq';
import { alertEventToLine } from '@city/core';
import { SinkWriteError, type Sink } from '@city/influx';
import { QUEUES } from '@city/queue';
import type { WorkerMetrics } from '../worker-metrics.ts';

/** Writes one alert transition to the `alerts` measurement. Its own queue: an InfluxDB outage delays only this. */
export function createWriteAlertHistory({ sink, metrics }: { sink: Sink; metrics: WorkerMetrics }) {
  return async function writeAlertHistory(job: Job): Promise<void> {
    const event = QUEUES.alertHistory.schema.parse(job.data);
    try {
      await sink.write([alertEventToLine(event)]);
    } catch (err) {
      metrics.writeErrors.inc({ code: err instanceof SinkWriteError ? err.code : 'unknown' });
      if (err instanceof SinkWriteError && !err.retryable) throw new UnrecoverableError(`${err.code}: ${err.message}`);
      throw err;
    }
  };
}
