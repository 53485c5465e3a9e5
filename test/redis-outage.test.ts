import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { createRedisServer, type ServerProcess } from './support/processes.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

describe('Redis outage: no PUBACK while Redis is down, nothing lost when it is back', () => {
  const db = uniqueName('outage').replaceAll('-', '_');
  let redis: ServerProcess;
  let pipeline: Pipeline;
  let device: MqttClient;

  beforeAll(async () => {
    redis = await createRedisServer();
    await redis.start();
    await createInfluxV1Database(testEnv.influxV1Url, db);
    pipeline = await startPipeline({ redisUrl: redis.url, sink: { api: 'v1', url: testEnv.influxV1Url, database: db }, enqueueTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await device?.endAsync(true);
    await pipeline?.stop();
    await redis?.stop();
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('withholds the PUBACK, then stores the reading the device resends after reconnecting, exactly once', async () => {
    const topic = telemetryTopic('water', 'wtr-outage-1');
    const t0 = Date.now() - 10_000;
    device = await pipeline.connectDevice('water', 'wtr-outage-1', { reconnectPeriod: 250 });
    let disconnects = 0;
    device.on('close', () => disconnects++);
    await device.publishAsync(topic, JSON.stringify({ ts: t0, pressure: 4.1 }), { qos: 1 });

    await redis.stop();
    let acked = false;
    const during = device.publishAsync(topic, JSON.stringify({ ts: t0 + 1000, pressure: 4.2 }), { qos: 1 }).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 3000));
    expect(acked).toBe(false);
    expect(disconnects).toBeGreaterThan(0);

    await redis.start();
    await during; // mqtt.js resends the unacknowledged PUBLISH on reconnect; this time it is acknowledged
    const rows = await eventually(
      () => queryInfluxV1(testEnv.influxV1Url, db, 'SELECT pressure FROM water ORDER BY time'),
      (r) => r.length === 2,
      15_000,
    );
    expect(rows).toEqual([
      { time: t0, pressure: 4.1 },
      { time: t0 + 1000, pressure: 4.2 },
    ]);
  });
});
