import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/** Share of a feeder's peak load: a winter evening peak (electric heaters, cooking), a smaller morning one. */
export function electricityLoad(hour: number): number {
  return Math.min(
    1,
    0.3 + 0.3 * dailyBump(hour, 8, 1.5) + 0.7 * dailyBump(hour, 19.5, 2.5) + 0.15 * dailyBump(hour, 13, 3),
  );
}

/** The meter's reading when the simulation first sees it, kWh. */
export function initialActiveEnergyImportKWh(deviceId: string): number {
  return roundTo(randomBetween(createRng(hashSeed(0xb3, deviceId)), 10_000, 500_000), 3);
}

/**
 * ACMeasurement on one phase of a building feeder: 230 V ± a few percent (sagging under load), 50 Hz ± 0.05,
 * and the cumulative `activeEnergyImport` growing by power × time since the previous reading.
 */
export function electricityMetrics(ctx: ReadingContext, energyKWh: number): { metrics: Metrics; energyKWh: number } {
  const traits = createRng(hashSeed(0xa3, ctx.deviceId));
  const peakCurrentA = randomBetween(traits, 40, 160);
  const basePowerFactor = randomBetween(traits, 0.88, 0.97);
  const { rng } = ctx;

  const load = electricityLoad(ctx.hour);
  const current = Math.max(0.5, peakCurrentA * load * (1 + randomNormal(rng, 0, 0.06)));
  // Kept within 222–238 V so a normal reading never trips the 260 V sample rule.
  const sag = ctx.conditions?.sagVoltageV ?? 0;
  const voltage = ctx.overThreshold
    ? randomBetween(rng, 262, 272)
    : sag > 0
      ? Math.max(0, sag + randomNormal(rng, 0, 1.5))
      : clamp(232 - 4 * load + randomNormal(rng, 0, 1.5), 222, 238);
  const frequency = 50 + clamp(randomNormal(rng, 0, 0.015), -0.045, 0.045);
  const powerFactor = clamp(basePowerFactor + randomNormal(rng, 0, 0.01), 0.8, 0.99);
  const activePowerW = voltage * current * powerFactor;
  const next = energyKWh + (activePowerW / 1000) * ctx.elapsedHours;
  return {
    metrics: {
      activeEnergyImport: roundTo(next, 3),
      voltage: roundTo(voltage, 1),
      current: roundTo(current, 2),
      activePower: roundTo(activePowerW, 1),
      frequency: roundTo(frequency, 3),
      powerFactor: roundTo(powerFactor, 3),
    },
    energyKWh: next,
  };
}
