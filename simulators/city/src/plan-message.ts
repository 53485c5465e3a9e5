import type { SimDevice } from './build-fleet.ts';
import { generateInvalid, READING_LEVEL_REASONS, type InvalidReason } from './generate-invalid.ts';
import { generateReading, type DeviceState, type GenerateReadingOptions, type SimReading } from './generate-reading.ts';
import type { Rng } from './random.ts';

export interface PlanMessageOptions {
  /**
   * Readings per message; above 1 the payload is a JSON array, its readings spread over the last interval.
   * @defaultValue 1
   */
  batchSize?: number;
  /**
   * Chance that a message is invalid. In a batch, a reading-level fault spoils one reading among valid ones.
   * @defaultValue 0
   */
  invalidRate?: number;
  /**
   * Chance that a (valid) message carries one over-threshold reading, its last.
   * @defaultValue 0
   */
  overThresholdRate?: number;
  /**
   * The device's publish interval, over which a batch's readings are spread.
   * @defaultValue 1000
   */
  intervalMs?: number;
  /**
   * Passed to every `generateReading` (its `overThreshold` is decided here). A batch always carries `ts`.
   * @defaultValue {}
   */
  reading?: Omit<GenerateReadingOptions, 'overThreshold'>;
}

export interface PlannedMessage {
  /** The text to publish. */
  payload: string;
  /** Valid readings in it. */
  readings: number;
  /** Set when the message (or one reading of the batch) should be rejected with this reason. */
  invalid?: InvalidReason;
  /** The message carries one over-threshold reading. */
  overThreshold: boolean;
  /** The device's state after this message. */
  state: DeviceState;
}

/** What one device publishes on one tick. Pure: the runner supplies `nowMs` and the device's `rng`. */
export function planMessage(
  device: SimDevice,
  state: DeviceState,
  nowMs: number,
  rng: Rng,
  options: PlanMessageOptions = {},
): PlannedMessage {
  const { batchSize = 1, invalidRate = 0, overThresholdRate = 0, intervalMs = 1000, reading = {} } = options;
  const invalid = rng() < invalidRate;
  const overThreshold = !invalid && rng() < overThresholdRate;
  const stepMs = Math.floor(intervalMs / batchSize);
  // The broker rejects a batch reading without its own ts (stored under one receive time they would overwrite
  // each other), so a batch always carries them.
  const readingOptions: GenerateReadingOptions =
    batchSize > 1 && reading.timestamp === 'none' ? { ...reading, timestamp: 'epoch-ms' } : reading;

  const readings: SimReading[] = [];
  let next = state;
  for (let i = 0; i < batchSize; i++) {
    const atMs = nowMs - (batchSize - 1 - i) * stepMs;
    const r = generateReading(device, next, atMs, rng, {
      ...readingOptions,
      overThreshold: overThreshold && i === batchSize - 1,
    });
    readings.push(r.reading);
    next = r.state;
  }

  if (!invalid) {
    const payload = batchSize === 1 ? JSON.stringify(readings[0]) : JSON.stringify(readings);
    return { payload, readings: batchSize, overThreshold, state: next };
  }
  const index = Math.floor(rng() * batchSize);
  const bad = generateInvalid(device, nowMs, rng, { base: readings[index] });
  if (batchSize === 1 || !READING_LEVEL_REASONS.has(bad.reason) || bad.reading === undefined) {
    return { payload: bad.payload, readings: 0, invalid: bad.reason, overThreshold: false, state: next };
  }
  const batch: unknown[] = [...readings];
  batch[index] = bad.reading;
  return {
    payload: JSON.stringify(batch),
    readings: batchSize - 1,
    invalid: bad.reason,
    overThreshold: false,
    state: next,
  };
}
