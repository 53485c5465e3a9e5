import { Queue } from 'bullmq';
import { ConfigError } from '@city/config';
import { createLogger } from '@city/logger';
import { buildOpsServer, stopOnSignals } from '@city/ops';
import { QUEUES, createDeadLetterStore, createRedis } from '@city/queue';
import { createDeviceRegistry } from '@city/registry';
import { loadBrokerConfig, type BrokerConfig } from './config.ts';
import { buildBroker } from './build-broker.ts';
import { createBrokerMetrics } from './broker-metrics.ts';
import { listenerOptionsFromConfig, startListeners } from './listeners.ts';

async function main(config: BrokerConfig): Promise<void> {
  const logger = createLogger({ name: 'broker', level: config.LOG_LEVEL });
  const redis = createRedis(config.REDIS_URL, 'producer');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const telemetryQueue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix: config.QUEUE_PREFIX });
  telemetryQueue.on('error', (err) => logger.warn({ err: err.message }, 'telemetry queue error'));
  const metrics = createBrokerMetrics();
  const broker = await buildBroker({
    logger,
    metrics,
    telemetryQueue,
    deadLetters: createDeadLetterStore({ redis, prefix: config.QUEUE_PREFIX, maxEntries: config.DEAD_LETTER_MAX_ENTRIES }),
    limits: {
      maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
      maxReadingsPerMessage: config.MAX_READINGS_PER_MESSAGE,
      maxFutureMs: config.EVENT_TIME_MAX_FUTURE_MS,
      maxAgeMs: config.EVENT_TIME_MAX_AGE_MS,
      lateAfterMs: config.EVENT_TIME_LATE_AFTER_MS,
    },
    resendWindowMs: config.RESEND_WINDOW_MS,
    batch: { maxReadings: config.BATCH_MAX_READINGS, maxDelayMs: config.BATCH_MAX_DELAY_MS },
    enqueueTimeoutMs: config.ENQUEUE_TIMEOUT_MS,
    registry: createDeviceRegistry({ redis, prefix: config.QUEUE_PREFIX }),
    backpressure: {
      backlogHighJobs: config.BACKPRESSURE_BACKLOG_HIGH_JOBS,
      backlogLowJobs: config.BACKPRESSURE_BACKLOG_LOW_JOBS,
      memoryHighRatio: config.BACKPRESSURE_MEMORY_HIGH_PERCENT / 100,
      memoryLowRatio: config.BACKPRESSURE_MEMORY_LOW_PERCENT / 100,
      sampleMs: config.BACKPRESSURE_SAMPLE_MS,
    },
    access: { credentialCacheTtlMs: config.AUTH_CACHE_TTL_MS, lastSeenFlushMs: config.LAST_SEEN_FLUSH_MS },
    clientLimits: {
      maxPacketBytes: config.MAX_PACKET_BYTES,
      maxBytesBeforeConnack: config.MAX_BYTES_BEFORE_CONNACK,
      maxClientIdLength: config.MAX_CLIENT_ID_LENGTH,
      connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
      maxConnections: config.MAX_CONNECTIONS,
      connectsPerSecondPerAddress: config.CONNECTS_PER_SECOND_PER_ADDRESS,
      connectBurstPerAddress: config.CONNECT_BURST_PER_ADDRESS,
      publishesPerSecondPerClient: config.PUBLISHES_PER_SECOND_PER_CLIENT,
      publishBurstPerClient: config.PUBLISH_BURST_PER_CLIENT,
      maxQueuedMessagesPerSession: config.MAX_QUEUED_MESSAGES_PER_SESSION,
    },
  });

  const listeners = await startListeners(broker.handle, {
    ...(await listenerOptionsFromConfig(config)),
    onTlsClientError: (err) => {
      metrics.authFailures.inc({ reason: 'tls_handshake_failed' });
      logger.debug({ err: err.message }, 'TLS handshake failed');
    },
  });
  const ops = buildOpsServer({
    registry: metrics.registry,
    checks: { mqtt: () => Promise.resolve(listeners.listening()), redis: async () => (await redis.ping()) === 'PONG' },
  });
  await ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT });
  logger.info({ mqtt: listeners.urls, ops: `http://${config.OPS_HOST}:${config.OPS_PORT}` }, 'broker listening');

  stopOnSignals(logger, async () => {
    listeners.stopAccepting();
    await broker.close();
    await Promise.all([telemetryQueue.close(), ops.close()]);
    await redis.quit().catch(() => redis.disconnect());
  }, 'no new connections, flushing readings held in memory to Redis');
}

try {
  await main(loadBrokerConfig(process.env));
} catch (err) {
  process.stderr.write(`broker: ${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
}
