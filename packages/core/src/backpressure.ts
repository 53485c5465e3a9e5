/**
 * When the broker stops taking telemetry. A full `noeviction` Redis fails every write, the workers' included, and
 * the pipeline deadlocks (NOTES.md); a backlog that only grows means storage cannot keep up. Either is cheaper to
 * stop at the door: the broker holds new publishes (no PUBACK, Aedes reads nothing more from that client) above
 * a high-water mark, and lets them through again only below a low-water mark, so it does not flap at the line.
 */
export interface BackpressureMarks {
  /** Engage when this many telemetry jobs wait (waiting + delayed + prioritized). */
  backlogHighJobs: number;
  /** …and release only at or below this many. */
  backlogLowJobs: number;
  /** Engage when Redis' `used_memory` reaches this share of its `maxmemory` (0..1). Not checked without a maxmemory. */
  memoryHighRatio: number;
  /** …and release only at or below this share. */
  memoryLowRatio: number;
}

export type BackpressureReason = 'backlog' | 'memory';

/** One reading of Redis, taken by the broker's sampler. */
export interface BackpressureSample {
  at: number;
  backlogJobs: number;
  usedMemoryBytes: number;
  /** Redis' `maxmemory`; 0 means no limit, and memory is then not a reason. */
  maxMemoryBytes: number;
}

export type BackpressureState = { engaged: false } | { engaged: true; since: number; reason: BackpressureReason };

export type BackpressureEvent =
  | { kind: 'engaged'; at: number; reason: BackpressureReason; backlogJobs: number; memoryRatio: number }
  | { kind: 'released'; at: number; heldMs: number; backlogJobs: number; memoryRatio: number };

export const RELEASED: BackpressureState = { engaged: false };

/** Problems with a set of marks, for the config check; empty when usable. */
export function checkBackpressureMarks(marks: BackpressureMarks): string[] {
  const problems: string[] = [];
  if (!(marks.backlogLowJobs < marks.backlogHighJobs)) {
    problems.push(`the backlog low-water mark (${marks.backlogLowJobs}) must be below the high-water mark (${marks.backlogHighJobs})`);
  }
  if (!(marks.memoryLowRatio < marks.memoryHighRatio)) {
    problems.push(`the memory low-water mark (${marks.memoryLowRatio}) must be below the high-water mark (${marks.memoryHighRatio})`);
  }
  if (!(marks.memoryHighRatio > 0 && marks.memoryHighRatio <= 1)) problems.push(`the memory high-water mark must be within (0, 1], got ${marks.memoryHighRatio}`);
  return problems;
}

export function memoryRatio(sample: Pick<BackpressureSample, 'usedMemoryBytes' | 'maxMemoryBytes'>): number {
  return sample.maxMemoryBytes > 0 ? sample.usedMemoryBytes / sample.maxMemoryBytes : 0;
}

/** Advances the broker's backpressure state by one sample. */
export function stepBackpressure(
  state: BackpressureState,
  sample: BackpressureSample,
  marks: BackpressureMarks,
): { state: BackpressureState; events: BackpressureEvent[] } {
  const ratio = memoryRatio(sample);
  const figures = { at: sample.at, backlogJobs: sample.backlogJobs, memoryRatio: ratio };
  if (!state.engaged) {
    // Memory first: it is the one that deadlocks.
    const reason: BackpressureReason | undefined =
      sample.maxMemoryBytes > 0 && ratio >= marks.memoryHighRatio ? 'memory' : sample.backlogJobs >= marks.backlogHighJobs ? 'backlog' : undefined;
    if (reason === undefined) return { state, events: [] };
    return { state: { engaged: true, since: sample.at, reason }, events: [{ kind: 'engaged', reason, ...figures }] };
  }
  const below = sample.backlogJobs <= marks.backlogLowJobs && (sample.maxMemoryBytes === 0 || ratio <= marks.memoryLowRatio);
  if (!below) return { state, events: [] };
  return { state: RELEASED, events: [{ kind: 'released', heldMs: sample.at - state.since, ...figures }] };
}
