import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '@city/core';
import { testEnv, uniqueName } from './support/env.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

describe('device status: one retained online/offline message per device, published by the broker', () => {
  let pipeline: Pipeline;
  beforeAll(async () => {
    pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v1', url: testEnv.influxV1Url, database: 'unused' } });
  });
  afterAll(() => pipeline?.stop());

  const statusOf = async (topic: string) => {
    // A console that connects now sees the retained message at once.
    const console = await pipeline.connectOperator();
    const seen: string[] = [];
    console.on('message', (t, payload) => t === topic && seen.push((JSON.parse(payload.toString()) as { status: string }).status));
    await console.subscribeAsync(topic, { qos: 1 });
    const status = await eventually(() => Promise.resolve(seen.at(-1)), (s) => s !== undefined, 5000);
    await console.endAsync();
    return status;
  };

  it('tells operators when a device comes online and when it goes, and a late console sees the current state', async () => {
    const id = uniqueName('wtr');
    const topic = deviceTopic('water', id, 'status');
    const operator = await pipeline.connectOperator();
    const live: Array<{ status: string; at: string }> = [];
    operator.on('message', (t, payload) => t === topic && live.push(JSON.parse(payload.toString()) as { status: string; at: string }));
    await operator.subscribeAsync('city/v1/+/+/status', { qos: 1 });

    const device = await pipeline.connectDevice('water', id);
    await eventually(() => Promise.resolve(live.length), (n) => n === 1);
    expect(await statusOf(topic)).toBe('online');

    device.stream.destroy(); // a lost connection, not a clean DISCONNECT
    await eventually(() => Promise.resolve(live.map((m) => m.status)), (s) => s.length === 2);
    expect(live.map((m) => m.status)).toEqual(['online', 'offline']);
    expect(Date.parse(live[1]!.at)).toBeGreaterThanOrEqual(Date.parse(live[0]!.at));
    await device.endAsync(true);
    expect(await statusOf(topic)).toBe('offline');
  });

  it('stays online when a device reconnects and its new connection takes over the old one', async () => {
    const id = uniqueName('elc');
    const topic = deviceTopic('electricity', id, 'status');
    const first = await pipeline.connectDevice('electricity', id, { reconnectPeriod: 0 });
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    await pipeline.connectDevice('electricity', id);
    await firstClosed;
    await new Promise((r) => setTimeout(r, 200)); // the old connection's disconnect has been handled
    expect(await statusOf(topic)).toBe('online');
  });
});
