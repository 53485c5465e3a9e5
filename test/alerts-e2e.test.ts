import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Redis } from 'ioredis';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertRuleSchema, activeAlertTopic, telemetryTopic, type AlertEvent } from '@city/schema';
import { createAlertOperations, type AlertOperations } from '@city/worker';
import { registerAlertsCommand } from '../services/cli/src/commands/alerts.ts';
import { testEnv, uniqueName } from './support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const SECRET = 'e2e-secret-0123456789abcdef';
const ruleInputs = [
  {
    id: 'pm25-smog', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above',
    levels: [{ severity: 'medium', threshold: 35, clear: 30 }, { severity: 'high', threshold: 75, clear: 65 }, { severity: 'critical', threshold: 150, clear: 140 }],
  },
  { id: 'school-pm25', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', match: { tags: { site: 'school' } }, levels: [{ severity: 'high', threshold: 50 }] },
  { id: 'aq-silent', kind: 'deadman', family: 'airquality', match: { devices: ['aq-dead-1'] }, expectedIntervalMs: 300, factor: 2, severity: 'medium' },
];
const rules = ruleInputs.map((r) => AlertRuleSchema.parse(r));

describe('alert engine end to end: MQTT in, operators, webhooks and InfluxDB out', () => {
  const db = uniqueName('alerts').replaceAll('-', '_');
  let pipeline: Pipeline;
  let operator: MqttClient;
  let hook: WebhookReceiver;
  let severeHook: WebhookReceiver;
  let brokenHook: WebhookReceiver;
  let redis: Redis;
  let ops: AlertOperations;
  const stream: AlertEvent[] = [];
  const t0 = Date.now() - 3_600_000;
  const byDevice = (device: string) => stream.filter((e) => e.device === device).sort((a, b) => a.seq - b.seq);
  const transitions = (events: AlertEvent[]) => events.map((e) => `${e.transition}:${e.severity}`);

  beforeAll(async () => {
    await createInfluxV1Database(testEnv.influxV1Url, db);
    [hook, severeHook, brokenHook] = await Promise.all([startWebhookReceiver(SECRET), startWebhookReceiver(SECRET), startWebhookReceiver(SECRET, 500)]);
    pipeline = await startPipeline({
      redisUrl: testEnv.redisUrl,
      sink: { api: 'v1', url: testEnv.influxV1Url, database: db },
      rules,
      alerts: {
        sweepIntervalMs: 150,
        webhooks: [
          { id: 'ops', url: hook.url, secret: SECRET, minSeverity: 'informational' },
          { id: 'severe', url: severeHook.url, secret: SECRET, minSeverity: 'high' },
          { id: 'broken', url: brokenHook.url, secret: SECRET, minSeverity: 'informational', rules: ['aq-silent'] },
        ],
        webhookJobOptions: { attempts: 2, backoff: { type: 'fixed', delay: 50 } },
      },
    });
    operator = await pipeline.connectOperator();
    operator.on('message', (topic, payload) => {
      if (!topic.startsWith('city/v1/alerts/active/')) stream.push(JSON.parse(payload.toString()) as AlertEvent);
    });
    await operator.subscribeAsync('city/v1/alerts/#', { qos: 1 });
    redis = new Redis(testEnv.redisUrl);
    ops = createAlertOperations({ redis, prefix: pipeline.prefix, rules: () => rules });
  });
  afterAll(async () => {
    await ops?.close();
    await pipeline?.stop();
    const keys = await redis.keys(`${pipeline.prefix}:alerts:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await Promise.all([hook, severeHook, brokenHook].map((h) => h?.close()));
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('a smog episode: raised at the right severity, escalated, acknowledged through the CLI, resolved when the air clears', async () => {
    const id = 'aq-medeu-0042';
    const device = await pipeline.connectDevice('airquality', id);
    const send = async (minute: number, pm25: number) =>
      device.publishAsync(telemetryTopic('airquality', id), JSON.stringify({ ts: t0 + minute * 60_000, pm25, district: 'medeu' }), { qos: 1 });
    const waitFor = (n: number) => eventually(() => Promise.resolve(byDevice(id).length), (count) => count >= n);

    await send(0, 20); // clean air: nothing
    await send(1, 50);
    await waitFor(1);
    // A console that connects now sees the open alert on the retained topic.
    const late = await pipeline.connectOperator();
    const retained: Array<{ event: AlertEvent | null; retain: boolean }> = [];
    late.on('message', (_t, payload, packet) => retained.push({ event: payload.length === 0 ? null : (JSON.parse(payload.toString()) as AlertEvent), retain: packet.retain }));
    await late.subscribeAsync(activeAlertTopic('pm25-smog', id), { qos: 1 });
    await eventually(() => Promise.resolve(retained.length), (n) => n >= 1);
    expect(retained[0]).toMatchObject({ retain: true, event: { transition: 'raised', severity: 'medium', state: 'active', device: id } });

    // The CLI's ack, as an operator types it (with the rules file the workers read).
    const rulesFile = path.join(os.tmpdir(), `${uniqueName('rules')}.json`);
    await writeFile(rulesFile, JSON.stringify({ version: 2, rules: ruleInputs }));
    const cli = new Command('city').option('--redis-url <url>').option('--prefix <prefix>').exitOverride();
    registerAlertsCommand(cli);
    await cli.parseAsync(['--redis-url', testEnv.redisUrl, '--prefix', pipeline.prefix, 'alerts', '--rules', rulesFile, 'ack', 'pm25-smog', id, '--by', 'aigerim', '--note', 'checking the station'], { from: 'user' });
    await waitFor(2);
    expect((await ops.list()).find((a) => a.device === id)).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'aigerim', note: 'checking the station', severity: 'medium' });

    await send(2, 90);
    await waitFor(3);
    await send(3, 200);
    await waitFor(4);
    await send(4, 145); // inside critical's hysteresis band: no change
    await send(5, 25);
    await waitFor(5);

    const events = byDevice(id);
    expect(transitions(events)).toEqual(['raised:medium', 'acknowledged:medium', 'escalated:high', 'escalated:critical', 'resolved:critical']);
    expect(events.map((e) => [e.value, e.state])).toEqual([[50, 'active'], [50, 'acknowledged'], [90, 'active'], [200, 'active'], [25, 'resolved']]);
    expect(events[1]).toMatchObject({ acknowledgedBy: 'aigerim', alertId: events[0]!.alertId });
    expect(events.every((e) => e.alertId === `pm25-smog:${id}:${t0 + 60_000}` && e.district === 'medeu' && e.category === 'environment')).toBe(true);

    // The retained topic follows every transition, and is cleared once it is resolved.
    await eventually(() => Promise.resolve(retained.length), (n) => n >= 5);
    expect(retained.map((r) => r.event?.transition ?? 'cleared').slice(-1)).toEqual(['cleared']);
    await late.endAsync();
    const fresh = await pipeline.connectOperator();
    const stillRetained: unknown[] = [];
    fresh.on('message', (topic) => stillRetained.push(topic));
    await fresh.subscribeAsync(`city/v1/alerts/active/pm25-smog/${id}`, { qos: 1 });
    await new Promise((r) => setTimeout(r, 300)); // a retained message comes with the SUBACK, or not at all
    expect(stillRetained).toEqual([]);
    await fresh.endAsync();

    // Webhooks: every transition, signed; the "severe" one only from high up.
    await eventually(() => Promise.resolve(hook.received.filter((r) => r.event.device === id).length), (n) => n >= 5);
    const delivered = hook.received.filter((r) => r.event.device === id).sort((a, b) => a.event.seq - b.event.seq);
    expect(delivered.map((r) => [r.event.transition, r.verified, r.eventIdHeader === r.event.id])).toEqual([
      ['raised', true, true], ['acknowledged', true, true], ['escalated', true, true], ['escalated', true, true], ['resolved', true, true],
    ]);
    await eventually(() => Promise.resolve(severeHook.received.filter((r) => r.event.device === id).length), (n) => n >= 3);
    expect(transitions(severeHook.received.map((r) => r.event).filter((e) => e.device === id).sort((a, b) => a.seq - b.seq))).toEqual(['escalated:high', 'escalated:critical', 'resolved:critical']);

    // History: every transition in the `alerts` measurement.
    const rows = await eventually(
      () => queryInfluxV1(testEnv.influxV1Url, db, `SELECT "transition", "severity", "value", "by" FROM alerts WHERE device = '${id}' ORDER BY time`),
      (r) => r.length >= 5,
    );
    expect(rows.map((r) => [r.transition, r.severity, r.value])).toEqual([
      ['raised', 'medium', 50], ['escalated', 'high', 90], ['escalated', 'critical', 200], ['resolved', 'critical', 25], ['acknowledged', 'medium', 50],
    ]);
    await device.endAsync();
  });

  it('deadman: a device that stops is reported silent, and resolved when it reports again; the broken webhook is dead-lettered', async () => {
    const id = 'aq-dead-1';
    const device = await pipeline.connectDevice('airquality', id);
    await device.publishAsync(telemetryTopic('airquality', id), JSON.stringify({ pm25: 5 }), { qos: 1 });
    const raised = await eventually(() => Promise.resolve(byDevice(id)), (events) => events.length >= 1, 15_000);
    expect(raised[0]).toMatchObject({ rule: 'aq-silent', ruleKind: 'deadman', transition: 'raised', severity: 'medium', comparison: 'silent', threshold: 600 });
    expect(raised[0]!.value).toBeGreaterThan(600);

    await device.publishAsync(telemetryTopic('airquality', id), JSON.stringify({ pm25: 6 }), { qos: 1 });
    const events = await eventually(() => Promise.resolve(byDevice(id)), (e) => e.length >= 2, 15_000);
    expect(transitions(events.slice(0, 2))).toEqual(['raised:medium', 'resolved:medium']);
    await device.endAsync();

    // The receiver refuses: two attempts, then the delivery waits in the failed set (the dead letters).
    const failed = await eventually(() => pipeline.worker.alertEngine.queues.webhooks.getFailed(), (jobs) => jobs.filter((j) => j.attemptsMade >= 2).length >= 1, 15_000);
    expect(failed[0]!.data).toMatchObject({ hook: 'broken', event: { rule: 'aq-silent', device: id } });
    expect(brokenHook.refused).toBeGreaterThanOrEqual(2);
  });

  it('a silenced device: recorded and shown on the retained topic, not notified', async () => {
    const id = 'aq-quiet-1';
    await ops.silence({ id: 'maintenance-aq-quiet-1', devices: [id], until: new Date(Date.now() + 600_000).toISOString(), reason: 'calibration' });
    const watcher = await pipeline.connectOperator();
    const retained: AlertEvent[] = [];
    watcher.on('message', (_t, payload) => retained.push(JSON.parse(payload.toString()) as AlertEvent));
    await watcher.subscribeAsync(activeAlertTopic('pm25-smog', id), { qos: 1 });
    const device = await pipeline.connectDevice('airquality', id);
    await device.publishAsync(telemetryTopic('airquality', id), JSON.stringify({ ts: t0, pm25: 300 }), { qos: 1 });
    await eventually(() => Promise.resolve(retained.length), (n) => n >= 1);
    // The retained publish comes after the stream publish in the same job: had it been notified, it would be here.
    expect([retained[0]!.silenced, byDevice(id), hook.received.filter((r) => r.event.device === id)]).toEqual([true, [], []]);
    expect((await ops.list()).find((a) => a.device === id)).toMatchObject({ severity: 'critical', state: 'active' });
    await Promise.all([watcher.endAsync(), device.endAsync()]);
  });

  it('a rule matching a registry tag fires for the device tagged so, and not for the untagged one beside it', async () => {
    const [school, office] = [uniqueName('aq-school'), uniqueName('aq-office')];
    const added = await pipeline.registry.addDevice({ id: school, family: 'airquality', enabled: true, tags: { site: 'school', owner: 'akimat' } });
    if (!added.ok) throw new Error('could not register the school station');
    expect((await pipeline.registry.getDevice(school))?.tags).toEqual({ site: 'school', owner: 'akimat' });
    const devices = [await pipeline.connectDevice('airquality', school, { username: school, password: added.token }), await pipeline.connectDevice('airquality', office)];
    for (const [i, device] of devices.entries()) {
      await device.publishAsync(telemetryTopic('airquality', i === 0 ? school : office), JSON.stringify({ ts: t0, pm25: 60 }), { qos: 1 });
    }
    // Both cross the untagged smog rule (medium at 35): once both have, the tagged rule has had its chance too.
    await eventually(() => Promise.resolve([school, office].every((d) => byDevice(d).some((e) => e.rule === 'pm25-smog'))), Boolean);
    expect([school, office].map((d) => byDevice(d).filter((e) => e.rule === 'school-pm25').map((e) => `${e.transition}:${e.severity}`))).toEqual([['raised:high'], []]);
  });
});
