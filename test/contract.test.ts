import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceErrorsTopic, telemetryTopic, type Family } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { createMqttFaultProxy } from './support/mqtt-fault-proxy.ts';
import { repoRoot } from './support/processes.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

/** `pnpm city …` as an operator runs it, against this pipeline's Redis and prefix. */
function city(prefix: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'services/cli/src/main.ts'), '--redis-url', testEnv.redisUrl, '--prefix', prefix, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the device contract, end to end: MQTT → broker → Redis → worker → InfluxDB 1.6.7', () => {
  const db = uniqueName('contract').replaceAll('-', '_');
  let pipeline: Pipeline;
  const now = Date.now();
  const select = (q: string) => queryInfluxV1(testEnv.influxV1Url, db, q);
  const id = (label: string) => uniqueName(label);
  const publish = async (family: Family, deviceId: string, payload: unknown) => {
    const device = await pipeline.connectDevice(family, deviceId);
    await device.publishAsync(telemetryTopic(family, deviceId), typeof payload === 'string' ? payload : JSON.stringify(payload), { qos: 1 });
    return device;
  };

  beforeAll(async () => {
    await createInfluxV1Database(testEnv.influxV1Url, db);
    pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v1', url: testEnv.influxV1Url, database: db } });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('stores a SenML pack as one point per time, with the metrics converted to their units', async () => {
    const deviceId = id('aq-senml');
    const t0s = Math.floor(now / 1000) - 120;
    const device = await publish('airquality', deviceId, [
      { bn: `urn:dev:mac:0024befffe804ff1:`, bt: t0s, bu: 'ug/m3', n: 'pm25', v: 41.5 },
      { n: 'pm10', v: 60 },
      { n: 'temperature', u: 'K', v: 254.65 },
      { n: 'relativeHumidity', u: '%RH', v: 71 },
      { n: 'co', u: 'ug/m3', v: 1200 },
      { n: 'pm25', t: 60, v: 43 },
    ]);
    await device.publishAsync(telemetryTopic('airquality', deviceId), JSON.stringify([{ bt: t0s, n: 'temperature', u: 'degF', v: 0 }]), { qos: 1 });
    const meterId = id('elc-senml');
    await publish('electricity', meterId, [{ bt: t0s, n: 'activeEnergyImport', u: 'Wh', s: 1_234_567 }, { n: 'voltageL1', u: 'mV', v: 229_400 }, { n: 'voltageL2', v: 231 }]);

    const fields = 'pm25, pm10, temperature, relativeHumidity, co, late';
    expect(await eventually(() => select(`SELECT ${fields} FROM airquality WHERE device = '${deviceId}' ORDER BY time`), (r) => r.length === 2)).toEqual([
      { time: t0s * 1000, pm25: 41.5, pm10: 60, temperature: -18.5, relativeHumidity: 0.71, co: 1.2, late: null },
      { time: (t0s + 60) * 1000, pm25: 43, pm10: null, temperature: null, relativeHumidity: null, co: null, late: null },
    ]);
    expect(await eventually(() => select(`SELECT activeEnergyImport, voltageL1, voltageL2 FROM electricity WHERE device = '${meterId}'`), (r) => r.length === 1)).toEqual([
      { time: t0s * 1000, activeEnergyImport: 1234.567, voltageL1: 229.4, voltageL2: 231 },
    ]);
    const rejects = await pipeline.deadLetters.list(50);
    expect(rejects.find((e) => e.clientId === deviceId)).toMatchObject({ reason: 'unsupported_unit', index: 0, detail: expect.stringContaining('unit "degF" cannot be converted to °C for temperature') as unknown });
  });

  it('stores a late reading flagged late=true, and rejects event times too far ahead or too old with their reasons', async () => {
    const deviceId = id('aq-time');
    const device = await publish('airquality', deviceId, { ts: now - 60_000, pm25: 10 });
    const topic = telemetryTopic('airquality', deviceId);
    await device.publishAsync(topic, JSON.stringify({ ts: now - 3_600_000, pm25: 11 }), { qos: 1 });
    await device.publishAsync(topic, JSON.stringify({ ts: now + 3_600_000, pm25: 12 }), { qos: 1 });
    await device.publishAsync(topic, JSON.stringify({ ts: now - 8 * 86_400_000, pm25: 13 }), { qos: 1 });

    expect(await eventually(() => select(`SELECT pm25, late FROM airquality WHERE device = '${deviceId}' ORDER BY time`), (r) => r.length === 2)).toEqual([
      { time: now - 3_600_000, pm25: 11, late: true },
      { time: now - 60_000, pm25: 10, late: null },
    ]);
    const rejects = (await pipeline.deadLetters.list(100)).filter((e) => e.clientId === deviceId);
    expect(rejects.map((e) => [e.reason, JSON.parse(e.payload) as unknown])).toEqual([
      ['timestamp_too_old', { ts: now - 8 * 86_400_000, pm25: 13 }],
      ['timestamp_in_future', { ts: now + 3_600_000, pm25: 12 }],
    ]);
    expect(rejects[0]?.detail).toMatch(/is 192.0 h before the receive time; at most 168.0 h is accepted/);
  });

  it('marks a meter counter that went back with counterReset=true, stores it as sent, and never rejects it', async () => {
    const deviceId = id('wtr-meter');
    const t = now - 600_000;
    const device = await publish('water', deviceId, [{ ts: t, waterConsumption: 872.1 }, { ts: t + 60_000, waterConsumption: 872.6 }]);
    // The meter is replaced: the next message starts from nearly zero.
    await device.publishAsync(telemetryTopic('water', deviceId), JSON.stringify([{ ts: t + 120_000, waterConsumption: 0.2 }, { ts: t + 180_000, waterConsumption: 0.5 }]), { qos: 1 });

    const rows = await eventually(() => select(`SELECT waterConsumption, counterReset FROM water WHERE device = '${deviceId}' ORDER BY time`), (r) => r.length === 4);
    expect(rows).toEqual([
      { time: t, waterConsumption: 872.1, counterReset: null },
      { time: t + 60_000, waterConsumption: 872.6, counterReset: null },
      { time: t + 120_000, waterConsumption: 0.2, counterReset: true },
      { time: t + 180_000, waterConsumption: 0.5, counterReset: null },
    ]);
    // What a consumption query sees: no negative step across the reset.
    const deltas = await select(`SELECT NON_NEGATIVE_DIFFERENCE(waterConsumption) FROM water WHERE device = '${deviceId}'`);
    expect(deltas.every((r) => (r.non_negative_difference as number) >= 0)).toBe(true);
    expect((await pipeline.deadLetters.list(200)).filter((e) => e.clientId === deviceId)).toEqual([]);
  });

  it('stores a reading without ts once when mqtt.js resends it after losing the PUBACK', async () => {
    const deviceId = id('prk-resend');
    const proxy = await createMqttFaultProxy(pipeline.mqttUrl);
    try {
      const device = await pipeline.connectDevice('parking', deviceId, { brokerUrl: proxy.url, reconnectPeriod: 100 });
      proxy.dropNextPuback();
      // Resolves only when a PUBACK arrives: after the reconnect and the resend.
      await device.publishAsync(telemetryTopic('parking', deviceId), JSON.stringify({ occupiedSpotNumber: 282, totalSpotNumber: 414 }), { qos: 1 });
      expect(proxy.droppedPubacks()).toBe(1);
      const sent = proxy.publishes.filter((p) => p.topic === telemetryTopic('parking', deviceId));
      expect(sent).toHaveLength(2);
      expect(sent[1]).toMatchObject({ messageId: sent[0]!.messageId, connection: sent[0]!.connection + 1 });
      // mqtt.js 5 resends without the DUP flag [MQTT-3.3.1-1 says it must set it]: the broker cannot rely on it.
      expect(sent.map((p) => p.dup)).toEqual([false, false]);

      const rows = await eventually(() => select(`SELECT occupiedSpotNumber FROM parking WHERE device = '${deviceId}'`), (r) => r.length >= 1);
      // Both deliveries were enqueued and written: give a second point time to appear if it existed.
      await eventually(() => pipeline.telemetryQueue.getJobCounts('completed', 'waiting', 'active'), (c) => c.waiting === 0 && c.active === 0);
      expect(await select(`SELECT occupiedSpotNumber FROM parking WHERE device = '${deviceId}'`)).toEqual(rows);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.time as number).toBeGreaterThanOrEqual(now);
    } finally {
      await proxy.close();
    }
  });

  it('tells the device why on its own error topic: {reason, detail, index?, topic, at}', async () => {
    const deviceId = id('aq-feedback');
    const device = await pipeline.connectDevice('airquality', deviceId);
    const messages: Array<{ on: string; message: Record<string, unknown> }> = [];
    device.on('message', (on, payload) => messages.push({ on, message: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await device.subscribeAsync(deviceErrorsTopic('airquality', deviceId), { qos: 1 });
    const topic = telemetryTopic('airquality', deviceId);
    await device.publishAsync(topic, JSON.stringify({ pm25: 80, pm10: 60 }), { qos: 1 });
    await device.publishAsync(topic, JSON.stringify([{ ts: now - 1000, pm25: 1 }, { ts: now - 500, relativeHumidity: 71 }]), { qos: 1 });

    const on = deviceErrorsTopic('airquality', deviceId);
    await eventually(() => Promise.resolve(messages.length), (n) => n >= 2);
    const at = expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown;
    expect(messages).toEqual([
      { on, message: { reason: 'inconsistent_metrics', detail: 'pm25 80 is above pm10 60: PM2.5 is part of PM10', topic, at } },
      { on, message: { reason: 'out_of_range', detail: 'relativeHumidity is above the maximum 1 fraction 0..1 (a fraction: send 0.71 for 71 %)', index: 1, topic, at } },
    ]);
    expect(messages.every(({ message }) => Math.abs(Date.parse(message.at as string) - Date.now()) < 60_000)).toBe(true);
  });

  it('lists a device’s rejects with `city dead-letters list`, and `replay` stores a fixed entry once', async () => {
    const deviceId = id('wx-backlog');
    // A gateway's backlog, ten days old: outside the 7-day window, so rejected; the operator lets it in on replay.
    const ts = now - 10 * 86_400_000;
    await publish('weather', deviceId, { ts, temperature: -7.5, relativeHumidity: 0.8, dewPoint: -10.1 });
    await publish('weather', deviceId, { temperature: -7.5, windSpeed: 900 });

    const listed = await city(pipeline.prefix, 'dead-letters', 'list', '--device', deviceId, '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const list = JSON.parse(listed.stdout) as { entries: Array<{ id: string; reason: string }>; summary: { byReason: unknown[]; byDevice: unknown[] } };
    expect(list.entries.map((e) => e.reason)).toEqual(['out_of_range', 'timestamp_too_old']);
    expect(list.summary.byDevice).toEqual([{ device: deviceId, count: 2, reasons: { out_of_range: 1, timestamp_too_old: 1 } }]);
    const tooOld = list.entries[1]!.id;

    const table = await city(pipeline.prefix, 'dead-letters', 'list', '--reason', 'timestamp_too_old', '--since', '1h');
    expect(table.stdout).toContain(tooOld);
    expect(table.stdout).toMatch(/timestamp_too_old\s+1/);

    const replay = await city(pipeline.prefix, 'dead-letters', 'replay', '--device', deviceId, '--max-age', '30d', '--json');
    expect(replay.code, replay.stderr).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual([
      { id: tooOld, status: 'replayed', readings: 1, jobId: `replay-${tooOld}` },
      expect.objectContaining({ status: 'still_invalid', rejects: [expect.objectContaining({ reason: 'out_of_range' })] }),
    ]);
    const again = await city(pipeline.prefix, 'dead-letters', 'replay', tooOld, '--max-age', '30d', '--json');
    expect(JSON.parse(again.stdout)).toEqual([{ id: tooOld, status: 'already_replayed', readings: 1, jobId: `replay-${tooOld}` }]);

    const rows = await eventually(() => select(`SELECT temperature, dewPoint, late FROM weather WHERE device = '${deviceId}'`), (r) => r.length === 1);
    await eventually(() => pipeline.telemetryQueue.getJobCounts('waiting', 'active'), (c) => c.waiting === 0 && c.active === 0);
    expect(await select(`SELECT temperature, dewPoint, late FROM weather WHERE device = '${deviceId}'`)).toEqual(rows);
    expect(rows).toEqual([{ time: ts, temperature: -7.5, dewPoint: -10.1, late: true }]);
  });
});
