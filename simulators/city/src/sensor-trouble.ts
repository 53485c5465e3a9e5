import { metricsOf, type Family } from '@city/schema';
import type { ScenarioDevice } from './build-scenario-fleet.ts';
import type { SimReading } from './generate-reading.ts';
import { roundTo } from './numbers.ts';

/** A sensor's trouble so far. */
export interface SensorTroubleState {
  /** Regular readings the device has taken. */
  readings: number;
  /** The values a frozen sensor keeps sending. */
  frozen?: Record<string, number | boolean | string>;
  /** Event time drifting started from. */
  driftFromTs?: number;
}

/**
 * How a drifting sensor of each family goes wrong: one metric wanders off by `perHour` of event time. Each is a
 * metric no consistency rule ties to another in the direction it drifts (LAmax only rises above LAeq; a total
 * number of spaces only grows), and the drift stops at the metric's plausible bound, so the readings stay valid —
 * plausible and wrong, which is what makes drift hard to catch.
 */
export const DRIFT: Readonly<Record<Family, { metric: string; perHour: number }>> = {
  traffic: { metric: 'averageVehicleSpeed', perHour: 2 },
  airquality: { metric: 'temperature', perHour: 0.5 },
  water: { metric: 'pressure', perHour: 0.05 },
  electricity: { metric: 'powerFactor', perHour: -0.01 },
  noise: { metric: 'LAmax', perHour: 0.5 },
  weather: { metric: 'temperature', perHour: 0.5 },
  gas: { metric: 'temperature', perHour: 0.3 },
  heating: { metric: 'returnTemperature', perHour: 0.5 },
  parking: { metric: 'totalSpotNumber', perHour: 1 },
};

/** A regular reading as the device's (possibly faulty) sensor reports it. Pure. */
export function applySensorTrouble(
  device: Pick<ScenarioDevice, 'family' | 'stuckFromReading' | 'drifting'>,
  state: SensorTroubleState,
  reading: SimReading,
): { reading: SimReading; state: SensorTroubleState } {
  const next: SensorTroubleState = { ...state, readings: state.readings + 1 };
  let out = reading;
  if (device.stuckFromReading !== undefined && state.readings >= device.stuckFromReading) {
    const { ts, district: _district, ...values } = reading;
    next.frozen ??= values;
    out = { ts: ts as number, ...(reading.district !== undefined ? { district: reading.district } : {}), ...next.frozen };
  } else if (device.drifting && typeof reading.ts === 'number') {
    const { metric, perHour } = DRIFT[device.family];
    const value = reading[metric];
    next.driftFromTs ??= reading.ts;
    if (typeof value === 'number') {
      const spec = metricsOf(device.family)[metric];
      const drifted = value + (perHour * (reading.ts - next.driftFromTs)) / 3_600_000;
      const bounded = Math.min(spec?.max ?? Infinity, Math.max(spec?.min ?? -Infinity, drifted));
      out = { ...reading, [metric]: spec?.kind === 'integer' ? Math.round(bounded) : roundTo(bounded, 3) };
    }
  }
  return { reading: out, state: next };
}
