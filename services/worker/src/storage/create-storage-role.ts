import { UnrecoverableError, Worker, type Job, type Queue, type WorkerOptions } from 'bullmq';
import type { MqttClient } from 'mqtt';
import { INITIAL_RETRY_WAIT, backoffDelayMs, nextRetryWait, type BackoffPolicy } from '@city/core';
import type { SinkWriteError, Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import { TELEMETRY_RETRY, type DeadLetterStore } from '@city/queue';
import type { Reading } from '@city/schema';
import type { WorkerMetrics } from '../worker-metrics.ts';
import { createPipelineHealthMonitor, type PipelineHealthMonitor } from './create-pipeline-health-monitor.ts';
import { createWriteCoalescer } from './create-write-coalescer.ts';
import { decideWriteFailure } from './decide-write-failure.ts';

/** How the storage role writes, waits and recovers. Defaults suit one InfluxDB on the same network. */
export interface StorageRoleOptions {
  /**
   * Telemetry jobs processed at once per process; their lines share writes. BullMQ fetches jobs one at a time, so
   * this, not `writeMaxLines`, bounds how large a write of small jobs gets.
   * @defaultValue 64
   */
  concurrency?: number;
  /**
   * A write goes out at this many lines…
   * @defaultValue 5000
   */
  writeMaxLines?: number;
  /**
   * …or this long after its first job arrived…
   * @defaultValue 5
   */
  writeMaxDelayMs?: number;
  /**
   * …and only while fewer writes than this are in flight (the jobs that arrive meanwhile join the next one).
   * @defaultValue 2
   */
  maxConcurrentWrites?: number;
  /**
   * The pause while the database is unavailable (network errors, 429, 503, other 5xx): the worker takes no job for
   * this long, growing with each failure in a row; the server's Retry-After wins. Costs no attempts.
   * @defaultValue { baseMs: 250, maxMs: 30_000, jitter: 0.5 }
   */
  pause?: BackoffPolicy;
  /**
   * A job whose worker died (its lock not renewed for this long) is handed to another worker.
   * @defaultValue 30_000
   */
  lockDurationMs?: number;
  /**
   * Operators are told the pipeline is degraded when the database has failed for this long.
   * @defaultValue 60_000
   */
  degradedAfterMs?: number;
}

export const STORAGE_ROLE_DEFAULTS = {
  concurrency: 64,
  writeMaxLines: 5000,
  writeMaxDelayMs: 5,
  maxConcurrentWrites: 2,
  pause: { baseMs: 250, maxMs: 30_000, jitter: 0.5 },
  lockDurationMs: 30_000,
  degradedAfterMs: 60_000,
} as const satisfies Required<StorageRoleOptions>;

/** Times a job may be found stalled (its worker died) before it is failed; a crash loop still keeps the readings. */
const MAX_STALLED_COUNT = 10;

export interface StorageRoleDeps {
  sink: Sink;
  /** The telemetry queue: its rate limit is how every worker of the queue pauses for the database. */
  queue: Queue;
  /** Readings the database refused go here as `storage_rejected`. */
  deadLetters?: Pick<DeadLetterStore, 'add'>;
  metrics: WorkerMetrics;
  logger: Logger;
  /** Pipeline status for operators (retained); absent, it is only logged and in metrics. */
  publishStatus?: (topic: string, payload: string) => Promise<void>;
  options?: StorageRoleOptions;
  now?: () => number;
  random?: () => number;
}

export interface StorageRole {
  /**
   * Resolves once the job's readings are in the database. Otherwise it throws what BullMQ should do with the job:
   * `RateLimitError` (back to wait, no attempt used, the queue paused), `UnrecoverableError` (to the failed set,
   * kept for replay), or the error itself (an attempt used, retried with backoff).
   */
  store(job: Job, readings: readonly Reading[]): Promise<void>;
  /** Options of the telemetry Worker. */
  workerOptions: Pick<WorkerOptions, 'concurrency' | 'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'limiter' | 'maximumRateLimitDelay' | 'settings'>;
  health: PipelineHealthMonitor;
  /** Send the writes waiting in memory, stop the health monitor's clock. */
  close(): Promise<void>;
}

/** A publisher of pipeline status on the worker's MQTT client: QoS 1, retained, given up after `timeoutMs`. */
export function mqttStatusPublisher(mqtt: MqttClient, timeoutMs = 5000): (topic: string, payload: string) => Promise<void> {
  return async (topic, payload) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        mqtt.publishAsync(topic, payload, { qos: 1, retain: true }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`status publish not acknowledged within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The storage role's write path: coalesced writes, the database's failures sorted into wait / split / fail, the
 * pause that makes an outage of any length cost no attempt, and the health operators see.
 */
export function createStorageRole(deps: StorageRoleDeps): StorageRole {
  const { metrics, logger } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const options = { ...STORAGE_ROLE_DEFAULTS, ...deps.options };
  let wait = INITIAL_RETRY_WAIT;

  const health = createPipelineHealthMonitor({
    degradedAfterMs: options.degradedAfterMs,
    ...(deps.publishStatus ? { publish: deps.publishStatus } : {}),
    metrics: metrics.storage,
    logger,
    now,
  });
  const coalescer = createWriteCoalescer({
    sink: deps.sink,
    ...(deps.deadLetters ? { deadLetters: deps.deadLetters } : {}),
    metrics,
    logger,
    now,
    onOutcome: (outcome) => health.record(outcome),
    onSuccess: () => (wait = INITIAL_RETRY_WAIT),
    maxLines: options.writeMaxLines,
    maxDelayMs: options.writeMaxDelayMs,
    maxConcurrentWrites: options.maxConcurrentWrites,
  });

  async function pauseFor(err: SinkWriteError): Promise<never> {
    const before = wait.failures;
    const next = nextRetryWait(wait, { kind: 'failed', at: now(), retryAfterMs: err.retryAfterMs }, options.pause, random());
    wait = next.state;
    metrics.storage.waits.inc({ code: err.code });
    if (wait.failures !== before) {
      metrics.storage.waitSeconds.inc(next.delayMs / 1000);
      logger.warn({ code: err.code, status: err.status, failures: wait.failures, pauseMs: next.delayMs, err: err.message }, 'database unavailable: storage paused, jobs back to the queue');
    }
    // The queue's rate limit pauses every worker of the queue (they share the limiter key), and RateLimitError
    // hands the job back to wait without counting an attempt.
    await deps.queue.rateLimit(next.delayMs);
    throw Worker.RateLimitError();
  }

  return {
    async store(job, readings) {
      try {
        await coalescer.write(readings);
      } catch (err) {
        switch (decideWriteFailure(err)) {
          case 'wait':
            return pauseFor(err as SinkWriteError);
          case 'fail':
          case 'split': {
            const e = err as SinkWriteError;
            metrics.storage.failedJobs.inc({ code: e.code });
            logger.error({ jobId: job.id, readings: readings.length, code: e.code, status: e.status, err: e.message }, 'the database refuses this batch and retrying cannot help: kept in the failed set for replay');
            throw new UnrecoverableError(`${e.code}: ${e.message}`);
          }
          case 'error':
            metrics.storage.retries.inc();
            logger.warn({ jobId: job.id, attempt: job.attemptsMade + 1, err: (err as Error).message }, 'storing a telemetry batch failed; retried with backoff');
            throw err;
        }
      }
    },
    workerOptions: {
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.lockDurationMs,
      maxStalledCount: MAX_STALLED_COUNT,
      // A manual rate limit (pauseFor) is only honoured by workers that have a limiter; this one never binds.
      limiter: { max: 1_000_000, duration: 1000 },
      maximumRateLimitDelay: Math.max(options.pause.maxMs, 30_000),
      settings: { backoffStrategy: (attemptsMade: number) => backoffDelayMs(attemptsMade, TELEMETRY_RETRY, random()) },
    },
    health,
    async close() {
      await coalescer.drain();
      await health.close();
    },
  };
}
