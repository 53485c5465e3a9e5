import { afterAll, describe, expect, it } from 'vitest';
import { createDelayProxy, type DelayProxy } from '../support/delay-proxy.ts';
import { testEnv } from '../support/env.ts';
import { eventually } from '../support/start-pipeline.ts';
import { runScenario, startFaultStack, type FaultStack } from './fault-stack.ts';

describe('fault 1: a worker is SIGKILLed in the middle of writing a batch', () => {
  let stack: FaultStack | undefined;
  let proxy: DelayProxy | undefined;
  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
  });

  it('another worker takes over its batches once their locks expire: every acknowledged reading stored, once', async () => {
    // Every InfluxDB answer comes 700 ms late, so a write is in flight whenever the worker is killed.
    proxy = await createDelayProxy(testEnv.influxV1Url, 700);
    stack = await startFaultStack({
      redisUrl: testEnv.redisUrl, influxUrl: proxy.url, influxQueryUrl: testEnv.influxV1Url,
      // A dead worker's jobs are taken over after 2 s instead of 30 s.
      workerEnv: { STORAGE_LOCK_DURATION_MS: '2000' },
    });
    await stack.startBroker();
    const first = await stack.startWorker();
    const live = proxy;

    const figures = await runScenario({
      name: 'worker SIGKILL mid-write', stack, influxQueryUrl: testEnv.influxV1Url, durationMs: 12_000, faultAtMs: 4000,
      fault: async () => {
        // The moment a new write request reaches InfluxDB: its answer is still 700 ms away.
        const before = live.requests();
        await eventually(() => Promise.resolve(live.requests()), (n) => n > before, 10_000);
        first.process.child.kill('SIGKILL');
        await first.process.exited;
        await stack!.startWorker();
      },
    });

    expect(figures.publishErrors).toBe(0);
    expect(figures.messagesAcked).toBe(figures.messagesSent);
    expect(figures.stored).toBe(figures.readingsAcked);
    expect(figures.failedJobs).toBe(0);
  }, 90_000);
});
