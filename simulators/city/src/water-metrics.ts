import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/** Share of a building's peak demand: morning and evening peaks, a night floor of leaks and cisterns. */
export function waterDemand(hour: number): number {
  return Math.min(
    1,
    0.12 + 0.8 * dailyBump(hour, 7.5, 1.2) + 0.9 * dailyBump(hour, 20.5, 2) + 0.35 * dailyBump(hour, 13, 3),
  );
}

/** The meter's reading when the simulation first sees it, m³: meters are not new. */
export function initialWaterConsumptionM3(deviceId: string): number {
  return roundTo(randomBetween(createRng(hashSeed(0xb2, deviceId)), 500, 50_000), 3);
}

/**
 * WaterConsumptionObserved at a building's meter. `waterConsumption` is the cumulative counter: it grows by the
 * flow over the time since the previous reading and never goes back. Pressure sags while demand is high.
 */
export function waterMetrics(ctx: ReadingContext, consumptionM3: number): { metrics: Metrics; consumptionM3: number } {
  const traits = createRng(hashSeed(0xa2, ctx.deviceId));
  const peakFlowLph = randomBetween(traits, 800, 4000);
  const basePressureBar = randomBetween(traits, 3.8, 4.6);
  const { rng } = ctx;

  const demand = waterDemand(ctx.hour);
  let flow = Math.max(20, peakFlowLph * demand * (1 + randomNormal(rng, 0, 0.08)));
  let pressure = clamp(basePressureBar - 0.6 * demand + randomNormal(rng, 0, 0.04), 3, 5);
  if (ctx.overThreshold) {
    // A main break: pressure collapses while water pours out.
    pressure = randomBetween(rng, 0.1, 0.4);
    flow *= randomBetween(rng, 2.5, 4);
  }
  const c = ctx.conditions;
  if (c !== undefined) {
    // A leak behind the meter runs day and night (what the minimum night flow exposes); it also costs pressure.
    flow += c.leakLph;
    pressure = Math.max(0.05, pressure - c.pressureDropBar);
  }
  const next = consumptionM3 + (flow * ctx.elapsedHours) / 1000;
  return {
    metrics: { waterConsumption: roundTo(next, 3), flow: roundTo(flow, 1), pressure: roundTo(pressure, 2) },
    consumptionM3: next,
  };
}
