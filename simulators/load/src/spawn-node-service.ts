import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface NodeService {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>;
  /** SIGTERM and wait (the services flush what they hold); SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface SpawnNodeServiceOptions {
  /** A script under the repository, run with tsx (e.g. `services/broker/src/main.ts`). */
  script: string;
  /** Exactly the environment the process gets (plus PATH). */
  env: Record<string, string>;
  /** Node flags before the script (e.g. `--cpu-prof`). */
  nodeArgs?: readonly string[];
  /** Where stdout and stderr go. */
  logFile: string;
}

export interface SpawnServiceOptions {
  command: string;
  args: readonly string[];
  /** Exactly the environment the process gets (plus PATH). */
  env: Record<string, string>;
  /** Where stdout and stderr go. */
  logFile: string;
  /** Called with each chunk of stdout (status lines). */
  onStdout?: (chunk: Buffer) => void;
}

/** Any server process of a run (Mosquitto for the baseline), logged to a file, stopped with SIGTERM. */
export function spawnService(name: string, { command, args, env, logFile, onStdout }: SpawnServiceOptions): NodeService {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, [...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  if (onStdout) child.stdout?.on('data', onStdout);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  void exited.then(() => log.end());
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  return {
    name,
    child,
    pid: child.pid,
    exited,
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * Runs a service's real `main.ts` the way `npm start` and test/support/processes.ts do (node --import tsx), with
 * an environment of the load run's own, so its CPU and memory can be read from /proc/<pid>.
 */
export function spawnNodeService(name: string, { script, env, nodeArgs = [], logFile, onStdout }: SpawnNodeServiceOptions & { onStdout?: (chunk: Buffer) => void }): NodeService {
  return spawnService(name, { command: process.execPath, args: [...nodeArgs, '--import', 'tsx', path.join(repoRoot, script)], env, logFile, ...(onStdout ? { onStdout } : {}) });
}

/** Polls `url` until it answers 2xx; fails early when the process exits, or after `timeoutMs`. */
export async function waitUntilReady(service: NodeService, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${service.name} exited with code ${String(exitCode)} while starting`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${service.name} not ready at ${url} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
