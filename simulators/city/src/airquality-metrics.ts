import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';
import { trafficDemand } from './traffic-metrics.ts';

/** The day's mean temperature, -12..0 °C: the same for every station on one local day. */
function dayMeanTemperatureC(dayIndex: number): number {
  return -12 + 12 * createRng(hashSeed(dayIndex, 'weather'))();
}

/**
 * AirQualityObserved for a winter in Almaty: coal and gas heating under a temperature inversion, so particulates
 * peak in the evening and morning and rise on cold days; ozone stays low. Half the stations are low-cost
 * particulate sensors (PM, temperature, humidity); the rest also measure gases.
 */
export function airqualityMetrics(ctx: ReadingContext): Metrics {
  const traits = createRng(hashSeed(0xa1, ctx.deviceId));
  const pmBase = randomBetween(traits, 22, 40);
  const temperatureOffsetC = randomNormal(traits, 0, 0.7);
  const hasGasSensors = traits() < 0.5;
  const { rng, hour } = ctx;

  const c = ctx.conditions;
  const dayMeanC = dayMeanTemperatureC(ctx.dayIndex) + (c?.temperatureOffsetC ?? 0);
  const diurnal = Math.cos((2 * Math.PI * (hour - 14.5)) / 24); // warmest mid-afternoon
  // Without conditions, an Almaty winter (-15..5 °C); a scenario's climate and cold snaps may go far below.
  const [minC, maxC] = c ? [-55, 45] : [-15, 5];
  const temperature = clamp(dayMeanC + 4 * diurnal + temperatureOffsetC + randomNormal(rng, 0, 0.3), minC, maxC);
  const relativeHumidity = clamp(0.75 - 0.12 * diurnal + randomNormal(rng, 0, 0.03), 0.35, 0.98);

  const heating = 0.55 + 0.5 * dailyBump(hour, 8.5, 1.5) + 0.9 * dailyBump(hour, 21, 2.5);
  const coldDay = 1 + 0.04 * -dayMeanC;
  // Capped at 150 so a normal reading never trips the 180 µg/m³ sample rule.
  let pm25 = ctx.overThreshold
    ? randomBetween(rng, 200, 320)
    : clamp(pmBase * heating * coldDay * (1 + randomNormal(rng, 0, 0.1)), 4, 150);
  // Smog under an inversion: the whole basin fills up; each station reads the episode's level, give or take.
  if (c !== undefined && c.smogPm25 > 0 && !ctx.overThreshold) {
    pm25 = Math.max(pm25, clamp(c.smogPm25 * (1 + randomNormal(rng, 0, 0.08)), 4, 1900));
  }
  // Winter road sand and dust: PM10 is always the larger share.
  const pm10 = pm25 * randomBetween(rng, 1.3, 1.8);

  const metrics: Metrics = {
    pm25: roundTo(pm25, 1),
    pm10: roundTo(pm10, 1),
    temperature: roundTo(temperature, 1),
    relativeHumidity: roundTo(relativeHumidity, 2),
  };
  if (hasGasSensors) {
    const traffic = trafficDemand(hour, ctx.weekend);
    metrics.no2 = roundTo(Math.max(5, 25 + 60 * traffic + randomNormal(rng, 0, 5)), 1);
    metrics.o3 = roundTo(Math.max(2, 12 + 30 * dailyBump(hour, 14, 3) - 8 * traffic + randomNormal(rng, 0, 3)), 1);
    metrics.co = roundTo(Math.max(0.1, 0.3 + 1.2 * (heating - 0.5) + 0.6 * traffic + randomNormal(rng, 0, 0.1)), 2);
    metrics.so2 = roundTo(Math.max(2, 8 + 20 * (heating - 0.5) * coldDay + randomNormal(rng, 0, 2)), 1);
  }
  return metrics;
}
