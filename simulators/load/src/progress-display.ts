import { createLogUpdate } from 'log-update';

/** One line of live progress. */
export interface ProgressLine {
  phase: string;
  elapsedS: number;
  durationS: number;
  targetPerS?: number;
  sentPerS: number;
  ackedPerS: number;
  storedPerS?: number;
  /** Acknowledged readings not yet in InfluxDB. */
  backlog?: number;
  pubackP99Ms?: number;
  lagMs: number;
  connected: number;
  devices: number;
  inFlight: number;
  errors: number;
  simTime?: string;
}

const k = (n: number | undefined) => (n === undefined ? '–' : n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)));

export function formatProgress(p: ProgressLine): string {
  const head = `${p.phase} ${p.elapsedS.toFixed(0)}/${p.durationS}s`;
  const rates = `rate ${p.targetPerS !== undefined ? `${k(p.targetPerS)}→` : ''}sent ${k(p.sentPerS)}/s acked ${k(p.ackedPerS)}/s stored ${k(p.storedPerS)}/s`;
  const lag = `backlog ${k(p.backlog)} puback p99 ${p.pubackP99Ms?.toFixed(1) ?? '–'} ms lag ${k(p.lagMs)} ms`;
  const conns = `conn ${p.connected}/${p.devices} in-flight ${p.inFlight} errors ${p.errors}`;
  return [head, rates, lag, conns, ...(p.simTime ? [`sim ${p.simTime}`] : [])].join(' | ');
}

/**
 * Live progress: on a terminal one line rewritten in place (log-update); otherwise (CI, a pipe) a plain line every
 * `plainEveryS` seconds, so logs stay readable.
 */
export function createProgressDisplay(stream: NodeJS.WriteStream = process.stderr, plainEveryS = 5) {
  const tty = stream.isTTY === true;
  const update = tty ? createLogUpdate(stream) : undefined;
  let lastPlain = -Infinity;
  return {
    show(p: ProgressLine) {
      const line = formatProgress(p);
      if (update) update(line);
      else if (p.elapsedS - lastPlain >= plainEveryS) {
        lastPlain = p.elapsedS;
        stream.write(`${line}\n`);
      }
    },
    /** Keeps the last line and moves on. */
    done() {
      update?.done();
    },
    log(text: string) {
      if (update) update.clear();
      stream.write(`${text}\n`);
    },
  };
}
