import type { Queue } from 'bullmq';
import { deadLetterPayload, ingestPayload, matchesDeadLetter, type DeadLetterFilter, type IngestLimits } from '@city/core';
import type { ReasonCode } from '@city/schema';
import { QUEUES } from './catalog.ts';
import type { DeadLetterStore, StoredDeadLetter } from './dead-letter-store.ts';

export interface ReplayDeadLettersOptions {
  store: DeadLetterStore;
  /** The telemetry queue (`QUEUES.telemetry`) valid readings are enqueued on. */
  telemetryQueue: Queue;
  /** Entries by id; or, when absent, every entry matching `filter`. */
  ids?: readonly string[];
  filter?: DeadLetterFilter;
  /**
   * Entries read at most when selecting by filter, newest first.
   * @defaultValue 10000
   */
  maxScan?: number;
  /** The contract's limits and event-time windows; a wider `maxAgeMs` is how a backlog rejected as too old is let in. */
  limits?: IngestLimits;
  now: () => number;
  /** Judge and report, enqueue nothing, record nothing. */
  dryRun?: boolean;
}

export type ReplayStatus =
  /** Its valid readings are on the telemetry queue (`readings`), and it is recorded as replayed. */
  | 'replayed'
  /** A dry run found valid readings. */
  | 'would_replay'
  | 'already_replayed'
  /** Judged again, nothing in it is valid yet: left as it is, to replay after a fix. */
  | 'still_invalid'
  /** Its payload was cut at 4 KiB, or it was not on a telemetry topic: it cannot be judged again. */
  | 'not_replayable'
  | 'not_found';

export interface ReplayResult {
  id: string;
  status: ReplayStatus;
  readings?: number;
  jobId?: string;
  /** Why readings of it are (still) rejected. */
  rejects?: Array<{ reason: ReasonCode; detail: string; index?: number }>;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * Replay dead letters after a fix: each entry's payload goes through the same `ingestPayload` as at the broker, with
 * the topic, client id and receive time it came with (so readings without `ts` get their original time, and the
 * event-time windows are judged against when it arrived). Valid readings are enqueued in one telemetry job per
 * entry, whose job id is the entry's, and the entry is recorded as replayed, so replaying it again does nothing.
 * Readings still invalid are reported, not dead-lettered again.
 */
export async function replayDeadLetters(options: ReplayDeadLettersOptions): Promise<ReplayResult[]> {
  const { store, telemetryQueue, dryRun = false } = options;
  const results: ReplayResult[] = [];
  let selected: Array<StoredDeadLetter | undefined>;
  let ids: string[];
  if (options.ids !== undefined) {
    const bad = options.ids.filter((id) => !STREAM_ID.test(id));
    for (const id of bad) results.push({ id, status: 'not_found' });
    ids = options.ids.filter((id) => STREAM_ID.test(id));
    selected = await store.get(ids);
  } else {
    const filter = options.filter ?? {};
    selected = [];
    for await (const entry of store.scan({ maxEntries: options.maxScan ?? 10_000, ...(filter.sinceMs !== undefined ? { sinceMs: filter.sinceMs } : {}) })) {
      if (matchesDeadLetter(entry, filter)) selected.push(entry);
    }
    selected.reverse(); // oldest first: a meter's readings reach the worker in the order they were taken
    ids = selected.map((e) => e!.id);
  }
  const replayed = await store.replayed(ids);

  for (const [i, entry] of selected.entries()) {
    const id = ids[i]!;
    if (entry === undefined) {
      results.push({ id, status: 'not_found' });
      continue;
    }
    if (replayed[i] !== undefined) {
      results.push({ id, status: 'already_replayed', readings: replayed[i].readings, jobId: replayed[i].jobId });
      continue;
    }
    const payload = deadLetterPayload(entry);
    const outcome = payload && ingestPayload({ topic: entry.topic, payload, clientId: entry.clientId, receivedAt: entry.receivedAt }, options.limits);
    if (!outcome || outcome.kind === 'passthrough') {
      results.push({ id, status: 'not_replayable' });
      continue;
    }
    const rejects = outcome.rejects.map(({ reason, detail, index }) => ({ reason, detail, ...(index !== undefined ? { index } : {}) }));
    if (outcome.readings.length === 0) {
      results.push({ id, status: 'still_invalid', rejects });
      continue;
    }
    const jobId = `replay-${id}`;
    if (!dryRun) {
      await telemetryQueue.add(QUEUES.telemetry.jobName, { readings: outcome.readings }, { ...QUEUES.telemetry.jobOptions, jobId });
      await store.markReplayed(id, { at: options.now(), readings: outcome.readings.length, jobId });
    }
    results.push({ id, status: dryRun ? 'would_replay' : 'replayed', readings: outcome.readings.length, jobId, ...(rejects.length ? { rejects } : {}) });
  }
  return results;
}
