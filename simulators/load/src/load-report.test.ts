import { describe, expect, it } from 'vitest';
import { newSecond } from './fleet-ledger.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { summarizeRun, type ServiceSample } from './load-report.ts';
import { parseProcStat, parseProcStatus } from './proc-stats.ts';
import { parsePromText, promByLabel, promValue } from './prom-text.ts';
import { niceStep, renderChartSvg } from './render-chart-svg.ts';
import { topSelfTime } from './summarize-cpu-profile.ts';

function seconds(n: number, perS: (s: number) => number) {
  return Array.from({ length: n }, (_, s) => {
    const sec = newSecond(s, 1000);
    sec.sentReadings = perS(s);
    sec.ackedReadings = perS(s);
    for (let i = 0; i < 100; i++) sec.puback.record(s < 5 ? 100 : 1 + (i % 10));
    return sec;
  });
}

describe('summarizeRun', () => {
  it('averages over the steady window: after the ramp and settling, before the end', () => {
    // 5 s ramp at 200/s, then 1000/s; the worker's counter grows 900/s from second 7.
    const samples: ServiceSample[] = Array.from({ length: 31 }, (_, s) => ({ atS: s, loadGeneratorCpuS: s * 0.2, brokerCpuS: s * 0.5, pointsWritten: s < 7 ? 0 : (s - 7) * 900 }));
    const run = summarizeRun({ seconds: seconds(30, (s) => (s < 5 ? 200 : 1000)), durationS: 30, rampS: 5, samples, markers: [{ atMs: 12_300, latencyMs: 250 }, { atMs: 12_900, latencyMs: 350 }], puback: new LatencyHistogram(), lag: new LatencyHistogram() });
    expect(run.steadyWindowS).toEqual([7, 29]);
    expect(run.throughput).toMatchObject({ sentPerS: 1000, ackedPerS: 1000, storedPerS: 900, peakAckedPerS: 1000 });
    expect(run.latency.pubackSteady.p99).toBeLessThanOrEqual(10.1);
    expect(run.steadyCores).toMatchObject({ broker: 0.5, loadGenerator: 0.2 });
    expect(run.timeline[12]).toMatchObject({ second: 12, sentPerS: 1000, storedPerS: 900, queryableP50Ms: 250, queryableMaxMs: 350, brokerCpuPct: 50 });
    expect(run.timeline[3]!.pubackP50Ms).toBeGreaterThanOrEqual(100);
  });
});

describe('topSelfTime', () => {
  it('charges each sample the time to the next, leaves idle out, and names files from the repository', () => {
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('ingestPayload', 'file:///work/main/packages/core/src/ingest-payload.ts', 64) },
        { id: 3, callFrame: frame('parse', 'file:///work/main/node_modules/.pnpm/zod@4/node_modules/zod/v4/core/schemas.js', 96) },
      ],
      samples: [2, 2, 3, 1, 2],
      timeDeltas: [0, 1000, 1000, 2000, 5000],
    };
    expect(topSelfTime(profile)).toEqual([
      { function: 'ingestPayload', where: 'packages/core/src/ingest-payload.ts:65', selfPct: 50, selfMs: 2 },
      { function: 'parse', where: 'zod/v4/core/schemas.js:97', selfPct: 50, selfMs: 2 },
    ]);
  });
});

describe('readers', () => {
  it('reads Prometheus text', () => {
    const text = '# HELP x\ncity_broker_auth_failures_total{reason="bad_token"} 3\ncity_broker_auth_failures_total{reason="disabled"} 1\ncity_queue_jobs{queue="telemetry",state="waiting"} 7\ncity_worker_points_written_total 12345\n';
    const m = parsePromText(text);
    expect(promValue(m, 'city_worker_points_written_total')).toBe(12345);
    expect(promValue(m, 'city_queue_jobs', { queue: 'telemetry', state: 'waiting' })).toBe(7);
    expect(promValue(m, 'city_queue_jobs', { queue: 'alerts' })).toBe(0);
    expect(promByLabel(m, 'city_broker_auth_failures_total', 'reason')).toEqual({ bad_token: 3, disabled: 1 });
  });

  it('reads /proc stat and status, a command name with spaces and parentheses included', () => {
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194304 5000 0 0 0 1234 566 0 0 20 0 11 0 100 1000000 2000 18446744073709551615';
    expect(parseProcStat(stat)).toBeCloseTo(18);
    expect(parseProcStatus('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n')).toEqual({ rssBytes: 100 * 1024 * 1024, peakRssBytes: 200 * 1024 * 1024 });
  });
});

describe('renderChartSvg', () => {
  it('draws both panels with their series and round axis steps', () => {
    expect([niceStep(47_000), niceStep(3), niceStep(0.8)]).toEqual([10_000, 1, 0.2]);
    const svg = renderChartSvg({ title: 'run & <test>', subtitle: 's', timeline: [{ second: 0, sentPerS: 10, ackedPerS: 9, storedPerS: 8, targetPerS: 10, lagMs: 1, connected: 1, pubackP50Ms: 2, pubackP99Ms: 9, queryableP50Ms: 120 }], steadyWindowS: [0, 1] });
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('run &amp; &lt;test&gt;');
    for (const name of ['Readings per second', 'acknowledged', 'stored (InfluxDB)', 'PUBACK p99', 'publish→queryable p50']) expect(svg).toContain(name);
  });
});
