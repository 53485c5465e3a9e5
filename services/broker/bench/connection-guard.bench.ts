/**
 * What the connection guard (limits/guard-connection.ts) costs on the path of every byte:
 * `npx tsx services/broker/bench/connection-guard.bench.ts`.
 *   1. PacketScanner alone over 64 KiB chunks of small PUBLISH packets: packets/s and GB/s on one core.
 *   2. The real broker on loopback, the same clients with and without the guard, alternating runs:
 *      a. QoS 0 PUBLISH of 1 KiB from a service account to an alert topic: parsing and routing only, no Redis;
 *      b. QoS 1 telemetry from devices into real Redis (TEST_REDIS_URL): PUBACK/s, as in ingest.bench.ts.
 * Prints figures; asserts nothing. Env: BENCH_CLIENTS (20), BENCH_MESSAGES (2000 per client), BENCH_ROUNDS (3).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import mqtt, { type MqttClient } from 'mqtt';
import { createLogger } from '@city/logger';
import { QUEUES, createDeadLetterStore, createRedis } from '@city/queue';
import { createDeviceRegistry, operatorUsername } from '@city/registry';
import { alertTopic, telemetryTopic } from '@city/schema';
import { buildBroker, createBrokerMetrics } from '../src/index.ts';
import { PacketScanner } from '../src/limits/packet-scanner.ts';

const clients = Number(process.env.BENCH_CLIENTS ?? 20);
const perClient = Number(process.env.BENCH_MESSAGES ?? 2000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379';
const fmt = (n: number) => Math.round(n).toLocaleString('en');

function scannerAlone(): void {
  // PUBLISH QoS 1, topic of 38 bytes, 5-metric JSON payload: ~140 bytes a packet, as devices send them.
  const topic = Buffer.from(telemetryTopic('airquality', 'aq-almaly-0001'));
  const payload = Buffer.from(JSON.stringify({ ts: 1768464000000, pm25: 41.5, pm10: 60, temperature: -18.5, relativeHumidity: 0.71 }));
  const body = 2 + topic.length + 2 + payload.length;
  const packet = Buffer.concat([Buffer.from([0x32, body & 0x7f | 0x80, body >> 7, 0, topic.length]), topic, Buffer.from([0, 1]), payload]);
  const perChunk = Math.floor(65_536 / packet.length);
  const chunk = Buffer.concat(Array.from({ length: perChunk }, () => packet));
  const scanner = new PacketScanner(524_288, 8192);
  scanner.connected = true;
  for (let i = 0; i < 20_000; i++) scanner.scan(chunk); // warm-up
  const n = 200_000;
  const start = performance.now();
  for (let i = 0; i < n; i++) scanner.scan(chunk);
  const s = (performance.now() - start) / 1000;
  console.log(
    `PacketScanner: ${fmt((n * perChunk) / s)} packets/s, ${((n * chunk.length) / s / 1e9).toFixed(2)} GB/s on one core ` +
      `(${((s / n) * 1e6).toFixed(2)} µs per 64 KiB chunk of ${perChunk} packets of ${packet.length} bytes)`,
  );
}

interface Setup {
  url: string;
  close(): Promise<void>;
}

/** The broker as main.ts builds it; `guarded` false hands sockets to Aedes directly, as before the guard. */
async function startBroker(prefix: string, guarded: boolean): Promise<Setup & { registryRedis: ReturnType<typeof createRedis> }> {
  const redis = createRedis(redisUrl, 'producer');
  const registryRedis = createRedis(redisUrl, 'worker');
  const queue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
  const broker = await buildBroker({
    logger: createLogger({ name: 'bench', level: 'silent' }),
    metrics: createBrokerMetrics(),
    telemetryQueue: queue,
    deadLetters: createDeadLetterStore({ redis, prefix }),
    registry: createDeviceRegistry({ redis, prefix }),
    limits: { maxPayloadBytes: 262_144, maxReadingsPerMessage: 1000 },
    batch: { maxReadings: 500, maxDelayMs: 20 },
    enqueueTimeoutMs: 5000,
    // Rates out of the way: this measures the guard, not the throttle.
    clientLimits: { publishesPerSecondPerClient: 1e9, publishBurstPerClient: 1e9, connectsPerSecondPerAddress: 1e9, connectBurstPerAddress: 1e9 },
  });
  const server = net.createServer((socket) => (guarded ? broker.handle(socket) : broker.aedes.handle(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    registryRedis,
    async close() {
      await broker.close();
      server.close();
      await queue.obliterate({ force: true });
      await queue.close();
      const keys = await registryRedis.keys(`${prefix}:*`);
      if (keys.length > 0) await registryRedis.del(...keys);
      redis.disconnect();
      registryRedis.disconnect();
    },
  };
}

/** QoS 0, 1 KiB, from service accounts to an alert topic: no ingestion, so the broker's byte path dominates. */
async function qos0Round(guarded: boolean): Promise<number> {
  const prefix = `bench-guard-${process.pid}-${guarded ? 'on' : 'off'}`;
  const setup = await startBroker(prefix, guarded);
  const registry = createDeviceRegistry({ redis: setup.registryRedis, prefix });
  const service = await registry.addOperator('bench', 'service');
  if (!service.ok) throw new Error('service account exists');
  const username = operatorUsername('bench');
  const publishers = await Promise.all(
    Array.from({ length: clients }, (_, i) => mqtt.connectAsync(setup.url, { clientId: `${username}:${i}`, username, password: service.token })),
  );
  // A subscriber that counts: the run ends when every message went through the broker.
  const ops = await registry.addOperator('watch', 'operator');
  if (!ops.ok) throw new Error('operator exists');
  const watcher = await mqtt.connectAsync(setup.url, { clientId: `${operatorUsername('watch')}:w`, username: operatorUsername('watch'), password: ops.token });
  await watcher.subscribeAsync('city/v1/alerts/#', { qos: 0 });
  const total = clients * perClient;
  let received = 0;
  const done = new Promise<void>((resolve) => watcher.on('message', () => ++received === total && resolve()));
  const payload = Buffer.alloc(1024, 0x41);
  const start = performance.now();
  for (let m = 0; m < perClient; m++) {
    for (let c = 0; c < clients; c++) publishers[c]!.publish(alertTopic('high', 'airquality', `aq-${c}`), payload, { qos: 0 });
    if (m % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await done;
  const rate = total / ((performance.now() - start) / 1000);
  await Promise.all([...publishers, watcher].map((client: MqttClient) => client.endAsync()));
  await setup.close();
  return rate;
}

/** QoS 1 telemetry into Redis with a window of 64 per device: PUBACKs per second. */
async function qos1Round(guarded: boolean): Promise<number> {
  const prefix = `bench-guard-${process.pid}-${guarded ? 'on' : 'off'}`;
  const setup = await startBroker(prefix, guarded);
  const registry = createDeviceRegistry({ redis: setup.registryRedis, prefix });
  const devices = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const id = `aq-bench-${i}`;
      const added = await registry.addDevice({ id, family: 'airquality', enabled: true });
      if (!added.ok) throw new Error(`${id} exists`);
      return mqtt.connectAsync(setup.url, { clientId: id, username: id, password: added.token });
    }),
  );
  const payload = (i: number) => JSON.stringify({ ts: Date.UTC(2026, 0, 15) + i, pm25: 20 + (i % 50), pm10: 80, temperature: -12.5, relativeHumidity: 0.8 });
  const start = performance.now();
  await Promise.all(
    devices.map(async (device, d) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < perClient) await device.publishAsync(telemetryTopic('airquality', `aq-bench-${d}`), payload(next++), { qos: 1 });
        }),
      );
    }),
  );
  const rate = (clients * perClient) / ((performance.now() - start) / 1000);
  await Promise.all(devices.map((d) => d.endAsync()));
  await setup.close();
  return rate;
}

async function compare(name: string, round: (guarded: boolean) => Promise<number>): Promise<void> {
  const runs: Record<'off' | 'on', number[]> = { off: [], on: [] };
  for (let i = 0; i < rounds; i++) {
    // Alternate, so drift of the machine (others' tests, GC, Redis) falls on both sides.
    runs.off.push(await round(false));
    runs.on.push(await round(true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [off, on] = [median(runs.off), median(runs.on)];
  console.log(
    `${name}: without guard ${fmt(off)} msg/s, with guard ${fmt(on)} msg/s (${(((on - off) / off) * 100).toFixed(1)}%); ` +
      `runs without [${runs.off.map(fmt).join(', ')}], with [${runs.on.map(fmt).join(', ')}]`,
  );
}

scannerAlone();
await compare(`broker, QoS 0, 1 KiB, ${clients} publishers × ${perClient}, no Redis`, qos0Round);
await compare(`broker → Redis, QoS 1 telemetry, ${clients} devices × ${perClient}, window 64`, qos1Round);
