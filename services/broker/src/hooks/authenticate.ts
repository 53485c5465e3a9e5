import { TLSSocket, type PeerCertificate } from 'node:tls';
import type { AuthenticateError, Client } from 'aedes';
import type { Logger } from '@city/logger';
import { OPERATOR_USERNAME_PREFIX, OperatorNameSchema, tokenMatchesHash } from '@city/registry';
import { DEVICE_ID_PATTERN } from '@city/schema';
import type { AccessMetrics, AuthFailureReason } from '../access-metrics.ts';
import type { Authenticated, Principals } from '../principals.ts';
import type { CredentialCache } from './credential-cache.ts';

export interface AuthenticateDeps {
  credentials: CredentialCache;
  principals: Principals;
  metrics: Pick<AccessMetrics, 'authFailures' | 'authSuccesses'>;
  logger: Logger;
  /** Called for every device that connects (its last-seen time). */
  onDeviceConnected?: (deviceId: string) => void;
}

type AuthenticateHandler = (
  client: Client,
  username: Readonly<string | undefined>,
  password: Readonly<Buffer | undefined>,
  done: (error: AuthenticateError | null, success: boolean | null) => void,
) => void;

/** CONNACK return codes, MQTT 3.1.1 §3.2.2.3 (Aedes' `AuthErrorCode` is a const enum, not importable as a value). */
const CONNACK = { identifierRejected: 2, serverUnavailable: 3, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

const RETURN_CODES: Record<AuthFailureReason, number> = {
  no_credentials: CONNACK.badUsernameOrPassword,
  bad_username: CONNACK.badUsernameOrPassword,
  // "The Client identifier is correct UTF-8 but not allowed by the Server" [MQTT-3.2.2-3, table 3.1]
  client_id_mismatch: CONNACK.identifierRejected,
  // Unknown and wrong token answer alike, so the CONNACK does not tell which device ids exist.
  unknown_identity: CONNACK.badUsernameOrPassword,
  bad_token: CONNACK.badUsernameOrPassword,
  disabled: CONNACK.notAuthorized,
  certificate_rejected: CONNACK.notAuthorized,
  certificate_identity_mismatch: CONNACK.badUsernameOrPassword,
  tls_handshake_failed: CONNACK.notAuthorized, // never answered with a CONNACK: counted by listeners.ts
  registry_unavailable: CONNACK.serverUnavailable,
};

type Outcome = { ok: true; authenticated: Authenticated } | { ok: false; reason: AuthFailureReason; detail: string };
const refuse = (reason: AuthFailureReason, detail: string): Outcome => ({ ok: false, reason, detail });

/** The TLS socket under a connection: the MQTT stream itself (TLS listener) or the one under a `wss:` upgrade. */
function tlsSocketOf(client: Client): TLSSocket | undefined {
  if (client.conn instanceof TLSSocket) return client.conn;
  const socket = client.req?.socket;
  return socket instanceof TLSSocket ? socket : undefined;
}

/** The identity a client certificate names: its subject CN, else its first DNS subject alternative name. */
export function certificateIdentity(cert: PeerCertificate): string | undefined {
  // Node gives a multi-valued attribute as an array, whatever its typings say.
  const cn: unknown = cert.subject?.CN;
  if (typeof cn === 'string' && cn !== '') return cn;
  if (Array.isArray(cn)) return undefined; // two CNs: ambiguous, trust neither
  const dns = cert.subjectaltname?.split(', ').find((name) => name.startsWith('DNS:'));
  return dns?.slice('DNS:'.length) || undefined;
}

/**
 * Who a CONNECT is. Devices: username = device id, password = token, and the client id must be the device id (so a
 * device cannot take over another's session). Operators: username `operator:<name>`, password = token, and a client
 * id that is `operator:<name>` or starts with `operator:<name>:` (so an operator cannot take over a device's session
 * either: `:` never occurs in a device id). With a verified client certificate (mutual TLS) the certificate names
 * the identity and no password is needed; a username, if sent, must name the same identity.
 */
async function identify(deps: AuthenticateDeps, client: Client, username: string | undefined, password: Buffer | undefined): Promise<Outcome> {
  const socket = tlsSocketOf(client);
  const cert = socket?.getPeerCertificate();
  const hasCert = cert !== undefined && Object.keys(cert).length > 0;
  let identity: string;
  let method: Authenticated['method'];
  if (socket && hasCert) {
    // Only reachable with MQTT_TLS_CLIENT_CERTS=optional; with `required` the handshake already failed.
    if (!socket.authorized) return refuse('certificate_rejected', `client certificate not trusted: ${String(socket.authorizationError)}`);
    const named = certificateIdentity(cert);
    if (!named) return refuse('certificate_rejected', 'client certificate names no identity (no CN, no DNS SAN)');
    if (username !== undefined && username !== named) return refuse('certificate_identity_mismatch', `username "${username}" is not the certificate's "${named}"`);
    identity = named;
    method = 'certificate';
  } else {
    if (username === undefined || username === '' || password === undefined || password.length === 0) {
      return refuse('no_credentials', 'username and password (or a client certificate) are required');
    }
    identity = username;
    method = 'password';
  }

  if (identity.startsWith(OPERATOR_USERNAME_PREFIX)) {
    const name = identity.slice(OPERATOR_USERNAME_PREFIX.length);
    if (!OperatorNameSchema.safeParse(name).success) return refuse('bad_username', `"${identity}" is not operator:<name>`);
    if (client.id !== identity && !client.id.startsWith(`${identity}:`)) {
      return refuse('client_id_mismatch', `an operator's client id must be "${identity}" or start with "${identity}:"`);
    }
    const credential = await deps.credentials.operator(name);
    if (!credential) return refuse('unknown_identity', `no operator "${name}"`);
    if (method === 'password' && !tokenMatchesHash(password!, credential.tokenHash)) return refuse('bad_token', 'wrong token');
    if (!credential.operator.enabled) return refuse('disabled', `operator "${name}" is disabled`);
    return {
      ok: true,
      authenticated: {
        principal: { kind: 'operator', name, role: credential.operator.role },
        method,
        ...(method === 'password' ? { tokenHash: credential.tokenHash } : {}),
      },
    };
  }

  if (!DEVICE_ID_PATTERN.test(identity)) return refuse('bad_username', `"${identity}" is neither a device id nor operator:<name>`);
  if (client.id !== identity) return refuse('client_id_mismatch', `client id "${client.id}" is not the device id "${identity}"`);
  const credential = await deps.credentials.device(identity);
  if (!credential) return refuse('unknown_identity', `no device "${identity}"`);
  if (method === 'password' && !tokenMatchesHash(password!, credential.tokenHash)) return refuse('bad_token', 'wrong token');
  if (!credential.device.enabled) return refuse('disabled', `device "${identity}" is disabled`);
  return {
    ok: true,
    authenticated: {
      principal: { kind: 'device', deviceId: identity, family: credential.device.family },
      method,
      ...(method === 'password' ? { tokenHash: credential.tokenHash } : {}),
    },
  };
}

/**
 * Aedes' `authenticate` hook. A refusal is a CONNACK with a return code (an error carrying `returnCode`, after which
 * Aedes closes the connection [MQTT-3.2.2-5]), counted by reason. A registry change heard while the lookup was in
 * flight makes it look again, so a device disabled a moment ago cannot slip in on the old record.
 */
export function createAuthenticate(deps: AuthenticateDeps): AuthenticateHandler {
  const { credentials, principals, metrics, logger } = deps;

  async function decide(client: Client, username: string | undefined, password: Buffer | undefined): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const epoch = credentials.epoch;
      const outcome = await identify(deps, client, username, password);
      if (credentials.epoch === epoch || attempt === 2) return outcome;
    }
  }

  return (client, username, password, done) => {
    decide(client, username, password).then(
      (outcome) => {
        if (outcome.ok) {
          // Same microtask as the epoch check above: no change notice can be handled in between.
          principals.set(client, outcome.authenticated);
          const { principal, method } = outcome.authenticated;
          metrics.authSuccesses.inc({ kind: principal.kind, method });
          if (principal.kind === 'device') deps.onDeviceConnected?.(principal.deviceId);
          return done(null, true);
        }
        metrics.authFailures.inc({ reason: outcome.reason });
        logger.debug({ clientId: client.id, username, reason: outcome.reason, detail: outcome.detail }, 'connection refused');
        done(Object.assign(new Error(outcome.detail), { returnCode: RETURN_CODES[outcome.reason] }), false);
      },
      (err: unknown) => {
        // Redis unreachable: "Server unavailable", and the device retries.
        metrics.authFailures.inc({ reason: 'registry_unavailable' });
        logger.warn({ clientId: client.id, err: (err as Error).message }, 'registry unreachable: connection refused with CONNACK 0x03');
        done(Object.assign(new Error('device registry unavailable'), { returnCode: CONNACK.serverUnavailable }), false);
      },
    );
  };
}
