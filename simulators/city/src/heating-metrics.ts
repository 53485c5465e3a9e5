import { FAMILY_SPECS } from '@city/schema';
import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/** The heat meter's registers when the simulation first sees it: energy kWh, volume m³. */
export function initialHeatRegisters(deviceId: string): { energyKWh: number; volumeM3: number } {
  const rng = createRng(hashSeed(0xb5, deviceId));
  return { energyKWh: roundTo(randomBetween(rng, 100_000, 5_000_000), 1), volumeM3: roundTo(randomBetween(rng, 5_000, 200_000), 2) };
}

/** Heat carried by water, kWh per m³ per kelvin. */
const WATER_KWH_PER_M3_K = 1.163;

/** Whether the contract has the substation's outdoor sensor (added to `heating` for schedule rules). */
const HAS_OUTDOOR_SENSOR = 'outdoorTemperature' in FAMILY_SPECS.heating.metrics;

/**
 * A district-heating substation heat meter (EN 1434) in an Almaty winter: the supply temperature follows the
 * outdoor temperature (a weather-compensated curve, 75–115 °C; to 130 °C in a scenario's deep cold), the return is
 * 25–40 K cooler, the power is flow × ΔT × 1.163, and energy and volume grow by power and flow over the time since
 * the previous reading. The substation's outdoor sensor reads the day's temperature with its daily swing; the curve
 * follows the day's mean, as controllers damp the outdoor signal.
 */
export function heatingMetrics(
  ctx: ReadingContext,
  registers: { energyKWh: number; volumeM3: number },
): { metrics: Metrics; registers: { energyKWh: number; volumeM3: number } } {
  const traits = createRng(hashSeed(0xa8, ctx.deviceId));
  const peakFlowM3h = randomBetween(traits, 8, 40);
  const { rng } = ctx;
  const c = ctx.conditions;
  const outdoorC = -12 + 12 * createRng(hashSeed(ctx.dayIndex, 'weather'))() + (c?.temperatureOffsetC ?? 0);
  // Kept at or above 75 °C so a normal reading never trips the 55 °C sample rule (a plant or pump failure).
  const scheduled = clamp(80 - 1.6 * outdoorC + randomNormal(rng, 0, 1), 75, c ? 130 : 115);
  const supply = ctx.overThreshold ? randomBetween(rng, 38, 50) : Math.max(20, scheduled - (c?.supplyDropK ?? 0));
  const deltaK = Math.min(clamp(randomBetween(traits, 28, 36) + randomNormal(rng, 0, 1.5), 20, 45), supply - 15);
  const ret = supply - deltaK;
  const demand = 0.6 + 0.25 * dailyBump(ctx.hour, 7, 2) + 0.3 * dailyBump(ctx.hour, 20, 3);
  const flow = Math.max(0.5, peakFlowM3h * Math.min(1, demand) * (1 + randomNormal(rng, 0, 0.05)));
  const powerKW = flow * deltaK * WATER_KWH_PER_M3_K;
  const next = { energyKWh: registers.energyKWh + powerKW * ctx.elapsedHours, volumeM3: registers.volumeM3 + flow * ctx.elapsedHours };
  return {
    metrics: {
      supplyTemperature: roundTo(supply, 1),
      returnTemperature: roundTo(ret, 1),
      flow: roundTo(flow, 2),
      supplyPressure: roundTo(clamp(7 + randomNormal(rng, 0, 0.1), 6, 8), 2),
      returnPressure: roundTo(clamp(3 + randomNormal(rng, 0, 0.1), 2, 4), 2),
      thermalPower: roundTo(powerKW, 1),
      thermalEnergy: roundTo(next.energyKWh, 1),
      volume: roundTo(next.volumeM3, 2),
      ...(HAS_OUTDOOR_SENSOR
        ? { outdoorTemperature: roundTo(clamp(outdoorC + 4 * Math.cos((2 * Math.PI * (ctx.hour - 14.5)) / 24) + randomNormal(rng, 0, 0.3), -60, 60), 1) }
        : {}),
    },
    registers: next,
  };
}
