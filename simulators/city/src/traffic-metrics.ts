import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/**
 * Share of a road's capacity in use, 0..~1: weekday rush hours near 08:30 and 18:30 with a midday plateau,
 * weekends one broad afternoon hump, nights nearly empty.
 */
export function trafficDemand(hour: number, weekend: boolean): number {
  if (weekend) return 0.05 + 0.55 * dailyBump(hour, 14, 3.5) + 0.2 * dailyBump(hour, 19, 2);
  return Math.min(
    1,
    0.06 + 0.85 * dailyBump(hour, 8.5, 1.1) + 0.95 * dailyBump(hour, 18.5, 1.6) + 0.45 * dailyBump(hour, 13, 3),
  );
}

/** TrafficFlowObserved at one detector: speed falls as occupancy rises (a fundamental-diagram shape). */
export function trafficMetrics(ctx: ReadingContext): Metrics {
  const traits = createRng(hashSeed(0x7a1, ctx.deviceId));
  const capacityVehPerHour = randomBetween(traits, 1200, 5400); // one to three lanes
  const freeFlowKmh = randomBetween(traits, 45, 65); // winter: snow and ice keep free flow under the 60–70 limit
  const periodHours = ctx.trafficPeriodMs / 3_600_000;
  const { rng } = ctx;

  if (ctx.overThreshold || ctx.conditions?.jam === true) {
    // A jam: the detector is covered nearly all the time, few vehicles pass, at walking pace.
    const occupancy = randomBetween(rng, 0.96, 0.995);
    return {
      intensity: Math.round(capacityVehPerHour * periodHours * randomBetween(rng, 0.05, 0.2)),
      averageVehicleSpeed: roundTo(randomBetween(rng, 2, 8), 1),
      occupancy: roundTo(occupancy, 3),
      congested: true,
    };
  }

  const demand = clamp(trafficDemand(ctx.hour, ctx.weekend) * (1 + randomNormal(rng, 0, 0.08)), 0.02, 1.05);
  // Kept under 0.9 so a normal reading never trips the 0.95 sample rule.
  const occupancy = clamp(0.03 + 0.8 * demand ** 1.5 + randomNormal(rng, 0, 0.02), 0.01, 0.9);
  const speed = Math.max(5, freeFlowKmh * (1 - 0.8 * (occupancy / 0.9) ** 2) * (1 + randomNormal(rng, 0, 0.04)));
  const intensity = Math.max(
    0,
    Math.round(capacityVehPerHour * periodHours * demand * (1 + randomNormal(rng, 0, 0.05))),
  );
  return {
    intensity,
    averageVehicleSpeed: roundTo(speed, 1),
    occupancy: roundTo(occupancy, 3),
    congested: occupancy > 0.6 || speed < 20,
  };
}
