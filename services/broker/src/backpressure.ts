import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Client, PublishPacket } from 'aedes';
import { RELEASED, stepBackpressure, type BackpressureMarks, type BackpressureSample, type BackpressureState } from '@city/core';
import type { Logger } from '@city/logger';
import { ALERT_TOPIC_ROOT } from '@city/schema';
import type { BackpressureMetrics } from './backpressure-metrics.ts';

/** Backpressure settings of the broker (README "Reliability"). */
export interface BackpressureOptions extends BackpressureMarks {
  /**
   * How often the backlog and Redis memory are read.
   * @defaultValue 250
   */
  sampleMs: number;
}

export const BACKPRESSURE_DEFAULTS: BackpressureOptions = {
  backlogHighJobs: 20_000,
  backlogLowJobs: 10_000,
  memoryHighRatio: 0.8,
  memoryLowRatio: 0.7,
  sampleMs: 250,
};

export interface BackpressureDeps {
  /** Reads the backlog and Redis memory (redisBackpressureSample in production). */
  sample: () => Promise<BackpressureSample>;
  options?: Partial<BackpressureOptions>;
  metrics: BackpressureMetrics;
  logger: Logger;
}

export interface Backpressure {
  /**
   * Calls `proceed` at once, or, while backpressure is engaged, once it is released. Meanwhile the client gets no
   * PUBACK and Aedes reads nothing more from its socket (the packets of the read in hand, at most one socket read
   * per client, wait here), so TCP pushes back on the device; nothing is dropped and nothing is disconnected by us
   * (a hold has no deadline: ENQUEUE_TIMEOUT_MS starts only once it is let through).
   * Alert topics (the worker's service account) and the broker's own publishes are never held.
   */
  hold(client: Client | null, packet: PublishPacket, proceed: () => void): void;
  state(): BackpressureState;
  /** Read the backlog and memory now and step the state (the sampler's timer calls this). */
  sampleNow(): Promise<void>;
  /** Stop sampling and let everything held through (the broker's close then refuses it). */
  close(): void;
}

const ALERT_TOPIC_PREFIX = `${ALERT_TOPIC_ROOT}/`;

/**
 * The telemetry backlog and Redis memory, read on the producer connection the queue was given (it fails fast while
 * Redis is away). Memory is read only when that connection is an ioredis client, as main.ts gives it.
 */
export function redisBackpressureSample(queue: Queue, now: () => number): () => Promise<BackpressureSample> {
  const redis = queue.opts.connection instanceof Redis ? queue.opts.connection : undefined;
  return async () => {
    const [counts, info] = await Promise.all([queue.getJobCounts('waiting', 'delayed', 'prioritized'), redis ? redis.info('memory') : Promise.resolve('')]);
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return {
      at: now(),
      backlogJobs: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      usedMemoryBytes: field('used_memory'),
      maxMemoryBytes: field('maxmemory'),
    };
  };
}

/**
 * The broker's side of backpressure: a sampler steps `stepBackpressure` (pure, @city/core) every `sampleMs`, and
 * `hold` keeps new telemetry publishes waiting while it is engaged. Above the high-water mark the broker stops
 * acknowledging and reading from devices instead of letting a `noeviction` Redis fill up, which would fail every
 * write, the workers' included, and deadlock the pipeline (NOTES.md); below the low-water mark it lets them
 * through again, by itself.
 *
 * QoS 0 publishes are held too: holding costs at most one socket read per client and loses nothing, where dropping
 * would lose readings the broker could still take a moment later. A device held longer than its keep-alive (Aedes
 * reads no PINGREQ meanwhile) is disconnected by its keep-alive, one device at a time at its own phase, not all at
 * once; it reconnects (paced by the per-address connect limit) and resends what was not acknowledged.
 */
export function createBackpressure(deps: BackpressureDeps): Backpressure {
  const { metrics, logger } = deps;
  const options = { ...BACKPRESSURE_DEFAULTS, ...deps.options };
  let state: BackpressureState = RELEASED;
  let held: Array<() => void> = [];
  let sampling: Promise<void> | undefined;
  let failing = false;

  function release(): void {
    const proceed = held;
    held = [];
    metrics.backpressureHeld.set(0);
    for (const p of proceed) p();
  }

  async function sampleNow(): Promise<void> {
    let sample: BackpressureSample;
    try {
      sample = await deps.sample();
    } catch (err) {
      metrics.backpressureSampleErrors.inc();
      // Redis away: enqueues fail on their own (no PUBACK, disconnect); keep the state, say so once.
      if (!failing) logger.warn({ err: (err as Error).message }, 'backpressure: cannot read the backlog and Redis memory; keeping the current state');
      failing = true;
      return;
    }
    failing = false;
    metrics.telemetryBacklog.set(sample.backlogJobs);
    metrics.redisMemoryRatio.set(sample.maxMemoryBytes > 0 ? sample.usedMemoryBytes / sample.maxMemoryBytes : 0);
    const step = stepBackpressure(state, sample, options);
    state = step.state;
    for (const event of step.events) {
      if (event.kind === 'engaged') {
        metrics.backpressure.set(1);
        metrics.backpressureTransitions.inc({ state: 'engaged', reason: event.reason });
        logger.warn({ reason: event.reason, backlogJobs: event.backlogJobs, memoryRatio: Number(event.memoryRatio.toFixed(3)), marks: options }, 'backpressure engaged: holding telemetry publishes (no PUBACK) until below the low-water marks');
      } else {
        metrics.backpressure.set(0);
        metrics.backpressureTransitions.inc({ state: 'released', reason: '' });
        metrics.backpressureSeconds.inc(event.heldMs / 1000);
        logger.info({ heldMs: event.heldMs, held: held.length, backlogJobs: event.backlogJobs, memoryRatio: Number(event.memoryRatio.toFixed(3)) }, 'backpressure released: taking telemetry again');
        release();
      }
    }
  }

  const timer = setInterval(() => {
    // One sample at a time: a slow Redis must not stack them up.
    sampling ??= sampleNow().finally(() => (sampling = undefined));
  }, options.sampleMs);
  timer.unref();

  return {
    hold(client, packet, proceed) {
      if (!state.engaged || client === null || packet.topic.startsWith(ALERT_TOPIC_PREFIX)) return proceed();
      held.push(proceed);
      metrics.backpressureHeld.set(held.length);
      metrics.backpressureHeldTotal.inc();
    },
    state: () => state,
    sampleNow,
    close() {
      clearInterval(timer);
      release();
    },
  };
}
