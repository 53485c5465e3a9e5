import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';
import { trafficDemand } from './traffic-metrics.ts';

/**
 * NoiseLevelObserved beside a street: the A-weighted level follows the traffic, quieter at night; the period's
 * maximum (a horn, a bus) sits well above its average, and the slow level at the end of the period between them.
 */
export function noiseMetrics(ctx: ReadingContext): Metrics {
  const traits = createRng(hashSeed(0xa5, ctx.deviceId));
  const quietDb = randomBetween(traits, 42, 52); // how far the meter stands from the road
  const { rng } = ctx;
  // Kept under 80 dB(A) so a normal reading never trips the 85 dB(A) sample rule.
  const laeq = ctx.overThreshold
    ? randomBetween(rng, 88, 96)
    : clamp(quietDb + 22 * trafficDemand(ctx.hour, ctx.weekend) + randomNormal(rng, 0, 1.2), 30, 80);
  const lamax = laeq + randomBetween(rng, 6, 20);
  const las = clamp(laeq + randomNormal(rng, 0, 3), 25, lamax);
  return { LAeq: roundTo(laeq, 1), LAmax: roundTo(lamax, 1), LAS: roundTo(las, 1) };
}
