import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/** The meter's reading when the simulation first sees it, m³. */
export function initialGasConsumptionM3(deviceId: string): number {
  return roundTo(randomBetween(createRng(hashSeed(0xb4, deviceId)), 1_000, 80_000), 3);
}

/**
 * A household gas meter on the low-pressure network (~21 mbar): cooking peaks and winter space heating;
 * `gasConsumption` grows by the flow over the time since the previous reading.
 */
export function gasMetrics(ctx: ReadingContext, consumptionM3: number): { metrics: Metrics; consumptionM3: number } {
  const traits = createRng(hashSeed(0xa7, ctx.deviceId));
  const peakFlowM3h = randomBetween(traits, 1.2, 3.5);
  const { rng } = ctx;
  const demand = Math.min(1, 0.35 + 0.4 * dailyBump(ctx.hour, 7.5, 1.2) + 0.6 * dailyBump(ctx.hour, 19, 2));
  const flow = Math.max(0.05, peakFlowM3h * demand * (1 + randomNormal(rng, 0, 0.08)));
  // Kept within 17–25 mbar so a normal reading never trips the 12 mbar sample rule.
  const pressure = ctx.overThreshold ? randomBetween(rng, 0.004, 0.009) : clamp(0.021 - 0.002 * demand + randomNormal(rng, 0, 0.0005), 0.017, 0.025);
  const next = consumptionM3 + flow * ctx.elapsedHours;
  return {
    metrics: { gasConsumption: roundTo(next, 3), flow: roundTo(flow, 3), pressure: roundTo(pressure, 4), temperature: roundTo(clamp(6 + randomNormal(rng, 0, 0.5), 2, 10), 1) },
    consumptionM3: next,
  };
}
