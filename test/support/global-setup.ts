import net from 'node:net';
import { testEnv } from './env.ts';

function reachable(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), timeout: 2000 });
    socket.once('connect', () => { socket.destroy(); resolve(undefined); });
    socket.once('timeout', () => { socket.destroy(); resolve(`${url}: timed out`); });
    socket.once('error', (err) => resolve(`${url}: ${err.message}`));
  });
}

/** Tests never skip for a missing server: the whole run fails here, naming what is down. */
export default async function setup(): Promise<void> {
  const problems = (await Promise.all([testEnv.redisUrl, testEnv.influxV1Url, testEnv.influxV2Url].map(reachable))).filter(
    (p): p is string => p !== undefined,
  );
  if (problems.length > 0) {
    throw new Error(
      `The tests need real services and these are not reachable:\n  ${problems.join('\n  ')}\n` +
        'Start them with `bash infra/services.sh up --profile test` (or run `npm test`, which does).',
    );
  }
}
