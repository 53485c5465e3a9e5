import { Option, type Command } from 'commander';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_INGEST_LIMITS, deadLetterDevice, type DeadLetterFilter, type IngestLimits } from '@city/core';
import { QUEUES, createDeadLetterStore, listDeadLetters, replayDeadLetters, type DeadLetterStore, type ReplayResult } from '@city/queue';
import { REASON_CODES, type ReasonCode } from '@city/schema';
import { print as out, say as note, shorten, table } from './output.ts';

/**
 * `city dead-letters list|replay`: a thin shell over listDeadLetters and replayDeadLetters (@city/queue), which the
 * operator API will call too. Listings go to stdout (`--json` for scripts), notes to stderr.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `2h`, `7d` → ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration such as 90s, 15m, 2h, 7d`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

/** `--since 2h` (that long ago) or `--since 2026-01-15T08:00:00Z`. */
export function parseSince(text: string, now: number): number {
  if (/^\d/.test(text) && /(ms|s|m|h|d)$/.test(text)) return now - parseDuration(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`--since "${text}": a duration (2h) or an ISO 8601 time`);
  return ms;
}

interface FilterOptions {
  reason?: string[];
  device?: string;
  since?: string;
}

function filterOf(opts: FilterOptions, now: number): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  if (opts.reason?.length) filter.reasons = opts.reason as ReasonCode[];
  if (opts.device !== undefined) filter.device = opts.device;
  if (opts.since !== undefined) filter.sinceMs = parseSince(opts.since, now);
  return filter;
}

const withFilters = (command: Command) =>
  command
    .addOption(new Option('--reason <reason...>', 'only these reason codes').choices(REASON_CODES))
    .option('--device <id>', 'only this device (the topic’s device id, else the client id)')
    .option('--since <when>', 'received since: a duration ago (2h, 7d) or an ISO 8601 time');

async function withStore<T>(command: Command, action: (store: DeadLetterStore, redis: Redis, prefix: string) => Promise<T>): Promise<T> {
  const { redisUrl, prefix } = command.optsWithGlobals<{ redisUrl: string; prefix: string }>();
  // Fails fast: a CLI should say "Redis is down", not hang.
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
  }
  try {
    return await action(createDeadLetterStore({ redis, prefix }), redis, prefix);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}


/** The contract's limits, from the same variables the broker reads, so a replay judges as the broker does. */
function limitsFromEnv(env: NodeJS.ProcessEnv, overrides: { maxAge?: string; maxFuture?: string }): IngestLimits {
  const num = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return {
    maxPayloadBytes: num('MAX_PAYLOAD_BYTES', DEFAULT_INGEST_LIMITS.maxPayloadBytes),
    maxReadingsPerMessage: num('MAX_READINGS_PER_MESSAGE', DEFAULT_INGEST_LIMITS.maxReadingsPerMessage),
    maxFutureMs: overrides.maxFuture ? parseDuration(overrides.maxFuture) : num('EVENT_TIME_MAX_FUTURE_MS', DEFAULT_INGEST_LIMITS.maxFutureMs),
    maxAgeMs: overrides.maxAge ? parseDuration(overrides.maxAge) : num('EVENT_TIME_MAX_AGE_MS', DEFAULT_INGEST_LIMITS.maxAgeMs),
    lateAfterMs: num('EVENT_TIME_LATE_AFTER_MS', DEFAULT_INGEST_LIMITS.lateAfterMs),
  };
}

export function registerDeadLettersCommand(program: Command): void {
  const group = program.command('dead-letters').description('Rejected payloads: see why, and replay them after a fix.');

  withFilters(group.command('list').description('Recent rejects, newest first, and a count by reason and device.'))
    .option('--limit <n>', 'entries shown', '20')
    .option('--scan <n>', 'entries read at most', '10000')
    .option('--json', 'one JSON object: entries and summary')
    .action(async (opts: FilterOptions & { limit: string; scan: string; json?: boolean }, command: Command) => {
      const list = await withStore(command, (store) =>
        listDeadLetters({ store, filter: filterOf(opts, Date.now()), limit: Number(opts.limit), maxScan: Number(opts.scan) }),
      );
      if (opts.json) return out(JSON.stringify(list));
      out(table(
        ['id', 'received', 'reason', 'device', 'index', 'detail'],
        list.entries.map((e) => [e.id, new Date(e.receivedAt).toISOString(), e.reason, deadLetterDevice(e), e.index === undefined ? '' : String(e.index), shorten(e.detail, 80)]),
      ));
      out(`\n${list.summary.total} matching of ${list.scanned} read${list.complete ? '' : ' (stopped at --scan; there are more)'}`);
      if (list.summary.total > 0) {
        out(`\n${table(['reason', 'count'], list.summary.byReason.map((r) => [r.reason, String(r.count)]))}`);
        out(`\n${table(['device', 'count', 'reasons'], list.summary.byDevice.slice(0, 20).map((d) => [d.device, String(d.count), Object.entries(d.reasons).map(([r, n]) => `${r} ${n}`).join(', ')]))}`);
      }
    });

  withFilters(
    group
      .command('replay')
      .description('Judge entries again, with the contract in force now, and enqueue their valid readings. Each entry is replayed at most once.')
      .argument('[ids...]', 'entry ids (from `list`); or select with --reason/--device/--since'),
  )
    .option('--max-age <duration>', 'accept event times this old (relative to when the entry arrived): to let a backlog in')
    .option('--max-future <duration>', 'accept event times this far ahead')
    .option('--scan <n>', 'entries read at most when selecting by filter', '10000')
    .option('--dry-run', 'judge and report; enqueue and record nothing')
    .option('--json', 'the results as JSON')
    .action(async (ids: string[], opts: FilterOptions & { maxAge?: string; maxFuture?: string; scan: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      const filter = filterOf(opts, Date.now());
      if (ids.length === 0 && Object.keys(filter).length === 0) throw new Error('name entry ids, or select them with --reason, --device or --since');
      const limits = limitsFromEnv(process.env, opts);
      const results = await withStore(command, async (store, redis, prefix) => {
        const telemetryQueue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
        try {
          return await replayDeadLetters({
            store, telemetryQueue, limits, now: Date.now, dryRun: opts.dryRun === true, maxScan: Number(opts.scan),
            ...(ids.length > 0 ? { ids } : { filter }),
          });
        } finally {
          await telemetryQueue.close();
        }
      });
      if (opts.json) return out(JSON.stringify(results));
      out(table(['id', 'status', 'readings', 'why'], results.map((r: ReplayResult) => [r.id, r.status, r.readings === undefined ? '' : String(r.readings), shorten(r.rejects?.map((x) => `${x.reason}: ${x.detail}`).join('; ') ?? '', 100)])));
      const count = (status: ReplayResult['status']) => results.filter((r) => r.status === status).length;
      note(`${count(opts.dryRun ? 'would_replay' : 'replayed')} ${opts.dryRun ? 'would be replayed' : 'replayed'}, ${count('still_invalid')} still invalid, ${count('already_replayed')} replayed before`);
    });
}
