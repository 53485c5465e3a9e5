import type { Client, PublishPacket } from 'aedes';
import { canPublish, type AccessDecision } from '@city/core';
import type { Logger } from '@city/logger';
import type { AccessMetrics } from '../access-metrics.ts';
import type { Principals } from '../principals.ts';

export interface AuthorizePublishAccessDeps {
  principals: Principals;
  metrics: Pick<AccessMetrics, 'publishDenied'>;
  logger: Logger;
  /** Called for every publish a device may make (its last-seen time). */
  onDevicePublish?: (deviceId: string) => void;
}

/** A publish the ACL refused: `authorizePublish` calls back with it and Aedes closes the connection. */
export class PublishDeniedError extends Error {
  override readonly name = 'PublishDeniedError';
}

const UNAUTHENTICATED: AccessDecision = { allowed: false, reason: 'unauthenticated', detail: 'the connection is not authenticated' };

/**
 * The ACL half of `authorizePublish` (build-broker.ts calls it first): null when the client may publish to the
 * topic, else the error to call back.
 *
 * A denied publish closes the connection, without a PUBACK. MQTT 3.1.1 has no negative PUBACK: a server that does
 * not authorize a PUBLISH must either acknowledge it as usual or close the connection [MQTT-3.3.5-2]. We close it,
 * because a device writing outside its own topics is misconfigured or compromised, and a silent PUBACK would hide
 * that from it and from us; the disconnect is visible on the device, counted in
 * `city_broker_publish_denied_total{reason}` and logged. Nothing of the message is routed or stored.
 *
 * `client` is null only for a will Aedes publishes for a client of a broker that is gone (never the case with the
 * in-memory persistence we run): it was the client's own choice at CONNECT, so it is let through.
 */
export function createAuthorizePublishAccess({ principals, metrics, logger, onDevicePublish }: AuthorizePublishAccessDeps) {
  return (client: Client | null, packet: PublishPacket): PublishDeniedError | null => {
    if (client === null) return null;
    const authenticated = principals.get(client);
    const decision = authenticated ? canPublish(authenticated.principal, packet.topic) : UNAUTHENTICATED;
    if (decision.allowed) {
      if (authenticated?.principal.kind === 'device') onDevicePublish?.(authenticated.principal.deviceId);
      return null;
    }
    metrics.publishDenied.inc({ reason: decision.reason });
    logger.warn({ clientId: client.id, topic: packet.topic, reason: decision.reason }, client.closed ? 'will not published: topic not allowed' : 'publish denied: closing the connection');
    return new PublishDeniedError(decision.detail);
  };
}
