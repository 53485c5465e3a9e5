import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '../support/env.ts';
import { createRedisServer, type ServerProcess } from '../support/processes.ts';
import { eventually } from '../support/start-pipeline.ts';
import { runScenario, scrape, startFaultStack, type FaultStack } from './fault-stack.ts';

// Small enough that the fleet fills it in seconds (~1.2 MB is Redis itself, the registry and the queue; 2000
// readings/s add ~0.5 MB/s while no worker drains them), with room above the high-water mark for a worker to start:
// a worker connecting to a Redis at its limit fails with OOM (NOTES.md), which is what backpressure prevents.
const MAXMEMORY_MB = 12;

describe('fault 6: Redis near its memory limit while the worker is away', () => {
  let redis: ServerProcess | undefined;
  let stack: FaultStack | undefined;
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('the broker stops acknowledging before Redis is full, nothing is lost, and it recovers by itself once the worker drains', async () => {
    redis = await createRedisServer(['--maxmemory', `${MAXMEMORY_MB}mb`]);
    await redis.start();
    stack = await startFaultStack({
      redisUrl: redis.url, influxUrl: testEnv.influxV1Url, influxQueryUrl: testEnv.influxV1Url,
      brokerEnv: {
        BACKPRESSURE_MEMORY_HIGH_PERCENT: '50', BACKPRESSURE_MEMORY_LOW_PERCENT: '40', BACKPRESSURE_SAMPLE_MS: '100',
        // Completed jobs are kept (the last 100) with their readings: small jobs keep that well under the low mark
        // of so small a Redis. 20 publishes/s per device is the default limit; leave it room.
        BATCH_MAX_READINGS: '50', PUBLISHES_PER_SECOND_PER_CLIENT: '100',
      },
    });
    await stack.startBroker();
    const live = stack;
    const brokerMetrics = stack.brokerMetricsUrl;
    let heldAtMost = 0;

    const figures = await runScenario({
      name: `Redis maxmemory ${MAXMEMORY_MB} MB, no worker until backpressure`, stack, influxQueryUrl: testEnv.influxV1Url,
      devicesPerFamily: 34, intervalMs: 50, durationMs: 20_000, faultAtMs: 0,
      fault: async () => {
        // No worker yet: the backlog grows until Redis passes the high-water mark and the broker holds publishes.
        await eventually(() => scrape(brokerMetrics, 'city_broker_backpressure'), (v) => v === 1, 30_000);
        // Held for a while: no PUBACK, and Redis stays below its limit.
        await new Promise((r) => setTimeout(r, 3000));
        heldAtMost = await scrape(brokerMetrics, 'city_broker_backpressure_held');
        await live.startWorker();
        await eventually(() => scrape(brokerMetrics, 'city_broker_backpressure'), (v) => v === 0, 30_000);
      },
    });
    console.log(
      `[fault] backpressure: engaged ${await scrape(brokerMetrics, 'city_broker_backpressure_transitions_total', { state: 'engaged' })} time(s), ` +
        `${(await scrape(brokerMetrics, 'city_broker_backpressure_seconds_total')).toFixed(1)} s in all, ${heldAtMost} publishes held at once, ` +
        `${await scrape(brokerMetrics, 'city_broker_enqueue_failures_total')} enqueue failures, Redis at ${(100 * (await scrape(brokerMetrics, 'city_broker_redis_memory_ratio'))).toFixed(0)} % of maxmemory at the end`,
    );

    expect(figures.messagesAcked + figures.publishErrors + figures.inFlightAtStop).toBe(figures.messagesSent);
    expect(figures.stored).toBe(figures.readingsAcked);
    expect(figures.failedJobs).toBe(0);
    expect(heldAtMost).toBeGreaterThan(0);
    // Redis never filled up: no enqueue failed with OOM.
    expect(await scrape(brokerMetrics, 'city_broker_enqueue_failures_total')).toBe(0);
    expect(await scrape(brokerMetrics, 'city_broker_backpressure_transitions_total', { state: 'engaged', reason: 'memory' })).toBeGreaterThan(0);
  }, 120_000);
});
