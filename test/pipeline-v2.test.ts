import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { exportVictoria } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

describe('pipeline: MQTT → Redis → worker → /api/v2/write through @influxdata/influxdb-client (VictoriaMetrics)', () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v2', url: testEnv.influxV2Url, org: 'city', bucket: 'city' } });
  });
  afterAll(() => pipeline?.stop());

  it('stores every reading of a device with its tags, fields and event times', async () => {
    // VictoriaMetrics has no databases: a device id of this run's own keeps the series apart.
    const deviceId = uniqueName('trf');
    const t0 = Date.now() - 120_000;
    const device = await pipeline.connectDevice('traffic', deviceId);
    const readings = Array.from({ length: 50 }, (_, i) => ({ ts: t0 + i * 1000, intensity: 10 + i, occupancy: i / 100 }));
    await device.publishAsync(telemetryTopic('traffic', deviceId), JSON.stringify(readings.slice(0, 25)), { qos: 1 });
    for (const reading of readings.slice(25)) {
      await device.publishAsync(telemetryTopic('traffic', deviceId), JSON.stringify({ ...reading, district: 'esil' }), { qos: 1 });
    }
    await device.endAsync();

    const series = await eventually(
      () => exportVictoria(testEnv.influxV2Url, `{__name__=~"traffic_.*",device="${deviceId}"}`),
      (s) => s.reduce((n, x) => n + x.values.length, 0) === 100,
    );
    const summary = series
      .map((s) => ({ ...s.metric, points: s.timestamps.map((t, i) => [t, s.values[i]]) }) as unknown as { __name__: string; district?: string })
      .sort((a, b) => `${a.__name__} ${a.district ?? ""}`.localeCompare(`${b.__name__} ${b.district ?? ""}`));
    expect(summary).toEqual([
      { __name__: 'traffic_intensity', device: deviceId, family: 'traffic', points: readings.slice(0, 25).map((r) => [r.ts, r.intensity]) },
      { __name__: 'traffic_intensity', device: deviceId, family: 'traffic', district: 'esil', points: readings.slice(25).map((r) => [r.ts, r.intensity]) },
      { __name__: 'traffic_occupancy', device: deviceId, family: 'traffic', points: readings.slice(0, 25).map((r) => [r.ts, r.occupancy]) },
      { __name__: 'traffic_occupancy', device: deviceId, family: 'traffic', district: 'esil', points: readings.slice(25).map((r) => [r.ts, r.occupancy]) },
    ]);
  });
});
