import { describe, expect, it } from 'vitest';
import type { DeviceCredential } from '@city/registry';
import { createCredentialCache } from './credential-cache.ts';

const credential = (id: string, enabled = true): DeviceCredential => ({
  tokenHash: `sha256:${id}`,
  device: { id, family: 'traffic', enabled, createdAt: 0, tokenIssuedAt: 0 },
});

/** The registry's read, counted: what the cache exists to spare. */
function registryReads(answer: (id: string) => Promise<DeviceCredential | undefined>) {
  const reads: string[] = [];
  return {
    reads,
    registry: {
      getDeviceCredential: (id: string) => (reads.push(id), answer(id)),
      getOperatorCredential: () => Promise.resolve(undefined),
    },
  };
}

describe('createCredentialCache', () => {
  it('reads each id once within the TTL, shares a read in flight, and caches unknown ids too', async () => {
    let now = 0;
    const { reads, registry } = registryReads((id) => Promise.resolve(id === 'ghost' ? undefined : credential(id)));
    const cache = createCredentialCache({ registry, ttlMs: 1000, now: () => now });
    await Promise.all([cache.device('a'), cache.device('a'), cache.device('ghost')]);
    await cache.device('ghost');
    now = 999;
    expect((await cache.device('a'))?.device.id).toBe('a');
    expect(reads).toEqual(['a', 'ghost']);
    now = 1000;
    await cache.device('a');
    expect(reads).toEqual(['a', 'ghost', 'a']);
  });

  it('reads again after an invalidation, and counts invalidations in the epoch', async () => {
    const { reads, registry } = registryReads((id) => Promise.resolve(credential(id)));
    const cache = createCredentialCache({ registry, now: () => 0 });
    await cache.device('a');
    const epoch = cache.epoch;
    cache.invalidate('device:a');
    expect(cache.epoch).toBe(epoch + 1);
    await cache.device('a');
    cache.clear();
    await cache.device('a');
    expect(reads).toEqual(['a', 'a', 'a']);
  });

  it('does not keep a failed read: the next CONNECT asks Redis again', async () => {
    let fail = true;
    const { reads, registry } = registryReads((id) => (fail ? Promise.reject(new Error('redis down')) : Promise.resolve(credential(id))));
    const cache = createCredentialCache({ registry, now: () => 0 });
    await expect(cache.device('a')).rejects.toThrow('redis down');
    fail = false;
    expect((await cache.device('a'))?.device.id).toBe('a');
    expect(reads).toEqual(['a', 'a']);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const { reads, registry } = registryReads((id) => Promise.resolve(credential(id)));
    const cache = createCredentialCache({ registry, maxEntries: 2, now: () => 0 });
    for (const id of ['a', 'b', 'c', 'b', 'a']) await cache.device(id);
    expect(reads).toEqual(['a', 'b', 'c', 'a']);
  });
});
