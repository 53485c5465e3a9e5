import { HEALTHY, pipelineStatusTopic, stepPipelineHealth, type PipelineHealthInput, type PipelineHealthState, type PipelineStatusEvent } from '@city/core';
import type { Logger } from '@city/logger';
import type { StorageMetrics } from './storage-metrics.ts';

export interface PipelineHealthMonitorOptions {
  /**
   * How long the database may keep failing before operators are told.
   * @defaultValue 60_000
   */
  degradedAfterMs?: number;
  /** Publishes a retained message for operators (the worker's MQTT client); absent, status is only logged and in metrics. */
  publish?: (topic: string, payload: string) => Promise<void>;
  metrics: Pick<StorageMetrics, 'degraded'>;
  logger: Logger;
  now: () => number;
  /**
   * How often the clock is checked (failures that outlast `degradedAfterMs` while no write is tried) and an
   * unpublished status is tried again.
   * @defaultValue 1000
   */
  tickMs?: number;
}

export interface PipelineHealthMonitor {
  record(input: PipelineHealthInput): void;
  state(): PipelineHealthState;
  close(): Promise<void>;
}

/**
 * Runs `stepPipelineHealth` on the storage role's write outcomes and tells operators: the retained topic
 * `city/v1/alerts/pipeline/storage` (a console that connects later sees the current status), a log line, and the
 * `city_worker_pipeline_degraded` gauge. A status that could not be published (the broker is down too) is tried
 * again on every tick until it is, unless a newer one replaced it.
 */
export function createPipelineHealthMonitor(options: PipelineHealthMonitorOptions): PipelineHealthMonitor {
  const { logger, metrics, now } = options;
  const settings = { degradedAfterMs: options.degradedAfterMs ?? 60_000 };
  let state = HEALTHY;
  let unpublished: PipelineStatusEvent | undefined;
  let publishing: Promise<void> | undefined;

  function publishPending(): Promise<void> {
    if (!options.publish || !unpublished || publishing) return publishing ?? Promise.resolve();
    const event = unpublished;
    publishing = options
      .publish(pipelineStatusTopic(event.component), JSON.stringify(event))
      .then(
        () => {
          if (unpublished === event) unpublished = undefined;
        },
        (err: unknown) => logger.warn({ err: (err as Error).message, state: event.state }, 'pipeline status not published; trying again'),
      )
      .finally(() => (publishing = undefined));
    return publishing;
  }

  function record(input: PipelineHealthInput): void {
    const step = stepPipelineHealth(state, input, settings);
    state = step.state;
    metrics.degraded.set(state.status === 'degraded' ? 1 : 0);
    for (const event of step.events) {
      if (event.state === 'degraded') logger.error({ reason: event.reason, detail: event.detail, failingForMs: event.failingForMs, failures: event.failures }, 'pipeline degraded: storage writes are failing');
      else logger.info({ failingForMs: event.failingForMs, failures: event.failures }, 'pipeline recovered: storage writes succeed again');
      unpublished = event;
    }
    if (step.events.length > 0) void publishPending();
  }

  const timer = setInterval(() => {
    record({ kind: 'tick', at: now() });
    void publishPending();
  }, options.tickMs ?? 1000);
  timer.unref();

  return {
    record,
    state: () => state,
    async close() {
      clearInterval(timer);
      await publishPending();
    },
  };
}
