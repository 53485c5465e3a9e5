import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import mqtt from 'mqtt';
import { QUEUES, createRedis } from '@city/queue';
import { createDeviceRegistry } from '@city/registry';
import { telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { createDelayProxy } from './support/delay-proxy.ts';
import { freePort, spawnService, type ServiceProcess } from './support/processes.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually } from './support/start-pipeline.ts';

const started: ServiceProcess[] = [];
afterAll(() => {
  for (const service of started) service.child.kill('SIGKILL');
});

describe('service processes', () => {
  it('broker: a bad environment is refused at start, every problem named, exit code 1', async () => {
    const broker = spawnService('broker', { MQTT_PORT: 'abc', BATCH_MAX_READINGS: '0', REDIS_URL: 'http://127.0.0.1:6379', LOG_LEVEL: 'loud' });
    expect(await broker.exited).toBe(1);
    expect(broker.output()).toContain('broker: Invalid configuration:');
    for (const line of [
      'MQTT_PORT: must be a whole number from 0 to 65535 (got "abc")',
      'BATCH_MAX_READINGS: must be a whole number from 1 to 10000 (got "0")',
      'REDIS_URL: must be a URL starting with redis:// or rediss:// (got "http://127.0.0.1:6379")',
      'LOG_LEVEL: ',
    ]) expect(broker.output()).toContain(line);
  });

  it('worker: missing settings for the chosen InfluxDB API and unknown roles are named, exit code 1', async () => {
    const worker = spawnService('worker', { INFLUX_API: 'v2', WORKER_ROLES: 'storage,billing' });
    expect(await worker.exited).toBe(1);
    for (const line of ['INFLUX_ORG: required with INFLUX_API=v2', 'INFLUX_BUCKET: required with INFLUX_API=v2', 'WORKER_ROLES']) {
      expect(worker.output()).toContain(line);
    }
  });

  it('worker: a rules file with a mistake names the rule and the field, exit code 1', async () => {
    const { writeFile } = await import('node:fs/promises');
    const path = `/tmp/${uniqueName('rules')}.json`;
    await writeFile(path, JSON.stringify({ version: 2, rules: [{ id: 'pm', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'over', levels: [{ severity: 'high', threshold: 75 }] }] }));
    const worker = spawnService('worker', { INFLUX_DB: 'x', ALERT_RULES_FILE: path });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toMatch(/rule "pm" field comparison: .*"above".*"below"/);
  });

  it('broker: on SIGTERM the readings held in its micro-batch reach Redis, their publishers get the PUBACK, exit code 0', async () => {
    const prefix = uniqueName('sigterm');
    const [mqttPort, opsPort] = [await freePort(), await freePort()];
    // A batch that would wait 30 s: only the shutdown flush can put it into Redis in time.
    const broker = spawnService('broker', {
      REDIS_URL: testEnv.redisUrl, QUEUE_PREFIX: prefix, MQTT_PORT: String(mqttPort), OPS_PORT: String(opsPort),
      BATCH_MAX_DELAY_MS: '10000', BATCH_MAX_READINGS: '10000', LOG_LEVEL: 'info',
    });
    started.push(broker);
    await broker.waitForLog(/broker listening/);
    // The broker only lets registered devices in: provision this one under the broker's prefix, as the CLI would.
    const admin = createRedis(testEnv.redisUrl, 'worker');
    const registry = createDeviceRegistry({ redis: admin, prefix });
    const added = await registry.addDevice({ id: 'trf-sigterm-1', family: 'traffic', enabled: true });
    if (!added.ok) throw new Error('trf-sigterm-1 exists under a fresh prefix');
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'trf-sigterm-1', username: 'trf-sigterm-1', password: added.token, reconnectPeriod: 0 });
    let acked = false;
    const publish = device.publishAsync(telemetryTopic('traffic', 'trf-sigterm-1'), JSON.stringify({ intensity: 17 }), { qos: 1 }).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toBe(false);

    broker.child.kill('SIGTERM');
    await publish;
    expect(await broker.exited).toBe(0);
    await device.endAsync(true);

    const redis = createRedis(testEnv.redisUrl, 'worker');
    const queue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((job) => (job.data as { readings: Array<{ deviceId: string; metrics: object }> }).readings.map((r) => [r.deviceId, r.metrics]))).toEqual([
      [['trf-sigterm-1', { intensity: 17 }]],
    ]);
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await registry.deleteDevice('trf-sigterm-1');
    admin.disconnect();
  });

  it('worker: on SIGTERM the batch being written reaches InfluxDB and its job completes before the process exits', async () => {
    const prefix = uniqueName('wsigterm');
    const db = prefix.replaceAll('-', '_');
    await createInfluxV1Database(testEnv.influxV1Url, db);
    // InfluxDB answers every request 1.5 s late: the write is still in flight when SIGTERM arrives.
    const proxy = await createDelayProxy(testEnv.influxV1Url, 1500);
    const worker = spawnService('worker', {
      REDIS_URL: testEnv.redisUrl, QUEUE_PREFIX: prefix, INFLUX_URL: proxy.url, INFLUX_DB: db,
      WORKER_ROLES: 'storage', OPS_PORT: String(await freePort()), LOG_LEVEL: 'info',
    });
    started.push(worker);
    await worker.waitForLog(/worker running/);

    const redis = createRedis(testEnv.redisUrl, 'worker');
    const queue = new Queue(QUEUES.telemetry.name, { connection: redis, prefix });
    const ts = Date.now() - 5000;
    await queue.add(QUEUES.telemetry.jobName, { readings: [{ family: 'water', deviceId: 'wtr-sigterm-1', ts, receivedAt: ts, metrics: { pressure: 3.3 } }] });
    await eventually(() => Promise.resolve(proxy.requests()), (n) => n > 0);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await queue.getJobCounts('completed', 'active', 'waiting', 'failed')).toEqual({ completed: 1, active: 0, waiting: 0, failed: 0 });
    expect(await storedPoints()).toEqual([{ time: ts, pressure: 3.3 }]);

    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
    await proxy.close();
    await dropInfluxV1Database(testEnv.influxV1Url, db);

    function storedPoints() {
      return queryInfluxV1(testEnv.influxV1Url, db, 'SELECT pressure FROM water');
    }
  });
});
