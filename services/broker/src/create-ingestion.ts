import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from '@city/logger';
import { ingestPayload, type IngestLimits } from '@city/core';
import type { DeadLetterEntry, Reading } from '@city/schema';
import { QUEUES, type DeadLetterStore } from '@city/queue';
import { createMicroBatcher } from '@city/batching';
import { createResendGuard, type ResendGuard } from './create-resend-guard.ts';
import type { BrokerMetrics } from './broker-metrics.ts';

export interface IngestionDeps {
  logger: Logger;
  metrics: BrokerMetrics;
  /** The telemetry queue (`QUEUES.telemetry`), on a producer connection that fails fast. */
  telemetryQueue: Queue;
  deadLetters: DeadLetterStore;
  limits: IngestLimits;
  batch: { maxReadings: number; maxDelayMs: number };
  enqueueTimeoutMs: number;
  now: () => number;
  /** Recognises resent messages (create-resend-guard.ts); by default on the telemetry queue's Redis. */
  resends?: ResendGuard;
  /** How long a resend is recognised, ms (`RESEND_WINDOW_MS`). @defaultValue 120000 */
  resendWindowMs?: number;
}

export interface PublishInput {
  topic: string;
  payload: Buffer;
  clientId: string;
  /** QoS>0 packet id, and the connection it came on: together they recognise a resend. */
  messageId?: number | undefined;
  connection?: object | undefined;
}

export type IngestResult =
  /** Not a telemetry topic: MQTT routes it as it is. */
  | { kind: 'passthrough' }
  /** Every valid reading and every dead letter of the message is in Redis. */
  | { kind: 'persisted'; accepted: number; rejects: DeadLetterEntry[] };

export interface Ingestion {
  /** Resolves once the message's readings and dead letters are in Redis; rejects when they could not be put there. */
  ingest(input: PublishInput): Promise<IngestResult>;
  /** Flush the micro-batches and wait for every flush in flight. */
  drain(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Validation (pure, in @city/core) plus the micro-batches that carry readings and dead letters into Redis. */
export function createIngestion(deps: IngestionDeps): Ingestion {
  const { logger, metrics, telemetryQueue, deadLetters } = deps;
  // The guard shares the producer connection the telemetry queue was given (an ioredis instance in main.ts).
  const queueRedis = telemetryQueue.opts.connection instanceof Redis ? telemetryQueue.opts.connection : undefined;
  const resends =
    deps.resends ??
    (queueRedis && createResendGuard({ redis: () => queueRedis, prefix: telemetryQueue.opts.prefix ?? 'bull', windowMs: deps.resendWindowMs }));

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

  return {
    async ingest({ topic, payload, clientId, messageId, connection }) {
      const judged = ingestPayload({ topic, payload, clientId, receivedAt: deps.now() }, deps.limits);
      if (judged.kind === 'passthrough') return judged;
      let outcome = judged;
      // A resend of a reading timed by its receive time gets the first delivery's time: one point, not two.
      if (outcome.usesReceiveTime && messageId && connection && resends) {
        const receivedAt = outcome.readings[0]!.receivedAt;
        const first = await resends.firstReceivedAt({ clientId, connection, messageId, payload, receivedAt });
        const again = first === receivedAt ? outcome : ingestPayload({ topic, payload, clientId, receivedAt: first }, deps.limits);
        if (again.kind === 'ingest') outcome = again;
      }
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
        logger.debug({ clientId, topic, reason: outcome.rejects[0]!.reason }, 'payload rejected');
      }
      await Promise.all(persisted);
      return { kind: 'persisted', accepted: outcome.readings.length, rejects: outcome.rejects };
    },
    async drain() {
      await Promise.all([readingBatcher.drain(), deadLetterBatcher.drain()]);
    },
  };
}
