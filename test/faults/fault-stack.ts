/**
 * The fault suite's harness: the real broker and worker processes (`main.ts`, as `npm start` runs them) on a
 * queue prefix and InfluxDB database of the test's own, a simulated fleet publishing at QoS 1 with its own
 * credentials, and the count at the end: readings acknowledged vs distinct points stored.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES, createRedis } from '@city/queue';
import { createDeviceRegistry, operatorUsername, type DeviceRegistry } from '@city/registry';
import { FAMILY_SPECS, type Family } from '@city/schema';
import { buildFleet, provisionFleet, runFleet, type FleetProgress, type SimDevice } from '@city/simulator';
import { uniqueName } from '../support/env.ts';
import { freePort, spawnService, type ServiceProcess } from '../support/processes.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1, quoteInfluxIdentifier } from '../support/read-points.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ports no other listener of this stack uses (freePort alone may hand the same one out twice in a row). */
const taken = new Set<number>();
async function ownPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

export interface FaultStackOptions {
  redisUrl: string;
  /** Where the worker writes (the real InfluxDB 1.x, or a proxy in front of it). */
  influxUrl: string;
  /** The real InfluxDB 1.x: where the database is created and points are counted. */
  influxQueryUrl: string;
  /** Extra broker environment. */
  brokerEnv?: Record<string, string>;
  /** Extra environment of every worker. */
  workerEnv?: Record<string, string>;
}

export interface WorkerProcess {
  process: ServiceProcess;
  metricsUrl: string;
}

export interface FaultStack {
  prefix: string;
  database: string;
  mqttUrl: string;
  brokerMetricsUrl: string;
  registry: DeviceRegistry;
  /** The telemetry queue, to watch the backlog. */
  queue: Queue;
  /** The service account the workers publish pipeline status with. */
  serviceAccount: { username: string; token: string };
  startBroker(): Promise<void>;
  /** Kills the broker process and waits for it to be gone. */
  stopBroker(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  startWorker(env?: Record<string, string>): Promise<WorkerProcess>;
  /** Every worker process started so far, oldest first. */
  workers(): WorkerProcess[];
  /** Kills everything, drops the database, removes the prefix's keys. */
  stop(): Promise<void>;
}

/** The families of the fault fleet: each has a metric every reading carries, so a COUNT counts points. */
export const FAULT_FLEET_FAMILIES: readonly Family[] = ['traffic', 'airquality', 'water'];

export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const prefix = uniqueName('fault');
  const database = prefix.replaceAll('-', '_');
  await createInfluxV1Database(options.influxQueryUrl, database);
  const [mqttPort, brokerOps] = [await ownPort(), await ownPort()];
  const admin: Redis = createRedis(options.redisUrl, 'worker');
  admin.on('error', () => {});
  const registry = createDeviceRegistry({ redis: admin, prefix });
  const queue = new Queue(QUEUES.telemetry.name, { connection: admin, prefix });
  queue.on('error', () => {});
  const service = await registry.addOperator('alerts', 'service');
  if (!service.ok) throw new Error('service account exists under a fresh prefix');
  // No alert rules: these tests are about storage, and evaluation would only add load.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'city-faults-'));
  const rulesFile = path.join(dir, 'rules.json');
  await writeFile(rulesFile, JSON.stringify({ version: 2, rules: [] }));

  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  let broker: ServiceProcess | undefined;
  const workers: WorkerProcess[] = [];
  const brokerEnv = {
    REDIS_URL: options.redisUrl, QUEUE_PREFIX: prefix, MQTT_PORT: String(mqttPort), OPS_PORT: String(brokerOps), LOG_LEVEL: 'info',
    // The whole fleet reconnects from one address after a restart.
    CONNECTS_PER_SECOND_PER_ADDRESS: '5000', CONNECT_BURST_PER_ADDRESS: '5000',
    ...options.brokerEnv,
  };

  return {
    prefix,
    database,
    mqttUrl,
    brokerMetricsUrl: `http://127.0.0.1:${brokerOps}/metrics`,
    registry,
    queue,
    serviceAccount: { username: operatorUsername('alerts'), token: service.token },
    async startBroker() {
      broker = spawnService('broker', brokerEnv);
      await broker.waitForLog(/broker listening/, 30_000);
    },
    async stopBroker(signal) {
      if (!broker) return;
      const gone = broker.exited;
      broker.child.kill(signal);
      await gone;
      broker = undefined;
    },
    async startWorker(env = {}) {
      const opsPort = await ownPort();
      const process = spawnService('worker', {
        REDIS_URL: options.redisUrl, QUEUE_PREFIX: prefix, INFLUX_URL: options.influxUrl, INFLUX_DB: database,
        WORKER_ROLES: 'storage', ALERT_RULES_FILE: rulesFile, OPS_PORT: String(opsPort), LOG_LEVEL: 'info',
        ALERT_MQTT_URL: mqttUrl, ALERT_MQTT_USERNAME: operatorUsername('alerts'), ALERT_MQTT_PASSWORD: service.token,
        ...options.workerEnv,
        ...env,
      });
      await process.waitForLog(/worker running/, 30_000);
      const handle = { process, metricsUrl: `http://127.0.0.1:${opsPort}/metrics` };
      workers.push(handle);
      return handle;
    },
    workers: () => [...workers],
    async stop() {
      const all = [broker, ...workers.map((w) => w.process)].filter((p): p is ServiceProcess => p !== undefined);
      for (const p of all) p.child.kill('SIGKILL');
      await Promise.all(all.map((p) => p.exited));
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      const keys = await admin.keys(`${prefix}:*`).catch(() => [] as string[]);
      if (keys.length > 0) await admin.del(...keys).catch(() => {});
      admin.disconnect();
      await dropInfluxV1Database(options.influxQueryUrl, database);
    },
  };
}

/** One Prometheus sample's value (summed over label sets matching `labels`), 0 when absent. */
export async function scrape(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

/** Distinct points stored per family measurement (a point is measurement + tags + time: duplicates overwrite). */
export async function countStoredPoints(influxUrl: string, database: string, families: readonly Family[] = FAULT_FLEET_FAMILIES): Promise<number> {
  let total = 0;
  for (const family of families) {
    const rows = await queryInfluxV1(influxUrl, database, `SELECT COUNT(*) FROM ${quoteInfluxIdentifier(FAMILY_SPECS[family].measurement)}`);
    // COUNT(*) counts each field; the fault fleet's families have a metric in every reading, so the largest is the points.
    const counts = (rows[0] ? Object.entries(rows[0]).filter(([k]) => k.startsWith('count_')).map(([, v]) => Number(v)) : [0]);
    total += Math.max(0, ...counts);
  }
  return total;
}

export async function backlog(queue: Queue): Promise<{ waiting: number; active: number; delayed: number; failed: number }> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
  return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 };
}

export interface ScenarioOptions {
  name: string;
  stack: FaultStack;
  influxQueryUrl: string;
  /** Devices per family (three families). @defaultValue 20 */
  devicesPerFamily?: number;
  /** @defaultValue 200 */
  intervalMs?: number;
  /** Readings per message. @defaultValue 1 */
  batchSize?: number;
  /** The fleet publishes this long in all. */
  durationMs: number;
  /** The fault starts this long after the fleet. */
  faultAtMs: number;
  /** Injects the fault and recovers from it; resolves once recovered (the backlog may still wait). */
  fault: () => Promise<void>;
  /** @defaultValue 60_000 */
  drainTimeoutMs?: number;
}

export interface ScenarioFigures {
  name: string;
  devices: number;
  messagesSent: number;
  messagesAcked: number;
  /**
   * Publishes mqtt.js itself failed, never acknowledged: it drops the publishes queued behind its resend of
   * unacknowledged ones when that connection closes again (a Redis restart: the broker closes connections whose
   * enqueue failed). A device library's loss, outside the broker's promise, and counted apart.
   */
  publishErrors: number;
  /** Still unacknowledged when the fleet's stop timeout ran out (never acked: outside the promise, like publishErrors). */
  inFlightAtStop: number;
  readingsSent: number;
  /** What the promise is about: readings in acknowledged messages. */
  readingsAcked: number;
  stored: number;
  reconnects: number;
  /** Fault start to recovery. */
  faultMs: number;
  /** The largest backlog seen (jobs waiting + delayed). */
  maxBacklogJobs: number;
  /**
   * Recovery until as many points were stored as readings had been acknowledged at recovery: the time to drain
   * the backlog the fault left (readings acknowledged later land meanwhile too, so it is a close lower bound).
   */
  backlogDrainMs: number;
  /** Fleet stopped (every message acknowledged) to every reading stored. */
  stopToDrainedMs: number;
  failedJobs: number;
  fleet: FleetProgress;
}

/**
 * Drives the fleet at a steady rate, injects the fault, recovers, stops the fleet once every message is
 * acknowledged, and waits until the stored points stop changing at the acknowledged count. Prints the figures.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioFigures> {
  const { stack } = options;
  const tag = stack.prefix.slice(-6);
  const devices: SimDevice[] = buildFleet({ devicesPerFamily: options.devicesPerFamily ?? 20, families: FAULT_FLEET_FAMILIES }).map((d) => ({ ...d, deviceId: `${d.deviceId}-${tag}` }));
  const { tokens } = await provisionFleet(stack.registry, devices);

  let maxBacklogJobs = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const b = await backlog(stack.queue).catch(() => undefined);
      if (b) maxBacklogJobs = Math.max(maxBacklogJobs, b.waiting + b.delayed);
      await sleep(200);
    }
  })();

  const started = Date.now();
  const fleet = runFleet({
    url: stack.mqttUrl, devices, credentials: tokens, intervalMs: options.intervalMs ?? 200, qos: 1, batchSize: options.batchSize ?? 1,
    seed: 7, reconnectPeriodMs: 250, connectTimeoutMs: 5000, stopTimeoutMs: 90_000, progressIntervalMs: 0,
    // A device retries after CONNACK 0x03 (server unavailable: Redis away), as the README asks; mqtt.js gives up
    // on any refused CONNACK unless told otherwise.
    clientOptions: { reconnectOnConnackError: true },
  });
  await sleep(options.faultAtMs);
  const faultAt = Date.now();
  await options.fault();
  const recoveredAt = Date.now();
  const ackedAtRecovery = fleet.progress().acked * (options.batchSize ?? 1);
  let backlogDrainedAt: number | undefined;
  const drainWatch = (async () => {
    while (backlogDrainedAt === undefined && Date.now() < recoveredAt + (options.drainTimeoutMs ?? 60_000) + options.durationMs) {
      const n = await countStoredPoints(options.influxQueryUrl, stack.database).catch(() => 0);
      if (n >= ackedAtRecovery) backlogDrainedAt = Date.now();
      else await sleep(250);
    }
  })();
  await sleep(Math.max(0, started + options.durationMs - Date.now()));
  const final = await fleet.stop();
  const stoppedAt = Date.now();
  const readingsAcked = final.acked * (options.batchSize ?? 1);

  // Drained: the queue is empty and the stored count reached what was acknowledged; then it must stay there.
  const deadline = Date.now() + (options.drainTimeoutMs ?? 60_000);
  let stored = 0;
  let last = { waiting: 0, active: 0, delayed: 0, failed: 0 };
  for (;;) {
    last = await backlog(stack.queue);
    stored = await countStoredPoints(options.influxQueryUrl, stack.database);
    if (last.waiting + last.active + last.delayed === 0 && stored >= readingsAcked) break;
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  const drainedAt = Date.now();
  watching = false;
  await Promise.all([watcher, drainWatch]);
  await sleep(500);
  stored = await countStoredPoints(options.influxQueryUrl, stack.database);

  const figures: ScenarioFigures = {
    name: options.name,
    devices: devices.length,
    messagesSent: final.sent,
    messagesAcked: final.acked,
    publishErrors: final.errors,
    inFlightAtStop: final.inFlight,
    readingsSent: final.readings,
    readingsAcked,
    stored,
    reconnects: final.reconnects,
    faultMs: recoveredAt - faultAt,
    maxBacklogJobs,
    backlogDrainMs: (backlogDrainedAt ?? drainedAt) - recoveredAt,
    stopToDrainedMs: drainedAt - stoppedAt,
    failedJobs: last.failed,
    fleet: final,
  };
  console.log(
    `[fault] ${figures.name}: ${figures.devices} devices, ${figures.messagesSent} messages sent, ${figures.messagesAcked} acked` +
      `${figures.publishErrors > 0 ? ` (${figures.publishErrors} dropped by mqtt.js, never acked)` : ''}; ${figures.readingsAcked} readings acked, ` +
      `${figures.stored} distinct points stored (${figures.stored - figures.readingsAcked >= 0 ? '+' : ''}${figures.stored - figures.readingsAcked}); ` +
      `fault ${(figures.faultMs / 1000).toFixed(1)} s, max backlog ${figures.maxBacklogJobs} jobs, backlog drained ${(figures.backlogDrainMs / 1000).toFixed(1)} s after recovery, ` +
      `all stored ${(figures.stopToDrainedMs / 1000).toFixed(1)} s after the fleet stopped; ${figures.reconnects} reconnects, ${figures.failedJobs} failed jobs`,
  );
  return figures;
}
