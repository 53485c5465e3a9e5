import type { Redis } from 'ioredis';
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

export interface DeadLetterStore {
  add(entries: readonly DeadLetterEntry[]): Promise<void>;
  /** Newest first. */
  list(count: number): Promise<Array<DeadLetterEntry & { id: string }>>;
}

export function createDeadLetterStore({ redis, prefix, maxEntries = 100_000 }: DeadLetterStoreOptions): DeadLetterStore {
  const key = `${prefix}:${DEAD_LETTER_STREAM}`;
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
      return rows.map(([id, fields]) => {
        const json = fields[fields.indexOf('entry') + 1] ?? '{}';
        return { id, ...DeadLetterEntrySchema.parse(JSON.parse(json)) };
      });
    },
  };
}
