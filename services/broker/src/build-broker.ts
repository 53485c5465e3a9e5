import { Aedes } from 'aedes';
import type { Queue } from 'bullmq';
import type { Logger } from '@city/logger';
import { ingestPayload, type IngestLimits } from '@city/core';
import type { DeadLetterEntry, Reading } from '@city/schema';
import { QUEUES, type DeadLetterStore } from '@city/queue';
import { createMicroBatcher } from './micro-batcher.ts';
import type { BrokerMetrics } from './broker-metrics.ts';

export interface BrokerDeps {
  logger: Logger;
  metrics: BrokerMetrics;
  /** The telemetry queue (`QUEUES.telemetry`), on a producer connection that fails fast. */
  telemetryQueue: Queue;
  deadLetters: DeadLetterStore;
  limits: IngestLimits;
  batch: { maxReadings: number; maxDelayMs: number };
  enqueueTimeoutMs: number;
  /** Injected clock: tests pin receive times. */
  now?: () => number;
}

export interface Broker {
  aedes: Aedes;
  /** Stop ingesting, persist what waits in memory, disconnect clients. */
  close(): Promise<void>;
}

class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The MQTT broker with the ingestion contract wired into Aedes' `authorizePublish` hook.
 *
 * Aedes writes a QoS 1 PUBACK only after `authorizePublish` calls back (lib/handlers/publish.js), so the hook
 * validates the payload, waits until the micro-batch holding its readings (and dead letters) is in Redis, and
 * only then calls back. If Redis fails, it calls back an error: Aedes closes the connection without a PUBACK,
 * and the device resends after reconnecting. Aedes reads a client's next socket chunk only once every packet
 * of the current one is handled, so this wait also paces each device to what Redis absorbs.
 */
export async function buildBroker(deps: BrokerDeps): Promise<Broker> {
  const { logger, metrics, telemetryQueue, deadLetters, limits } = deps;
  const now = deps.now ?? Date.now;
  let closing = false;

  const readingBatcher = createMicroBatcher<Reading>({
    maxItems: deps.batch.maxReadings,
    maxDelayMs: deps.batch.maxDelayMs,
    flush: async (readings) => {
      const end = metrics.enqueueSeconds.startTimer();
      try {
        await withTimeout(
          telemetryQueue.add(QUEUES.telemetry.jobName, { readings }, QUEUES.telemetry.jobOptions),
          deps.enqueueTimeoutMs,
          'enqueueing a telemetry batch',
        );
      } catch (err) {
        metrics.enqueueFailures.inc({ target: 'telemetry' });
        logger.error({ err, readings: readings.length }, 'telemetry batch not enqueued; its publishers get no PUBACK');
        throw err;
      } finally {
        end();
      }
      metrics.batchesEnqueued.inc();
      metrics.readingsEnqueued.inc(readings.length);
    },
  });

  const deadLetterBatcher = createMicroBatcher<DeadLetterEntry>({
    maxItems: deps.batch.maxReadings,
    maxDelayMs: deps.batch.maxDelayMs,
    flush: async (entries) => {
      try {
        await withTimeout(deadLetters.add(entries), deps.enqueueTimeoutMs, 'writing dead letters');
      } catch (err) {
        metrics.enqueueFailures.inc({ target: 'dead-letter' });
        logger.error({ err, entries: entries.length }, 'dead letters not written; their publishers get no PUBACK');
        throw err;
      }
    },
  });

  const aedes = await Aedes.createBroker({
    authorizePublish(client, packet, callback) {
      const outcome = ingestPayload(
        { topic: packet.topic, payload: packet.payload as Buffer, clientId: client?.id ?? '', receivedAt: now() },
        limits,
      );
      if (outcome.kind === 'passthrough') return callback(null);
      if (closing) return callback(new ShuttingDownError('broker is shutting down'));

      metrics.messagesReceived.inc();
      const persisted: Promise<void>[] = [];
      if (outcome.readings.length > 0) {
        metrics.readingsAccepted.inc({ family: outcome.readings[0]!.family }, outcome.readings.length);
        persisted.push(readingBatcher.add(outcome.readings));
      }
      if (outcome.rejects.length > 0) {
        for (const reject of outcome.rejects) metrics.readingsRejected.inc({ reason: reject.reason });
        persisted.push(deadLetterBatcher.add(outcome.rejects));
        // A bad payload is the device's problem, not an incident: debug, counted above, kept in the dead letters.
        logger.debug({ clientId: client?.id, topic: packet.topic, reason: outcome.rejects[0]!.reason }, 'payload rejected');
      }
      Promise.all(persisted).then(
        () => callback(null),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });

  aedes.on('client', () => metrics.connectedClients.inc());
  aedes.on('clientDisconnect', () => metrics.connectedClients.dec());
  aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'client error'));

  return {
    aedes,
    async close() {
      closing = true;
      await Promise.all([readingBatcher.drain(), deadLetterBatcher.drain()]);
      // The drained publishers' PUBACKs are written through a corked socket that mqtt-packet uncorks on
      // process.nextTick; closing the clients within this microtask chain would destroy the sockets first.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
