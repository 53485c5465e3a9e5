import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { createDeviceRegistry, type DeviceRegistry } from '@city/registry';
import { say } from './output.ts';

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

export { print, say, table } from './output.ts';

/** Fails the command without a stack trace: main.ts prints `city: <message>` and exits 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
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
