import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSink } from '@city/influx';
import { createLogger } from '@city/logger';
import { createRedis } from '@city/queue';
import type { AlertRule, Reading } from '@city/schema';
import { buildWorker, createAlertOperations, createAlertRulesSource, createWorkerMetrics, listenForReloads, loadAlertRulesFile } from '@city/worker';
import { testEnv, uniqueName } from './support/env.ts';
import { createInfluxV1Database, dropInfluxV1Database } from './support/read-points.ts';
import { eventually } from './support/start-pipeline.ts';

const rule = (id: string, threshold: number) => ({ id, kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: [{ severity: 'high', threshold }] });
const reading = (ts: number, pm25: number): Reading => ({ family: 'airquality', deviceId: 'aq-r-1', ts, receivedAt: ts, metrics: { pm25 } });

describe('alert rules reload without a restart', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });
  const db = uniqueName('alr').replaceAll('-', '_');
  const prefix = uniqueName('alr');
  let dir: string;
  let file: string;
  let admin: Redis;
  /** Writes the file the way editors and deploy tools do: a new file renamed over the old one. */
  const writeRules = async (rules: object[]) => {
    const tmp = `${file}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: 2, rules }));
    await rename(tmp, file);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'alert-rules-'));
    file = path.join(dir, 'alert-rules.json');
    admin = new Redis(testEnv.redisUrl);
    await createInfluxV1Database(testEnv.influxV1Url, db);
  });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    await rm(dir, { recursive: true, force: true });
    await dropInfluxV1Database(testEnv.influxV1Url, db);
  });

  it('on a file change and on `city alerts reload`; a bad file keeps the old rules and says why; removed rules resolve their alerts', async () => {
    await writeRules([rule('pm25-high', 75), rule('pm25-extra', 100)]);
    const metrics = createWorkerMetrics();
    const connection = createRedis(testEnv.redisUrl, 'worker');
    const sink = createSink({ api: 'v1', url: testEnv.influxV1Url, database: db });
    let resolveRemoved: (p: readonly AlertRule[], c: readonly AlertRule[]) => Promise<unknown> = () => Promise.resolve();
    const removals: Array<Promise<unknown>> = [];
    const source = createAlertRulesSource({
      path: file, initial: await loadAlertRulesFile(file), logger, alertMetrics: metrics.alerts, debounceMs: 50,
      onChange: (previous, current) => removals.push(resolveRemoved(previous, current)),
    });
    const worker = buildWorker({ connection, prefix, logger, metrics, roles: ['storage'], sink, rules: source.rules, alerts: { sweepIntervalMs: 60_000 } });
    const evaluator = worker.alertEngine.evaluator!;
    resolveRemoved = (p, c) => evaluator.resolveRemoved(p, c);
    source.watch();

    // An alert of the rule about to be removed.
    const t0 = Date.now();
    expect((await evaluator.evaluate([reading(t0, 120)])).map((e) => `${e.rule}:${e.transition}`).sort()).toEqual(['pm25-extra:raised', 'pm25-high:raised']);

    // A file change: the threshold moves, pm25-extra goes.
    await writeRules([rule('pm25-high', 150)]);
    await eventually(() => Promise.resolve(source.rules().map((r) => r.id).join()), (ids) => ids === 'pm25-high');
    await Promise.all(removals);
    const ops = createAlertOperations({ redis: admin, prefix, rules: source.rules });
    expect((await ops.list()).map((a) => a.rule)).toEqual(['pm25-high']);
    // The edited rule carries its open alert on; the next reading is judged by the new threshold.
    expect((await evaluator.evaluate([reading(t0 + 1000, 120)])).map((e) => e.transition)).toEqual(['resolved']);

    // A bad file: the rules in force stay, the failure is counted and explained.
    await writeRules([{ ...rule('pm25-high', 150), metric: 'pm2_5' }]);
    await eventually(async () => (await metrics.alerts.ruleReloads.get()).values.find((v) => v.labels.result === 'failed')?.value ?? 0, (n) => n >= 1);
    expect(source.rules()[0]).toMatchObject({ metric: 'pm25', levels: [{ threshold: 150 }] });
    expect(source.lastReload()).toMatchObject({ ok: false, rules: 1, error: expect.stringContaining('rule "pm25-high" field metric: airquality has no numeric metric "pm2_5"') as unknown });

    // The command: every listening worker reloads and reports; here the file is still bad.
    const subscriber = connection.duplicate();
    const stopListening = await listenForReloads({ subscriber, redis: admin, prefix, workerId: 'worker-a', source });
    const failed = await ops.reload(3000);
    expect(failed).toMatchObject({ receivers: 1, outcomes: { 'worker-a': { ok: false, rules: 1 } } });
    await writeRules([rule('pm25-high', 150), rule('pm25-new', 50)]);
    await eventually(() => Promise.resolve(source.rules().length), (n) => n === 2);
    expect(await ops.reload(3000)).toMatchObject({ receivers: 1, outcomes: { 'worker-a': { ok: true, rules: 2 } } });

    const reloads = (await metrics.alerts.ruleReloads.get()).values;
    expect(reloads.find((v) => v.labels.result === 'ok')!.value).toBeGreaterThanOrEqual(2);
    await stopListening();
    subscriber.disconnect();
    source.close();
    await ops.close();
    await worker.close();
    await sink.close();
    connection.disconnect();
  });
});
