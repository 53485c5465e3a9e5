/**
 * The broker's per-message path, measured: `npx tsx services/broker/bench/ingest.bench.ts`.
 *   1. ingestPayload alone (parse + validate + normalise), per message.
 *   2. The real broker on a loopback socket, QoS 1 devices, real Redis (TEST_REDIS_URL): PUBACKs per second and
 *      PUBACK latency, i.e. the time until the reading is in Redis.
 * Prints figures; asserts nothing. Env: BENCH_CLIENTS (50), BENCH_MESSAGES (2000 per client), BENCH_WINDOW (64).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import mqtt from 'mqtt';
import { ingestPayload } from '@city/core';
import { createLogger } from '@city/logger';
import { QUEUES, createDeadLetterStore, createRedis } from '@city/queue';
import { createDeviceRegistry } from '@city/registry';
import { telemetryTopic } from '@city/schema';
import { buildBroker, createBrokerMetrics } from '../src/index.ts';

const clients = Number(process.env.BENCH_CLIENTS ?? 50);
const perClient = Number(process.env.BENCH_MESSAGES ?? 2000);
const window = Number(process.env.BENCH_WINDOW ?? 64);
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379';
// Event times inside the accept window (EVENT_TIME_MAX_AGE_MS), so readings are accepted, not rejected as too old.
const benchStart = Date.now() - 60_000;
const payload = (i: number) => JSON.stringify({ ts: benchStart + i, pm25: 20 + (i % 50), pm10: 40 + (i % 60), temperature: -12.5, relativeHumidity: 0.8 });

function pureIngest(): void {
  const n = 200_000;
  const bytes = Array.from({ length: 1000 }, (_, i) => Buffer.from(payload(i)));
  const input = { topic: telemetryTopic('airquality', 'aq-1'), clientId: 'aq-1', receivedAt: Date.now(), payload: bytes[0]! };
  for (let i = 0; i < 20_000; i++) ingestPayload({ ...input, payload: bytes[i % 1000]! }); // warm-up
  const start = performance.now();
  for (let i = 0; i < n; i++) ingestPayload({ ...input, payload: bytes[i % 1000]! });
  const s = (performance.now() - start) / 1000;
  console.log(`ingestPayload: ${Math.round(n / s).toLocaleString('en')} messages/s on one core (${((s / n) * 1e6).toFixed(2)} µs each)`);
}

async function brokerThroughput(): Promise<void> {
  const prefix = `bench-${process.pid}`;
  const redis = createRedis(redisUrl, 'producer');
  const queue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
  // Devices log in as production devices do: registered, with a token each.
  const admin = createRedis(redisUrl, 'worker');
  const registry = createDeviceRegistry({ redis: admin, prefix });
  const { added } = await registry.importDevices(Array.from({ length: clients }, (_, i) => ({ id: `aq-bench-${i}`, family: 'airquality' as const, enabled: true })));
  const tokens = new Map(added.map(({ id, token }) => [id, token]));
  const broker = await buildBroker({
    registry: createDeviceRegistry({ redis, prefix }),
    logger: createLogger({ name: 'bench', level: 'silent' }),
    metrics: createBrokerMetrics(),
    telemetryQueue: queue,
    deadLetters: createDeadLetterStore({ redis, prefix }),
    limits: { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000 },
    batch: { maxReadings: 500, maxDelayMs: 20 },
    enqueueTimeoutMs: 5000,
    // This measures the ingest path, not the per-device publish throttle (20/s by default: a real sensor's pace).
    clientLimits: { publishesPerSecondPerClient: 1_000_000, publishBurstPerClient: 1_000_000 },
  });
  // Through the connection guard, as every listener does.
  const server = net.createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const devices = await Promise.all(
    Array.from({ length: clients }, (_, i) => mqtt.connectAsync(url, { clientId: `aq-bench-${i}`, username: `aq-bench-${i}`, password: tokens.get(`aq-bench-${i}`)! })),
  );

  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    devices.map(async (device, d) => {
      const topic = telemetryTopic('airquality', `aq-bench-${d}`);
      let next = 0;
      // A bounded in-flight window per device, as a real device's MQTT stack has.
      await Promise.all(
        Array.from({ length: window }, async () => {
          while (next < perClient) {
            const i = next++;
            const sent = performance.now();
            await device.publishAsync(topic, payload(i), { qos: 1 });
            latencies.push(performance.now() - sent);
          }
        }),
      );
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  const total = clients * perClient;
  const jobs = await queue.count();
  console.log(
    `broker → Redis, QoS 1: ${total.toLocaleString('en')} readings from ${clients} devices (window ${window}) in ${seconds.toFixed(2)} s = ` +
      `${Math.round(total / seconds).toLocaleString('en')} PUBACK/s; PUBACK latency p50 ${pct(50)} ms, p95 ${pct(95)} ms, p99 ${pct(99)} ms; ` +
      `${jobs} BullMQ jobs (${(total / jobs).toFixed(0)} readings per job)`,
  );

  await Promise.all(devices.map((d) => d.endAsync()));
  await broker.close();
  server.close();
  await queue.obliterate({ force: true });
  await queue.close();
  for (const { id } of added) await registry.deleteDevice(id);
  admin.disconnect();
  redis.disconnect();
}

pureIngest();
await brokerThroughput();
