import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DeadLetterEntrySchema, type DeadLetterEntry } from '@city/schema';
import { DEAD_LETTER_STREAM } from './catalog.ts';

export interface DeadLetterStoreOptions {
  redis: Redis;
  /** Key prefix shared with the BullMQ queues. */
  prefix: string;
  /**
   * Entries kept; older ones are trimmed (approximately, as Redis does it cheaply). Every reject is also counted
   * in the broker's metrics, so trimming loses the payload, never the fact.
   * @defaultValue 100000
   */
  maxEntries?: number;
}

/** A dead letter with its stream id (`{ms}-{seq}`, the time Redis stored it). */
export type StoredDeadLetter = DeadLetterEntry & { id: string };

/** What a replay did with one entry, kept so the entry is not replayed twice. */
export const ReplayRecordSchema = z.object({
  /** When it was replayed, epoch ms. */
  at: z.number().int(),
  /** Readings enqueued. */
  readings: z.number().int().nonnegative(),
  /** The telemetry job that carried them. */
  jobId: z.string(),
});
export type ReplayRecord = z.infer<typeof ReplayRecordSchema>;

export interface DeadLetterStore {
  add(entries: readonly DeadLetterEntry[]): Promise<void>;
  /** Newest first. */
  list(count: number): Promise<StoredDeadLetter[]>;
  /**
   * Newest first, in pages, stopping at entries stored before `sinceMs`: for filters that read further back than
   * one page. Stops after `maxEntries`.
   */
  scan(options: { sinceMs?: number; maxEntries: number; pageSize?: number }): AsyncGenerator<StoredDeadLetter>;
  /** The entries with these ids, in the order asked; `undefined` where there is none (trimmed, or never was). */
  get(ids: readonly string[]): Promise<Array<StoredDeadLetter | undefined>>;
  /** The replay records of these ids (`undefined`: not replayed). */
  replayed(ids: readonly string[]): Promise<Array<ReplayRecord | undefined>>;
  markReplayed(id: string, record: ReplayRecord): Promise<void>;
}

function parseRow([id, fields]: [string, string[]]): StoredDeadLetter {
  const json = fields[fields.indexOf('entry') + 1] ?? '{}';
  return { id, ...DeadLetterEntrySchema.parse(JSON.parse(json)) };
}

/**
 * Rejected payloads in a Redis stream (`{prefix}:dead-letter`), capped so a garbage flood cannot fill Redis, and a
 * hash of the ids replayed (`{prefix}:dead-letter:replayed`). Reading and replaying are in dead-letter-list.ts and
 * dead-letter-replay.ts.
 */
export function createDeadLetterStore({ redis, prefix, maxEntries = 100_000 }: DeadLetterStoreOptions): DeadLetterStore {
  const key = `${prefix}:${DEAD_LETTER_STREAM}`;
  const replayedKey = `${key}:replayed`;
  return {
    async add(entries) {
      if (entries.length === 0) return;
      const pipeline = redis.pipeline();
      for (const entry of entries) {
        pipeline.xadd(key, 'MAXLEN', '~', maxEntries, '*', 'reason', entry.reason, 'entry', JSON.stringify(entry));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err !== null);
      if (failed) throw failed[0] as Error;
    },
    async list(count) {
      const rows = await redis.xrevrange(key, '+', '-', 'COUNT', count);
      return rows.map(parseRow);
    },
    async *scan({ sinceMs, maxEntries: limit, pageSize = 500 }) {
      const floor = sinceMs === undefined ? '-' : String(sinceMs);
      let end = '+';
      let seen = 0;
      while (seen < limit) {
        const rows = await redis.xrevrange(key, end, floor, 'COUNT', Math.min(pageSize, limit - seen));
        for (const row of rows) {
          yield parseRow(row);
          seen++;
        }
        if (rows.length === 0) return;
        // Continue below the last id read: `(` makes the bound exclusive (Redis ≥ 6.2).
        end = `(${rows[rows.length - 1]![0]}`;
      }
    },
    async get(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.xrange(key, id, id);
      const results = (await pipeline.exec()) ?? [];
      return results.map(([err, rows]) => {
        if (err) throw err;
        const row = (rows as Array<[string, string[]]>)[0];
        return row ? parseRow(row) : undefined;
      });
    },
    async replayed(ids) {
      if (ids.length === 0) return [];
      const values = await redis.hmget(replayedKey, ...ids);
      return values.map((v) => (v === null ? undefined : ReplayRecordSchema.parse(JSON.parse(v))));
    },
    async markReplayed(id, record) {
      await redis.hset(replayedKey, id, JSON.stringify(record));
    },
  };
}
