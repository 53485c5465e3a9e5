import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv, uniqueName } from '../../../test/support/env.ts';
import {
  createInfluxV1Database,
  dropInfluxV1Database,
  exportVictoria,
  queryInfluxV1,
  quoteInfluxIdentifier,
} from '../../../test/support/read-points.ts';
import type { Sink } from './sink.ts';
import { SinkWriteError } from './sink-write-error.ts';
import { createV1Sink } from './v1-sink.ts';
import { createV2Sink } from './v2-sink.ts';

/** A point as the test wrote it and as a reader hands it back. */
interface StoredPoint {
  tags: Record<string, string>;
  fields: Record<string, number>;
  timeMs: number;
}

const TAG_KEYS = ['device', 'family', 'district'] as const;
const FIELD_KEYS = ['pm25', 'no2', 'samples'] as const;

interface ContractTarget {
  /** A sink to `url`, writing where `read` reads. */
  sink(url: string): Sink;
  /** Every stored sample of `measurement`: one entry per stored point, duplicates included. */
  read(measurement: string): Promise<StoredPoint[]>;
  /**
   * What a second write of the same measurement + tags + timestamp does. InfluxDB overwrites the point (fields
   * merge, newer wins). VictoriaMetrics without `-dedup.minScrapeInterval` keeps both samples, so a replay there
   * is idempotent only for readers that take the last sample per timestamp (all its query functions do).
   */
  rewrite: 'overwrites' | 'keeps-duplicate-samples';
}

/** Measurement names that are also valid VictoriaMetrics metric name prefixes. */
function uniqueMeasurement(label: string): string {
  return uniqueName(label).replaceAll('-', '_');
}

function makePoints(count: number, baseMs: number): StoredPoint[] {
  return Array.from({ length: count }, (_, i) => {
    const device = i % 50;
    return {
      tags: { device: `aq-${device}`, family: 'airquality', district: `d${device % 7}` },
      fields: { pm25: Math.round(i * 37) / 100, no2: (i % 300) + 0.5, samples: i },
      timeMs: baseMs + i,
    };
  });
}

function toLine(measurement: string, p: StoredPoint): string {
  const tags = TAG_KEYS.map((k) => `${k}=${p.tags[k]}`).join(',');
  return `${measurement},${tags} pm25=${p.fields.pm25},no2=${p.fields.no2},samples=${p.fields.samples}i ${p.timeMs}`;
}

const keyOf = (p: StoredPoint): string => `${TAG_KEYS.map((k) => p.tags[k]).join('/')}@${p.timeMs}`;

function byKey(points: StoredPoint[]): Map<string, StoredPoint> {
  return new Map(points.map((p) => [keyOf(p), p]));
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sinkContract(name: string, serverUrl: string, target: () => ContractTarget): void {
  describe(`Sink contract: ${name}`, () => {
    const sinks: Sink[] = [];
    const open = (url = serverUrl): Sink => {
      const sink = target().sink(url);
      sinks.push(sink);
      return sink;
    };
    afterAll(async () => {
      await Promise.all(sinks.map((s) => s.close()));
    });

    it('stores a 5,000-line batch with its tags, fields and timestamps', async () => {
      const measurement = uniqueMeasurement('contract_batch');
      const written = makePoints(5_000, Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
      await open().write(written.map((p) => toLine(measurement, p)));

      const stored = await target().read(measurement);
      expect(stored).toHaveLength(written.length);
      const storedByKey = byKey(stored);
      for (const point of written) expect(storedByKey.get(keyOf(point))).toEqual(point);
    });

    it('a rewrite of the same points adds no point', async () => {
      const measurement = uniqueMeasurement('contract_rewrite');
      const written = makePoints(1_000, Math.floor(Date.now() / 1000) * 1000 - 1_800_000);
      const lines = written.map((p) => toLine(measurement, p));
      const sink = open();
      await sink.write(lines);
      await sink.write(lines);

      const stored = await target().read(measurement);
      const storedByKey = byKey(stored);
      expect(storedByKey.size).toBe(written.length);
      for (const point of written) expect(storedByKey.get(keyOf(point))).toEqual(point);
      expect(stored).toHaveLength(target().rewrite === 'overwrites' ? written.length : 2 * written.length);
    });

    it('concurrent writes each store their own lines', async () => {
      const measurements = [1, 2, 3, 4].map((n) => uniqueMeasurement(`contract_concurrent${n}`));
      const baseMs = Math.floor(Date.now() / 1000) * 1000 - 900_000;
      const sink = open();
      await Promise.all(measurements.map((m, n) => sink.write(makePoints(500, baseMs + n).map((p) => toLine(m, p)))));
      for (const [n, m] of measurements.entries()) {
        const stored = await target().read(m);
        expect(stored).toHaveLength(500);
        expect(Math.min(...stored.map((p) => p.timeMs))).toBe(baseMs + n);
      }
    });

    it('ping is true for the live server', async () => {
      expect(await open().ping()).toBe(true);
    });

    it('a write to a dead port rejects with a retryable network error; ping is false', async () => {
      const sink = open(`http://127.0.0.1:${await deadPort()}`);
      const error: unknown = await sink.write(['m v=1 1700000000000']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SinkWriteError);
      expect(error).toMatchObject({ code: 'network', retryable: true, status: undefined });
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
      expect(await sink.ping()).toBe(false);
    });

    it('an empty write resolves without a request', async () => {
      const sink = open(`http://127.0.0.1:${await deadPort()}`);
      await expect(sink.write([])).resolves.toBeUndefined();
    });

    it('rejects writes after close()', async () => {
      const sink = open();
      await sink.close();
      await expect(sink.write(['m v=1 1700000000000'])).rejects.toThrow(/after close/);
    });
  });
}

// InfluxDB 1.6.7: one database per test file, dropped afterwards.
const v1Database = uniqueName('sink_contract');
beforeAll(async () => {
  await createInfluxV1Database(testEnv.influxV1Url, v1Database);
});
afterAll(async () => {
  await dropInfluxV1Database(testEnv.influxV1Url, v1Database);
});

sinkContract('v1 sink -> InfluxDB 1.6.7', testEnv.influxV1Url, () => ({
  sink: (url) => createV1Sink({ url, database: v1Database }),
  async read(measurement) {
    const rows = await queryInfluxV1(
      testEnv.influxV1Url,
      v1Database,
      `SELECT * FROM ${quoteInfluxIdentifier(measurement)}`,
    );
    return rows.map((row) => ({
      tags: Object.fromEntries(TAG_KEYS.map((k) => [k, row[k] as string])),
      fields: Object.fromEntries(FIELD_KEYS.map((k) => [k, row[k] as number])),
      timeMs: row.time as number,
    }));
  },
  rewrite: 'overwrites',
}));

// VictoriaMetrics 1.79: `measurement,tags field=v` becomes the series `measurement_field{tags}`.
sinkContract('v2 sink -> VictoriaMetrics', testEnv.influxV2Url, () => ({
  sink: (url) => createV2Sink({ url, org: 'city', bucket: 'telemetry' }),
  async read(measurement) {
    const series = await exportVictoria(testEnv.influxV2Url, `{__name__=~"${measurement}_.*"}`);
    // Rebuild points: the n-th sample of each field at one tag set and timestamp belongs to the n-th point there.
    const points = new Map<string, StoredPoint>();
    for (const { metric, values, timestamps } of series) {
      const { __name__: metricName = '', ...tags } = metric;
      const field = metricName.slice(measurement.length + 1);
      const seen = new Map<number, number>();
      timestamps.forEach((timeMs, i) => {
        const occurrence = seen.get(timeMs) ?? 0;
        seen.set(timeMs, occurrence + 1);
        const key = `${JSON.stringify(tags)}@${timeMs}#${occurrence}`;
        const point = points.get(key) ?? { tags, fields: {}, timeMs };
        point.fields[field] = values[i] as number;
        points.set(key, point);
      });
    }
    return [...points.values()];
  },
  rewrite: 'keeps-duplicate-samples',
}));
