import { createMicroBatcher } from '@city/batching';
import { deadLetterEntry, toLineProtocol, type PipelineHealthInput } from '@city/core';
import { SinkWriteError, type Sink } from '@city/influx';
import type { Logger } from '@city/logger';
import type { DeadLetterStore } from '@city/queue';
import { telemetryTopic, type DeadLetterEntry, type Reading } from '@city/schema';
import type { WorkerMetrics } from '../worker-metrics.ts';
import { decideWriteFailure } from './decide-write-failure.ts';
import type { StorageMetrics } from './storage-metrics.ts';
import { writeBisecting } from './write-bisecting.ts';

export interface WriteCoalescerOptions {
  sink: Sink;
  /** Where readings the database refused go, as `storage_rejected` (absent: they are only logged and counted). */
  deadLetters?: Pick<DeadLetterStore, 'add'>;
  metrics: Pick<WorkerMetrics, 'writeSeconds' | 'writeErrors' | 'pointsWritten'> & { storage: StorageMetrics };
  logger: Logger;
  /** Told the outcome of every request (the pipeline health monitor). */
  onOutcome?: (outcome: PipelineHealthInput) => void;
  /** Called after every request the database accepted (ends the pause's run of failures). */
  onSuccess?: () => void;
  now: () => number;
  /**
   * A write goes out at this many lines (whole jobs: it may pass this by one job's readings)…
   * @defaultValue 5000
   */
  maxLines?: number;
  /**
   * …or this long after the first job of it arrived…
   * @defaultValue 5
   */
  maxDelayMs?: number;
  /**
   * …and only while fewer than this many writes are in flight: meanwhile the jobs that arrive gather into the next
   * write, so writes grow with the load instead of waiting out `maxDelayMs` (group commit).
   * @defaultValue 2
   */
  maxConcurrentWrites?: number;
}

export interface WriteCoalescer {
  /** Resolves once the write holding these readings was accepted (refused readings dead-lettered); rejects with its error. */
  write(readings: readonly Reading[]): Promise<void>;
  /** Send what waits now and wait for every write in flight. */
  drain(): Promise<void>;
}

interface Entry {
  reading: Reading;
  line: string;
}

/**
 * The storage role's large writes: the lines of the jobs processed at the same time (BullMQ concurrency) go to the
 * database as one request (the same micro-batcher the broker uses), and each job completes only when the request
 * holding its lines was accepted. One failed write fails every job in it; each is then retried on its own.
 */
export function createWriteCoalescer(options: WriteCoalescerOptions): WriteCoalescer {
  const { sink, metrics, logger, now } = options;

  async function request(entries: readonly Entry[]): Promise<void> {
    const end = metrics.writeSeconds.startTimer();
    metrics.storage.writeLines.observe(entries.length);
    try {
      await sink.write(entries.map((e) => e.line));
    } catch (err) {
      const code = err instanceof SinkWriteError ? err.code : 'unknown';
      metrics.writeErrors.inc({ code });
      metrics.storage.writes.inc({ result: 'failed' });
      // A 400 means the database is up and judging lines: a data problem, not a pipeline one.
      if (err instanceof SinkWriteError && decideWriteFailure(err) !== 'split') {
        options.onOutcome?.({ kind: 'write_failed', at: now(), code, retryable: err.retryable, detail: err.message });
      }
      throw err;
    } finally {
      end();
    }
    metrics.storage.writes.inc({ result: 'ok' });
    options.onSuccess?.();
    options.onOutcome?.({ kind: 'write_ok', at: now() });
  }

  async function deadLetter(refused: ReadonlyArray<{ item: Entry; error: unknown }>): Promise<void> {
    const entries: DeadLetterEntry[] = refused.map(({ item: { reading }, error }) => {
      const detail = error instanceof SinkWriteError ? `${error.status ?? ''} ${error.body || error.message}`.trim() : String(error);
      // The payload is the reading as a device would send it, so `city dead-letters replay` can judge it again.
      const payload = JSON.stringify({ ts: reading.ts, ...(reading.district !== undefined ? { district: reading.district } : {}), ...reading.metrics });
      return deadLetterEntry({ topic: telemetryTopic(reading.family, reading.deviceId), clientId: reading.deviceId, receivedAt: reading.receivedAt }, 'storage_rejected', detail, payload);
    });
    if (options.deadLetters) await options.deadLetters.add(entries);
    metrics.storage.deadLetters.inc(entries.length);
    logger.warn({ readings: entries.length, devices: [...new Set(refused.map((r) => r.item.reading.deviceId))].slice(0, 10), detail: entries[0]?.detail }, 'the database refused readings; dead-lettered as storage_rejected');
  }

  const batcher = createMicroBatcher<Entry>({
    maxItems: options.maxLines ?? 5000,
    maxDelayMs: options.maxDelayMs ?? 5,
    maxConcurrentFlushes: options.maxConcurrentWrites ?? 2,
    flush: async (entries) => {
      const refused = await writeBisecting(entries, request, (err) => decideWriteFailure(err) === 'split');
      // Only after every half was written: a write that fails later is retried whole, and dead-letters nothing twice.
      if (refused.length > 0) await deadLetter(refused);
      metrics.pointsWritten.inc(entries.length - refused.length);
    },
  });

  return {
    write(readings) {
      return batcher.add(readings.map((reading) => ({ reading, line: toLineProtocol(reading) })));
    },
    drain: () => batcher.drain(),
  };
}
