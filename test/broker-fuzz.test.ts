import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { generate, type Packet } from 'mqtt-packet';
import { telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

/**
 * Thousands of random and mutated MQTT packets, from anonymous sockets and from authenticated devices, while a
 * well-behaved device publishes readings at QoS 1. The broker must stay up, its memory bounded, and every reading
 * it acknowledged must be in InfluxDB. The seed is printed on failure; FUZZ_SEED replays a run.
 */

const FUZZ_MS = 9000;
const LANES = 16;
const MiB = 1024 * 1024;

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}
type Random = ReturnType<typeof seeded>;

const UNICODE = ['é', 'Ω', '😀', '\u0000', '\uFFFD', '/', '+', '#', '$', ' ', 'a', '9', '-'];

function randomString(r: Random, max: number): string {
  let s = '';
  const n = r.int(max + 1);
  for (let i = 0; i < n; i++) s += r.next() < 0.7 ? String.fromCharCode(97 + r.int(26)) : r.pick(UNICODE);
  return s;
}

function randomTopic(r: Random, deviceId: string): string {
  return r.pick([
    () => telemetryTopic('airquality', deviceId),
    () => telemetryTopic(r.pick(['traffic', 'water', 'noise', 'parking'] as const), deviceId),
    () => `city/v1/airquality/${deviceId}/${r.pick(['status', 'command', 'errors', 'x'])}`,
    () => `city/v1/alerts/high/airquality/${deviceId}`,
    () => `$SYS/${randomString(r, 8)}`,
    () => Array.from({ length: 1 + r.int(6) }, () => randomString(r, 6)).join('/'),
    () => '/'.repeat(1 + r.int(120)),
  ])();
}

function randomPayload(r: Random): Buffer {
  return r.pick([
    () => r.bytes(r.int(200)),
    () => Buffer.from(JSON.stringify({ ts: Date.now() - r.int(1e9), pm25: r.next() * 300, pm10: r.next() * 600 })),
    () => Buffer.from(JSON.stringify([{ pm25: -1 }, { ts: 'x' }, null, r.next()])),
    () => Buffer.from(`{"pm25": ${'['.repeat(r.int(2000))}`),
    () => Buffer.alloc(0),
  ])();
}

/** One well-formed packet of a random type with random fields (some of them against the rules). */
function randomPacket(r: Random, deviceId: string): Packet {
  const messageId = r.next() < 0.1 ? 0 : 1 + r.int(65535);
  const qos = r.int(3) as 0 | 1 | 2;
  return r.pick<() => Packet>([
    () => ({
      cmd: 'connect',
      protocolId: r.next() < 0.9 ? 'MQTT' : 'MQIsdp',
      protocolVersion: r.pick([3, 4, 4, 4, 5] as const),
      clean: r.next() < 0.7,
      keepalive: r.int(65536),
      clientId: r.next() < 0.5 ? deviceId : randomString(r, 30),
      ...(r.next() < 0.5 ? { username: r.next() < 0.5 ? deviceId : randomString(r, 20) } : {}),
      ...(r.next() < 0.5 ? { password: r.bytes(r.int(64)) } : {}),
      ...(r.next() < 0.3 ? { will: { topic: randomTopic(r, deviceId), payload: r.bytes(r.int(32)), qos, retain: r.next() < 0.5 } } : {}),
    }),
    () => ({ cmd: 'publish', topic: randomTopic(r, deviceId), payload: randomPayload(r), qos, messageId, retain: r.next() < 0.2, dup: r.next() < 0.1 }),
    () => ({ cmd: 'publish', topic: randomTopic(r, deviceId), payload: randomPayload(r), qos, messageId, retain: false, dup: false }),
    () => ({ cmd: 'subscribe', messageId, subscriptions: Array.from({ length: 1 + r.int(3) }, () => ({ topic: r.pick(['#', '+/+', '$SYS/#', randomTopic(r, deviceId)]), qos })) }),
    () => ({ cmd: 'unsubscribe', messageId, unsubscriptions: Array.from({ length: 1 + r.int(3) }, () => randomTopic(r, deviceId)) }),
    () => ({ cmd: r.pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const), messageId }),
    () => ({ cmd: 'pingreq' }),
  ])();
}

/** A packet, then maybe a mutation: bit flips, truncation, extension, a forged Remaining Length, or plain noise. */
function fuzzBytes(r: Random, deviceId: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = generate(randomPacket(r, deviceId));
  } catch {
    bytes = r.bytes(1 + r.int(64)); // mqtt-packet refused the combination: send noise instead
  }
  const mutation = r.int(8);
  if (mutation === 0) {
    bytes = Buffer.from(bytes);
    for (let i = 0, n = 1 + r.int(4); i < n; i++) bytes[r.int(bytes.length)]! ^= 1 << r.int(8);
  } else if (mutation === 1) bytes = bytes.subarray(0, r.int(bytes.length));
  else if (mutation === 2) bytes = Buffer.concat([bytes, r.bytes(1 + r.int(64))]);
  else if (mutation === 3) bytes = Buffer.concat([bytes.subarray(0, 1), Buffer.from([0x80 | r.int(128), 0x80 | r.int(128), 0x80 | r.int(128), r.int(256)]), bytes.subarray(2)]);
  else if (mutation === 4) bytes = r.bytes(1 + r.int(128));
  return bytes;
}

interface Counts {
  packets: number;
  connections: number;
}

/** Connects anonymously and sends a mutated CONNECT and whatever follows; gives up after `lingerMs`. */
async function anonymousRound(url: string, r: Random, counts: Counts, lingerMs: number): Promise<void> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => {});
  socket.on('data', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  counts.connections++;
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closed]);
  const deviceId = `fz-${r.int(1e6)}`;
  for (let i = 0, n = 1 + r.int(12); i < n && !socket.destroyed; i++) {
    socket.write(fuzzBytes(r, deviceId));
    counts.packets++;
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, lingerMs))]);
  socket.destroy();
}

/** Logs in as a device of its own, then sends mutated packets on the authenticated connection. */
async function authenticatedRound(pipeline: Pipeline, deviceId: string, r: Random, counts: Counts, lingerMs: number): Promise<void> {
  let client: MqttClient;
  try {
    client = await pipeline.connectDevice('airquality', deviceId, { reconnectPeriod: 0, connectTimeout: 5000 });
  } catch {
    return; // refused (a limit): that is the broker's right
  }
  counts.connections++;
  client.on('error', () => {});
  const stream = (client as unknown as { stream: net.Socket }).stream;
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  for (let i = 0, n = 1 + r.int(12); i < n && client.connected; i++) {
    stream.write(fuzzBytes(r, deviceId));
    counts.packets++;
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, lingerMs))]);
  await client.endAsync(true);
}

describe('fuzz: random and mutated MQTT packets beside a well-behaved device', () => {
  const db = uniqueName('fuzz').replaceAll('-', '_');
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  let pipeline: Pipeline;

  beforeAll(async () => {
    await createInfluxV1Database(testEnv.influxV1Url, db);
    pipeline = await startPipeline({
      redisUrl: testEnv.redisUrl,
      sink: { api: 'v1', url: testEnv.influxV1Url, database: db },
      // Small packets, so forged lengths are cut; rates out of the way: the fuzzers all come from 127.0.0.1.
      clientLimits: {
        maxPacketBytes: 32 * 1024,
        maxBytesBeforeConnack: 4096,
        connectTimeoutMs: 2000,
        connectBurstPerAddress: 1e6,
        connectsPerSecondPerAddress: 1e6,
        publishBurstPerClient: 1e6,
        publishesPerSecondPerClient: 1e6,
      },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it(`stays up with bounded memory, and stores every reading it acknowledged (seed ${seed})`, { timeout: 60_000 }, async () => {
    const goodId = uniqueName('aq-good');
    const good = await pipeline.connectDevice('airquality', goodId, { reconnectPeriod: 250 });
    const t0 = Date.now() - 3_600_000;
    const acked: number[] = [];
    const sent: number[] = [];
    const rssBefore = process.memoryUsage().rss;
    const deadline = Date.now() + FUZZ_MS;

    const goodDevice = (async () => {
      for (let i = 0; Date.now() < deadline; i++) {
        const ts = t0 + i * 1000;
        sent.push(ts);
        await good.publishAsync(telemetryTopic('airquality', goodId), JSON.stringify({ ts, pm25: i % 500, pm10: 600 }), { qos: 1 });
        acked.push(ts);
      }
    })();

    const counts: Counts = { packets: 0, connections: 0 };
    const lanes = Array.from({ length: LANES }, async (_, lane) => {
      const laneRandom = seeded(seed + lane + 1);
      const deviceId = `fz-${lane}-${uniqueName('d')}`;
      while (Date.now() < deadline) {
        const lingerMs = 50 + laneRandom.int(250);
        if (laneRandom.next() < 0.5) await anonymousRound(pipeline.mqttUrl, laneRandom, counts, lingerMs);
        else await authenticatedRound(pipeline, deviceId, laneRandom, counts, lingerMs);
      }
    });
    await Promise.all(lanes);
    await goodDevice;
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    const context = `seed ${seed}: ${counts.packets} packets on ${counts.connections} connections, ${acked.length} readings acknowledged`;
    expect(counts.packets, context).toBeGreaterThan(2000);
    expect(acked.length, context).toBeGreaterThan(50);
    // The broker, the worker and the fuzzers share this process; a broker that buffered forged lengths would not fit.
    expect(rssGrowth, context).toBeLessThan(200 * MiB);
    expect((await pipeline.brokerMetrics.protocolViolations.get()).values.reduce((n, v) => n + v.value, 0), context).toBeGreaterThan(0);

    // Still up: a new device connects and is acknowledged.
    const after = await pipeline.connectDevice('airquality', uniqueName('aq-after'), { reconnectPeriod: 0 });
    await after.publishAsync(telemetryTopic('airquality', after.options.clientId!), JSON.stringify({ ts: t0, pm25: 1, pm10: 2 }), { qos: 1 });
    await after.endAsync();

    const stored = await eventually(
      () => queryInfluxV1(testEnv.influxV1Url, db, `SELECT pm25 FROM airquality WHERE device = '${goodId}'`),
      (rows) => acked.every((ts) => rows.some((row) => row.time === ts)),
      20_000,
    );
    const storedTimes = new Set(stored.map((row) => row.time as number));
    expect(acked.filter((ts) => !storedTimes.has(ts)), context).toEqual([]);
    // Nothing stored that the device did not send (a resend after a reconnect is the same point, not a new one).
    expect([...storedTimes].filter((ts) => !sent.includes(ts)), context).toEqual([]);
  });
});
