import net from 'node:net';
import { Queue } from 'bullmq';
import { ConfigError } from '@city/config';
import { createLogger } from '@city/logger';
import { buildOpsServer } from '@city/ops';
import { QUEUES, createDeadLetterStore, createRedis } from '@city/queue';
import { loadBrokerConfig, type BrokerConfig } from './config.ts';
import { buildBroker } from './build-broker.ts';
import { createBrokerMetrics } from './broker-metrics.ts';

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
    limits: { maxPayloadBytes: config.MAX_PAYLOAD_BYTES, maxReadingsPerMessage: config.MAX_READINGS_PER_MESSAGE },
    batch: { maxReadings: config.BATCH_MAX_READINGS, maxDelayMs: config.BATCH_MAX_DELAY_MS },
    enqueueTimeoutMs: config.ENQUEUE_TIMEOUT_MS,
  });

  const server = net.createServer(broker.aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.MQTT_PORT, config.MQTT_HOST, resolve);
  });
  const ops = buildOpsServer({
    registry: metrics.registry,
    checks: { mqtt: () => Promise.resolve(server.listening), redis: async () => (await redis.ping()) === 'PONG' },
  });
  await ops.listen({ host: config.OPS_HOST, port: config.OPS_PORT });
  logger.info({ mqtt: `mqtt://${config.MQTT_HOST}:${config.MQTT_PORT}`, ops: `http://${config.OPS_HOST}:${config.OPS_PORT}` }, 'broker listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections, flushing readings held in memory to Redis');
    server.close();
    await broker.close();
    await Promise.all([telemetryQueue.close(), ops.close()]);
    await redis.quit().catch(() => redis.disconnect());
    logger.info('stopped');
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void stop(signal).then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, 'unclean stop');
      process.exit(1);
    }));
  }
}

try {
  await main(loadBrokerConfig(process.env));
} catch (err) {
  process.stderr.write(`broker: ${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
}
