import type { CityTime } from './city-time.ts';
import type { Conditions } from './conditions.ts';
import type { Rng } from './random.ts';

/** What a family's model needs to produce one reading. */
export interface ReadingContext extends CityTime {
  deviceId: string;
  /** Hours since the device's previous reading (0 for its first): cumulative counters grow by this much time. */
  elapsedHours: number;
  /** Per-reading noise. */
  rng: Rng;
  /** Produce a value that clearly crosses the family's {@link OVER_THRESHOLD_SAMPLES} rule. */
  overThreshold: boolean;
  /** The period `intensity` counts vehicles over. */
  trafficPeriodMs: number;
  /** Climate and scenario episodes at this device; absent, a quiet Almaty winter day. */
  conditions?: Conditions;
}

export type Metrics = Record<string, number | boolean>;
