import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '../support/env.ts';
import { createRedisServer, type ServerProcess } from '../support/processes.ts';
import { runScenario, startFaultStack, type FaultStack } from './fault-stack.ts';

describe('fault 4: Redis (AOF on) is restarted while the broker and the worker run', () => {
  let redis: ServerProcess | undefined;
  let stack: FaultStack | undefined;
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('no PUBACK while it is down, devices resend, the queue survives in the AOF, and everything drains exactly', async () => {
    redis = await createRedisServer();
    await redis.start();
    stack = await startFaultStack({
      redisUrl: redis.url, influxUrl: testEnv.influxV1Url, influxQueryUrl: testEnv.influxV1Url,
      // A job whose completion Redis missed is found stalled after 3 s instead of 30 s.
      workerEnv: { STORAGE_LOCK_DURATION_MS: '3000' },
    });
    await stack.startBroker();
    await stack.startWorker();
    const server = redis;

    const figures = await runScenario({
      name: 'Redis restarted (2 s down)', stack, influxQueryUrl: testEnv.influxV1Url, durationMs: 12_000, faultAtMs: 4000,
      fault: async () => {
        // SIGTERM: Redis writes its AOF and exits, as a service restart does.
        await server.stop();
        await new Promise((r) => setTimeout(r, 2000));
        await server.start();
      },
    });

    // Devices whose connection closed while mqtt.js was resending may lose publishes queued behind (publishErrors,
    // never acknowledged); every acknowledged one is stored, and none twice.
    expect(figures.messagesAcked + figures.publishErrors + figures.inFlightAtStop).toBe(figures.messagesSent);
    expect(figures.stored).toBe(figures.readingsAcked);
    expect(figures.failedJobs).toBe(0);
  }, 90_000);
});
