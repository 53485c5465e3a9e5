import type { Client } from 'aedes';
import type { Principal } from '@city/core';

/** Who a connection authenticated as, and how. */
export interface Authenticated {
  principal: Principal;
  method: 'password' | 'certificate';
  /** The token hash the password matched: a rotation is detected by comparing it with the registry's. */
  tokenHash?: string;
}

/** `device:<id>` or `operator:<name>`: the same key the registry's change notices and the credential cache use. */
export type IdentityKey = `device:${string}` | `operator:${string}`;

export function identityKey(principal: Principal): IdentityKey {
  return principal.kind === 'device' ? `device:${principal.deviceId}` : `operator:${principal.name}`;
}

export type Principals = ReturnType<typeof createPrincipals>;

/**
 * The authenticated connections: by client (for the ACL on every packet) and by identity (to close every
 * connection of a device or operator the registry revoked).
 */
export function createPrincipals() {
  const byClient = new WeakMap<Client, Authenticated>();
  const byIdentity = new Map<IdentityKey, Set<Client>>();

  return {
    set(client: Client, authenticated: Authenticated): void {
      byClient.set(client, authenticated);
      const key = identityKey(authenticated.principal);
      const clients = byIdentity.get(key) ?? new Set<Client>();
      // Clients that closed without a clientDisconnect (refused after authentication) go here.
      for (const other of clients) if (other.closed) clients.delete(other);
      clients.add(client);
      byIdentity.set(key, clients);
    },
    get(client: Client): Authenticated | undefined {
      return byClient.get(client);
    },
    forget(client: Client): void {
      const authenticated = byClient.get(client);
      if (!authenticated) return;
      const key = identityKey(authenticated.principal);
      const clients = byIdentity.get(key);
      clients?.delete(client);
      if (clients?.size === 0) byIdentity.delete(key);
    },
    /** The live connections of one identity. */
    clientsOf(key: IdentityKey): Client[] {
      return [...(byIdentity.get(key) ?? [])].filter((client) => !client.closed);
    },
    identities(): IdentityKey[] {
      return [...byIdentity.keys()];
    },
  };
}
