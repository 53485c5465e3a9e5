import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { deviceTopic } from '@city/core';
import { operatorUsername } from '@city/registry';
import { alertTopic, telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { repoRoot } from './support/processes.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

/** What a connection attempt came to: 'connected' or the CONNACK return code. */
async function outcome(connecting: Promise<unknown>): Promise<string | number> {
  return connecting.then(
    () => 'connected',
    (err: { code?: string | number; message: string }) => err.code ?? err.message,
  );
}

/** The SUBACK return code of each filter, in order (mqtt.js rejects a SUBACK holding a 0x80, with the packet). */
function subackCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  return client.subscribeAsync(filters, { qos: 1 }).then(
    (granted) => granted.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => {
      if (!err.packet?.granted) throw err as Error;
      return err.packet.granted;
    },
  );
}

/** Resolves when the broker closed the client's connection; fails if that takes longer than "a few seconds". */
const closed = (client: MqttClient, withinMs = 10_000) =>
  new Promise<void>((resolve, reject) => {
    if (!client.connected) return resolve();
    const timer = setTimeout(() => reject(new Error(`connection still open after ${withinMs} ms`)), withinMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

const execCli = promisify(execFile);

describe('device identity and access, on the real broker and Redis', () => {
  let pipeline: Pipeline;
  const id = (label: string) => uniqueName(label).slice(0, 60);
  const counter = async (name: string, labels: Record<string, string>) =>
    (await pipeline.brokerMetrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;

  beforeAll(async () => {
    pipeline = await startPipeline({
      redisUrl: testEnv.redisUrl,
      sink: { api: 'v1', url: testEnv.influxV1Url, database: 'unused' },
      access: { lastSeenFlushMs: 200 },
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  describe('authentication (CONNACK return codes, counted by reason)', () => {
    it('lets a registered device in with its token, and refuses a wrong token, an unknown device, no password, and a client id that is not the username', async () => {
      const device = id('aq-auth');
      const token = await pipeline.provisionDevice('airquality', device);
      const no = { reconnectPeriod: 0 };
      expect(await outcome(pipeline.connectDevice('airquality', device, { ...no, username: device, password: token }))).toBe('connected');
      expect(await outcome(pipeline.connectDevice('airquality', device, { ...no, username: device, password: 'x'.repeat(43) }))).toBe(4);
      const nobody = id('aq-nobody');
      expect(await outcome(pipeline.connectDevice('airquality', nobody, { ...no, provision: false, username: nobody, password: token }))).toBe(4);
      expect(await outcome(pipeline.connectDevice('airquality', device, { ...no, username: device }))).toBe(4);
      // The right token for `device`, on another client id: a device cannot take over another's session.
      expect(await outcome(pipeline.connectDevice('airquality', id('aq-other'), { ...no, provision: false, username: device, password: token }))).toBe(2);
      for (const reason of ['bad_token', 'unknown_identity', 'no_credentials', 'client_id_mismatch']) {
        expect([reason, await counter('city_broker_auth_failures_total', { reason })]).toEqual([reason, 1]);
      }
    });

    it('refuses a disabled device (0x05) and closes its live connection within seconds; enabling it lets it back', async () => {
      const device = id('trf-dis');
      const live = await pipeline.connectDevice('traffic', device, { reconnectPeriod: 0 });
      await pipeline.registry.setDeviceEnabled(device, false);
      await closed(live);
      expect(await outcome(pipeline.connectDevice('traffic', device, { reconnectPeriod: 0 }))).toBe(5);
      expect(await counter('city_broker_connections_revoked_total', { reason: 'disabled' })).toBe(1);
      await pipeline.registry.setDeviceEnabled(device, true);
      expect(await outcome(pipeline.connectDevice('traffic', device, { reconnectPeriod: 0 }))).toBe('connected');
    });

    it('after a token rotation the old token is refused, the new one accepted, and the connection made with the old one is closed', async () => {
      const device = id('wtr-rot');
      const oldToken = await pipeline.provisionDevice('water', device);
      const live = await pipeline.connectDevice('water', device, { reconnectPeriod: 0 });
      const newToken = await pipeline.registry.rotateDeviceToken(device);
      await closed(live);
      expect(await outcome(pipeline.connectDevice('water', device, { reconnectPeriod: 0, username: device, password: oldToken }))).toBe(4);
      expect(await outcome(pipeline.connectDevice('water', device, { reconnectPeriod: 0, username: device, password: newToken! }))).toBe('connected');
    });

    it('a deleted device is disconnected and cannot come back', async () => {
      const device = id('elc-del');
      const token = await pipeline.provisionDevice('electricity', device);
      const live = await pipeline.connectDevice('electricity', device, { reconnectPeriod: 0 });
      await pipeline.registry.deleteDevice(device);
      await closed(live);
      expect(await outcome(pipeline.connectDevice('electricity', device, { reconnectPeriod: 0, provision: false, username: device, password: token }))).toBe(4);
    });

    it('records when a device was last seen, in the registry', async () => {
      const device = id('aq-seen');
      const client = await pipeline.connectDevice('airquality', device);
      const before = Date.now();
      await client.publishAsync(telemetryTopic('airquality', device), JSON.stringify({ pm25: 4 }), { qos: 1 });
      const seen = await eventually(() => pipeline.registry.getDevice(device), (d) => (d?.lastSeenAt ?? 0) >= before);
      expect(seen?.lastSeenAt).toBeLessThanOrEqual(Date.now());
    });
  });

  describe('access control', () => {
    it('closes the connection of a device publishing to another device\'s topic or another family, and keeps nothing of it', async () => {
      const device = id('aq-acl');
      const victim = id('aq-victim');
      for (const topic of [telemetryTopic('airquality', victim), telemetryTopic('traffic', device), 'city/v2/whatever']) {
        const client = await pipeline.connectDevice('airquality', device, { reconnectPeriod: 0 });
        let acked = false;
        client.publish(topic, JSON.stringify({ pm25: 999, intensity: 1 }), { qos: 1 }, (err) => (acked = !err));
        await closed(client);
        expect([topic, acked]).toEqual([topic, false]);
      }
      const own = await pipeline.connectDevice('airquality', device);
      await own.publishAsync(telemetryTopic('airquality', device), JSON.stringify({ pm25: 5 }), { qos: 1 });
      const jobs = await pipeline.telemetryQueue.getJobs(['waiting', 'active', 'completed']);
      const stored = jobs.flatMap((job) => (job.data as { readings: Array<{ deviceId: string }> }).readings.map((r) => r.deviceId));
      expect(stored).toContain(device);
      expect(stored).not.toContain(victim);
      expect((await pipeline.deadLetters.list(100)).filter((e) => e.clientId === device)).toEqual([]);
      expect(await counter('city_broker_publish_denied_total', { reason: 'not_own_topic' })).toBe(3);
    });

    it('answers SUBACK 0x80 to a device subscribing to #, $SYS/# or another device\'s command topic, grants its own, and keeps it connected', async () => {
      const device = id('trf-sub');
      const client = await pipeline.connectDevice('traffic', device);
      const filters = ['#', '$SYS/#', deviceTopic('traffic', 'someone-else', 'command'), 'city/v1/alerts/#', deviceTopic('traffic', device, 'command'), deviceTopic('traffic', device, 'errors')];
      expect(await subackCodes(client, filters)).toEqual([128, 128, 128, 128, 1, 1]);
      expect(client.connected).toBe(true);
      expect(await counter('city_broker_subscribe_denied_total', { reason: 'wildcard' })).toBeGreaterThanOrEqual(2);
      expect(await counter('city_broker_subscribe_denied_total', { reason: 'sys_topic' })).toBeGreaterThanOrEqual(1);
    });

    it('lets an operator subscribe to alerts and device status (and not to telemetry), and delivers a device\'s retained status to it', async () => {
      const operator = await pipeline.connectOperator();
      expect(await subackCodes(operator, ['city/v1/alerts/#', 'city/v1/+/+/status', 'city/v1/+/+/telemetry', '#'])).toEqual([1, 1, 128, 128]);
      const device = id('aq-status');
      const statuses: string[] = [];
      operator.on('message', (topic, payload) => {
        if (topic === deviceTopic('airquality', device, 'status')) statuses.push(payload.toString());
      });
      const client = await pipeline.connectDevice('airquality', device);
      // The broker announces the connection itself (device-status.ts); the device may then publish its own status.
      await eventually(() => Promise.resolve(statuses), (s) => s.length === 1);
      await client.publishAsync(deviceTopic('airquality', device, 'status'), 'online', { qos: 1, retain: true });
      await eventually(() => Promise.resolve(statuses), (s) => s.length === 2);
      expect([(JSON.parse(statuses[0]!) as { status: string }).status, statuses[1]]).toEqual(['online', 'online']);
    });

    it('refuses an operator a client id outside its own namespace, closes an operator that publishes, and disconnects a disabled operator', async () => {
      const added = await pipeline.registry.addOperator('eve', 'operator');
      if (!added.ok) throw new Error('eve exists');
      const login = { username: operatorUsername('eve'), password: added.token, reconnectPeriod: 0 };
      // A device's id as the client id would take over that device's session.
      expect(await outcome(pipeline.connectOperator({ ...login, clientId: 'aq-almaly-0001' }))).toBe(2);
      const eve = await pipeline.connectOperator({ ...login, clientId: `${operatorUsername('eve')}:laptop` });
      eve.publish(alertTopic('critical', 'airquality', 'aq-1'), '{"fake": true}', { qos: 1 });
      await closed(eve);
      expect(await counter('city_broker_publish_denied_total', { reason: 'role_not_permitted' })).toBe(1);

      const again = await pipeline.connectOperator({ ...login, clientId: `${operatorUsername('eve')}:phone` });
      await pipeline.registry.setOperatorEnabled('eve', false);
      await closed(again);
      expect(await outcome(pipeline.connectOperator({ ...login, clientId: operatorUsername('eve') }))).toBe(5);
    });
  });

  describe('the CLI (`pnpm city`), against the same Redis and broker', () => {
    const city = (...args: string[]) =>
      execCli(process.execPath, ['--import', 'tsx', 'services/cli/src/main.ts', '--redis-url', testEnv.redisUrl, '--prefix', pipeline.prefix, ...args], { cwd: repoRoot });

    it('devices add prints a token once; the device connects with it', async () => {
      const device = id('aq-cli');
      const { stdout, stderr } = await city('devices', 'add', device, '--family', 'airquality', '--district', 'medeu');
      const token = stdout.trim();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(stderr).toContain(`registered ${device} (airquality)`);
      expect(await outcome(pipeline.connectDevice('airquality', device, { provision: false, username: device, password: token, reconnectPeriod: 0 }))).toBe('connected');
    });

    it('devices import reports the bad rows by line and field, imports the good ones, and exits 1', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'city-inventory-'));
      const [good1, good2] = [id('trf-imp'), id('wtr-imp')];
      const file = path.join(dir, 'inventory.csv');
      await writeFile(file, ['id,family,district,lat,lon,expectedIntervalMs', `${good1},traffic,medeu,43.2,76.9,60000`, 'bad-1,traffic,medeu,95,76.9,60000', `${good2},water,,,,`].join('\n'));
      const failed = await city('devices', 'import', file).then(
        () => ({ code: 0, stdout: '', stderr: '' }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
      await rm(dir, { recursive: true });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('line 3 (bad-1): lat: must be from -90 to 90 (got 95)');
      expect(failed.stderr).toContain('2 added, 0 updated, 1 problem');
      const lines = failed.stdout.trim().split('\n');
      expect(lines[0]).toBe('id,token');
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual([good1, good2]);
      expect(await pipeline.registry.getDevice('bad-1')).toBeUndefined();
      const token = lines[2]!.split(',')[1]!;
      expect(await outcome(pipeline.connectDevice('water', good2, { provision: false, username: good2, password: token, reconnectPeriod: 0 }))).toBe('connected');
    });
  });
});
