import type { Family } from '@city/schema';
import type { SimDevice } from './build-fleet.ts';
import { cityTime, KZ_UTC_OFFSET_MINUTES } from './city-time.ts';
import type { Conditions } from './conditions.ts';
import { airqualityMetrics } from './airquality-metrics.ts';
import { electricityMetrics, initialActiveEnergyImportKWh } from './electricity-metrics.ts';
import type { Rng } from './random.ts';
import type { Metrics, ReadingContext } from './reading-context.ts';
import { trafficMetrics } from './traffic-metrics.ts';
import { initialWaterConsumptionM3, waterMetrics } from './water-metrics.ts';
import { noiseMetrics } from './noise-metrics.ts';
import { weatherMetrics } from './weather-metrics.ts';
import { gasMetrics, initialGasConsumptionM3 } from './gas-metrics.ts';
import { heatingMetrics, initialHeatRegisters } from './heating-metrics.ts';
import { parkingMetrics } from './parking-metrics.ts';

/** How a reading carries its event time: `ts` as epoch ms, as ISO 8601 UTC, or left out (the broker stamps it). */
export type TimestampFormat = 'epoch-ms' | 'iso' | 'none';

/** One reading as a device sends it: `{ ts?, district?, ...metrics }`. */
export type SimReading = Record<string, number | boolean | string>;

/**
 * What a device remembers between readings. A plain object: pass the returned one to the next call.
 * Counters start from the device's own meter reading (derived from its id) when absent.
 */
export interface DeviceState {
  /** Event time of the latest reading, epoch ms. */
  lastMs?: number;
  /** Water meters: cumulative m³, full precision. */
  waterConsumptionM3?: number;
  /** Electricity meters: cumulative kWh, full precision. */
  activeEnergyImportKWh?: number;
  /** Gas meters: cumulative m³, full precision. */
  gasConsumptionM3?: number;
  /** Heat meters: cumulative energy (kWh) and volume (m³), full precision. */
  heatRegisters?: { energyKWh: number; volumeM3: number };
}

export interface GenerateReadingOptions {
  /**
   * Make the reading clearly cross its family's sample alert rule (see `OVER_THRESHOLD_SAMPLES`).
   * @defaultValue false
   */
  overThreshold?: boolean;
  /**
   * The city's offset from UTC, for rush hours and heating peaks.
   * @defaultValue 300 (UTC+5, all of Kazakhstan)
   */
  utcOffsetMinutes?: number;
  /**
   * How `ts` is written.
   * @defaultValue 'epoch-ms'
   */
  timestamp?: TimestampFormat;
  /**
   * Put the device's `district` in the reading.
   * @defaultValue true
   */
  includeDistrict?: boolean;
  /**
   * The period traffic `intensity` counts vehicles over.
   * @defaultValue 60_000
   */
  trafficPeriodMs?: number;
  /**
   * The climate and episodes the device is in (scenarios): cold snaps, smog, jams, leaks, sags.
   * @defaultValue none: a quiet winter day in Almaty, as before scenarios existed
   */
  conditions?: Conditions;
}

export interface GeneratedReading {
  reading: SimReading;
  state: DeviceState;
}

function familyMetrics(
  family: Family,
  ctx: ReadingContext,
  state: DeviceState,
  deviceId: string,
): { metrics: Metrics; state: DeviceState } {
  switch (family) {
    case 'traffic':
      return { metrics: trafficMetrics(ctx), state };
    case 'airquality':
      return { metrics: airqualityMetrics(ctx), state };
    case 'water': {
      const r = waterMetrics(ctx, state.waterConsumptionM3 ?? initialWaterConsumptionM3(deviceId));
      return { metrics: r.metrics, state: { ...state, waterConsumptionM3: r.consumptionM3 } };
    }
    case 'electricity': {
      const r = electricityMetrics(ctx, state.activeEnergyImportKWh ?? initialActiveEnergyImportKWh(deviceId));
      return { metrics: r.metrics, state: { ...state, activeEnergyImportKWh: r.energyKWh } };
    }
    case 'noise':
      return { metrics: noiseMetrics(ctx), state };
    case 'weather':
      return { metrics: weatherMetrics(ctx), state };
    case 'parking':
      return { metrics: parkingMetrics(ctx), state };
    case 'gas': {
      const r = gasMetrics(ctx, state.gasConsumptionM3 ?? initialGasConsumptionM3(deviceId));
      return { metrics: r.metrics, state: { ...state, gasConsumptionM3: r.consumptionM3 } };
    }
    case 'heating': {
      const r = heatingMetrics(ctx, state.heatRegisters ?? initialHeatRegisters(deviceId));
      return { metrics: r.metrics, state: { ...state, heatRegisters: r.registers } };
    }
  }
}

/**
 * One plausible reading for a device at `nowMs` in a winter city like Almaty, and the device's next state.
 * Pure: the clock and the randomness are arguments, and `state` is not mutated.
 */
export function generateReading(
  device: SimDevice,
  state: DeviceState,
  nowMs: number,
  rng: Rng,
  options: GenerateReadingOptions = {},
): GeneratedReading {
  const {
    overThreshold = false,
    utcOffsetMinutes = KZ_UTC_OFFSET_MINUTES,
    timestamp = 'epoch-ms',
    includeDistrict = true,
    trafficPeriodMs = 60_000,
  } = options;
  const ts = Math.round(nowMs);
  // A clock that steps back does not run a counter backwards: the time is simply not counted twice.
  const elapsedHours = state.lastMs === undefined ? 0 : Math.max(0, ts - state.lastMs) / 3_600_000;
  const ctx: ReadingContext = {
    ...cityTime(ts, utcOffsetMinutes),
    deviceId: device.deviceId,
    elapsedHours,
    rng,
    overThreshold,
    trafficPeriodMs,
    ...(options.conditions ? { conditions: options.conditions } : {}),
  };
  const result = familyMetrics(device.family, ctx, state, device.deviceId);
  const reading: SimReading = {};
  if (timestamp === 'epoch-ms') reading.ts = ts;
  else if (timestamp === 'iso') reading.ts = new Date(ts).toISOString();
  if (includeDistrict) reading.district = device.district;
  Object.assign(reading, result.metrics);
  return { reading, state: { ...result.state, lastMs: Math.max(ts, state.lastMs ?? ts) } };
}
