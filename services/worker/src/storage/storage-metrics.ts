import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';

export type StorageMetrics = ReturnType<typeof createStorageMetrics>;

/** What the storage path does under faults: coalesced writes, waits for the database, failures, dead letters, health. */
export function createStorageMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    writes: new Counter({ name: 'city_worker_storage_writes_total', help: 'Write requests to the database (each carries the lines of many jobs), by result', labelNames: ['result'], registers }),
    writeLines: new Histogram({
      name: 'city_worker_storage_write_lines',
      help: 'Lines per write request after coalescing',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    }),
    waits: new Counter({ name: 'city_worker_storage_waits_total', help: 'Jobs handed back to the queue without using an attempt, because the database was unavailable or throttling, by error code', labelNames: ['code'], registers }),
    waitSeconds: new Counter({ name: 'city_worker_storage_wait_seconds_total', help: 'Time the storage role paused for the database (rate-limit delays set)', registers }),
    retries: new Counter({ name: 'city_worker_storage_retries_total', help: 'Telemetry jobs that failed an attempt on an unexpected error (retried with backoff)', registers }),
    failedJobs: new Counter({ name: 'city_worker_storage_failed_jobs_total', help: 'Telemetry jobs moved to the failed set (kept for replay), by error code', labelNames: ['code'], registers }),
    deadLetters: new Counter({ name: 'city_worker_storage_dead_letters_total', help: 'Readings the database refused (400), dead-lettered as storage_rejected', registers }),
    degraded: new Gauge({ name: 'city_worker_pipeline_degraded', help: '1 while this worker reports storage as degraded to operators', registers }),
  };
  // Every series exists from the start (at 0), so a dashboard sees no write failed rather than no data.
  for (const result of ['ok', 'failed']) metrics.writes.inc({ result }, 0);
  for (const code of ['network', 'throttled', 'server']) metrics.waits.inc({ code }, 0);
  for (const code of ['not_found', 'unauthorized']) metrics.failedJobs.inc({ code }, 0);
  return metrics;
}

/**
 * `city_queue_oldest_waiting_seconds{queue}`: how long the oldest waiting job has waited, read from Redis on each
 * scrape. The backlog's count says how much; this says how late the data in InfluxDB is.
 */
export function registerOldestWaiting(registry: Registry, queues: Queue[]): void {
  new Gauge({
    name: 'city_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting in each queue (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const now = Date.now();
      for (const queue of queues) {
        // `asc`: the wait list is consumed from its tail, so the oldest job comes first this way.
        const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
        this.set({ queue: queue.name }, oldest ? Math.max(0, now - oldest.timestamp) / 1000 : 0);
      }
    },
  });
}
