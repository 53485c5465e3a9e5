import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeners, type Listeners } from '@city/broker';
import { telemetryTopic } from '@city/schema';
import { testEnv, uniqueName } from './support/env.ts';
import { makeCertificateDir, type CertificateAuthority, type CertificateDir, type KeyPair } from './support/make-certificates.ts';
import { createInfluxV1Database, dropInfluxV1Database, queryInfluxV1 } from './support/read-points.ts';
import { eventually, startPipeline, type Pipeline } from './support/start-pipeline.ts';

/** What a connection attempt came to: 'connected', a CONNACK return code, or the error code of a failed handshake. */
async function outcome(connecting: Promise<unknown>): Promise<string | number> {
  return connecting.then(
    () => 'connected',
    (err: { code?: string | number; message: string }) => err.code ?? err.message,
  );
}

const counter = async (pipeline: Pipeline, name: string, labels: Record<string, string>) =>
  (await pipeline.brokerMetrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;

describe('transports: TLS, mutual TLS and WebSocket listeners beside TCP, on the real broker', () => {
  const db = uniqueName('transports').replaceAll('-', '_');
  let pipeline: Pipeline;
  let certs: CertificateDir;
  let ca: CertificateAuthority;
  let rogueCa: CertificateAuthority;
  let serverPair: KeyPair;
  /** TLS with optional client certificates, and plain WebSocket. */
  let open: Listeners;
  /** TLS and wss: requiring client certificates. */
  let strict: Listeners;
  const deviceId = (label: string) => uniqueName(label).slice(0, 60);

  beforeAll(async () => {
    await createInfluxV1Database(testEnv.influxV1Url, db);
    pipeline = await startPipeline({ redisUrl: testEnv.redisUrl, sink: { api: 'v1', url: testEnv.influxV1Url, database: db } });
    certs = await makeCertificateDir();
    [ca, rogueCa] = await Promise.all([certs.createCa('city-ca'), certs.createCa('rogue-ca')]);
    serverPair = await ca.issue('127.0.0.1', { serverIp: '127.0.0.1' });
    const onTlsClientError = () => pipeline.brokerMetrics.authFailures.inc({ reason: 'tls_handshake_failed' });
    const host = '127.0.0.1';
    open = await startListeners(pipeline.broker.handle, {
      tls: { host, port: 0, ...serverPair, ca: ca.cert, clientCerts: 'optional' },
      ws: { host, port: 0, path: '/mqtt' },
      onTlsClientError,
    });
    const required = { ...serverPair, ca: ca.cert, clientCerts: 'required' as const };
    strict = await startListeners(pipeline.broker.handle, { tls: { host, port: 0, ...required }, ws: { host, port: 0, tls: required }, onTlsClientError });
  });
  afterAll(async () => {
    open?.stopAccepting();
    strict?.stopAccepting();
    await pipeline?.stop();
    await certs?.remove();
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('TLS: a device logs in with its token; its reading is acknowledged once in Redis', async () => {
    const id = deviceId('trf-tls');
    const device = await pipeline.connectDevice('traffic', id, { brokerUrl: open.urls.tls!, ca: ca.cert });
    await device.publishAsync(telemetryTopic('traffic', id), JSON.stringify({ intensity: 7 }), { qos: 1 });
    const jobs = await pipeline.telemetryQueue.getJobs(['waiting', 'active', 'completed']);
    expect(jobs.flatMap((job) => (job.data as { readings: Array<{ deviceId: string }> }).readings.map((r) => r.deviceId))).toContain(id);
  });

  it('mutual TLS: a client certificate naming the device logs it in without a password', async () => {
    const id = deviceId('aq-mtls');
    await pipeline.provisionDevice('airquality', id);
    const client = await ca.issue(id, 'client');
    const before = await counter(pipeline, 'city_broker_auth_successes_total', { kind: 'device', method: 'certificate' });
    const device = await pipeline.connectDevice('airquality', id, { brokerUrl: open.urls.tls!, ca: ca.cert, ...client, password: undefined });
    await device.publishAsync(telemetryTopic('airquality', id), JSON.stringify({ pm25: 12 }), { qos: 1 });
    expect(await counter(pipeline, 'city_broker_auth_successes_total', { kind: 'device', method: 'certificate' })).toBe(before + 1);
  });

  it('mutual TLS (optional): a certificate from another CA gets CONNACK 0x05; no certificate and no password gets 0x04', async () => {
    const id = deviceId('aq-rogue');
    await pipeline.provisionDevice('airquality', id);
    const rogue = await rogueCa.issue(id, 'client');
    const tls = { brokerUrl: open.urls.tls!, ca: ca.cert, reconnectPeriod: 0 };
    expect(await outcome(pipeline.connectDevice('airquality', id, { ...tls, ...rogue, password: undefined }))).toBe(5);
    expect(await outcome(pipeline.connectDevice('airquality', id, { ...tls, password: undefined }))).toBe(4);
    expect(await counter(pipeline, 'city_broker_auth_failures_total', { reason: 'certificate_rejected' })).toBeGreaterThanOrEqual(1);
  });

  it('mutual TLS: a certificate logs in only the device it names, and not once that device is disabled', async () => {
    const [a, b] = [deviceId('aq-a'), deviceId('aq-b')];
    await pipeline.provisionDevice('airquality', a);
    await pipeline.provisionDevice('airquality', b);
    const certOfA = await ca.issue(a, 'client');
    const tls = { brokerUrl: open.urls.tls!, ca: ca.cert, reconnectPeriod: 0, ...certOfA };
    expect(await outcome(pipeline.connectDevice('airquality', b, { ...tls, password: undefined }))).toBe(2); // client id b, certificate a
    expect(await outcome(pipeline.connectDevice('airquality', b, { ...tls, username: b, password: undefined }))).toBe(4);
    await pipeline.registry.setDeviceEnabled(a, false);
    expect(await outcome(pipeline.connectDevice('airquality', a, { ...tls, password: undefined }))).toBe(5);
  });

  it('mutual TLS (required): the handshake fails without a certificate or with one from another CA; a good one connects', async () => {
    const id = deviceId('wtr-strict');
    await pipeline.provisionDevice('water', id);
    const good = await ca.issue(id, 'client');
    const rogue = await rogueCa.issue(id, 'client');
    const tls = { brokerUrl: strict.urls.tls!, ca: ca.cert, reconnectPeriod: 0, password: undefined };
    const before = await counter(pipeline, 'city_broker_auth_failures_total', { reason: 'tls_handshake_failed' });
    expect(await outcome(pipeline.connectDevice('water', id, tls))).not.toBe('connected');
    expect(await outcome(pipeline.connectDevice('water', id, { ...tls, ...rogue }))).not.toBe('connected');
    await eventually(() => counter(pipeline, 'city_broker_auth_failures_total', { reason: 'tls_handshake_failed' }), (n) => n >= before + 2);
    expect(await outcome(pipeline.connectDevice('water', id, { ...tls, ...good }))).toBe('connected');
  });

  it('WebSocket: a device publishing over ws:// has its reading stored in InfluxDB', async () => {
    const id = deviceId('aq-ws');
    const ts = Date.now() - 30_000;
    const device = await pipeline.connectDevice('airquality', id, { brokerUrl: open.urls.ws! });
    await device.publishAsync(telemetryTopic('airquality', id), JSON.stringify({ ts, pm25: 33.5, pm10: 51 }), { qos: 1 });
    const rows = await eventually(() => queryInfluxV1(testEnv.influxV1Url, db, `SELECT pm25, pm10 FROM airquality WHERE device = '${id}'`), (r) => r.length === 1);
    expect(rows).toEqual([{ time: ts, pm25: 33.5, pm10: 51 }]);
  });

  it('WebSocket over TLS with a client certificate (wss://, required), and ws:// with a wrong token is refused', async () => {
    const id = deviceId('elc-wss');
    await pipeline.provisionDevice('electricity', id);
    const client = await ca.issue(id, 'client');
    const device = await pipeline.connectDevice('electricity', id, { brokerUrl: strict.urls.ws!, ca: ca.cert, ...client, password: undefined });
    await device.publishAsync(telemetryTopic('electricity', id), JSON.stringify({ voltage: 231 }), { qos: 1 });
    expect(strict.urls.ws).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/mqtt$/);
    expect(await outcome(pipeline.connectDevice('electricity', id, { brokerUrl: open.urls.ws!, username: id, password: 'wrong', reconnectPeriod: 0 }))).toBe(4);
  });
});
