import type { DeviceCredential, DeviceRegistry, OperatorCredential } from '@city/registry';
import type { IdentityKey } from '../principals.ts';

export interface CredentialCacheOptions {
  registry: Pick<DeviceRegistry, 'getDeviceCredential' | 'getOperatorCredential'>;
  /**
   * An entry is read again after this long even if no change notice arrived: the bound on staleness should a
   * notice be lost.
   * @defaultValue 30_000
   */
  ttlMs?: number;
  /**
   * Entries kept; the oldest go first. Unknown ids are cached too (a client retrying a made-up id costs no Redis
   * round trip), so this bounds what a flood of random ids can occupy.
   * @defaultValue 100_000
   */
  maxEntries?: number;
  now: () => number;
}

export type Credential = DeviceCredential | OperatorCredential;

export interface CredentialCache {
  device(id: string): Promise<DeviceCredential | undefined>;
  operator(name: string): Promise<OperatorCredential | undefined>;
  lookup(key: IdentityKey): Promise<Credential | undefined>;
  invalidate(key: IdentityKey): void;
  clear(): void;
  /**
   * Grows with every invalidation. An authentication that read a credential and finds the epoch moved on reads it
   * again: the change notice may have been about the record it holds, and arrived after the read.
   */
  readonly epoch: number;
}

interface Entry {
  value: Promise<Credential | undefined>;
  expiresAt: number;
}

/**
 * The registry records the broker checks CONNECTs against, so a reconnect storm does not become a Redis storm.
 * Entries are dropped on the registry's change notices (broker-access.ts) and expire after `ttlMs`. Concurrent
 * lookups of one id share one read; a failed read is not cached.
 */
export function createCredentialCache({ registry, ttlMs = 30_000, maxEntries = 100_000, now }: CredentialCacheOptions): CredentialCache {
  const entries = new Map<IdentityKey, Entry>();
  let epoch = 0;

  function lookup(key: IdentityKey): Promise<Credential | undefined> {
    const at = now();
    const cached = entries.get(key);
    if (cached && cached.expiresAt > at) return cached.value;
    entries.delete(key);
    const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const value: Promise<Credential | undefined> = kind === 'device' ? registry.getDeviceCredential(id) : registry.getOperatorCredential(id);
    const entry = { value, expiresAt: at + ttlMs };
    entries.set(key, entry);
    value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    // Map keeps insertion order: the first key is the oldest.
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return value;
  }

  return {
    device: (id) => lookup(`device:${id}`) as Promise<DeviceCredential | undefined>,
    operator: (name) => lookup(`operator:${name}`) as Promise<OperatorCredential | undefined>,
    lookup,
    invalidate(key) {
      entries.delete(key);
      epoch++;
    },
    clear() {
      entries.clear();
      epoch++;
    },
    get epoch() {
      return epoch;
    },
  };
}
