import { z } from 'zod';

/**
 * The sensor families the city publishes, and the metrics each may carry.
 *
 * Names and units follow the FIWARE Smart Data Models (TrafficFlowObserved, AirQualityObserved,
 * WaterConsumptionObserved, ACMeasurement). Ranges are physical plausibility bounds, not alert thresholds:
 * a value outside them is a broken sensor or a unit mistake, and is rejected with `out_of_range`.
 * To add a family or a metric, add an entry here; schemas, line protocol and docs all derive from this table.
 */
export interface MetricSpec {
  /** Unit as documented to device makers. */
  readonly unit: string;
  readonly kind: 'number' | 'integer' | 'boolean';
  /** Inclusive plausibility bounds (numbers only). */
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

export interface FamilySpec {
  /** The FIWARE Smart Data Model this family follows. */
  readonly dataModel: string;
  /** InfluxDB measurement the family's readings are stored in. */
  readonly measurement: string;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
}

export const FAMILY_SPECS = {
  traffic: {
    dataModel: 'TrafficFlowObserved',
    measurement: 'traffic',
    metrics: {
      intensity: { unit: 'vehicles/period', kind: 'integer', min: 0, max: 100_000, description: 'Vehicles counted in the reporting period' },
      averageVehicleSpeed: { unit: 'km/h', kind: 'number', min: 0, max: 300, description: 'Mean speed of the vehicles counted' },
      occupancy: { unit: 'fraction 0..1', kind: 'number', min: 0, max: 1, description: 'Share of the period the detector was occupied' },
      congested: { unit: 'boolean', kind: 'boolean', description: 'The detector reports congestion' },
    },
  },
  airquality: {
    dataModel: 'AirQualityObserved',
    measurement: 'airquality',
    metrics: {
      pm25: { unit: 'µg/m³', kind: 'number', min: 0, max: 2000, description: 'Fine particulate matter (PM2.5)' },
      pm10: { unit: 'µg/m³', kind: 'number', min: 0, max: 5000, description: 'Particulate matter (PM10)' },
      no2: { unit: 'µg/m³', kind: 'number', min: 0, max: 5000, description: 'Nitrogen dioxide' },
      o3: { unit: 'µg/m³', kind: 'number', min: 0, max: 2000, description: 'Ozone' },
      co: { unit: 'mg/m³', kind: 'number', min: 0, max: 500, description: 'Carbon monoxide' },
      so2: { unit: 'µg/m³', kind: 'number', min: 0, max: 5000, description: 'Sulphur dioxide' },
      temperature: { unit: '°C', kind: 'number', min: -60, max: 60, description: 'Air temperature at the station' },
      relativeHumidity: { unit: 'fraction 0..1', kind: 'number', min: 0, max: 1, description: 'Relative humidity' },
    },
  },
  water: {
    dataModel: 'WaterConsumptionObserved',
    measurement: 'water',
    metrics: {
      waterConsumption: { unit: 'm³', kind: 'number', min: 0, max: 1e9, description: 'Cumulative volume through the meter' },
      flow: { unit: 'L/h', kind: 'number', min: 0, max: 1e7, description: 'Instantaneous flow' },
      pressure: { unit: 'bar', kind: 'number', min: 0, max: 40, description: 'Network pressure at the meter' },
    },
  },
  electricity: {
    dataModel: 'ACMeasurement',
    measurement: 'electricity',
    metrics: {
      activeEnergyImport: { unit: 'kWh', kind: 'number', min: 0, max: 1e12, description: 'Cumulative active energy imported' },
      voltage: { unit: 'V', kind: 'number', min: 0, max: 1000, description: 'RMS phase voltage' },
      current: { unit: 'A', kind: 'number', min: 0, max: 10_000, description: 'RMS current' },
      activePower: { unit: 'W', kind: 'number', min: -1e8, max: 1e8, description: 'Active power (negative when exporting)' },
      frequency: { unit: 'Hz', kind: 'number', min: 40, max: 70, description: 'Grid frequency' },
      powerFactor: { unit: '-1..1', kind: 'number', min: -1, max: 1, description: 'Power factor' },
    },
  },
} as const satisfies Record<string, FamilySpec>;

export type Family = keyof typeof FAMILY_SPECS;
export const FAMILIES = Object.keys(FAMILY_SPECS) as [Family, ...Family[]];

/** zod enum of the family ids. */
export const FamilySchema = z.enum(FAMILIES);

export function isFamily(value: string): value is Family {
  return Object.hasOwn(FAMILY_SPECS, value);
}
