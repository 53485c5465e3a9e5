import { afterAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { operatorUsername } from '@city/registry';
import { testEnv } from '../support/env.ts';
import { createInfluxServer, type ServerProcess } from '../support/processes.ts';
import { eventually } from '../support/start-pipeline.ts';
import { runScenario, scrape, startFaultStack, type FaultStack } from './fault-stack.ts';

describe('fault 2: InfluxDB is stopped long enough for hundreds of batches to wait, then started', () => {
  let influx: ServerProcess | undefined;
  let stack: FaultStack | undefined;
  let operator: MqttClient | undefined;
  afterAll(async () => {
    await operator?.endAsync(true);
    await stack?.stop();
    await influx?.stop();
  });

  it('the backlog waits in Redis without using attempts, operators hear "degraded" then "recovered", and it drains exactly', async () => {
    influx = await createInfluxServer();
    await influx.start();
    stack = await startFaultStack({
      redisUrl: testEnv.redisUrl, influxUrl: influx.url, influxQueryUrl: influx.url,
      // Short pauses (the default cap is 30 s) and an early alert keep the test short.
      workerEnv: { STORAGE_RETRY_MAX_MS: '2000', PIPELINE_DEGRADED_AFTER_MS: '3000' },
    });
    await stack.startBroker();
    const worker = await stack.startWorker();

    const added = await stack.registry.addOperator('ops', 'operator');
    if (!added.ok) throw new Error('operator exists under a fresh prefix');
    operator = await mqtt.connectAsync(stack.mqttUrl, { clientId: `${operatorUsername('ops')}:faults`, username: operatorUsername('ops'), password: added.token, reconnectPeriod: 250 });
    const statuses: Array<{ state: string; reason: string }> = [];
    operator.on('message', (_topic, payload) => statuses.push(JSON.parse(payload.toString()) as { state: string; reason: string }));
    await operator.subscribeAsync('city/v1/alerts/pipeline/+', { qos: 1 });

    const db = influx;
    const figures = await runScenario({
      name: 'InfluxDB stopped 10 s', stack, influxQueryUrl: influx.url, durationMs: 16_000, faultAtMs: 3000,
      fault: async () => {
        await db.stop();
        await new Promise((r) => setTimeout(r, 10_000));
        await db.start();
      },
    });

    expect(figures.publishErrors).toBe(0);
    expect(figures.messagesAcked).toBe(figures.messagesSent);
    expect(figures.stored).toBe(figures.readingsAcked);
    expect(figures.failedJobs).toBe(0);
    expect(figures.maxBacklogJobs).toBeGreaterThan(100);
    // The outage cost no attempt: every job went back to wait through the rate limit.
    expect(await scrape(worker.metricsUrl, 'city_worker_storage_retries_total')).toBe(0);
    expect(await scrape(worker.metricsUrl, 'city_worker_storage_waits_total', { code: 'network' })).toBeGreaterThan(0);
    await eventually(() => Promise.resolve(statuses.map((s) => s.state)), (s) => s.includes('recovered'), 10_000);
    expect(statuses.map((s) => s.state)).toEqual(['degraded', 'recovered']);
    expect(statuses[0]!.reason).toBe('network');
  }, 90_000);
});
