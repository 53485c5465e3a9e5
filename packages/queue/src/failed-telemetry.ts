import type { Job, Queue } from 'bullmq';
import { TelemetryBatchSchema } from '@city/schema';

/**
 * Telemetry batches in the queue's failed set: the database refused them in a way no retry fixes (a missing
 * database or retention policy, a refused login), or an unexpected error outlasted every attempt. They still hold
 * acknowledged readings (`removeOnFail: false`), so once the cause is fixed they are replayed, not lost. These are
 * the functions `city storage failed list|replay` calls; the operator API will call them too.
 */
export interface FailedBatch {
  id: string;
  /** When it failed for good, epoch ms. */
  failedAt: number;
  /** BullMQ's failedReason: the error code first (`not_found: write rejected with HTTP 404 …`). */
  reason: string;
  attempts: number;
  readings: number;
  devices: string[];
  /** Event times of its readings, epoch ms. */
  firstTs: number;
  lastTs: number;
}

export interface FailedTelemetryList {
  /** In the failed set; `batches` holds at most `limit` of them, the most recent first. */
  total: number;
  batches: FailedBatch[];
  /** Over the listed batches: count by reason code (the failedReason up to its first `:`). */
  byReason: Array<{ reason: string; batches: number; readings: number }>;
}

export interface ListFailedTelemetryOptions {
  /** The telemetry queue (`QUEUES.telemetry`). */
  queue: Queue;
  /** @defaultValue 1000 */
  limit?: number;
}

/** The reason code of a failedReason: `not_found: write rejected …` → `not_found`. */
export function failedReasonCode(reason: string): string {
  const match = /^([a-z_]+):/.exec(reason);
  return match ? match[1]! : reason.split('\n')[0]!.slice(0, 60);
}

function summarize(job: Job): FailedBatch {
  const parsed = TelemetryBatchSchema.safeParse(job.data);
  const readings = parsed.success ? parsed.data.readings : [];
  const times = readings.map((r) => r.ts);
  return {
    id: job.id ?? '',
    failedAt: job.finishedOn ?? job.timestamp,
    reason: job.failedReason ?? '',
    attempts: job.attemptsMade,
    readings: readings.length,
    devices: [...new Set(readings.map((r) => r.deviceId))],
    firstTs: times.length > 0 ? Math.min(...times) : 0,
    lastTs: times.length > 0 ? Math.max(...times) : 0,
  };
}

export async function listFailedTelemetry({ queue, limit = 1000 }: ListFailedTelemetryOptions): Promise<FailedTelemetryList> {
  const [total, jobs] = await Promise.all([queue.getFailedCount(), queue.getFailed(0, Math.max(0, limit - 1))]);
  const batches = jobs.map(summarize);
  const byReason = new Map<string, { batches: number; readings: number }>();
  for (const batch of batches) {
    const code = failedReasonCode(batch.reason);
    const row = byReason.get(code) ?? { batches: 0, readings: 0 };
    row.batches++;
    row.readings += batch.readings;
    byReason.set(code, row);
  }
  return {
    total,
    batches,
    byReason: [...byReason].map(([reason, row]) => ({ reason, ...row })).sort((a, b) => b.batches - a.batches || a.reason.localeCompare(b.reason)),
  };
}

export type FailedReplayStatus = 'replayed' | 'would_replay' | 'not_failed' | 'not_found';

export interface FailedReplayResult {
  id: string;
  status: FailedReplayStatus;
  readings?: number;
}

export interface ReplayFailedTelemetryOptions {
  queue: Queue;
  /** These batches; or, when absent, every failed batch (up to `limit`, the oldest first). */
  ids?: readonly string[];
  /** @defaultValue 10000 */
  limit?: number;
  /** Report what would be replayed; move nothing. */
  dryRun?: boolean;
}

/**
 * Moves failed batches back to the queue (the same job, with its attempts reset), where the storage role writes
 * them again. Writing a batch twice is harmless: its points overwrite themselves.
 */
export async function replayFailedTelemetry({ queue, ids, limit = 10_000, dryRun = false }: ReplayFailedTelemetryOptions): Promise<FailedReplayResult[]> {
  const jobs: Array<{ id: string; job: Job | undefined }> =
    ids !== undefined
      ? await Promise.all(ids.map(async (id) => ({ id, job: await queue.getJob(id) })))
      : (await queue.getJobs(['failed'], 0, Math.max(0, limit - 1), true)).map((job) => ({ id: job.id ?? '', job }));
  const results: FailedReplayResult[] = [];
  for (const { id, job } of jobs) {
    if (!job) {
      results.push({ id, status: 'not_found' });
      continue;
    }
    const readings = summarize(job).readings;
    if (!(await job.isFailed())) {
      results.push({ id, status: 'not_failed', readings });
      continue;
    }
    if (!dryRun) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    results.push({ id, status: dryRun ? 'would_replay' : 'replayed', readings });
  }
  return results;
}
