import { describe, expect, it } from 'vitest';
import { RELEASED, checkBackpressureMarks, stepBackpressure, type BackpressureSample, type BackpressureState } from './backpressure.ts';

const marks = { backlogHighJobs: 1000, backlogLowJobs: 200, memoryHighRatio: 0.8, memoryLowRatio: 0.6 };
const MB = 1024 * 1024;
const sample = (at: number, backlogJobs: number, usedMb: number, maxMb = 100): BackpressureSample => ({
  at, backlogJobs, usedMemoryBytes: usedMb * MB, maxMemoryBytes: maxMb * MB,
});

function run(samples: BackpressureSample[]) {
  let state: BackpressureState = RELEASED;
  const events = [];
  const engaged: boolean[] = [];
  for (const s of samples) {
    const step = stepBackpressure(state, s, marks);
    state = step.state;
    events.push(...step.events);
    engaged.push(state.engaged);
  }
  return { engaged, events };
}

describe('stepBackpressure', () => {
  it('engages at the memory high-water mark and releases only at the low one (no flapping in between)', () => {
    const { engaged, events } = run([sample(0, 0, 50), sample(1, 0, 80), sample(2, 0, 70), sample(3, 0, 79), sample(4, 0, 60), sample(5, 0, 70)]);
    expect(engaged).toEqual([false, true, true, true, false, false]);
    expect(events).toEqual([
      { kind: 'engaged', at: 1, reason: 'memory', backlogJobs: 0, memoryRatio: 0.8 },
      { kind: 'released', at: 4, heldMs: 3, backlogJobs: 0, memoryRatio: 0.6 },
    ]);
  });

  it('engages on the backlog alone, and both must be low to release', () => {
    const { engaged, events } = run([sample(0, 999, 10), sample(1, 1000, 10), sample(2, 200, 70), sample(3, 201, 10), sample(4, 200, 10)]);
    expect(engaged).toEqual([false, true, true, true, false]);
    expect(events.map((e) => e.kind === 'engaged' ? e.reason : e.kind)).toEqual(['backlog', 'released']);
  });

  it('ignores memory when Redis has no maxmemory', () => {
    const { engaged } = run([sample(0, 10, 5000, 0), sample(1, 1000, 5000, 0), sample(2, 100, 9000, 0)]);
    expect(engaged).toEqual([false, true, false]);
  });

  it('names marks that cannot work', () => {
    expect(checkBackpressureMarks(marks)).toEqual([]);
    expect(checkBackpressureMarks({ backlogHighJobs: 10, backlogLowJobs: 10, memoryHighRatio: 1.5, memoryLowRatio: 1.6 })).toHaveLength(3);
  });
});
