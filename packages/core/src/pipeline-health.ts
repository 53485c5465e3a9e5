import { ALERT_TOPIC_ROOT } from '@city/schema';

/**
 * Whether storage is keeping up, as operators are told: a pure state machine fed with the outcome of every write
 * to the database and with clock ticks. `degraded` is announced once the database has been failing for longer
 * than `degradedAfterMs` (a blip that the retries ride out is not an incident), or at once when the failure is one
 * that no retry can fix (a missing database, a refused login): those need a person. `recovered` follows the first
 * write that succeeds.
 */
export interface PipelineHealthOptions {
  /** How long writes may keep failing before operators are told. */
  degradedAfterMs: number;
}

export type PipelineHealthInput =
  | { kind: 'write_ok'; at: number }
  | { kind: 'write_failed'; at: number; code: string; retryable: boolean; detail: string }
  | { kind: 'tick'; at: number };

export interface PipelineHealthState {
  status: 'healthy' | 'failing' | 'degraded';
  /** First failure of the current run of failures, epoch ms. */
  failingSince: number | null;
  degradedSince: number | null;
  /** Failed writes in the current run. */
  failures: number;
  lastError: { code: string; retryable: boolean; detail: string } | null;
}

export const HEALTHY: PipelineHealthState = { status: 'healthy', failingSince: null, degradedSince: null, failures: 0, lastError: null };

/** What operators receive, retained, on `pipelineStatusTopic('storage')`. Shaped after FIWARE `Alert` where it fits. */
export interface PipelineStatusEvent {
  type: 'PipelineStatus';
  /** `pipeline:{component}:{failingSince}`: one id per incident, shared by its `degraded` and `recovered`. */
  id: string;
  component: 'storage';
  state: 'degraded' | 'recovered';
  category: 'pipeline';
  severity: 'high' | 'informational';
  dateIssued: string;
  failingSince: string;
  /** Failing for this long when issued (for `recovered`: the whole incident). */
  failingForMs: number;
  failures: number;
  /** The last failure's code (`network`, `throttled`, `server`, `not_found`, `unauthorized`) and the server's words. */
  reason: string;
  detail: string;
  retryable: boolean;
  description: string;
}

/** Where pipeline status goes: beside the device alerts, so a console subscribed to `city/v1/alerts/#` sees it. */
export function pipelineStatusTopic(component: 'storage'): string {
  return `${ALERT_TOPIC_ROOT}/pipeline/${component}`;
}

function statusEvent(state: PipelineHealthState, at: number, kind: 'degraded' | 'recovered'): PipelineStatusEvent {
  const since = state.failingSince ?? at;
  const error = state.lastError ?? { code: 'unknown', retryable: true, detail: '' };
  const minutes = Math.round((at - since) / 6000) / 10;
  const description =
    kind === 'recovered'
      ? `Storage recovered: writes to the database succeed again after ${minutes} min of failures; the backlog is draining.`
      : error.retryable
        ? `Storage degraded: writes to the database have failed for ${minutes} min (${error.code}). Readings are kept in the queue and retried; nothing is lost while Redis has room.`
        : `Storage needs an operator: the database refuses writes (${error.code}) and retrying cannot fix it. Affected batches are kept in the failed set (city storage failed list | replay).`;
  return {
    type: 'PipelineStatus',
    id: `pipeline:storage:${since}`,
    component: 'storage',
    state: kind,
    category: 'pipeline',
    severity: kind === 'degraded' ? 'high' : 'informational',
    dateIssued: new Date(at).toISOString(),
    failingSince: new Date(since).toISOString(),
    failingForMs: at - since,
    failures: state.failures,
    reason: error.code,
    detail: error.detail,
    retryable: error.retryable,
    description,
  };
}

export function stepPipelineHealth(
  state: PipelineHealthState,
  input: PipelineHealthInput,
  options: PipelineHealthOptions,
): { state: PipelineHealthState; events: PipelineStatusEvent[] } {
  switch (input.kind) {
    case 'write_ok': {
      if (state.status === 'healthy') return { state, events: [] };
      const events = state.status === 'degraded' ? [statusEvent(state, input.at, 'recovered')] : [];
      return { state: HEALTHY, events };
    }
    case 'write_failed': {
      const lastError = { code: input.code, retryable: input.retryable, detail: input.detail };
      const next: PipelineHealthState = {
        ...state,
        status: state.status === 'healthy' ? 'failing' : state.status,
        failingSince: state.failingSince ?? input.at,
        failures: state.failures + 1,
        lastError,
      };
      return degradeIfDue(next, input.at, options, !input.retryable);
    }
    case 'tick':
      return degradeIfDue(state, input.at, options, false);
  }
}

function degradeIfDue(state: PipelineHealthState, at: number, options: PipelineHealthOptions, now: boolean) {
  if (state.status !== 'failing' || state.failingSince === null) return { state, events: [] };
  if (!now && at - state.failingSince < options.degradedAfterMs) return { state, events: [] };
  const degraded: PipelineHealthState = { ...state, status: 'degraded', degradedSince: at };
  return { state: degraded, events: [statusEvent(degraded, at, 'degraded')] };
}
