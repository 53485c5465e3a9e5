import { dailyBump } from './city-time.ts';
import { clamp, roundTo } from './numbers.ts';
import { createRng, hashSeed, randomBetween, randomNormal } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';

/** Dew point by the Magnus formula (°C): never above the air temperature, equal to it at saturation. */
export function dewPointC(temperatureC: number, relativeHumidity: number): number {
  const gamma = Math.log(relativeHumidity) + (17.62 * temperatureC) / (243.12 + temperatureC);
  return (243.12 * gamma) / (17.62 - gamma);
}

/**
 * WeatherObserved at a station in Almaty in winter: frost, humid air, the station pressure of a city ~800 m up
 * (~910 hPa), light mountain–valley winds that pick up in the afternoon, now and then snow.
 */
export function weatherMetrics(ctx: ReadingContext): Metrics {
  const traits = createRng(hashSeed(0xa6, ctx.deviceId));
  const prevailingDeg = randomBetween(traits, 150, 210);
  const day = createRng(hashSeed(ctx.dayIndex, 'weather'));
  const c = ctx.conditions;
  const dayMeanC = -12 + 12 * day() + (c?.temperatureOffsetC ?? 0);
  const pressureHpa = 900 + 25 * day();
  const { rng } = ctx;

  const diurnal = Math.cos((2 * Math.PI * (ctx.hour - 14.5)) / 24);
  const [minC, maxC] = c ? [-55, 45] : [-25, 10];
  const temperature = clamp(dayMeanC + 4 * diurnal + randomNormal(rng, 0, 0.3), minC, maxC);
  const relativeHumidity = clamp(0.75 - 0.12 * diurnal + randomNormal(rng, 0, 0.03), 0.3, 0.98);
  // Kept under 15 m/s so a normal reading never trips the 25 m/s sample rule.
  const windSpeed = ctx.overThreshold
    ? randomBetween(rng, 26, 32)
    : clamp(1.2 + 2.5 * dailyBump(ctx.hour, 14, 3) + Math.abs(randomNormal(rng, 0, 0.8)), 0, 15);
  // An inversion is still air: the valley breeze dies down.
  const wind = c?.inversion === true ? windSpeed * 0.3 : windSpeed;
  const windDirection = (((prevailingDeg + randomNormal(rng, 0, 25)) % 360) + 360) % 360;
  const snowing = rng() < 0.08;
  return {
    temperature: roundTo(temperature, 1),
    relativeHumidity: roundTo(relativeHumidity, 2),
    dewPoint: roundTo(dewPointC(temperature, relativeHumidity), 1),
    atmosphericPressure: roundTo(pressureHpa + randomNormal(rng, 0, 0.4), 1),
    windSpeed: roundTo(wind, 1),
    windDirection: roundTo(windDirection, 0) % 360,
    precipitation: snowing ? roundTo(randomBetween(rng, 0.1, 1.2), 1) : 0,
  };
}
