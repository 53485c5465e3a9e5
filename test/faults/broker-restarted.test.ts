import { afterAll, describe, expect, it } from 'vitest';
import { testEnv } from '../support/env.ts';
import { runScenario, startFaultStack, type FaultStack } from './fault-stack.ts';

describe('fault 3: the broker process is killed and restarted while devices publish at QoS 1', () => {
  let stack: FaultStack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('devices reconnect and resend what was not acknowledged; nothing acknowledged is lost, nothing is stored twice', async () => {
    stack = await startFaultStack({ redisUrl: testEnv.redisUrl, influxUrl: testEnv.influxV1Url, influxQueryUrl: testEnv.influxV1Url });
    await stack.startBroker();
    await stack.startWorker();
    const live = stack;

    const figures = await runScenario({
      name: 'broker SIGKILL + restart', stack, influxQueryUrl: testEnv.influxV1Url, durationMs: 12_000, faultAtMs: 4000,
      fault: async () => {
        // SIGKILL: readings in its micro-batch (not yet in Redis, so not acknowledged) die with it.
        await live.stopBroker('SIGKILL');
        await live.startBroker();
      },
    });

    // A connection that closes again while mqtt.js resends loses what it queued behind (publishErrors, never
    // acknowledged); every acknowledged reading is stored, and none twice.
    expect(figures.messagesAcked + figures.publishErrors + figures.inFlightAtStop).toBe(figures.messagesSent);
    expect(figures.stored).toBe(figures.readingsAcked);
    expect(figures.failedJobs).toBe(0);
    expect(figures.reconnects).toBeGreaterThanOrEqual(figures.devices);
  }, 90_000);
});
