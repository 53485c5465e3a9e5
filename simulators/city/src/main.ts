import { readFile, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { createDeviceRegistry } from '@city/registry';
import { buildFleet } from './build-fleet.ts';
import { provisionFleet } from './provision-fleet.ts';
import { parseCliArgs, USAGE } from './parse-cli-args.ts';
import { runFleet, type FleetProgress } from './run-fleet.ts';

const PROGRESS_INTERVAL_MS = 5000;

function progressLine(p: FleetProgress, final = false): string {
  const invalid = Object.values(p.invalid).reduce((a, b) => a + b, 0);
  const line =
    `[city-sim] ${(p.elapsedMs / 1000).toFixed(0)}s connected ${p.connected}/${p.devices} | ` +
    `sent ${p.sent} (${p.sentPerS}/s) acked ${p.acked} (${p.ackedPerS}/s) errors ${p.errors} in-flight ${p.inFlight} | ` +
    `invalid ${invalid} over-threshold ${p.overThreshold}`;
  return !final && p.connected < p.devices && p.lastConnectionError
    ? `${line} | last error: ${p.lastConnectionError}`
    : line;
}

const cli = parseCliArgs(process.argv.slice(2));
if (cli.kind === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (cli.kind === 'error') {
  process.stderr.write(
    `city-sim: bad options:\n${cli.problems.map((p) => `  ${p}`).join('\n')}\n\nRun with --help for usage.\n`,
  );
  process.exit(2);
}
const options = cli.options;

const devices = buildFleet({
  devicesPerFamily: options.devices,
  families: options.families,
  districts: options.districts,
  seed: options.seed,
});
/** Tokens the devices log in with: from --credentials-file, and/or from registering the fleet (--provision). */
async function fleetCredentials(): Promise<Map<string, string> | undefined> {
  let known = new Map<string, string>();
  if (options.credentialsFile) {
    try {
      known = new Map(Object.entries(JSON.parse(await readFile(options.credentialsFile, 'utf8')) as Record<string, string>));
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!(missing && options.provision)) throw new Error(`--credentials-file ${options.credentialsFile}: ${(err as Error).message}`);
    }
  }
  if (!options.provision) return options.credentialsFile ? known : undefined;
  const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  await redis.connect().catch((err: Error) => {
    throw new Error(`--provision: cannot reach Redis at ${redisUrl}: ${err.message}`);
  });
  try {
    const registry = createDeviceRegistry({ redis, prefix: options.prefix ?? 'city' });
    const fleet = await provisionFleet(registry, devices, { known, expectedIntervalMs: options.intervalMs });
    process.stderr.write(`[city-sim] provisioned: ${fleet.added} added, ${fleet.reused} kept their token, ${fleet.rotated} got a new one\n`);
    if (options.credentialsFile) {
      await writeFile(options.credentialsFile, `${JSON.stringify(Object.fromEntries(fleet.tokens), null, 1)}\n`, { mode: 0o600 });
    }
    return fleet.tokens;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

let credentials: Map<string, string> | undefined;
try {
  credentials = await fleetCredentials();
} catch (err) {
  process.stderr.write(`city-sim: ${(err as Error).message}\n`);
  process.exit(1);
}

process.stderr.write(
  `[city-sim] ${devices.length} devices (${options.families.join(', ')}) -> ${options.url}, ` +
    `every ${options.intervalMs} ms, QoS ${options.qos}` +
    (options.durationS > 0 ? `, for ${options.durationS} s\n` : ', until SIGINT/SIGTERM\n'),
);

const run = runFleet({
  url: options.url,
  devices,
  intervalMs: options.intervalMs,
  qos: options.qos,
  batchSize: options.batchSize,
  invalidRate: options.invalidRate,
  overThresholdRate: options.overThresholdRate,
  seed: options.seed,
  reading: { timestamp: options.tsFormat },
  progressIntervalMs: PROGRESS_INTERVAL_MS,
  ...(credentials ? { credentials } : {}),
  onProgress: (p) => process.stderr.write(`${progressLine(p)}\n`),
});

let shuttingDown = false;
async function shutdown(why: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  process.stderr.write(`[city-sim] stopping (${why}): waiting for in-flight acknowledgements\n`);
  const final = await run.stop();
  process.stderr.write(`${progressLine(final, true)}\n`);
  const { lastConnectionError, connected: _connected, ...counts } = final;
  const summary = {
    url: options.url,
    families: options.families,
    qos: options.qos,
    intervalMs: options.intervalMs,
    batchSize: options.batchSize,
    seed: options.seed,
    ...counts,
    lastConnectionError,
  };
  const code = options.qos === 1 && final.sent > 0 && final.acked === 0 ? 1 : 0;
  process.stdout.write(`${JSON.stringify(summary)}\n`, () => process.exit(code));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second signal means "now": skip the wait for acknowledgements.
    if (shuttingDown) process.exit(130);
    void shutdown(signal);
  });
}
if (options.durationS > 0) setTimeout(() => void shutdown('duration reached'), options.durationS * 1000);
