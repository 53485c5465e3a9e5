/**
 * Storage throughput through the real worker: telemetry jobs waiting in Redis → the storage role (as main.ts wires
 * it, no alert rules) → InfluxDB 1.6.7. Prints points/s per job size; asserts nothing.
 *
 *   npx tsx services/worker/bench/storage.bench.ts [readings-per-job ...]   (default: 10 50 500)
 *
 * Servers: TEST_REDIS_URL and TEST_INFLUX_V1_URL, as the tests. The broker flushes a micro-batch every
 * BATCH_MAX_DELAY_MS (20 ms) or at 500 readings, so a lightly loaded broker makes small jobs and a busy one full
 * ones: both ends are measured. Each round fills the queue first, then times the worker draining it.
 */
import { Queue } from 'bullmq';
import { createSink } from '@city/influx';
import { createLogger } from '@city/logger';
import { QUEUES, createRedis } from '@city/queue';
import type { Reading } from '@city/schema';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from '../../../test/support/read-points.ts';
import { buildWorker } from '../src/build-worker.ts';
import { loadWorkerConfig } from '../src/config.ts';
import { createWorkerMetrics } from '../src/worker-metrics.ts';

const TOTAL_READINGS = 40_000;
const ROUNDS = 3;
const jobSizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const sizes = jobSizes.length > 0 ? jobSizes : [10, 50, 500];
// What a worker runs with when nothing is configured (STORAGE_* variables may override it, as for main.ts).
const defaults = loadWorkerConfig({ ...process.env, INFLUX_DB: 'bench', INFLUX_API: 'v1' });

/** Six fields, like an air-quality station; 200 devices, event times 1 ms apart, an hour back. */
function jobs(size: number, round: number): Array<{ readings: Reading[] }> {
  const base = Date.now() - 3_600_000 + round * TOTAL_READINGS;
  const out: Array<{ readings: Reading[] }> = [];
  for (let i = 0; i < TOTAL_READINGS; i += size) {
    const readings: Reading[] = [];
    for (let k = i; k < Math.min(i + size, TOTAL_READINGS); k++) {
      readings.push({
        family: 'airquality', deviceId: `aq-bench-${k % 200}`, district: 'medeu', ts: base + k, receivedAt: base + k,
        metrics: { pm25: (k % 500) / 10, pm10: 50 + (k % 900) / 10, no2: (k % 300) + 0.5, o3: (k % 250) + 0.25, temperature: ((k % 400) - 100) / 10, relativeHumidity: (k % 100) / 100 },
      });
    }
    out.push({ readings });
  }
  return out;
}

async function round(size: number, index: number): Promise<number> {
  const prefix = uniqueName('bench-storage');
  const database = prefix.replaceAll('-', '_');
  await createInfluxV1Database(testEnv.influxV1Url, database);
  const producer = createRedis(testEnv.redisUrl, 'worker');
  const workerRedis = createRedis(testEnv.redisUrl, 'worker');
  const queue = new Queue(QUEUES.telemetry.name, { connection: producer, prefix });
  const work = jobs(size, index);
  for (let i = 0; i < work.length; i += 500) {
    await queue.addBulk(work.slice(i, i + 500).map((data) => ({ name: QUEUES.telemetry.jobName, data, opts: QUEUES.telemetry.jobOptions })));
  }
  const sink = createSink({ api: 'v1', url: testEnv.influxV1Url, database });
  const started = performance.now();
  const worker = buildWorker({
    connection: workerRedis, prefix, logger: createLogger({ name: 'bench', level: 'silent' }), metrics: createWorkerMetrics(),
    roles: ['storage'], sink, rules: () => [], storageConcurrency: defaults.STORAGE_CONCURRENCY,
    storage: {
      writeMaxLines: defaults.STORAGE_WRITE_MAX_LINES,
      writeMaxDelayMs: defaults.STORAGE_WRITE_MAX_DELAY_MS,
      maxConcurrentWrites: defaults.STORAGE_MAX_CONCURRENT_WRITES,
    },
  });
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    if (counts.failed! > 0) throw new Error(`${counts.failed} jobs failed`);
    if (counts.waiting === 0 && counts.active === 0 && counts.delayed === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  await worker.close();
  const [row] = await queryInfluxV1(testEnv.influxV1Url, database, 'SELECT COUNT(pm25) FROM airquality');
  if (row?.count !== TOTAL_READINGS) throw new Error(`expected ${TOTAL_READINGS} points, InfluxDB has ${String(row?.count)}`);
  await queue.obliterate({ force: true });
  await queue.close();
  await sink.close();
  producer.disconnect();
  workerRedis.disconnect();
  await dropInfluxV1Database(testEnv.influxV1Url, database);
  return TOTAL_READINGS / seconds;
}

console.log(`${TOTAL_READINGS.toLocaleString('en-US')} readings per round, STORAGE_CONCURRENCY ${defaults.STORAGE_CONCURRENCY}, writes of up to ${defaults.STORAGE_WRITE_MAX_LINES} lines / ${defaults.STORAGE_WRITE_MAX_DELAY_MS} ms, ${defaults.STORAGE_MAX_CONCURRENT_WRITES} at once; median of ${ROUNDS} rounds (min–max); node ${process.version}`);
const fmt = (n: number | undefined) => Math.round(n ?? 0).toLocaleString('en-US');
for (const size of sizes) {
  const rates: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rates.push(await round(size, i));
  rates.sort((a, b) => a - b);
  console.log(`jobs of ${String(size).padStart(4)} readings -> InfluxDB 1.x  ${fmt(rates[Math.floor(ROUNDS / 2)]).padStart(8)} points/s  (${fmt(rates[0])}–${fmt(rates[ROUNDS - 1])})`);
}
