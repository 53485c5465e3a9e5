/**
 * Our pipeline against a baseline, on this machine, in one go: the same simulated fleet (steady-load, no faults,
 * QoS 1, each device publishing as fast as its in-flight window allows) against
 *   (a) our broker → Redis (BullMQ) → worker → InfluxDB 1.6.7, storage only (no alert rules, as the baseline has none);
 *   (b) Mosquitto (Debian, defaults) → a plain mqtt.js subscriber batch-writing to the same InfluxDB, subscribed
 *       at QoS 1 and at QoS 0 (Telegraf's mqtt_consumer default).
 * Once with one reading per message and once with batches. Prints both throughputs and their ratio, counting what
 * each really stored. A benchmark: it prints figures and never fails on them.
 *
 *   pnpm bench [--duration 30s] [--batches 1,10] [--scale 1] [--window 8]
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDurationMs, parseScenario } from '@city/simulator';
import { runLoadTest, type LoadTestOptions } from '../src/run-load-test.ts';
import type { LoadReport } from '../src/load-report.ts';
import { repoRoot } from '../src/spawn-node-service.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '30s' }, batches: { type: 'string', default: '1,10' }, scale: { type: 'string', default: '1' }, window: { type: 'string', default: '8' } } });
const durationMs = parseDurationMs(values.duration) ?? 30_000;
const batches = values.batches.split(',').map(Number);
const file = path.join(repoRoot, 'simulators/city/scenarios/steady-load.yaml');
const parsed = parseScenario(await readFile(file, 'utf8'), 'steady-load.yaml');
if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
const root = path.join(repoRoot, 'reports/bench', new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15));
await mkdir(root, { recursive: true });
const common: Omit<LoadTestOptions, 'label'> = {
  scenario: parsed.scenario,
  scenarioFile: file,
  rate: 'max',
  durationMs,
  noFaults: true,
  rules: 'none',
  scale: Number(values.scale),
  inFlightWindow: Number(values.window),
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  influxUrl: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086',
  reportRoot: root,
};

interface Row {
  system: string;
  batch: number;
  report: LoadReport;
}
const rows: Row[] = [];
process.stderr.write(`[bench] load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ${durationMs / 1000} s per run; reports in ${path.relative(repoRoot, root)}\n`);
const systems = [
  { target: 'pipeline', label: 'ours', system: 'ours (broker → Redis → worker), storage only' },
  { target: 'baseline', qos: 1, label: 'baseline-sub-qos1', system: 'baseline (Mosquitto → subscriber, QoS 1)' },
  { target: 'baseline', qos: 0, label: 'baseline-sub-qos0', system: 'baseline (Mosquitto → subscriber, QoS 0)' },
] as const;
for (const batch of batches) {
  for (const s of systems) {
    const { report } = await runLoadTest({ ...common, target: s.target, ...('qos' in s ? { baselineSubscriberQos: s.qos } : {}), readingsPerMessage: batch, label: `${s.label} x${batch}` });
    rows.push({ system: s.system, batch, report });
  }
}

const fmt = (x: number | undefined) => (x === undefined ? '–' : Math.round(x).toLocaleString('en-US'));
const header = '| system | readings/message | acknowledged/s | stored/s (steady) | end to end stored/s | stored | lost | PUBACK p99 ms | publish→queryable p99 ms | CPU ms per 1000 stored |';
const lines = [header, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
for (const { system, batch, report: r } of rows) {
  const v = r.verification;
  lines.push(`| ${system} | ${batch} | ${fmt(r.throughput.ackedPerS)} | ${fmt(r.throughput.storedPerS)} | ${fmt(r.throughput.endToEndStoredPerS)} | ${fmt(v.storedPoints)} | ${fmt(v.lost)} | ${r.latency.pubackSteady.p99 ?? '–'} | ${r.latency.publishToQueryable.p99 ?? '–'} | ${r.resources.pipelineCpuMsPer1000Readings ?? '–'} |`);
}
const ratios = batches.flatMap((batch) => {
  const ours = rows.find((r) => r.batch === batch && r.report.target === 'pipeline')!.report;
  return rows
    .filter((r) => r.batch === batch && r.report.target === 'baseline')
    .map(({ system, report: base }) => {
      const e2e = (ours.throughput.endToEndStoredPerS ?? 0) / Math.max(1, base.throughput.endToEndStoredPerS ?? 0);
      const acked = ours.throughput.ackedPerS / Math.max(1, base.throughput.ackedPerS);
      return `- ${batch} reading${batch > 1 ? 's' : ''} per message, ours / ${system}: **${e2e.toFixed(2)}×** stored end to end, ${acked.toFixed(2)}× acknowledged; the baseline lost ${fmt(base.verification.lost)} of the readings it acknowledged`;
    });
});
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end`;
const md = [`# Benchmark: our pipeline vs Mosquitto + a plain subscriber`, '', `${new Date().toISOString()}, ${machine}; ${rows[0]?.report.settings.devices ?? '?'} devices, QoS 1, window ${values.window}, closed loop, ${durationMs / 1000} s per run.`, '', ...lines, '', ...ratios, ''].join('\n');
await writeFile(path.join(root, 'summary.md'), md);
await writeFile(path.join(root, 'summary.json'), JSON.stringify(rows.map(({ system, batch, report }) => ({ system, batch, id: report.id, throughput: report.throughput, latency: report.latency, lost: report.verification.lost, stored: report.verification.storedPoints, resources: report.resources })), null, 1));
process.stdout.write(`\n${md}\n`);
