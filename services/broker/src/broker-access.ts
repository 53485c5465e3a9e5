import type { Aedes } from 'aedes';
import type { Logger } from '@city/logger';
import type { DeviceRegistry, RegistryChange } from '@city/registry';
import type { AccessMetrics, RevocationReason } from './access-metrics.ts';
import { createAuthenticate } from './hooks/authenticate.ts';
import { createAuthorizePublishAccess } from './hooks/authorize-publish-access.ts';
import { createAuthorizeSubscribe } from './hooks/authorize-subscribe.ts';
import { createCredentialCache, type Credential } from './hooks/credential-cache.ts';
import { createDevicePresence } from './device-presence.ts';
import { attachDeviceStatus } from './device-status.ts';
import { createPrincipals, type Authenticated, type IdentityKey } from './principals.ts';

export interface BrokerAccessOptions {
  /**
   * A cached credential is read again after this long even without a change notice: the bound on how stale a
   * credential can get should a notice be lost.
   * @defaultValue 30_000
   */
  credentialCacheTtlMs?: number;
  /**
   * Last-seen times are written to the registry this often (see device-presence.ts).
   * @defaultValue 10_000
   */
  lastSeenFlushMs?: number;
}

export interface BrokerAccessDeps {
  registry: DeviceRegistry;
  metrics: AccessMetrics;
  logger: Logger;
  now: () => number;
  options?: BrokerAccessOptions;
}

export type BrokerAccess = Awaited<ReturnType<typeof createBrokerAccess>>;

/** Why an authenticated connection may no longer stay, given the registry's current record; undefined if it may. */
export function revocationReason(authenticated: Authenticated, current: Credential | undefined): RevocationReason | undefined {
  if (!current) return 'deleted';
  const record = 'device' in current ? current.device : current.operator;
  if (!record.enabled) return 'disabled';
  const { principal } = authenticated;
  if (principal.kind === 'device' && (!('device' in current) || current.device.family !== principal.family)) return 'updated';
  if (principal.kind === 'operator' && (!('operator' in current) || current.operator.role !== principal.role)) return 'updated';
  if (authenticated.method === 'password' && authenticated.tokenHash !== current.tokenHash) return 'rotated';
  return undefined;
}

/**
 * Identity and access for the broker: the hooks, the credential cache, last-seen times, and the registry watch.
 * On every change notice the cached credential is dropped and each live connection of that device or operator is
 * checked against the registry's current record: disabled, deleted, token rotated (for password logins) or family
 * changed → the connection is closed. After the watch reconnects (notices may have been missed) every live
 * connection is checked.
 */
export async function createBrokerAccess({ registry, metrics, logger, now, options = {} }: BrokerAccessDeps) {
  const principals = createPrincipals();
  const credentials = createCredentialCache({ registry, now, ...(options.credentialCacheTtlMs !== undefined ? { ttlMs: options.credentialCacheTtlMs } : {}) });
  const presence = createDevicePresence({ registry, logger, now, ...(options.lastSeenFlushMs !== undefined ? { flushIntervalMs: options.lastSeenFlushMs } : {}) });

  async function recheck(key: IdentityKey): Promise<void> {
    let current: Credential | undefined;
    try {
      current = await credentials.lookup(key);
    } catch (err) {
      logger.warn({ identity: key, err: (err as Error).message }, 'registry unreachable: live connections not re-checked');
      return;
    }
    for (const client of principals.clientsOf(key)) {
      const authenticated = principals.get(client);
      const reason = authenticated && revocationReason(authenticated, current);
      if (!reason) continue;
      metrics.connectionsRevoked.inc({ reason });
      logger.info({ clientId: client.id, identity: key, reason }, 'credential revoked: closing the connection');
      client.close();
    }
  }

  function onChange(change: RegistryChange): void {
    if (change.entity === 'all') {
      credentials.clear();
      logger.info('registry watch reconnected: re-checking every live connection');
      for (const key of principals.identities()) void recheck(key);
      return;
    }
    const key: IdentityKey = `${change.entity}:${change.id}`;
    credentials.invalidate(key);
    if (change.change !== 'added' && change.change !== 'enabled') void recheck(key);
  }

  const watch = await registry.watch(onChange, { onError: (err) => logger.warn({ err: err.message }, 'registry watch error') });

  return {
    authenticate: createAuthenticate({ credentials, principals, metrics, logger, onDeviceConnected: (id) => presence.seen(id) }),
    authorizeSubscribe: createAuthorizeSubscribe({ principals, metrics, logger }),
    /** The ACL check `authorizePublish` makes first: null, or the error to call back (the connection closes). */
    authorizePublish: createAuthorizePublishAccess({ principals, metrics, logger, onDevicePublish: (id) => presence.seen(id) }),
    /** Follows connects and disconnects (retained device status, last-seen time, the identity index). */
    attach(aedes: Aedes): void {
      attachDeviceStatus({ aedes, principals, logger, now });
      aedes.on('clientDisconnect', (client) => {
        const principal = principals.get(client)?.principal;
        if (principal?.kind === 'device') presence.seen(principal.deviceId);
        principals.forget(client);
      });
    },
    async close(): Promise<void> {
      await watch.close();
      await presence.close();
    },
  };
}
