/**
 * A look at a running system, for people: `npm run readings`, `npm run dead-letters`.
 * Reads the same environment variables as the services (defaults: the dev profile of infra/services.sh).
 */
import { createDeadLetterStore, createRedis } from '@city/queue';
import { FAMILY_SPECS } from '@city/schema';

const env = process.env;
const [what = 'readings', countArg = '5'] = process.argv.slice(2);
const count = Number(countArg);

async function readings(): Promise<void> {
  const url = env.INFLUX_URL ?? 'http://127.0.0.1:8086';
  const db = env.INFLUX_DB ?? 'city';
  for (const { measurement } of Object.values(FAMILY_SPECS)) {
    const q = `SELECT * FROM "${measurement}" ORDER BY time DESC LIMIT ${count}`;
    const response = await fetch(`${url}/query?${new URLSearchParams({ db, q }).toString()}`);
    const body = (await response.json()) as { results?: Array<{ error?: string; series?: Array<{ columns: string[]; values: unknown[][] }> }> };
    const result = body.results?.[0];
    if (!response.ok || result?.error) throw new Error(`InfluxDB ${url} db ${db}: ${result?.error ?? response.status}`);
    const series = result?.series?.[0];
    console.log(`\n${measurement}: ${series ? `latest ${series.values.length}` : 'no readings yet'}`);
    if (series) console.table(series.values.map((row) => Object.fromEntries(series.columns.map((c, i): [string, unknown] => [c, row[i]]).filter(([, v]) => v !== null))));
  }
}

async function deadLetters(): Promise<void> {
  // Queue the command until connected; one retry, so a Redis that is down fails fast with its error.
  const redis = createRedis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'producer', { enableOfflineQueue: true });
  try {
    const entries = await createDeadLetterStore({ redis, prefix: env.QUEUE_PREFIX ?? 'city' }).list(count);
    console.log(`latest ${entries.length} rejected payloads`);
    console.table(entries.map((e) => ({ at: new Date(e.receivedAt).toISOString(), reason: e.reason, client: e.clientId, topic: e.topic, detail: e.detail })));
  } finally {
    redis.disconnect();
  }
}

if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive whole number, got "${countArg}"`);
if (what === 'readings') await readings();
else if (what === 'dead-letters') await deadLetters();
else throw new Error(`unknown view "${what}": readings or dead-letters`);
