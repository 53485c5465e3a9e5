import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** A server process of a test's own, stopped and restarted on the same port and data dir. */
export interface ServerProcess {
  url: string;
  start(): Promise<void>;
  /** SIGTERM and wait: the server shuts down as a service stop would (Redis writes its AOF). */
  stop(): Promise<void>;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

function createServerProcess(name: string, url: string, port: number, spawnServer: () => ChildProcess): ServerProcess {
  let child: ChildProcess | undefined;
  return {
    url,
    async start() {
      child = spawnServer();
      const deadline = Date.now() + 20_000;
      while (!(await portAnswers(port))) {
        if (Date.now() > deadline) throw new Error(`${name} on ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!child) return;
      const exited = waitForExit(child);
      child.kill('SIGTERM');
      await exited;
      child = undefined;
    },
  };
}

/** A Redis configured as infra/services.sh configures ours (AOF, everysec, noeviction), for tests that stop it. */
export async function createRedisServer(extraArgs: string[] = []): Promise<ServerProcess> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'city-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction', ...extraArgs];
  return createServerProcess('redis-server', `redis://127.0.0.1:${port}`, port, () => spawn('redis-server', args, { stdio: 'ignore' }));
}

/** An InfluxDB 1.x from infra's own config template, for tests that stop the database. */
export async function createInfluxServer(): Promise<ServerProcess> {
  const [port, rpcPort] = [await freePort(), await freePort()];
  const dir = await mkdtemp(path.join(os.tmpdir(), 'city-influx-'));
  const template = await readFile(path.join(repoRoot, 'infra/conf/influxdb.conf.tmpl'), 'utf8');
  const config = path.join(dir, 'influxdb.conf');
  await writeFile(config, template.replaceAll('@DATA_DIR@', dir).replaceAll('@HTTP_PORT@', String(port)).replaceAll('@RPC_PORT@', String(rpcPort)));
  return createServerProcess('influxd', `http://127.0.0.1:${port}`, port, () => spawn('influxd', ['-config', config], { stdio: 'ignore' }));
}

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once a log line matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Runs a service's real `main.ts` the way `npm start` does, with exactly the environment given. */
export function spawnService(service: 'broker' | 'worker', env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, `services/${service}/src/main.ts`)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return {
    child,
    output: () => output,
    exited: waitForExit(child),
    waitForLog(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
