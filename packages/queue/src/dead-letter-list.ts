import { matchesDeadLetter, summarizeDeadLetters, type DeadLetterFilter, type DeadLetterSummary } from '@city/core';
import type { DeadLetterStore, StoredDeadLetter } from './dead-letter-store.ts';

export interface ListDeadLettersOptions {
  store: DeadLetterStore;
  filter?: DeadLetterFilter;
  /**
   * Entries returned, newest first; the summary counts every match scanned.
   * @defaultValue 50
   */
  limit?: number;
  /**
   * Entries read at most, newest first (the stream holds up to DEAD_LETTER_MAX_ENTRIES).
   * @defaultValue 10000
   */
  maxScan?: number;
}

export interface DeadLetterList {
  entries: StoredDeadLetter[];
  /** By reason and by device, over every matching entry scanned. */
  summary: DeadLetterSummary;
  scanned: number;
  /** False when `maxScan` stopped the scan before the filter's time floor (or the end of the stream). */
  complete: boolean;
}

/** Recent rejects matching a filter, and a count of them by reason and device: `pnpm city dead-letters list`. */
export async function listDeadLetters({ store, filter = {}, limit = 50, maxScan = 10_000 }: ListDeadLettersOptions): Promise<DeadLetterList> {
  const matching: StoredDeadLetter[] = [];
  let scanned = 0;
  for await (const entry of store.scan({ maxEntries: maxScan, ...(filter.sinceMs !== undefined ? { sinceMs: filter.sinceMs } : {}) })) {
    scanned++;
    if (matchesDeadLetter(entry, filter)) matching.push(entry);
  }
  return { entries: matching.slice(0, limit), summary: summarizeDeadLetters(matching), scanned, complete: scanned < maxScan };
}
