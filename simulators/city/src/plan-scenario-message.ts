import { judgeEventTime, type EventTimeWindow } from '@city/core';
import type { ReasonCode } from '@city/schema';
import type { ScenarioDevice } from './build-scenario-fleet.ts';
import type { Conditions } from './conditions.ts';
import { applySensorTrouble, type SensorTroubleState } from './sensor-trouble.ts';
import { generateInvalid } from './generate-invalid.ts';
import { generateReading, type DeviceState, type SimReading } from './generate-reading.ts';
import { randomBetween, randomInt, randomPick, type Rng } from './random.ts';
import type { Faults } from './scenario-schema.ts';

/** Faults a message may carry (at most one each), in the order their rates are drawn. */
export const MESSAGE_FAULTS = ['malformedJson', 'schemaViolation', 'outOfRange', 'duplicate', 'outOfOrder', 'late', 'clockSkew', 'oversize'] as const;
export type MessageFault = (typeof MESSAGE_FAULTS)[number];

const SCHEMA_VIOLATIONS = ['invalid_type', 'unknown_field', 'no_metrics'] as const;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** What one device remembers between messages. Plain data: the planner returns a new one. */
export interface ScenarioDeviceState {
  /** The family model's state (meter registers, last event time). */
  reading: DeviceState;
  /** Event time of the device's first regular reading: buffered (late) readings are older than it. */
  firstTs?: number;
  /** A regular reading held back, to be sent after newer ones (the out-of-order fault). */
  withheld?: SimReading;
  /** Event times given to fault readings that should be stored, so no two land on one point. */
  faultTs: number[];
  /** Frozen and drifting sensors. */
  trouble: SensorTroubleState;
}

export function initialScenarioDeviceState(): ScenarioDeviceState {
  return { reading: {}, faultTs: [], trouble: { readings: 0 } };
}

export interface PlanScenarioMessageInput {
  device: ScenarioDevice;
  state: ScenarioDeviceState;
  /** Event times of the regular readings this message carries, oldest first (from the runner's schedule). */
  ts: readonly number[];
  rng: Rng;
  /** The device's conditions (climate, episodes) at an event time. */
  conditionsAt: (ts: number) => Conditions;
  /** The wall clock now: what the broker will judge event times against (it receives the message right away). */
  wallNowMs: number;
  /** The broker's event-time window (its EVENT_TIME_* settings). */
  eventTimeWindow: EventTimeWindow;
  /** The broker's MAX_PAYLOAD_BYTES: an oversize payload exceeds it (and stays under its packet limit). */
  maxPayloadBytes: number;
  utcOffsetMinutes: number;
  /**
   * The regular readings' grid in replay time (`originMs + k × stepMs`), so a stored fault reading never takes a
   * regular reading's point. Absent in live time, where regular event times only grow and faults avoid them anyway.
   */
  grid?: { originMs: number; stepMs: number };
  /** Per-message fault rates; absent (marker devices), the message is clean. */
  faults?: Pick<Faults, MessageFault>;
}

/** A message to publish and what should become of it: the load command's ledger. */
export interface ScenarioMessage {
  payload: string;
  /** Readings the payload carries or was meant to carry (a malformed payload counts what it held). */
  readings: number;
  /** Points it should add to the database: readings the broker accepts, each a new device + event-time key. */
  stored: number;
  /** Of those, the ones the broker should mark `late`. */
  late: number;
  /** The dead letters it should cause: one per rejected reading, or one for a payload rejected whole. */
  rejects: ReasonCode[];
  fault?: MessageFault;
  /** Publish it twice (a firmware retrying at the application level): the second copy adds nothing. */
  publishTwice: boolean;
  /** Event time of the newest reading in it (markers: the point to look for). */
  newestTs: number;
}

export interface PlannedScenarioMessage {
  /** Absent when there is nothing to send (power out, or the only reading was held back). */
  message?: ScenarioMessage;
  state: ScenarioDeviceState;
  /** Readings the device could not take: its power was out. */
  dark: number;
}

function drawFault(rng: Rng, faults: Pick<Faults, MessageFault> | undefined): MessageFault | undefined {
  if (faults === undefined) return undefined;
  let r = rng();
  for (const fault of MESSAGE_FAULTS) {
    if (r < faults[fault]) return fault;
    r -= faults[fault];
  }
  return undefined;
}

/** The next free event time at or after `ts` that no regular reading uses (off the grid) and no fault reading took. */
function claimTs(state: ScenarioDeviceState, ts: number, grid: PlanScenarioMessageInput['grid']): number {
  let t = Math.round(ts);
  const onGrid = (x: number) => grid !== undefined && (((x - grid.originMs) % grid.stepMs) + grid.stepMs) % grid.stepMs === 0;
  while (onGrid(t) || state.faultTs.includes(t)) t++;
  state.faultTs.push(t);
  return t;
}

/**
 * What one device publishes on one tick of a scenario, and what the pipeline should make of it. Pure: the runner
 * supplies the event times, the clock and the device's random stream.
 *
 * Regular readings follow the family model under the device's conditions (episodes), then its sensor trouble
 * (frozen, drifting). At most one fault is drawn per message, each labelled with the outcome the device contract
 * gives it, so the load command can account for every one:
 * - `malformedJson`, `oversize`: the whole payload is rejected (`invalid_json`, `payload_too_large`).
 * - `schemaViolation`, `outOfRange`: one reading is spoiled (`invalid_type` | `unknown_field` | `no_metrics`,
 *   `out_of_range`); the others are stored.
 * - `clockSkew`: one reading's clock is hours ahead, weeks behind or reset to 1970 — judged as the broker judges it.
 * - `outOfOrder`: the newest reading is held back and sent after the next message's readings.
 * - `late`: a buffered reading from before the device's first one rides along: stored, `late` if old enough.
 * - `duplicate`: the message is published twice; its points are stored once.
 */
export function planScenarioMessage(input: PlanScenarioMessageInput): PlannedScenarioMessage {
  const { device, rng, wallNowMs, eventTimeWindow: window } = input;
  const state: ScenarioDeviceState = { ...input.state, faultTs: [...input.state.faultTs], trouble: { ...input.state.trouble } };
  let dark = 0;
  const readings: SimReading[] = [];
  for (const ts of input.ts) {
    const conditions = input.conditionsAt(ts);
    if (conditions.powerOut) {
      dark++;
      continue;
    }
    const generated = generateReading(device, state.reading, ts, rng, { utcOffsetMinutes: input.utcOffsetMinutes, conditions });
    state.reading = generated.state;
    state.firstTs ??= ts;
    const troubled = applySensorTrouble(device, state.trouble, generated.reading);
    state.trouble = troubled.state;
    readings.push(troubled.reading);
  }

  let fault = drawFault(rng, input.faults);
  // The previous message's held-back reading goes out after this one's, unless this payload is ruined whole.
  const carried = state.withheld;
  if (fault === 'outOfOrder' && (carried !== undefined || readings.length === 0)) fault = undefined;
  if (carried !== undefined && fault !== 'malformedJson' && fault !== 'oversize') state.withheld = undefined;
  const extras: SimReading[] = carried !== undefined && state.withheld === undefined ? [carried] : [];
  if (fault === 'outOfOrder') state.withheld = readings.pop();

  const rejects: ReasonCode[] = [];
  // Judged as the broker will judge them when the message arrives (now): stored, late, or rejected.
  const verdicts = (all: readonly SimReading[]): { stored: number; late: number } => {
    let stored = 0;
    let late = 0;
    for (const r of all) {
      if (typeof r.ts !== 'number') continue;
      const verdict = judgeEventTime(r.ts, wallNowMs, window);
      if (!verdict.ok) rejects.push(verdict.reason);
      else {
        stored++;
        if (verdict.late) late++;
      }
    }
    return { stored, late };
  };

  if (fault === 'late' && readings.length > 0) {
    // From the device's buffer, before its first reading: meter registers as the device started, so no counter
    // appears to go back. Older than the broker's late threshold in live time; minutes to an hour in replay time.
    const live = window.lateAfterMs < DAY_MS;
    const ageMs = (live ? window.lateAfterMs : 0) + randomBetween(rng, 5 * MINUTE_MS, 55 * MINUTE_MS);
    const ts = claimTs(state, (state.firstTs ?? readings[0]!.ts as number) - ageMs, input.grid);
    extras.push(generateReading(device, {}, ts, rng, { utcOffsetMinutes: input.utcOffsetMinutes, conditions: input.conditionsAt(ts) }).reading);
  }

  let payload: string;
  let outcome = { stored: 0, late: 0 };
  const all = [...readings, ...extras];
  if (all.length === 0) return { state, dark };
  const newestTs = Math.max(...all.map((r) => r.ts as number));

  if (fault === 'malformedJson') {
    const text = JSON.stringify(all.length === 1 ? all[0] : all);
    payload = all.length === 1 ? generateInvalid(device, wallNowMs, rng, { reason: 'invalid_json', base: all[0]! }).payload : text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    rejects.push('invalid_json');
  } else if (fault === 'oversize') {
    // Over MAX_PAYLOAD_BYTES (rejected, acknowledged) yet under the packet limit (which would cut the connection).
    const base = JSON.stringify({ ...all[all.length - 1], debugLog: '' });
    const pad = input.maxPayloadBytes + randomInt(rng, 256, 8192) - base.length;
    payload = JSON.stringify({ ...all[all.length - 1], debugLog: 'x'.repeat(Math.max(0, pad)) });
    rejects.push('payload_too_large');
  } else {
    if ((fault === 'schemaViolation' || fault === 'outOfRange') && readings.length > 0) {
      const index = Math.floor(rng() * readings.length);
      const reason = fault === 'outOfRange' ? 'out_of_range' : randomPick(rng, SCHEMA_VIOLATIONS);
      const bad = generateInvalid(device, wallNowMs, rng, { reason, base: readings[index]! });
      all[index] = bad.reading as SimReading;
      rejects.push(reason);
      outcome = verdicts(all.filter((_, i) => i !== index));
    } else if (fault === 'clockSkew' && readings.length > 0) {
      const index = Math.floor(rng() * readings.length);
      const original = readings[index]!.ts as number;
      const kind = randomPick(rng, ['ahead', 'ahead', 'behind', 'reset'] as const);
      if (kind === 'reset') {
        // A real-time clock back at 1970 after a power cut: outside the contract's 2000–2100 range.
        all[index] = { ...readings[index]!, ts: 1000 * randomInt(rng, 1, 3 * 86_400) };
        rejects.push('invalid_timestamp');
        outcome = verdicts(all.filter((_, i) => i !== index));
      } else {
        const skewed = kind === 'ahead' ? original + randomBetween(rng, 1, 6) * HOUR_MS : original - randomBetween(rng, 8, 40) * DAY_MS;
        const verdict = judgeEventTime(skewed, wallNowMs, window);
        all[index] = { ...readings[index]!, ts: verdict.ok ? claimTs(state, skewed, input.grid) : Math.round(skewed) };
        outcome = verdicts(all);
      }
    } else {
      outcome = verdicts(all);
    }
    // One reading alone goes as an object, as such a device sends it; anything more as a batch array.
    payload = JSON.stringify(all.length === 1 && device.readingsPerMessage === 1 ? all[0] : all);
  }

  const message: ScenarioMessage = {
    payload,
    readings: all.length,
    stored: outcome.stored,
    late: outcome.late,
    rejects,
    ...(fault !== undefined ? { fault } : {}),
    publishTwice: fault === 'duplicate',
    newestTs,
  };
  return { message, state, dark };
}
