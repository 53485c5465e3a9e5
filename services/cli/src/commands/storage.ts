import type { Command } from 'commander';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUES, listFailedTelemetry, replayFailedTelemetry, type FailedReplayResult } from '@city/queue';
import { print as out, say as note, shorten, table } from './output.ts';

/**
 * `city storage failed list|replay`: telemetry batches the database refused for good (a missing database or
 * retention policy, a refused login) wait in the queue's failed set with their readings; after the fix, replay
 * them. A thin shell over listFailedTelemetry / replayFailedTelemetry (@city/queue). Listings go to stdout
 * (`--json` for scripts), notes to stderr.
 */


async function withTelemetryQueue<T>(command: Command, action: (queue: Queue) => Promise<T>): Promise<T> {
  const { redisUrl, prefix } = command.optsWithGlobals<{ redisUrl: string; prefix: string }>();
  // Fails fast: a CLI should say "Redis is down", not hang.
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
  }
  const queue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
  try {
    return await action(queue);
  } finally {
    await queue.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

export function registerStorageCommand(program: Command): void {
  const storage = program.command('storage').description('The storage path: telemetry batches the database refused, and their replay.');
  const failed = storage.command('failed').description('Telemetry batches in the failed set (kept with their readings).');

  failed
    .command('list')
    .description('Failed batches, most recent first, with a count by reason.')
    .option('--limit <n>', 'batches listed', '50')
    .option('--json', 'one JSON object: total, batches, byReason')
    .action(async (opts: { limit: string; json?: boolean }, command: Command) => {
      const list = await withTelemetryQueue(command, (queue) => listFailedTelemetry({ queue, limit: Number(opts.limit) }));
      if (opts.json) return out(JSON.stringify(list));
      out(table(
        ['id', 'failed', 'readings', 'devices', 'reason'],
        list.batches.map((b) => [b.id, new Date(b.failedAt).toISOString(), String(b.readings), shorten(b.devices.join(','), 30), shorten(b.reason, 90)]),
      ));
      out(`\n${list.total} failed batches${list.total > list.batches.length ? ` (${list.batches.length} listed)` : ''}`);
      if (list.byReason.length > 0) out(`\n${table(['reason', 'batches', 'readings'], list.byReason.map((r) => [r.reason, String(r.batches), String(r.readings)]))}`);
    });

  failed
    .command('replay')
    .description('Move failed batches back to the queue, to be written again (rewriting is harmless: points overwrite themselves).')
    .argument('[ids...]', 'batch ids (from `list`); or --all')
    .option('--all', 'every failed batch, oldest first')
    .option('--limit <n>', 'with --all: at most this many', '10000')
    .option('--dry-run', 'report, move nothing')
    .option('--json', 'the results as JSON')
    .action(async (ids: string[], opts: { all?: boolean; limit: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      if (ids.length === 0 && !opts.all) throw new Error('name batch ids, or give --all');
      const results = await withTelemetryQueue(command, (queue) =>
        replayFailedTelemetry({ queue, dryRun: opts.dryRun === true, limit: Number(opts.limit), ...(ids.length > 0 ? { ids } : {}) }),
      );
      if (opts.json) return out(JSON.stringify(results));
      out(table(['id', 'status', 'readings'], results.map((r) => [r.id, r.status, r.readings === undefined ? '' : String(r.readings)])));
      const count = (status: FailedReplayResult['status']) => results.filter((r) => r.status === status).length;
      const moved = count(opts.dryRun ? 'would_replay' : 'replayed');
      note(`${moved} batches (${results.filter((r) => r.status === (opts.dryRun ? 'would_replay' : 'replayed')).reduce((n, r) => n + (r.readings ?? 0), 0)} readings) ${opts.dryRun ? 'would be replayed' : 'replayed'}, ${count('not_failed')} not failed, ${count('not_found')} not found`);
    });
}
