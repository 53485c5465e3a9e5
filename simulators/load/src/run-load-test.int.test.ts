import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MESSAGE_FAULTS, ScenarioSchema } from '@city/simulator';
import { testEnv } from '../../../test/support/env.ts';
import { runLoadTest } from './run-load-test.ts';

const reportRoot = await mkdtemp(path.join(os.tmpdir(), 'city-load-'));
afterAll(() => rm(reportRoot, { recursive: true, force: true }));

// Live time: event times are the wall clock, so the broker's default window judges late readings and skewed clocks.
const scenario = ScenarioSchema.parse({
  name: 'it-load',
  seed: 11,
  time: { start: 'now' },
  devices: { airquality: { count: 12, interval: '1s' }, electricity: { count: 12, interval: '1s' }, water: { count: 8, interval: '1s', readingsPerMessage: 3 } },
  episodes: [{ kind: 'voltage-sag', from: '+0s', duration: '1h', voltageV: 190, expectAlerts: ['voltage-dip-swell'], expectWithin: '3s' }],
  faults: {
    malformedJson: 0.03, schemaViolation: 0.04, outOfRange: 0.03, duplicate: 0.03, outOfOrder: 0.03, late: 0.03, clockSkew: 0.04, oversize: 0.01,
    stuckSensors: 0.1, driftingSensors: 0.1, wrongCredentials: 0.15, reconnectStorms: { every: '2s', share: 0.3 },
  },
});

describe('pnpm load, end to end (real broker and worker processes, Redis, InfluxDB 1.6.7)', () => {
  it('accounts for every reading and every injected fault: nothing acknowledged is lost', async () => {
    const { report, dir } = await runLoadTest({ scenario, rate: 400, durationMs: 6000, redisUrl: testEnv.redisUrl, influxUrl: testEnv.influxV1Url, reportRoot, progress: false, chart: false });
    const v = report.verification;
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.lost).toBe(0);
    expect(v.unexplainedPoints).toBe(0);
    expect(v.ackedPoints).toBeGreaterThan(1500);
    expect(v.storedPoints).toBe(v.ackedPoints);

    // Every kind of message fault was injected, and each shows where it should.
    expect(v.faults.filter((f) => f.injected > 0).map((f) => f.fault).sort()).toEqual(
      [...MESSAGE_FAULTS, 'stuckSensors', 'driftingSensors', 'reconnectStorms', 'wrongCredentials'].sort(),
    );
    for (const f of v.faults) expect(f.ok, `${f.fault}: ${f.outcome}`).toBe(true);
    // By reason: the dead-letter stream holds what the acknowledged faults owe, plus at most one more entry per
    // faulty message a reconnect storm made the device send again.
    expect(report.totals.messagesUnackedAtEnd).toBe(0);
    const reasons = new Map(v.rejects.map((r) => [r.reason, r]));
    for (const reason of ['invalid_json', 'out_of_range', 'payload_too_large', 'timestamp_in_future', 'invalid_timestamp']) {
      const r = reasons.get(reason);
      expect(r?.expected, reason).toBeGreaterThan(0);
      expect(r!.observed, reason).toBeGreaterThanOrEqual(r!.expected);
      expect(r!.observed, reason).toBeLessThanOrEqual(r!.upTo);
    }
    expect(v.rejects.every((r) => r.ok)).toBe(true);
    expect(v.late.expected).toBeGreaterThan(0);
    expect(v.late.observed).toBe(v.late.expected);
    expect(report.totals.connacks['4']).toBe(v.faults.find((f) => f.fault === 'wrongCredentials')!.injected);

    // The sag raised the instant dip alert on every sound meter in it.
    expect(v.alerts.expected).toBeGreaterThan(0);
    expect(v.alerts.raised).toBe(v.alerts.expected);

    expect(report.latency.publishToQueryable.count).toBeGreaterThan(0);
    expect(report.resources.broker?.peakRssMiB).toBeGreaterThan(0);
    const written = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8')) as { id: string };
    expect(written.id).toBe(report.id);
    expect(await readFile(path.join(dir, 'report.md'), 'utf8')).toContain('**PASS**');
  }, 120_000);
});
