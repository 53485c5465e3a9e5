import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '../support/env.ts';
import { createHttpFaultProxy, type HttpFaultProxy } from '../support/http-fault-proxy.ts';
import { runScenario, scrape, startFaultStack, type FaultStack } from './fault-stack.ts';

describe('fault 5: InfluxDB answers 503 and 429 (throttling) for a while', () => {
  let proxy: HttpFaultProxy | undefined;
  let stack: FaultStack | undefined;
  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
  });

  it('the worker pauses (Retry-After when given) without using attempts, and every acknowledged reading is stored once', async () => {
    // InfluxDB 1.x throttles with a plain-text 503; a gateway or InfluxDB Cloud with 429 and Retry-After.
    proxy = await createHttpFaultProxy(testEnv.influxV1Url);
    stack = await startFaultStack({
      redisUrl: testEnv.redisUrl, influxUrl: proxy.url, influxQueryUrl: testEnv.influxV1Url,
      workerEnv: { STORAGE_RETRY_MAX_MS: '2000' },
    });
    await stack.startBroker();
    const worker = await stack.startWorker();
    const throttling = proxy;

    const figures = await runScenario({
      name: 'InfluxDB throttling 8 s (503 / 429 Retry-After: 1)', stack, influxQueryUrl: testEnv.influxV1Url, durationMs: 14_000, faultAtMs: 3000,
      fault: async () => {
        throttling.set((n) =>
          n % 2 === 0 ? { kind: 'answer', status: 503, body: 'Service Unavailable' } : { kind: 'answer', status: 429, body: '{"code":"too many requests"}', retryAfterS: 1 },
        );
        await new Promise((r) => setTimeout(r, 8000));
        throttling.set({ kind: 'pass' });
      },
    });

    expect(figures.publishErrors).toBe(0);
    expect(figures.messagesAcked).toBe(figures.messagesSent);
    expect(figures.stored).toBe(figures.readingsAcked);
    expect(figures.failedJobs).toBe(0);
    expect(throttling.counts().faulted).toBeGreaterThan(0);
    // Throttling cost no attempt: jobs went back to wait through the rate limit.
    expect(await scrape(worker.metricsUrl, 'city_worker_storage_retries_total')).toBe(0);
    expect(await scrape(worker.metricsUrl, 'city_worker_storage_waits_total', { code: 'throttled' })).toBeGreaterThan(0);
    console.log(`[fault] throttling: ${throttling.counts().faulted} writes answered 503/429, ${throttling.counts().forwarded} reached InfluxDB`);
  }, 90_000);
});
