/**
 * The target rate of a load run over time: a linear ramp from a fraction of the target up to it, then steady.
 * `workAt` integrates it (readings that should have gone out by then) and `timeAtWork` inverts that, so a device's
 * schedule is a point on the work axis: it is due once the run's work passes it. Pure; times in ms from the start.
 */
export interface RateProfile {
  /** Readings per second at the peak. */
  readonly targetPerS: number;
  readonly rampMs: number;
  rateAt(tMs: number): number;
  /** Readings due by `tMs`: ∫ rate. */
  workAt(tMs: number): number;
  /** When `work` readings are due: the inverse of `workAt`. */
  timeAtWork(work: number): number;
}

export interface RateProfileOptions {
  targetPerS: number;
  /** @defaultValue 0 (steady from the start) */
  rampMs?: number;
  /** The rate the ramp starts from, as a share of the target. @defaultValue 0.05 */
  startFraction?: number;
}

export function createRateProfile({ targetPerS, rampMs = 0, startFraction = 0.05 }: RateProfileOptions): RateProfile {
  if (!(targetPerS > 0)) throw new RangeError(`the target rate must be > 0, got ${targetPerS}`);
  const rampS = rampMs / 1000;
  const f0 = rampS > 0 ? startFraction : 1;
  // Over the ramp: rate(s) = R (f0 + (1 - f0) s / rampS), so work(s) = R (f0 s + (1 - f0) s² / (2 rampS)).
  const a = rampS > 0 ? (targetPerS * (1 - f0)) / (2 * rampS) : 0;
  const b = targetPerS * f0;
  const rampWork = a * rampS * rampS + b * rampS;
  return {
    targetPerS,
    rampMs,
    rateAt(tMs) {
      const s = Math.max(0, tMs / 1000);
      return s >= rampS ? targetPerS : targetPerS * (f0 + ((1 - f0) * s) / rampS);
    },
    workAt(tMs) {
      const s = Math.max(0, tMs / 1000);
      if (s >= rampS) return rampWork + targetPerS * (s - rampS);
      return a * s * s + b * s;
    },
    timeAtWork(work) {
      if (work <= 0) return 0;
      if (work >= rampWork) return (rampS + (work - rampWork) / targetPerS) * 1000;
      const s = a > 0 ? (-b + Math.sqrt(b * b + 4 * a * work)) / (2 * a) : work / b;
      return s * 1000;
    },
  };
}
