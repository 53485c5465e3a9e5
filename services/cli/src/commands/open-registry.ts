import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { createDeviceRegistry, type DeviceRegistry } from '@city/registry';

/**
 * Runs `action` with the registry under the program's `--redis-url` and `--prefix`, on a connection of its own
 * that fails fast (a CLI should say "Redis is down", not hang) and is closed afterwards.
 */
export async function withRegistry<T>(command: Command, action: (registry: DeviceRegistry) => Promise<T>): Promise<T> {
  const { redisUrl, prefix } = command.optsWithGlobals<{ redisUrl: string; prefix: string }>();
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {}); // connect() rejects with it
  try {
    await redis.connect();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${redisUrl}: ${(err as Error).message}`);
  }
  try {
    return await action(createDeviceRegistry({ redis, prefix }));
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** For people: stderr. stdout carries only what a script may capture (tokens, listings). */
export const say = (line: string): void => void process.stderr.write(`${line}\n`);
export const print = (line: string): void => void process.stdout.write(`${line}\n`);

/** Fails the command without a stack trace: main.ts prints `city: <message>` and exits 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
}

/** A fixed-width table for terminals. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Applies `change` to each id; names the unknown ones and fails if there were any. */
export async function eachId(ids: readonly string[], change: (id: string) => Promise<boolean>, done: string, what = 'device'): Promise<void> {
  const unknown: string[] = [];
  for (const id of ids) {
    if (await change(id)) say(`${id}: ${done}`);
    else unknown.push(id);
  }
  if (unknown.length > 0) throw new CommandFailed(`no such ${what}: ${unknown.join(', ')}`);
}
