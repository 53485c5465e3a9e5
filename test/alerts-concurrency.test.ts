import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialAlertState, stepAlert, type AlertState, type StepOptions } from '@city/core';
import { createLogger } from '@city/logger';
import { QUEUES, createRedis } from '@city/queue';
import { AlertRuleSchema, type AlertEvent, type AlertRule, type Reading } from '@city/schema';
import { createSink } from '@city/influx';
import { buildWorker, createAlertStore, createWorkerMetrics, type TelemetryWorker } from '@city/worker';
import { testEnv, uniqueName } from './support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database } from './support/read-points.ts';
import { eventually } from './support/start-pipeline.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 15, 6);
const STEP: StepOptions = { allowedLatenessMs: 6 * 60 * MIN };
const LEVELS = [{ severity: 'medium', threshold: 35, clear: 30 }, { severity: 'high', threshold: 75, clear: 65 }, { severity: 'critical', threshold: 150, clear: 140 }];
const rules: AlertRule[] = [
  { id: 'smog', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: LEVELS },
  { id: 'smog-5min', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: LEVELS, forMs: 5 * MIN, flapping: { windowMs: 20 * MIN, maxChanges: 4 } },
  { id: 'smog-15min-mean', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: LEVELS, signal: { kind: 'window', fn: 'mean', windowMs: 15 * MIN, bucketMs: MIN } },
].map((r) => AlertRuleSchema.parse(r));

/** Seeded, so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Per device one smoggy hour: clean, a rise to a peak, noisy at the top, clearing. */
function smogHour(rand: () => number, devices: string[], minutes: number): Reading[] {
  return devices.flatMap((deviceId, d) =>
    Array.from({ length: minutes }, (_, m) => {
      const shape = Math.sin((Math.PI * m) / minutes) * (120 + 40 * d);
      const pm25 = Math.max(0, Math.round((shape + (rand() - 0.5) * 50) * 10) / 10);
      return { family: 'airquality', deviceId, district: 'almaly', ts: T0 + m * MIN, receivedAt: T0 + m * MIN, metrics: { pm25 } } satisfies Reading;
    }),
  );
}

/** Shuffled batches of 1..6 readings of any devices, some delivered twice. */
function shuffledBatches(rand: () => number, readings: Reading[]): Reading[][] {
  const shuffled = [...readings];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const batches: Reading[][] = [];
  for (let i = 0; i < shuffled.length; ) {
    const size = 1 + Math.floor(rand() * 6);
    batches.push(shuffled.slice(i, i + size));
    i += size;
  }
  const repeats = batches.filter(() => rand() < 0.1);
  return [...batches, ...repeats];
}

/** One worker, in event-time order: what the engine must end with. */
function expected(rule: AlertRule, device: string, readings: Reading[]): AlertState {
  let state = initialAlertState(rule, device);
  for (const r of readings.filter((x) => x.deviceId === device).sort((a, b) => a.ts - b.ts)) state = stepAlert(state, rule, r, { silenced: false, options: STEP }).state;
  return state;
}

const comparable = (s: AlertState | null) => s && { cond: s.cond, base: s.base, tail: s.tail, watermark: s.watermark, open: s.alert?.severity ?? null, latched: s.latched };

/** Every (rule, device)'s events form one valid lifecycle: seq 1..n, raised before anything else, resolved closes. */
function checkLifecycles(events: AlertEvent[], states: Map<string, AlertState>): void {
  const byPair = new Map<string, AlertEvent[]>();
  for (const e of events) byPair.set(`${e.rule}:${e.device}`, [...(byPair.get(`${e.rule}:${e.device}`) ?? []), e]);
  for (const [pair, list] of byPair) {
    const sorted = list.sort((a, b) => a.seq - b.seq);
    expect(sorted.map((e) => e.seq)).toEqual(sorted.map((_, i) => i + 1));
    let open: string | null = null;
    for (const e of sorted) {
      if (e.transition === 'raised') {
        expect(open).toBeNull();
        open = e.alertId;
      } else {
        expect(e.alertId).toBe(open);
        if (e.transition === 'resolved') open = null;
      }
    }
    expect(open).toBe(states.get(pair)?.alert?.id ?? null);
  }
}

describe('alert state in Redis under concurrency: two workers, interleaved and out-of-order readings', () => {
  const devices = ['aq-c-1', 'aq-c-2', 'aq-c-3'];
  const logger = createLogger({ name: 'test', level: 'silent' });
  const db = uniqueName('alc').replaceAll('-', '_');
  let admin: Redis;
  const prefixes: string[] = [];
  const pairs = rules.flatMap((rule) => devices.map((device) => ({ rule, device })));

  /** Two storage workers on their own connections under `prefix`, as two processes would run. */
  function startWorkers(prefix: string) {
    return [0, 1].map(() => {
      const connection = createRedis(testEnv.redisUrl, 'worker');
      const metrics = createWorkerMetrics();
      const sink = createSink({ api: 'v1', url: testEnv.influxV1Url, database: db });
      const worker: TelemetryWorker = buildWorker({ connection, prefix, logger, metrics, roles: ['storage'], sink, rules: () => rules, alerts: { step: STEP, sweepIntervalMs: 60_000 }, storageConcurrency: 3 });
      return {
        worker,
        metrics,
        async close() {
          await worker.close();
          await sink.close();
          connection.disconnect();
        },
      };
    });
  }

  /** The stored states equal the event-time-order ones, and the enqueued events are valid lifecycles. */
  async function checkOutcome(prefix: string, readings: Reading[]): Promise<AlertEvent[]> {
    const stored = await createAlertStore({ redis: admin, prefix }).load(pairs.map((p) => ({ rule: p.rule.id, device: p.device })));
    const states = new Map<string, AlertState>();
    pairs.forEach((p, i) => {
      const pair = `${p.rule.id}:${p.device}`;
      expect({ pair, state: comparable(stored[i]!.state) }).toEqual({ pair, state: comparable(expected(p.rule, p.device, readings)) });
      states.set(pair, stored[i]!.state!);
    });
    const alertsQueue = new Queue(QUEUES.alerts.name, { connection: admin, prefix });
    const events = (await alertsQueue.getJobs(['waiting', 'prioritized', 'delayed'])).map((j) => j.data as AlertEvent);
    await alertsQueue.close();
    checkLifecycles(events, states);
    return events;
  }

  beforeAll(async () => {
    admin = new Redis(testEnv.redisUrl);
    await createInfluxV1Database(testEnv.influxV1Url, db);
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    admin.disconnect();
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('two evaluators racing on the same devices end where one worker in event-time order ends', async () => {
    const prefix = uniqueName('alc');
    prefixes.push(prefix);
    const rand = random(20260115);
    const readings = smogHour(rand, devices, 60);
    const batches = shuffledBatches(rand, readings);
    const workers = startWorkers(prefix);
    // Each worker's evaluator called directly, both at once, batch after batch: the most contention we can make.
    const lanes = [batches.filter((_, i) => i % 2 === 0), batches.filter((_, i) => i % 2 === 1)];
    await Promise.all(lanes.map(async (lane, w) => {
      for (const batch of lane) await workers[w]!.worker.alertEngine.evaluator!.evaluate(batch);
    }));
    const events = await checkOutcome(prefix, readings);
    // The episodes really happened.
    expect(events.filter((e) => e.transition === 'raised').length).toBeGreaterThanOrEqual(devices.length);
    const conflicts = await Promise.all(workers.map(async (w) => (await w.metrics.alerts.casConflicts.get()).values[0]?.value ?? 0));
    console.info(`alerts-concurrency: ${batches.length} batches, ${events.length} events, CAS conflicts per worker: ${conflicts.join(', ')}`);
    await Promise.all(workers.map((w) => w.close()));
  });

  it('through the telemetry queue: two workers, restarted half way, give the same result', async () => {
    const prefix = uniqueName('alq');
    prefixes.push(prefix);
    const rand = random(7);
    const readings = smogHour(rand, devices, 60);
    const batches = shuffledBatches(rand, readings);
    const producer = createRedis(testEnv.redisUrl, 'producer');
    const telemetry = new Queue(QUEUES.telemetry.name, { connection: producer, prefix });
    const add = (list: Reading[][]) => telemetry.addBulk(list.map((readings) => ({ name: QUEUES.telemetry.jobName, data: { readings }, opts: QUEUES.telemetry.jobOptions })));
    const drained = () => eventually(() => telemetry.getJobCounts('waiting', 'active', 'delayed', 'completed'), (c) => (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0 && (c.completed ?? 0) > 0, 20_000);

    const half = Math.floor(batches.length / 2);
    let workers = startWorkers(prefix);
    await add(batches.slice(0, half));
    await drained();
    // A restart: new processes find the state in Redis.
    await Promise.all(workers.map((w) => w.close()));
    workers = startWorkers(prefix);
    await add(batches.slice(half));
    await eventually(() => telemetry.getJobCounts('completed'), (c) => c.completed === batches.length, 20_000);
    await checkOutcome(prefix, readings);
    await Promise.all(workers.map((w) => w.close()));
    await telemetry.close();
    producer.disconnect();
  });
});
