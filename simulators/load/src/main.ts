import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { parseScenario } from '@city/simulator';
import { influxPing } from './influx-v1.ts';
import { measureIdleConnections } from './measure-idle-connections.ts';
import { parseLoadArgs, USAGE } from './parse-load-args.ts';
import { runLoadTest } from './run-load-test.ts';
import { repoRoot } from './spawn-node-service.ts';

const fail = (message: string, code = 1): never => {
  process.stderr.write(`load: ${message}\n`);
  process.exit(code);
};

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * The servers to run against: the ones given, else REDIS_URL / INFLUX_URL, else the dev profile's, which
 * infra/services.sh starts when they do not answer (as `npm start` does).
 */
async function servers(given: { redisUrl?: string | undefined; influxUrl?: string | undefined }, need: { influx: boolean }) {
  let redisUrl = given.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  let influxUrl = given.influxUrl ?? process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';
  const up = async () => (await redisAnswers(redisUrl)) && (!need.influx || (await influxPing(influxUrl)));
  if (await up()) return { redisUrl, influxUrl };
  if (given.redisUrl || given.influxUrl) fail(`the servers given do not answer (Redis ${redisUrl}, InfluxDB ${influxUrl})`);
  process.stderr.write('[load] starting the dev profile\'s Redis and InfluxDB: bash infra/services.sh up\n');
  const env = execFileSync('bash', [path.join(repoRoot, 'infra/services.sh'), 'up', '--profile', 'dev', 'redis', ...(need.influx ? ['influxdb'] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  redisUrl = /^REDIS_URL=(.*)$/m.exec(env)?.[1] ?? redisUrl;
  influxUrl = /^INFLUX_URL=(.*)$/m.exec(env)?.[1] ?? influxUrl;
  if (!(await up())) fail(`Redis ${redisUrl} or InfluxDB ${influxUrl} still does not answer`);
  return { redisUrl, influxUrl };
}

function scenarioPath(name: string): string {
  if (existsSync(name)) return path.resolve(name);
  for (const ext of ['.yaml', '.yml', '.json']) {
    const candidate = path.join(repoRoot, 'simulators/city/scenarios', `${name}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  return fail(`no scenario "${name}" (a file, or a name in simulators/city/scenarios/)`, 2);
}

const parsed = parseLoadArgs(process.argv.slice(2));
if (parsed.kind === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (parsed.kind === 'error') fail(`bad options:\n${parsed.problems.map((p) => `  ${p}`).join('\n')}\n\nRun with --help for usage.`, 2);

if (parsed.kind === 'idle') {
  const { redisUrl } = await servers({ redisUrl: parsed.args.redisUrl }, { influx: false });
  const result = await measureIdleConnections({ redisUrl, counts: parsed.args.connections, ...(parsed.args.reportDir ? { reportRoot: parsed.args.reportDir } : {}) });
  process.stdout.write(`${JSON.stringify(result.summary, null, 1)}\n`);
  process.stderr.write(`[load] written ${path.relative(process.cwd(), result.dir)}/idle.json\n`);
  process.exit(0);
}

if (parsed.kind === 'run') {
  const args = parsed.args;
  const file = scenarioPath(args.scenario);
  const scenario = parseScenario(await readFile(file, 'utf8'), path.basename(file));
  if (!scenario.ok) fail(`the scenario is not valid:\n${scenario.problems.map((p) => `  ${p}`).join('\n')}`, 2);
  if (!scenario.ok) process.exit(2);
  const { redisUrl, influxUrl } = await servers(args, { influx: true });
  try {
    const { report, dir } = await runLoadTest({
      scenario: scenario.scenario,
      scenarioFile: file,
      ...(args.rate !== undefined ? { rate: args.rate } : {}),
      durationMs: args.duration,
      rampMs: args.ramp,
      ...(args.qos !== undefined ? { qos: args.qos } : {}),
      ...(args.window !== undefined ? { inFlightWindow: args.window } : {}),
      ...(args.batch !== undefined ? { readingsPerMessage: args.batch } : {}),
      ...(args.scale !== undefined ? { scale: args.scale } : {}),
      noFaults: args.noFaults,
      ...(args.rules !== undefined ? { rules: args.rules === 'none' ? 'none' : path.resolve(args.rules) } : {}),
      profile: args.profile,
      ...(args.label !== undefined ? { label: args.label } : {}),
      keep: args.keep,
      ...(args.reportDir !== undefined ? { reportRoot: path.resolve(args.reportDir) } : {}),
      redisUrl,
      influxUrl,
    });
    const v = report.verification;
    const t = report.throughput;
    process.stderr.write(
      [
        '',
        `${v.ok ? 'PASS' : 'FAIL'} ${report.id}`,
        ...v.problems.map((p) => `  - ${p}`),
        `  readings/s: sent ${t.sentPerS}, acknowledged ${t.ackedPerS}, stored ${t.storedPerS ?? '–'} (steady window ${t.steadyWindowS.join('–')} s)`,
        `  PUBACK p50/p99 ${report.latency.pubackSteady.p50 ?? '–'}/${report.latency.pubackSteady.p99 ?? '–'} ms; publish→queryable p50/p99 ${report.latency.publishToQueryable.p50 ?? '–'}/${report.latency.publishToQueryable.p99 ?? '–'} ms`,
        `  acknowledged points ${v.ackedPoints}, stored ${v.storedPoints}, lost ${v.lost ?? 'n/a (QoS 0)'}; dead letters ${report.totals.deadLetters}; alerts ${v.alerts.raised}/${v.alerts.expected}`,
        `  report: ${path.relative(process.cwd(), dir)}/report.md`,
        '',
      ].join('\n'),
    );
    process.exit(v.ok ? 0 : 1);
  } catch (err) {
    fail((err as Error).stack ?? String(err));
  }
}
