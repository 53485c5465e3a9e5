import type { Duplex } from 'node:stream';
import type { Aedes, AedesOptions, Client, PublishPacket, Subscription } from 'aedes';
import aedesPersistence from 'aedes-persistence';
import type { Logger } from '@city/logger';
import { checkPublish, checkTopicFilter, type MqttViolation } from '@city/core';
import { ALERT_TOPIC_ROOT } from '@city/schema';
import { createPreConnect } from '../hooks/pre-connect.ts';
import { capSessionQueues, type SessionQueuePersistence } from './cap-session-queues.ts';
import { DEFAULT_CLIENT_LIMITS, type ClientLimits } from './client-limits.ts';
import { createConnectionGuard } from './guard-connection.ts';
import type { LimitMetrics } from './limit-metrics.ts';
import { createTokenBuckets } from './token-buckets.ts';

export interface ClientLimiterDeps {
  /** Overrides of DEFAULT_CLIENT_LIMITS. */
  limits?: Partial<ClientLimits>;
  metrics: LimitMetrics;
  logger: Logger;
  now: () => number;
}

/** A packet broke an MQTT 3.1.1 rule; calling back this error makes Aedes close the connection. */
export class ProtocolViolationError extends Error {
  override readonly name = 'ProtocolViolationError';
  constructor(readonly violation: MqttViolation) {
    super(`[${violation.rule}] ${violation.detail}`);
  }
}

export interface ClientLimiter {
  limits: ClientLimits;
  /** Spread into `Aedes.createBroker` options. */
  aedesOptions: Pick<AedesOptions, 'preConnect' | 'connectTimeout' | 'maxClientsIdLength' | 'persistence'>;
  /** See ConnectionGuard.guardConnection: every listener puts it on every connection before `aedes.handle`. */
  guardConnection: <S extends Duplex>(stream: S) => S;
  /** First step of authorizePublish: the MQTT rules of a PUBLISH. An error closes the connection. */
  checkPublish(client: Client | null, packet: PublishPacket): Error | undefined;
  /**
   * Calls `proceed` at once, or later when the client is over its publish rate: meanwhile Aedes reads nothing
   * more from it. Nothing is dropped, the connection stays up.
   */
  throttlePublish(client: Client | null, packet: PublishPacket, proceed: () => void): void;
  /** First step of authorizeSubscribe: the filter's encoding. An error closes the connection [MQTT-1.5.3-1]. */
  checkSubscription(subscription: Subscription): Error | undefined;
  /** Wires what needs Aedes' events: the end of the pre-CONNACK budget, the connect timeout count. */
  attach(aedes: Aedes): void;
}

function mergeLimits(overrides: Partial<ClientLimits> = {}): ClientLimits {
  const limits = { ...DEFAULT_CLIENT_LIMITS };
  for (const [name, value] of Object.entries(overrides) as Array<[keyof ClientLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`client limit ${name} must be a positive number, got ${value}`);
    limits[name] = value;
  }
  return limits;
}

const ALERT_TOPIC_PREFIX = `${ALERT_TOPIC_ROOT}/`;

// aedes-persistence is CommonJS (`module.exports = factory`) with types that declare an ES default export: under
// NodeNext the types see a namespace, while at runtime the default import is the factory itself.
const memoryPersistence = aedesPersistence as unknown as () => SessionQueuePersistence;

/**
 * Every limit on what one client may cost the broker, wired into Aedes at the points its source allows:
 * - the connection guard, in front of `aedes.handle`: open connections, packet size from the fixed header, the
 *   pre-CONNACK budget, and the rules no hook sees (limits/packet-scanner.ts);
 * - `preConnect`: connection rate per source address, ClientId length, the CONNECT rules (hooks/pre-connect.ts);
 * - Aedes' own `connectTimeout`, and `maxClientsIdLength` (which Aedes applies to MQTT 3.1 only);
 * - `authorizePublish` / `authorizeSubscribe` (composed in build-broker.ts): PUBLISH and filter rules, publish rate;
 * - the persistence: a cap on each persistent session's queue.
 */
export function createClientLimiter(deps: ClientLimiterDeps): ClientLimiter {
  const { metrics, logger, now } = deps;
  const limits = mergeLimits(deps.limits);
  const guard = createConnectionGuard({ ...limits, metrics, logger });
  const publishes = createTokenBuckets({
    capacity: limits.publishBurstPerClient,
    refillPerSecond: limits.publishesPerSecondPerClient,
    maxKeys: limits.maxTrackedKeys,
  });
  const persistence = capSessionQueues(memoryPersistence(), {
    maxMessagesPerSession: limits.maxQueuedMessagesPerSession,
    onDrop: () => metrics.sessionMessagesDropped.inc(),
  });

  return {
    limits,
    aedesOptions: {
      preConnect: createPreConnect({ limits, metrics, logger, now }),
      connectTimeout: limits.connectTimeoutMs,
      maxClientsIdLength: limits.maxClientIdLength,
      persistence,
    },
    guardConnection: guard.guardConnection,

    checkPublish(client, packet) {
      // A will (published as its client closes) or the broker's own publish: the will was checked with its CONNECT.
      if (client === null || client.closed) return undefined;
      const violation = checkPublish(packet);
      if (!violation) return undefined;
      metrics.protocolViolations.inc({ rule: violation.rule });
      metrics.connectionsCut.inc({ reason: 'protocol_violation' });
      return new ProtocolViolationError(violation);
    },

    throttlePublish(client, packet, proceed) {
      if (client === null || client.closed) return proceed();
      // The rate is a device's. Only the worker's service account may publish alerts (access policy); it raises
      // one per crossing reading and must not be held back behind a device's limit.
      if (packet.topic.startsWith(ALERT_TOPIC_PREFIX)) return proceed();
      const waitMs = publishes.take(client.id, now());
      if (waitMs === 0) return proceed();
      // Throttled, not dropped: Aedes reads the client's next packets only when every packet of the current chunk
      // is handled, so holding this one back pauses the client's socket, and TCP pushes back on the device.
      metrics.publishesThrottled.inc();
      metrics.publishThrottleSeconds.inc(waitMs / 1000);
      setTimeout(proceed, waitMs);
    },

    checkSubscription(subscription) {
      const violation = checkTopicFilter(subscription.topic);
      if (!violation) return undefined;
      metrics.protocolViolations.inc({ rule: violation.rule });
      metrics.connectionsCut.inc({ reason: 'protocol_violation' });
      return new ProtocolViolationError(violation);
    },

    attach(aedes) {
      aedes.on('connackSent', (connack, client) => {
        if (connack.returnCode === 0) guard.markConnected(client.conn);
      });
      aedes.on('connectionError', (_client, err) => {
        // Aedes' connect timer (lib/client.js) reports itself only through this message.
        if (err.message === 'connect did not arrive in time') metrics.connectionsRefused.inc({ reason: 'connect_timeout' });
      });
    },
  };
}
