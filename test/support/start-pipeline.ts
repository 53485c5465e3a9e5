import net from 'node:net';
import { Queue } from 'bullmq';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Redis } from 'ioredis';
import { buildBroker, createBrokerMetrics, type Broker, type BrokerAccessOptions, type BrokerMetrics, type ClientLimits } from '@city/broker';
import { createSink, type SinkConfig } from '@city/influx';
import { createLogger } from '@city/logger';
import { QUEUES, createDeadLetterStore, createRedis, type DeadLetterStore } from '@city/queue';
import { createDeviceRegistry, operatorUsername, type DeviceRegistry } from '@city/registry';
import type { AlertRule, Family } from '@city/schema';
import { buildWorker, createRegistryDirectory, createWorkerMetrics, type AlertEngineOptions, type TelemetryWorker } from '@city/worker';
import { uniqueName } from './env.ts';

export interface PipelineOptions {
  redisUrl: string;
  sink: SinkConfig;
  rules?: AlertRule[];
  /** Alert engine settings (webhooks, deadman sweep interval, lateness); the registry is its device directory. */
  alerts?: AlertEngineOptions;
  batch?: { maxReadings: number; maxDelayMs: number };
  enqueueTimeoutMs?: number;
  /** The broker's connection, packet, rate and session limits (defaults: DEFAULT_CLIENT_LIMITS). */
  clientLimits?: Partial<ClientLimits>;
  /** Credential cache and last-seen settings of the broker. */
  access?: BrokerAccessOptions;
}

export interface DeviceConnectOptions extends IClientOptions {
  /** Another listener of this broker (TLS, WebSocket); the TCP listener by default. */
  brokerUrl?: string;
  /**
   * Register the device (family as given) if it is not, and log in with its token. Off when `options` carry a
   * `username` or `password` (call `provisionDevice` first if the device must exist), or when set to `false`.
   * @defaultValue true
   */
  provision?: boolean;
}

export interface Pipeline {
  mqttUrl: string;
  prefix: string;
  broker: Broker;
  /** The broker's metrics (what `/metrics` serves). */
  brokerMetrics: BrokerMetrics;
  worker: TelemetryWorker;
  deadLetters: DeadLetterStore;
  telemetryQueue: Queue;
  /** The device registry under this pipeline's prefix, on a connection of its own (as the CLI has). */
  registry: DeviceRegistry;
  /** Registers the device if needed and returns a token that logs it in. */
  provisionDevice(family: Family, deviceId: string): Promise<string>;
  /**
   * An MQTT client connected as that device: registered in the registry with that family if it is not, logged in
   * with username = client id = device id and its token. A `username` or `password` in `options` replaces those
   * credentials and skips registering (to test wrong ones, or a client certificate with none).
   * Every test connects devices through this, never with `mqtt.connect` directly.
   */
  connectDevice(family: Family, deviceId: string, options?: DeviceConnectOptions): Promise<MqttClient>;
  /** An MQTT client connected as an operator account (`operator:ops`, role operator: may subscribe to alerts). */
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
  const adminRedis: Redis = createRedis(options.redisUrl, 'worker');
  adminRedis.on('error', () => {});
  const registry = createDeviceRegistry({ redis: adminRedis, prefix });

  const brokerMetrics = createBrokerMetrics();
  const broker = await buildBroker({
    logger,
    metrics: brokerMetrics,
    registry: createDeviceRegistry({ redis: producer, prefix }),
    ...(options.access ? { access: options.access } : {}),
    telemetryQueue,
    deadLetters,
    limits: { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000 },
    batch: options.batch ?? { maxReadings: 500, maxDelayMs: 10 },
    enqueueTimeoutMs: options.enqueueTimeoutMs ?? 2000,
    ...(options.clientLimits ? { clientLimits: options.clientLimits } : {}),
  });
  const server = net.createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const mqttUrl = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  // The worker's alert role logs in with a service account, as infra/start.sh sets it up.
  const service = await registry.addOperator('alerts', 'service');
  if (!service.ok) throw new Error('service account exists under a fresh prefix');
  const alertClient = await mqtt.connectAsync(mqttUrl, {
    clientId: `${operatorUsername('alerts')}:${prefix}`,
    username: operatorUsername('alerts'),
    password: service.token,
    reconnectPeriod: 200,
  });
  const sink = createSink(options.sink);
  const worker = buildWorker({
    connection: workerRedis,
    prefix,
    logger,
    metrics: createWorkerMetrics(),
    roles: ['storage', 'alerts'],
    sink,
    rules: () => options.rules ?? [],
    alerts: { devices: createRegistryDirectory({ registry }), ...options.alerts },
    mqtt: alertClient,
    storageConcurrency: 2,
  });

  const clients = new Set<MqttClient>();
  const track = (client: MqttClient) => {
    clients.add(client);
    return client;
  };
  const tokens = new Map<string, string>();
  async function provisionDevice(family: Family, deviceId: string): Promise<string> {
    const known = tokens.get(deviceId);
    if (known !== undefined) {
      const verified = await registry.verifyDevice(deviceId, known);
      if (verified.ok || verified.reason === 'disabled') return known;
    }
    const added = await registry.addDevice({ id: deviceId, family, enabled: true });
    const token = added.ok ? added.token : await registry.rotateDeviceToken(deviceId);
    if (token === undefined) throw new Error(`could not provision ${deviceId}`);
    tokens.set(deviceId, token);
    return token;
  }
  let operatorToken: string | undefined;

  let stopped = false;
  return {
    mqttUrl,
    prefix,
    broker,
    brokerMetrics,
    worker,
    deadLetters,
    telemetryQueue,
    registry,
    provisionDevice,
    async connectDevice(family, deviceId, options = {}) {
      const { brokerUrl = mqttUrl, provision = true, ...clientOptions } = options;
      const own = 'username' in clientOptions || 'password' in clientOptions;
      const credentials = provision && !own ? { username: deviceId, password: await provisionDevice(family, deviceId) } : {};
      const connectOptions = { clientId: deviceId, reconnectPeriod: 250, ...credentials, ...clientOptions };
      // Without reconnects, a connection closed before its CONNACK (a failed TLS handshake) rejects instead of hanging.
      return track(await mqtt.connectAsync(brokerUrl, connectOptions, connectOptions.reconnectPeriod !== 0));
    },
    async connectOperator(options = {}) {
      if (operatorToken === undefined) {
        const added = await registry.addOperator('ops', 'operator');
        operatorToken = added.ok ? added.token : await registry.rotateOperatorToken('ops');
      }
      const username = operatorUsername('ops');
      return track(await mqtt.connectAsync(mqttUrl, { clientId: `${username}:${uniqueName('c')}`, username, password: operatorToken, reconnectPeriod: 250, ...options }));
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
      const registryKeys = await adminRedis.keys(`${prefix}:registry:*`);
      if (registryKeys.length > 0) await adminRedis.del(...registryKeys);
      producer.disconnect();
      workerRedis.disconnect();
      adminRedis.disconnect();
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
