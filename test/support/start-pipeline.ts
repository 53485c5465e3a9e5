import net from 'node:net';
import { Queue } from 'bullmq';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Redis } from 'ioredis';
import { buildBroker, createBrokerMetrics, type Broker } from '@city/broker';
import { createSink, type SinkConfig } from '@city/influx';
import { createLogger } from '@city/logger';
import { QUEUES, createDeadLetterStore, createRedis, type DeadLetterStore } from '@city/queue';
import type { AlertRule, Family } from '@city/schema';
import { buildWorker, createWorkerMetrics, type TelemetryWorker } from '@city/worker';
import { uniqueName } from './env.ts';

export interface PipelineOptions {
  redisUrl: string;
  sink: SinkConfig;
  rules?: AlertRule[];
  batch?: { maxReadings: number; maxDelayMs: number };
  enqueueTimeoutMs?: number;
}

export interface Pipeline {
  mqttUrl: string;
  prefix: string;
  broker: Broker;
  worker: TelemetryWorker;
  deadLetters: DeadLetterStore;
  telemetryQueue: Queue;
  /**
   * An MQTT client connected as that device, with whatever credentials the broker requires of a device.
   * Every test connects devices through this, never with `mqtt.connect` directly.
   */
  connectDevice(family: Family, deviceId: string, options?: IClientOptions): Promise<MqttClient>;
  /** An MQTT client connected as an operator (may subscribe to alerts). */
  connectOperator(options?: IClientOptions): Promise<MqttClient>;
  /** Stops everything this pipeline started; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The real broker and worker, wired as `main.ts` wires them, on a free loopback port and a queue prefix of
 * their own: several test files can run their pipelines against one Redis at once.
 */
export async function startPipeline(options: PipelineOptions): Promise<Pipeline> {
  const prefix = uniqueName('t');
  const logger = createLogger({ name: 'test', level: 'silent' });
  const producer: Redis = createRedis(options.redisUrl, 'producer');
  producer.on('error', () => {});
  const workerRedis: Redis = createRedis(options.redisUrl, 'worker');
  workerRedis.on('error', () => {});
  const telemetryQueue = new Queue(QUEUES.telemetry.name, { connection: producer, prefix });
  telemetryQueue.on('error', () => {});
  const deadLetters = createDeadLetterStore({ redis: producer, prefix });

  const broker = await buildBroker({
    logger,
    metrics: createBrokerMetrics(),
    telemetryQueue,
    deadLetters,
    limits: { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000 },
    batch: options.batch ?? { maxReadings: 500, maxDelayMs: 10 },
    enqueueTimeoutMs: options.enqueueTimeoutMs ?? 2000,
  });
  const server = net.createServer(broker.aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const mqttUrl = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  const alertClient = await mqtt.connectAsync(mqttUrl, { clientId: `${prefix}-alerts`, reconnectPeriod: 200 });
  const sink = createSink(options.sink);
  const worker = buildWorker({
    connection: workerRedis,
    prefix,
    logger,
    metrics: createWorkerMetrics(),
    roles: ['storage', 'alerts'],
    sink,
    rules: () => options.rules ?? [],
    mqtt: alertClient,
    storageConcurrency: 2,
  });

  const clients = new Set<MqttClient>();
  const track = (client: MqttClient) => {
    clients.add(client);
    return client;
  };
  let stopped = false;
  return {
    mqttUrl,
    prefix,
    broker,
    worker,
    deadLetters,
    telemetryQueue,
    async connectDevice(_family, deviceId, options = {}) {
      return track(await mqtt.connectAsync(mqttUrl, { clientId: deviceId, reconnectPeriod: 250, ...options }));
    },
    async connectOperator(options = {}) {
      return track(await mqtt.connectAsync(mqttUrl, { clientId: uniqueName('operator'), reconnectPeriod: 250, ...options }));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...clients].map((c) => c.endAsync(true)));
      await worker.close();
      await alertClient.endAsync(true);
      await broker.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await telemetryQueue.close();
      await sink.close();
      producer.disconnect();
      workerRedis.disconnect();
    },
  };
}

/** Polls until `probe` returns a value that passes `done`, or fails with the last value seen. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}
