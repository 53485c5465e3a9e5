import { Counter, type Registry } from 'prom-client';
import { ACCESS_DENIED_REASONS } from '@city/core';

/** Why a CONNECT was refused (CONNACK 0x02–0x05) or a TLS client never got to send one. */
export const AUTH_FAILURE_REASONS = [
  'no_credentials',
  'bad_username',
  'client_id_mismatch',
  'unknown_identity',
  'bad_token',
  'disabled',
  'certificate_rejected',
  'certificate_identity_mismatch',
  'tls_handshake_failed',
  'registry_unavailable',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

/** Why a live connection was closed after the registry changed. */
export const REVOCATION_REASONS = ['disabled', 'deleted', 'rotated', 'updated'] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** The metrics of identity and access (hooks/*, broker-access.ts), spread into the broker's metrics. */
export function createAccessMetrics(registers: Registry[]) {
  const metrics = {
    authSuccesses: new Counter({
      name: 'city_broker_auth_successes_total',
      help: 'Accepted CONNECTs, by account kind (device, operator) and method (password, certificate)',
      labelNames: ['kind', 'method'],
      registers,
    }),
    authFailures: new Counter({ name: 'city_broker_auth_failures_total', help: 'Refused CONNECTs and failed TLS handshakes, by reason', labelNames: ['reason'], registers }),
    publishDenied: new Counter({ name: 'city_broker_publish_denied_total', help: 'PUBLISH to a topic the client may not use (the connection is closed), by reason', labelNames: ['reason'], registers }),
    subscribeDenied: new Counter({ name: 'city_broker_subscribe_denied_total', help: 'Topic filters refused with SUBACK 0x80, by reason', labelNames: ['reason'], registers }),
    connectionsRevoked: new Counter({
      name: 'city_broker_connections_revoked_total',
      help: 'Live connections closed because their device or operator was disabled, deleted, rotated or changed',
      labelNames: ['reason'],
      registers,
    }),
  };
  for (const reason of AUTH_FAILURE_REASONS) metrics.authFailures.inc({ reason }, 0);
  for (const reason of ACCESS_DENIED_REASONS) {
    metrics.publishDenied.inc({ reason }, 0);
    metrics.subscribeDenied.inc({ reason }, 0);
  }
  for (const reason of REVOCATION_REASONS) metrics.connectionsRevoked.inc({ reason }, 0);
  return metrics;
}

export type AccessMetrics = ReturnType<typeof createAccessMetrics>;
