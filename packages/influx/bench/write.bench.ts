/**
 * Write throughput of each sink against the test servers: 50,000 points in 5,000-line batches, one batch at a
 * time (as one worker job writes). Prints figures; asserts nothing.
 *
 *   npx tsx packages/influx/bench/write.bench.ts
 *
 * Servers: TEST_INFLUX_V1_URL (InfluxDB 1.x) and TEST_INFLUX_V2_URL (a server taking /api/v2/write), as the tests.
 */
import { InfluxDB } from '@influxdata/influxdb-client';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database } from '../../../test/support/read-points.ts';
import { createV1Sink, createV2Sink } from '../src/index.ts';

const TOTAL_POINTS = 50_000;
const BATCH_LINES = 5_000;
/** The machine is shared and small: report the median of a few rounds, with the spread. */
const ROUNDS = 7;

/** Six float fields, like an air-quality station; timestamps one ms apart, an hour back (VM keeps ~1 month). */
function batches(measurement: string): string[][] {
  const baseMs = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const lines = Array.from({ length: TOTAL_POINTS }, (_, i) => {
    const device = i % 200;
    return (
      `${measurement},device=aq-${device},family=airquality,district=d${device % 9} ` +
      `pm25=${(i % 500) / 10},pm10=${(i % 900) / 10},no2=${(i % 300) + 0.5},o3=${(i % 250) + 0.25},` +
      `temperature=${((i % 400) - 100) / 10},relativeHumidity=${(i % 100) / 100} ${baseMs + i}`
    );
  });
  const out: string[][] = [];
  for (let i = 0; i < lines.length; i += BATCH_LINES) out.push(lines.slice(i, i + BATCH_LINES));
  return out;
}

type Write = (lines: readonly string[]) => Promise<void>;

interface Variant {
  label: string;
  prefix: string;
  write: Write;
  rates: number[];
}

/** Points per second of one pass over TOTAL_POINTS, into a fresh measurement. */
async function pass(variant: Variant): Promise<number> {
  const work = batches(uniqueName(variant.prefix).replaceAll('-', '_'));
  const started = performance.now();
  for (const batch of work) await variant.write(batch);
  return TOTAL_POINTS / ((performance.now() - started) / 1000);
}

/** Rounds interleave the variants (rotating who goes first) so a busy neighbour slows them alike. */
async function run(variants: Variant[]): Promise<void> {
  for (const v of variants) await v.write(batches(uniqueName(`${v.prefix}_warmup`).replaceAll('-', '_'))[0] ?? []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(round + i) % variants.length] as Variant;
      v.rates.push(await pass(v));
    }
  }
  const fmt = (n: number | undefined): string => Math.round(n ?? 0).toLocaleString('en-US');
  for (const { label, rates } of variants) {
    rates.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(52)} ${fmt(rates[Math.floor(ROUNDS / 2)]).padStart(9)} points/s  (${fmt(rates[0])}–${fmt(rates[ROUNDS - 1])})`,
    );
  }
}

/** The road not taken: the client's WriteApi, fresh per write, configured so a failure is not swallowed. */
function writeApiPerCall(url: string): Write {
  const client = new InfluxDB({ url });
  return async (lines) => {
    const api = client.getWriteApi('city', 'telemetry', 'ms', {
      maxRetries: 0,
      batchSize: lines.length + 1,
      flushInterval: 0,
      gzipThreshold: Number.POSITIVE_INFINITY,
      writeFailed: (error) => Promise.reject(error),
    });
    api.writeRecords(lines as string[]); // it only reads them (WriteApiImpl.writeRecords)
    await api.close();
  };
}

const database = uniqueName('bench_write');
await createInfluxV1Database(testEnv.influxV1Url, database);
try {
  console.log(
    `${TOTAL_POINTS.toLocaleString('en-US')} points in ${BATCH_LINES.toLocaleString('en-US')}-line batches, one at a time; median of ${ROUNDS} rounds (min–max); node ${process.version}`,
  );
  const v2 = { url: testEnv.influxV2Url, org: 'city', bucket: 'telemetry' };
  const sinks = {
    v1: createV1Sink({ url: testEnv.influxV1Url, database }),
    v2: createV2Sink(v2),
    v2gzip: createV2Sink({ ...v2, gzipThresholdBytes: 1000 }),
  };
  const variant = (label: string, prefix: string, write: Write): Variant => ({ label, prefix, write, rates: [] });
  try {
    await run([
      variant(`v1 sink -> InfluxDB 1.x ${testEnv.influxV1Url}`, 'bench_v1', (l) => sinks.v1.write(l)),
      variant(`v2 sink -> ${testEnv.influxV2Url}`, 'bench_v2', (l) => sinks.v2.write(l)),
      variant('v2 sink, gzipThresholdBytes 1000 (client default)', 'bench_v2gz', (l) => sinks.v2gzip.write(l)),
      variant(
        'client WriteApi per write (reference, not shipped)',
        'bench_writeapi',
        writeApiPerCall(testEnv.influxV2Url),
      ),
    ]);
  } finally {
    await Promise.all(Object.values(sinks).map((s) => s.close()));
  }
} finally {
  await dropInfluxV1Database(testEnv.influxV1Url, database);
}
