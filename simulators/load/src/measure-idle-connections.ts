import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createDeviceRegistry } from '@city/registry';
import { buildFleet, provisionFleet } from '@city/simulator';
import { deletePrefix } from './collect-outcome.ts';
import { sampleProcess } from './proc-stats.ts';
import { sourceAddresses } from './run-load-test.ts';
import { repoRoot, spawnNodeService, waitUntilReady, type NodeService } from './spawn-node-service.ts';

export interface IdleStep {
  connections: number;
  brokerRssMiB: number;
  /** (RSS now − RSS with no device connected) ÷ connections. */
  kibPerConnection: number;
  /** RSS added per connection since the previous step. */
  marginalKibPerConnection?: number;
  connectSeconds: number;
}

export interface IdleSummary {
  date: string;
  machine: { cpus: number; loadAverage: number[] };
  baselineRssMiB: number;
  steps: IdleStep[];
  /** Least-squares slope of RSS over connections across the steps: the memory one more idle device costs. */
  slopeKibPerConnection?: number;
  notes: string[];
}

/** Connections one holder process keeps (its descriptor limit is 20,000 here; some room for the rest). */
const PER_HOLDER = 9000;
const MiB = 1024 * 1024;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** KiB of RSS per connection: the least-squares slope through the steps (undefined with fewer than two). */
export function rssSlopeKib(steps: readonly Pick<IdleStep, 'connections' | 'brokerRssMiB'>[]): number | undefined {
  if (steps.length < 2) return undefined;
  const n = steps.length;
  const mx = steps.reduce((a, s) => a + s.connections, 0) / n;
  const my = steps.reduce((a, s) => a + s.brokerRssMiB * 1024, 0) / n;
  const sxy = steps.reduce((a, s) => a + (s.connections - mx) * (s.brokerRssMiB * 1024 - my), 0);
  const sxx = steps.reduce((a, s) => a + (s.connections - mx) ** 2, 0);
  return sxx > 0 ? sxy / sxx : undefined;
}

/** Median of three RSS readings a second apart, after things settled. */
async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 5000));
  const values: number[] = [];
  for (let i = 0; i < 3; i++) {
    values.push((await sampleProcess(pid))?.rssBytes ?? NaN);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return values.sort((a, b) => a - b)[1]!;
}

/**
 * Broker memory per idle device connection: a broker of its own, N registered devices connected (authenticated,
 * keep-alive 120 s, nothing published) from child processes, the broker's RSS compared with its RSS before any
 * device connected, at each of `counts`.
 */
export async function measureIdleConnections({ redisUrl, counts, reportRoot }: { redisUrl: string; counts: readonly number[]; reportRoot?: string }): Promise<{ summary: IdleSummary; dir: string }> {
  const max = Math.max(...counts);
  const dir = path.join(reportRoot ?? path.join(repoRoot, 'reports/load'), `${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-idle`);
  await mkdir(dir, { recursive: true });
  const prefix = `idle-${Date.now().toString(36)}`;
  const redis = new Redis(redisUrl);
  const holders: NodeService[] = [];
  let broker: NodeService | undefined;
  const notes: string[] = [];
  try {
    const registry = createDeviceRegistry({ redis, prefix });
    const fleet = buildFleet({ devicesPerFamily: Math.ceil(max / 9) }).slice(0, max);
    process.stderr.write(`[idle] registering ${fleet.length} devices\n`);
    const { tokens } = await provisionFleet(registry, fleet, { expectedIntervalMs: 60_000 });
    const [mqttPort, opsPort] = [await freePort(), await freePort()];
    broker = spawnNodeService('broker', {
      script: 'services/broker/src/main.ts',
      env: { MQTT_PORT: String(mqttPort), OPS_PORT: String(opsPort), REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', MAX_CONNECTIONS: String(max + 100) },
      logFile: path.join(dir, 'broker.log'),
    });
    await waitUntilReady(broker, `http://127.0.0.1:${opsPort}/readyz`);
    const baseline = await settledRss(broker.pid);
    process.stderr.write(`[idle] broker RSS with no device: ${(baseline / MiB).toFixed(1)} MiB\n`);
    const addresses = sourceAddresses(Math.ceil(max / 50));
    const steps: IdleStep[] = [];
    let held = 0;
    const connectedByHolder: number[] = [];
    for (const count of [...counts].sort((a, b) => a - b)) {
      const started = performance.now();
      while (held < count) {
        const take = Math.min(PER_HOLDER, count - held);
        const devices = fleet.slice(held, held + take).map((d, i) => ({ id: d.deviceId, token: tokens.get(d.deviceId)!, address: addresses[(held + i) % addresses.length]! }));
        const specFile = path.join(dir, `holder-${holders.length}.json`);
        await writeFile(specFile, JSON.stringify({ host: '127.0.0.1', port: mqttPort, perSecond: 1000, devices }));
        const index = holders.length;
        connectedByHolder.push(0);
        const holder = spawnNodeService(`holder-${index}`, { script: 'simulators/load/src/hold-connections.ts', env: { HOLD_SPEC: specFile }, logFile: path.join(dir, `holder-${index}.log`) });
        holder.child.stdout?.on('data', (chunk: Buffer) => {
          const last = [...chunk.toString().matchAll(/connected (\d+)/g)].pop();
          if (last) connectedByHolder[index] = Number(last[1]);
        });
        holders.push(holder);
        held += take;
      }
      const deadline = performance.now() + 120_000;
      while (connectedByHolder.reduce((a, b) => a + b, 0) < count && performance.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      const connected = connectedByHolder.reduce((a, b) => a + b, 0);
      if (connected < count) notes.push(`only ${connected} of ${count} connections came up within 120 s`);
      const connectSeconds = (performance.now() - started) / 1000;
      const rss = await settledRss(broker.pid);
      const step: IdleStep = { connections: connected, brokerRssMiB: Math.round((rss / MiB) * 10) / 10, kibPerConnection: Math.round(((rss - baseline) / 1024 / connected) * 10) / 10, connectSeconds: Math.round(connectSeconds * 10) / 10 };
      const prev = steps[steps.length - 1];
      if (prev) step.marginalKibPerConnection = Math.round((((rss - prev.brokerRssMiB * MiB) / 1024) / (connected - prev.connections)) * 10) / 10;
      steps.push(step);
      process.stderr.write(`[idle] ${connected} connections: broker RSS ${step.brokerRssMiB} MiB, ${step.kibPerConnection} KiB per connection\n`);
    }
    const slope = rssSlopeKib(steps);
    const summary: IdleSummary = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      baselineRssMiB: Math.round((baseline / MiB) * 10) / 10,
      steps,
      ...(slope !== undefined ? { slopeKibPerConnection: Math.round(slope * 10) / 10 } : {}),
      notes,
    };
    await writeFile(path.join(dir, 'idle.json'), `${JSON.stringify(summary, null, 1)}\n`);
    return { summary, dir };
  } finally {
    await Promise.all(holders.map((h) => h.stop(10_000)));
    // The holders' files carry device tokens: not left behind in the report.
    await Promise.all(holders.map((_, i) => rm(path.join(dir, `holder-${i}.json`), { force: true })));
    await broker?.stop();
    await deletePrefix(redis, prefix).catch(() => 0);
    redis.disconnect();
  }
}
