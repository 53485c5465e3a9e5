import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { AlertRuleSchema, activeAlertTopic, alertTopic, telemetryTopic, type AlertEvent } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

const rules = [
  { id: 'pm25-high', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: [{ severity: 'high', threshold: 75 }] },
  { id: 'congestion', kind: 'threshold', family: 'traffic', metric: 'occupancy', comparison: 'above', levels: [{ severity: 'medium', threshold: 0.85 }] },
].map((rule) => AlertRuleSchema.parse(rule));

describe('pipeline: MQTT → Redis → worker → InfluxDB 1.6.7 (v1 API), alerts to MQTT', () => {
  const db = uniqueName('e2e').replaceAll('-', '_');
  let pipeline: Pipeline;
  let device: MqttClient;
  const t0 = Date.now() - 60_000;
  const select = (q: string) => queryInfluxV1(testEnv.influxV1Url, db, q);

  beforeAll(async () => {
    await createInfluxV1Database(testEnv.influxV1Url, db);
    pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v1', url: testEnv.influxV1Url, database: db }, rules });
  });
  afterAll(async () => {
    await device?.endAsync(true);
    await pipeline?.stop();
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('stores readings published at QoS 1 with their measurement, tags, fields and event time', async () => {
    device = await pipeline.connectDevice('airquality', 'aq-almaly-0001');
    await device.publishAsync(telemetryTopic('airquality', 'aq-almaly-0001'), JSON.stringify({ ts: t0, pm25: 21.5, pm10: 40, temperature: -18.5, relativeHumidity: 0.71, district: 'almaly' }), { qos: 1 });
    // Each device may publish only to its own topics (the ACL): one client per device.
    await (await pipeline.connectDevice('traffic', 'trf-medeu-0002')).publishAsync(
      telemetryTopic('traffic', 'trf-medeu-0002'),
      JSON.stringify([
        { ts: new Date(t0).toISOString(), intensity: 42, averageVehicleSpeed: 38.5, occupancy: 0.31, congested: false },
        { ts: t0 + 60_000, intensity: 55, averageVehicleSpeed: 31, occupancy: 0.42 },
      ]),
      { qos: 1 },
    );
    await (await pipeline.connectDevice('electricity', 'elc-1')).publishAsync(telemetryTopic('electricity', 'elc-1'), JSON.stringify({ ts: t0, voltage: 229.4, frequency: 50.01, activeEnergyImport: 1234.5 }), { qos: 1 });
    await (await pipeline.connectDevice('water', 'wtr-1')).publishAsync(telemetryTopic('water', 'wtr-1'), JSON.stringify({ ts: t0, waterConsumption: 872.113, flow: 410, pressure: 3.9 }), { qos: 1 });

    const air = await eventually(() => select('SELECT * FROM airquality'), (rows) => rows.length === 1);
    expect(air).toEqual([
      { time: t0, device: 'aq-almaly-0001', family: 'airquality', district: 'almaly', pm25: 21.5, pm10: 40, temperature: -18.5, relativeHumidity: 0.71 },
    ]);
    const traffic = await eventually(() => select('SELECT * FROM traffic ORDER BY time'), (rows) => rows.length === 2);
    expect(traffic).toEqual([
      { time: t0, device: 'trf-medeu-0002', family: 'traffic', intensity: 42, averageVehicleSpeed: 38.5, occupancy: 0.31, congested: false },
      { time: t0 + 60_000, device: 'trf-medeu-0002', family: 'traffic', intensity: 55, averageVehicleSpeed: 31, occupancy: 0.42, congested: null },
    ]);
    expect(await eventually(() => select('SELECT voltage, frequency, activeEnergyImport FROM electricity'), (r) => r.length === 1)).toEqual([
      { time: t0, voltage: 229.4, frequency: 50.01, activeEnergyImport: 1234.5 },
    ]);
    expect(await eventually(() => select('SELECT waterConsumption, flow, pressure FROM water'), (r) => r.length === 1)).toEqual([
      { time: t0, waterConsumption: 872.113, flow: 410, pressure: 3.9 },
    ]);
  });

  it('sends an operator the alert JSON when a reading crosses a threshold', async () => {
    const operator = await pipeline.connectOperator();
    const received: Array<{ topic: string; event: AlertEvent | null }> = [];
    // An empty payload clears the retained alert topic.
    operator.on('message', (topic, payload) => received.push({ topic, event: payload.length === 0 ? null : (JSON.parse(payload.toString()) as AlertEvent) }));
    await operator.subscribeAsync('city/v1/alerts/#', { qos: 1 });

    const device2 = await pipeline.connectDevice('airquality', 'aq-medeu-0009');
    await device2.publishAsync(telemetryTopic('airquality', 'aq-medeu-0009'), JSON.stringify({ ts: t0, pm25: 182.4, pm10: 240, district: 'medeu' }), { qos: 1 });
    await device2.publishAsync(telemetryTopic('airquality', 'aq-medeu-0009'), JSON.stringify({ ts: t0 + 1000, pm25: 12 }), { qos: 1 });
    await device2.endAsync();

    // Raised by the first reading, resolved by the second: each on the stream topic, and the retained topic set then cleared.
    await eventually(() => Promise.resolve(received.length), (n) => n >= 4);
    await new Promise((r) => setTimeout(r, 300)); // an extra, wrong alert would arrive in this time
    await operator.endAsync();
    const stream = received.filter((m) => m.topic === alertTopic('high', 'airquality', 'aq-medeu-0009')).map((m) => m.event!).sort((a, b) => a.seq - b.seq);
    const common = {
      type: 'Alert', category: 'environment', subCategory: 'airPollution', severity: 'high', dateIssued: new Date(t0).toISOString(), alertSource: 'aq-medeu-0009',
      alertId: `pm25-high:aq-medeu-0009:${t0}`, rule: 'pm25-high', ruleKind: 'threshold', family: 'airquality', device: 'aq-medeu-0009', district: 'medeu',
      metric: 'pm25', threshold: 75, comparison: 'above', flapping: false, silenced: false,
    };
    expect(stream).toEqual([
      { ...common, id: 'pm25-high:aq-medeu-0009:1', seq: 1, transition: 'raised', state: 'active', value: 182.4, dateObserved: new Date(t0).toISOString() },
      { ...common, id: 'pm25-high:aq-medeu-0009:2', seq: 2, transition: 'resolved', state: 'resolved', resolvedBy: 'engine', value: 12, dateObserved: new Date(t0 + 1000).toISOString() },
    ]);
    expect(received.filter((m) => m.topic === activeAlertTopic('pm25-high', 'aq-medeu-0009')).map((m) => m.event?.transition ?? 'cleared')).toEqual(['raised', 'cleared']);
    expect(received).toHaveLength(4);
  });

  it('dead-letters each kind of invalid payload with its reason, keeps the device connected, and stores the valid readings beside them', async () => {
    const id = 'aq-bad-0001';
    const bad = await pipeline.connectDevice('airquality', id, { reconnectPeriod: 0 });
    let disconnected = false;
    bad.on('close', () => (disconnected = true));
    const topic = telemetryTopic('airquality', id);
    const cases: Array<[string, string, string]> = [
      [topic, '{"pm25": 12', 'invalid_json'],
      [topic, '{"pm25": "high"}', 'invalid_type'],
      [topic, '{"pm25": 12, "pm2_5": 12}', 'unknown_field'],
      [topic, '{"pm25": -3}', 'out_of_range'],
      [topic, '{"ts": 1700000000, "pm25": 3}', 'invalid_timestamp'],
      [topic, '[]', 'empty_batch'],
      [topic, '{"ts": 1767225600000}', 'no_metrics'],
      // A topic other than its own is refused by the ACL before ingestion: test/device-access.test.ts.
    ];
    for (const [t, payload] of cases) await bad.publishAsync(t, payload, { qos: 1 });
    // A batch array with one bad reading between two good ones.
    await bad.publishAsync(topic, JSON.stringify([{ ts: t0, pm25: 11 }, { ts: t0 + 1, pm25: 5000 }, { ts: t0 + 2, pm25: 13 }]), { qos: 1 });

    const entries = await pipeline.deadLetters.list(100);
    expect(entries.map((e) => e.reason).reverse()).toEqual([...cases.map(([, , reason]) => reason), 'out_of_range']);
    const batchReject = entries[0]!;
    expect(batchReject).toMatchObject({ clientId: id, topic, index: 1, payload: `{"ts":${t0 + 1},"pm25":5000}`, detail: 'pm25 is above the maximum 2000 µg/m³' });
    expect(entries.find((e) => e.reason === 'invalid_json')).toMatchObject({ payload: '{"pm25": 12', detail: expect.stringMatching(/not UTF-8 JSON/) as unknown });

    expect(await eventually(() => select(`SELECT pm25 FROM airquality WHERE device = '${id}' ORDER BY time`), (r) => r.length === 2)).toEqual([
      { time: t0, pm25: 11 },
      { time: t0 + 2, pm25: 13 },
    ]);
    expect([bad.connected, disconnected]).toEqual([true, false]);
    await bad.endAsync();
  });
});
