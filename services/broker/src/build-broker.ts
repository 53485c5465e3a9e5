import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes } from 'aedes';
import type { DeviceRegistry } from '@city/registry';
import { createBrokerAccess, type BrokerAccessOptions } from './broker-access.ts';
import type { IngestionDeps } from './create-ingestion.ts';
import { createIngestion } from './create-ingestion.ts';
import { createDeviceFeedback } from './device-feedback.ts';
import type { ClientLimits } from './limits/client-limits.ts';
import { createBackpressure, redisBackpressureSample, type BackpressureOptions } from './backpressure.ts';
import { createClientLimiter } from './limits/create-client-limiter.ts';

export type BrokerDeps = Omit<IngestionDeps, 'now'> & {
  /** Injected clock: tests pin receive times. */
  now?: () => number;
  /** Devices and operator accounts: who may connect, publish and subscribe (broker-access.ts). */
  registry: DeviceRegistry;
  access?: BrokerAccessOptions;
  /** Connection, packet, rate and session limits; defaults in limits/client-limits.ts. */
  clientLimits?: Partial<ClientLimits>;
  /** High- and low-water marks of the telemetry backlog and Redis memory; defaults in backpressure.ts. */
  backpressure?: Partial<BackpressureOptions>;
};

export interface Broker {
  aedes: Aedes;
  /**
   * Takes a new connection from any listener (TCP socket, TLS socket, WebSocket stream with its upgrade request):
   * puts the connection guard on it (limits/guard-connection.ts), then hands it to Aedes. Listeners call this,
   * never `aedes.handle` directly.
   */
  handle: (stream: Duplex, request?: IncomingMessage) => void;
  /** Stop ingesting, persist what waits in memory, disconnect clients. */
  close(): Promise<void>;
}

class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
}

const asError = (err: unknown) => (err instanceof Error ? err : new Error(String(err)));

/**
 * The MQTT broker: Aedes with our hooks. Each hook decides one thing; this file only wires them.
 *
 * Aedes writes a QoS 1 PUBACK only after `authorizePublish` calls back (lib/handlers/publish.js), so that hook
 * waits until the message's readings (and dead letters) are in Redis before calling back. If Redis fails it calls
 * back an error: Aedes closes the connection without a PUBACK, and the device resends after reconnecting. Aedes
 * reads a client's next socket chunk only once every packet of the current one is handled, so this wait also
 * paces each device to what Redis absorbs.
 */
export async function buildBroker(deps: BrokerDeps): Promise<Broker> {
  const { logger, metrics } = deps;
  const ingestion = createIngestion({ ...deps, now: deps.now ?? Date.now });
  let closing = false;
  const access = await createBrokerAccess({ registry: deps.registry, metrics, logger, now: deps.now ?? Date.now, options: deps.access });
  const limiter = createClientLimiter({ limits: deps.clientLimits, metrics, logger, now: deps.now ?? Date.now });
  // Redis near full or a backlog that only grows: hold new telemetry (no PUBACK, no reading) until it recedes.
  const backpressure = createBackpressure({ sample: redisBackpressureSample(deps.telemetryQueue, deps.now ?? Date.now), options: deps.backpressure, metrics, logger });

  const aedes = await Aedes.createBroker({
    ...limiter.aedesOptions,
    authenticate: access.authenticate,
    authorizeSubscribe(client, subscription, callback) {
      // The filter's encoding first [MQTT-1.5.3-1/2], then the access policy.
      const violation = limiter.checkSubscription(subscription);
      if (violation) return callback(violation);
      access.authorizeSubscribe(client, subscription, callback);
    },
    authorizePublish(client, packet, callback) {
      if (closing) return callback(new ShuttingDownError('broker is shutting down'));
      // MQTT rules, then the access policy; either closes the connection.
      const denied = limiter.checkPublish(client, packet) ?? access.authorizePublish(client, packet);
      if (denied) return callback(denied);
      // A device over its publish rate waits here, before anything is enqueued: throttled, never dropped.
      limiter.throttlePublish(client, packet, () => backpressure.hold(client, packet, () => {
        if (closing) return callback(new ShuttingDownError('broker is shutting down'));
        ingestion
          .ingest({ topic: packet.topic, payload: packet.payload as Buffer, clientId: client?.id ?? '', messageId: packet.messageId, connection: client ?? undefined })
          .then((result) => {
            callback(null);
            // After the PUBACK: telling the device why is never on its acknowledgement's path.
            if (result.kind === 'persisted') feedback.report(result.rejects);
          }, (err: unknown) => callback(asError(err)));
      }));
    },
  });

  const feedback = createDeviceFeedback({ aedes, logger, registry: metrics.registry });
  limiter.attach(aedes);
  access.attach(aedes);
  aedes.on('client', () => metrics.connectedClients.inc());
  aedes.on('clientDisconnect', () => metrics.connectedClients.dec());
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));

  return {
    aedes,
    handle(stream, request) {
      const guarded = limiter.guardConnection(stream);
      if (!guarded.destroyed) aedes.handle(guarded, request);
    },
    async close() {
      closing = true;
      // What backpressure held is refused now (closing): no PUBACK, so those devices resend to the next broker.
      backpressure.close();
      await ingestion.drain();
      // The drained publishers' PUBACKs are written through a corked socket that mqtt-packet uncorks on
      // process.nextTick; closing the clients within this microtask chain would destroy the sockets first.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await access.close();
    },
  };
}
