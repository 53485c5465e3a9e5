/**
 * The alert engine on the storage path. Prints figures, asserts nothing.
 *   npx tsx services/worker/bench/alerts.bench.ts   (Redis at TEST_REDIS_URL or redis://127.0.0.1:16379)
 * 1. the pure step: one reading through one rule of the default pack;
 * 2. evaluate(): batches of 500 readings (100 devices × 5) through the default pack, state in real Redis.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { initialAlertState, stepAlert } from '@city/core';
import { createLogger } from '@city/logger';
import { QUEUES } from '@city/queue';
import type { Reading } from '@city/schema';
import { createAlertStore } from '../src/alerts/alert-store.ts';
import { createAlertEvaluator } from '../src/alerts/create-alert-evaluator.ts';
import { loadAlertRulesFile } from '../src/load-alert-rules.ts';
import { createWorkerMetrics } from '../src/worker-metrics.ts';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:16379';
const { rules } = await loadAlertRulesFile(new URL('../../../config/alert-rules.json', import.meta.url).pathname);
const T0 = Date.UTC(2026, 0, 15);
const air = (device: number, i: number): Reading => ({
  family: 'airquality', deviceId: `aq-b-${device}`, district: 'medeu', ts: T0 + i * 60_000, receivedAt: T0 + i * 60_000,
  metrics: { pm25: 20 + ((i * 7 + device) % 90), pm10: 40 + (i % 50), no2: 30 + (i % 40), o3: 60 + (i % 30) },
});

// 1. Pure step
for (const id of ['pm25-24h-mean', 'aqi-1h', 'pm25-spike']) {
  const rule = rules.find((r) => r.id === id)!;
  let state = initialAlertState(rule, 'aq-b-0');
  const n = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) state = stepAlert(state, rule, air(0, i), { silenced: false }).state;
  const ns = Number(process.hrtime.bigint() - start) / n;
  console.log(`stepAlert ${id.padEnd(14)} ${(ns / 1000).toFixed(2)} µs per reading (${Math.round(1e9 / ns).toLocaleString('en')} /s, one core)`);
}

// 2. evaluate() against Redis
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const prefix = `bench-alerts-${process.pid}`;
const alertsQueue = new Queue(QUEUES.alerts.name, { connection: redis, prefix });
const metrics = createWorkerMetrics();
const evaluator = createAlertEvaluator({
  store: createAlertStore({ redis, prefix }), alertsQueue, rules: () => rules, metrics, alertMetrics: metrics.alerts, logger: createLogger({ name: 'bench', level: 'silent' }),
});
const batches = 40;
let readings = 0;
let events = 0;
const start = Date.now();
for (let b = 0; b < batches; b++) {
  const batch = Array.from({ length: 100 }, (_, d) => Array.from({ length: 5 }, (_, k) => air(d, b * 5 + k))).flat();
  events += (await evaluator.evaluate(batch)).length;
  readings += batch.length;
}
const seconds = (Date.now() - start) / 1000;
const airRules = rules.filter((r) => r.family === 'airquality').length;
console.log(`evaluate: ${readings} readings × ${airRules} airquality rules in ${seconds.toFixed(2)} s = ${Math.round(readings / seconds).toLocaleString('en')} readings/s, ${(seconds / batches * 1000).toFixed(1)} ms per 500-reading batch, ${events} events`);
const keys = await redis.keys(`${prefix}:*`);
if (keys.length > 0) await redis.del(...keys);
await alertsQueue.close();
redis.disconnect();
