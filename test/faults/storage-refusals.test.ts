import { afterAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { listFailedTelemetry, replayFailedTelemetry } from '@city/queue';
import { telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from '../support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from '../support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from '../support/start-pipeline.ts';

interface Status {
  state: string;
  reason: string;
  retryable: boolean;
}

describe('writes the database refuses', () => {
  const pipelines: Pipeline[] = [];
  const databases: string[] = [];
  afterAll(async () => {
    for (const p of pipelines) await p.stop();
    for (const db of databases) await dropInfluxV1Database(testEnv.influxV1Url, db).catch(() => {});
  });

  it('400 partial write: the accepted readings are stored, exactly the refused ones are dead-lettered with the server’s reason', async () => {
    const db = uniqueName('partial').replaceAll('-', '_');
    databases.push(db);
    await createInfluxV1Database(testEnv.influxV1Url, db);
    const t0 = Date.now() - 60_000;
    // `o3` becomes a boolean field in this shard: float o3 values are now a field type conflict (HTTP 400, and
    // InfluxDB 1.x keeps the batch's other lines).
    const seeded = await fetch(`${testEnv.influxV1Url}/write?db=${db}&precision=ms`, { method: 'POST', body: `airquality,device=seed o3=true ${t0}` });
    expect(seeded.status).toBe(204);

    const pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v1', url: testEnv.influxV1Url, database: db } });
    pipelines.push(pipeline);
    const id = uniqueName('aq');
    const device = await pipeline.connectDevice('airquality', id);
    const readings = Array.from({ length: 10 }, (_, i) => ({ ts: t0 + 1000 * (i + 1), pm25: 10 + i, pm10: 40 + i, ...(i === 3 || i === 7 ? { o3: 50 + i } : {}) }));
    await device.publishAsync(telemetryTopic('airquality', id), JSON.stringify(readings), { qos: 1 });

    const stored = await eventually(
      () => queryInfluxV1(testEnv.influxV1Url, db, `SELECT pm25 FROM airquality WHERE device = '${id}' ORDER BY time`),
      (rows) => rows.length === 8,
      15_000,
    );
    expect(stored.map((r) => r.pm25)).toEqual([10, 11, 12, 14, 15, 16, 18, 19]);
    const letters = await eventually(
      async () => (await pipeline.deadLetters.list(20)).filter((e) => e.reason === 'storage_rejected'),
      (list) => list.length === 2,
      10_000,
    );
    expect(letters.map((e) => JSON.parse(e.payload) as { ts: number; o3: number }).map((p) => [p.ts, p.o3]).sort()).toEqual([
      [t0 + 4000, 53],
      [t0 + 8000, 57],
    ]);
    for (const e of letters) {
      expect(e.detail).toMatch(/^400 .*field type conflict/);
      expect(e).toMatchObject({ topic: telemetryTopic('airquality', id), clientId: id });
    }
    expect(await pipeline.telemetryQueue.getJobCounts('failed', 'waiting', 'active')).toEqual({ failed: 0, waiting: 0, active: 0 });
  });

  it('a missing database: the batch waits in the failed set, operators are told at once, and a replay after the fix stores it', async () => {
    const db = uniqueName('missing').replaceAll('-', '_');
    databases.push(db);
    const pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v1', url: testEnv.influxV1Url, database: db } });
    pipelines.push(pipeline);
    const operator: MqttClient = await pipeline.connectOperator();
    const statuses: Status[] = [];
    operator.on('message', (_topic, payload) => statuses.push(JSON.parse(payload.toString()) as Status));
    await operator.subscribeAsync('city/v1/alerts/pipeline/storage', { qos: 1 });

    const id = uniqueName('wtr');
    const device = await pipeline.connectDevice('water', id);
    const t0 = Date.now() - 30_000;
    await device.publishAsync(telemetryTopic('water', id), JSON.stringify([{ ts: t0, pressure: 3.1 }, { ts: t0 + 1000, pressure: 3.2 }, { ts: t0 + 2000, pressure: 3.3 }]), { qos: 1 });

    const failed = await eventually(() => listFailedTelemetry({ queue: pipeline.telemetryQueue }), (l) => l.total === 1, 15_000);
    expect(failed.batches[0]).toMatchObject({ readings: 3, devices: [id], firstTs: t0, lastTs: t0 + 2000 });
    expect(failed.byReason).toEqual([{ reason: 'not_found', batches: 1, readings: 3 }]);
    await eventually(() => Promise.resolve(statuses), (s) => s.length === 1, 10_000);
    expect(statuses[0]).toMatchObject({ state: 'degraded', reason: 'not_found', retryable: false });

    // The operator creates the database, then replays.
    await createInfluxV1Database(testEnv.influxV1Url, db);
    expect(await replayFailedTelemetry({ queue: pipeline.telemetryQueue, dryRun: true })).toEqual([{ id: failed.batches[0]!.id, status: 'would_replay', readings: 3 }]);
    expect(await replayFailedTelemetry({ queue: pipeline.telemetryQueue })).toEqual([{ id: failed.batches[0]!.id, status: 'replayed', readings: 3 }]);
    const rows = await eventually(() => queryInfluxV1(testEnv.influxV1Url, db, 'SELECT pressure FROM water ORDER BY time'), (r) => r.length === 3, 15_000);
    expect(rows.map((r) => r.pressure)).toEqual([3.1, 3.2, 3.3]);
    await eventually(() => Promise.resolve(statuses), (s) => s.length === 2, 10_000);
    expect(statuses[1]).toMatchObject({ state: 'recovered' });
    expect((await listFailedTelemetry({ queue: pipeline.telemetryQueue })).total).toBe(0);
    // Replaying again finds nothing failed.
    expect(await replayFailedTelemetry({ queue: pipeline.telemetryQueue, ids: [failed.batches[0]!.id] })).toEqual([{ id: failed.batches[0]!.id, status: 'not_failed', readings: 3 }]);
  });
});
