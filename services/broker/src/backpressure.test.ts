import { describe, expect, it } from 'vitest';
import type { Client, PublishPacket } from 'aedes';
import { Registry } from 'prom-client';
import type { BackpressureSample } from '@city/core';
import { createLogger } from '@city/logger';
import { createBackpressure } from './backpressure.ts';
import { createBackpressureMetrics } from './backpressure-metrics.ts';

const MB = 1024 * 1024;
const client = { id: 'aq-1', closed: false } as unknown as Client;
const packet = (topic: string) => ({ topic, qos: 1, payload: Buffer.from('{}') }) as unknown as PublishPacket;
const telemetry = packet('city/v1/airquality/aq-1/telemetry');

function setup() {
  let next: BackpressureSample | Error = { at: 0, backlogJobs: 0, usedMemoryBytes: 10 * MB, maxMemoryBytes: 100 * MB };
  const registry = new Registry();
  const metrics = createBackpressureMetrics([registry]);
  const backpressure = createBackpressure({
    sample: () => (next instanceof Error ? Promise.reject(next) : Promise.resolve(next)),
    options: { memoryHighRatio: 0.8, memoryLowRatio: 0.6, backlogHighJobs: 100, backlogLowJobs: 10, sampleMs: 60_000 },
    metrics,
    logger: createLogger({ name: 'test', level: 'silent' }),
  });
  return {
    backpressure,
    registry,
    set: (usedMb: number, backlogJobs = 0) => void (next = { at: 0, backlogJobs, usedMemoryBytes: usedMb * MB, maxMemoryBytes: 100 * MB }),
    fail: () => void (next = new Error('Connection is closed.')),
  };
}

async function value(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe('createBackpressure', () => {
  it('lets publishes through until Redis passes the high-water mark, holds them, and releases them below the low one', async () => {
    const { backpressure, registry, set } = setup();
    const passed: string[] = [];
    backpressure.hold(client, telemetry, () => passed.push('before'));
    expect(passed).toEqual(['before']);

    set(85);
    await backpressure.sampleNow();
    backpressure.hold(client, telemetry, () => passed.push('held 1'));
    backpressure.hold(client, packet('city/v1/alerts/high/airquality/aq-1'), () => passed.push('alert'));
    backpressure.hold(null, telemetry, () => passed.push('broker'));
    backpressure.hold(client, telemetry, () => passed.push('held 2'));
    expect(passed).toEqual(['before', 'alert', 'broker']);
    expect(await value(registry, 'city_broker_backpressure')).toBe(1);
    expect(await value(registry, 'city_broker_backpressure_held')).toBe(2);

    set(70); // between the marks: still held
    await backpressure.sampleNow();
    expect(passed).toHaveLength(3);

    set(60);
    await backpressure.sampleNow();
    expect(passed).toEqual(['before', 'alert', 'broker', 'held 1', 'held 2']);
    expect(await value(registry, 'city_broker_backpressure')).toBe(0);
    expect(await value(registry, 'city_broker_backpressure_transitions_total')).toBe(2);
    backpressure.close();
  });

  it('keeps its state while Redis cannot be read, and close lets everything held go', async () => {
    const { backpressure, registry, set, fail } = setup();
    set(10, 500);
    await backpressure.sampleNow();
    const passed: number[] = [];
    backpressure.hold(client, telemetry, () => passed.push(1));
    fail();
    await backpressure.sampleNow();
    expect(backpressure.state().engaged).toBe(true);
    expect(await value(registry, 'city_broker_backpressure_sample_errors_total')).toBe(1);
    expect(passed).toEqual([]);
    backpressure.close();
    expect(passed).toEqual([1]);
  });
});
