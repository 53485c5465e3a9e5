import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomInt, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/**
 * OffStreetParking occupancy at a car park: offices fill it on weekday daytimes, shoppers on weekend afternoons.
 * Occupied and free spaces add up to the total; `occupancy` is their ratio.
 */
export function parkingMetrics(ctx: ReadingContext): Metrics {
  const traits = createRng(hashSeed(0xa9, ctx.deviceId));
  const total = randomInt(traits, 40, 600);
  const { rng } = ctx;
  const demand = ctx.weekend ? 0.15 + 0.6 * dailyBump(ctx.hour, 15, 3) : 0.1 + 0.75 * dailyBump(ctx.hour, 12.5, 3.2);
  // Kept at or under 0.9 so a normal reading never trips the 0.95 sample rule.
  const share = ctx.overThreshold ? 0.97 + 0.03 * rng() : clamp(demand + randomNormal(rng, 0, 0.04), 0, 0.9);
  const occupied = Math.min(total, Math.round(total * share));
  return {
    occupancy: roundTo(occupied / total, 3),
    occupiedSpotNumber: occupied,
    availableSpotNumber: total - occupied,
    totalSpotNumber: total,
  };
}
