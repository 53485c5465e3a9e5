import { Aedes } from 'aedes';
import type { IngestionDeps } from './create-ingestion.ts';
import { createIngestion } from './create-ingestion.ts';

export type BrokerDeps = Omit<IngestionDeps, 'now'> & {
  /** Injected clock: tests pin receive times. */
  now?: () => number;
};

export interface Broker {
  aedes: Aedes;
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

  const aedes = await Aedes.createBroker({
    authorizePublish(client, packet, callback) {
      if (closing) return callback(new ShuttingDownError('broker is shutting down'));
      ingestion
        .ingest({ topic: packet.topic, payload: packet.payload as Buffer, clientId: client?.id ?? '' })
        .then(() => callback(null), (err: unknown) => callback(asError(err)));
    },
  });

  aedes.on('client', () => metrics.connectedClients.inc());
  aedes.on('clientDisconnect', () => metrics.connectedClients.dec());
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));

  return {
    aedes,
    async close() {
      closing = true;
      await ingestion.drain();
      // The drained publishers' PUBACKs are written through a corked socket that mqtt-packet uncorks on
      // process.nextTick; closing the clients within this microtask chain would destroy the sockets first.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
