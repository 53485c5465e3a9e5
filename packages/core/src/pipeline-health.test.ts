import { describe, expect, it } from 'vitest';
import { HEALTHY, pipelineStatusTopic, stepPipelineHealth, type PipelineHealthInput, type PipelineHealthState, type PipelineStatusEvent } from './pipeline-health.ts';

const options = { degradedAfterMs: 60_000 };
const failed = (at: number, retryable = true, code = 'network'): PipelineHealthInput => ({ kind: 'write_failed', at, code, retryable, detail: 'connect ECONNREFUSED' });

function run(inputs: PipelineHealthInput[]) {
  let state: PipelineHealthState = HEALTHY;
  const events: PipelineStatusEvent[] = [];
  for (const input of inputs) {
    const step = stepPipelineHealth(state, input, options);
    state = step.state;
    events.push(...step.events);
  }
  return { state, events };
}

describe('stepPipelineHealth', () => {
  it('says nothing about failures the retries ride out within degradedAfterMs', () => {
    const { state, events } = run([failed(0), failed(20_000), { kind: 'tick', at: 59_999 }, { kind: 'write_ok', at: 59_999 }]);
    expect(events).toEqual([]);
    expect(state).toEqual(HEALTHY);
  });

  it('degrades once failures outlast degradedAfterMs (on a tick too), then recovers on the first success', () => {
    const { state, events } = run([failed(1000), failed(30_000), { kind: 'tick', at: 60_999 }, { kind: 'tick', at: 61_000 }, failed(70_000), { kind: 'tick', at: 90_000 }, { kind: 'write_ok', at: 121_000 }]);
    expect(state).toEqual(HEALTHY);
    expect(events.map((e) => [e.state, e.dateIssued, e.failingForMs, e.failures])).toEqual([
      ['degraded', new Date(61_000).toISOString(), 60_000, 2],
      ['recovered', new Date(121_000).toISOString(), 120_000, 3],
    ]);
    expect(events[0]).toMatchObject({ type: 'PipelineStatus', id: 'pipeline:storage:1000', severity: 'high', reason: 'network', retryable: true, detail: 'connect ECONNREFUSED' });
    expect(events[1]).toMatchObject({ id: 'pipeline:storage:1000', severity: 'informational' });
  });

  it('degrades at once when no retry can fix the failure (a missing database)', () => {
    const { state, events } = run([failed(5000, false, 'not_found')]);
    expect(state.status).toBe('degraded');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ state: 'degraded', reason: 'not_found', retryable: false, failingForMs: 0 });
    expect(events[0]!.description).toMatch(/city storage failed/);
  });

  it('publishes beside the device alerts', () => {
    expect(pipelineStatusTopic('storage')).toBe('city/v1/alerts/pipeline/storage');
  });
});
