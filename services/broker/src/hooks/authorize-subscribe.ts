import type { Client, Subscription } from 'aedes';
import { canSubscribe, type AccessDecision } from '@city/core';
import type { Logger } from '@city/logger';
import type { AccessMetrics } from '../access-metrics.ts';
import type { Principals } from '../principals.ts';

export interface AuthorizeSubscribeDeps {
  principals: Principals;
  metrics: Pick<AccessMetrics, 'subscribeDenied'>;
  logger: Logger;
}

type AuthorizeSubscribeHandler = (client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void) => void;

const UNAUTHENTICATED: AccessDecision = { allowed: false, reason: 'unauthenticated', detail: 'the connection is not authenticated' };

/**
 * Aedes' `authorizeSubscribe` hook: the ACL of @city/core (access-policy.ts). A refused filter is answered with
 * return code 0x80 in the SUBACK [MQTT-3.9.3], the others of the same SUBSCRIBE are granted, and the connection
 * stays up: a subscription, unlike a publish, can be refused in-band. Also runs for the subscriptions a persistent
 * session restores, so a permission withdrawn since is not restored.
 */
export function createAuthorizeSubscribe({ principals, metrics, logger }: AuthorizeSubscribeDeps): AuthorizeSubscribeHandler {
  return (client, subscription, callback) => {
    const authenticated = principals.get(client);
    const decision = authenticated ? canSubscribe(authenticated.principal, subscription.topic) : UNAUTHENTICATED;
    if (decision.allowed) return callback(null, subscription);
    metrics.subscribeDenied.inc({ reason: decision.reason });
    logger.debug({ clientId: client.id, filter: subscription.topic, reason: decision.reason }, 'subscription refused (SUBACK 0x80)');
    // `null` makes Aedes grant 0x80 for this filter (lib/handlers/subscribe.js, storeSubscriptions).
    callback(null, null);
  };
}
