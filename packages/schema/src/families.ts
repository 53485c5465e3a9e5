import { z } from 'zod';
import type { UnitSymbol } from './units.ts';

/**
 * The sensor families the city publishes, and the metrics each may carry: the table the device contract derives
 * from (reading schemas, unit conversion, plausibility, line protocol, docs/contract.md).
 *
 * Names and units follow the FIWARE Smart Data Models where one exists (TrafficFlowObserved, AirQualityObserved,
 * NoiseLevelObserved, WeatherObserved, WaterConsumptionObserved, ACMeasurement/ThreePhaseAcMeasurement,
 * OffStreetParking/ParkingSpot). Gas and district heating have none that fits a meter reading: ours are documented
 * here in the same style. FIWARE's structured per-phase values (`phaseVoltage: {L1, L2, L3}`) are flattened into
 * one metric per phase (`voltageL1`), and its `total…` values keep the plain name (`activePower`).
 *
 * Ranges are physical plausibility bounds, not alert thresholds: a value outside them is a broken sensor or a unit
 * mistake, and is rejected with `out_of_range`. Ids and metric names are append-only: devices and stored series
 * use them. To add a family or a metric, add an entry here and run `pnpm docs:contract`.
 */
export interface MetricSpec {
  /** Unit as documented to device makers, and named in error details. */
  readonly unit: string;
  readonly kind: 'number' | 'integer' | 'boolean';
  /** The unit the value is stored in, as a symbol of UNITS (numbers only). Values in another unit of its quantity are converted. */
  readonly unitSymbol?: UnitSymbol;
  /** Symbols of another quantity that still describe this metric (`%RH` for a humidity stored as a fraction). */
  readonly extraUnits?: readonly UnitSymbol[];
  /** Inclusive plausibility bounds (numbers only). */
  readonly min?: number;
  readonly max?: number;
  /** A meter's running total: it never goes back, except when the meter is reset or replaced (marked `counterReset`). */
  readonly cumulative?: boolean;
  /** The data model's attribute, when its name differs from the metric's. */
  readonly dataModelAttribute?: string;
  readonly description: string;
}

/** `sum(left) ≤ right + tolerance`, checked when every metric named is present in a reading. */
export interface ConsistencyRule {
  readonly left: readonly string[];
  readonly right: string;
  /** Measurement slack, in the metrics' unit. @defaultValue 0 */
  readonly tolerance?: number;
  /** Why it must hold, for the error detail and the docs. */
  readonly why: string;
}

export interface FamilySpec {
  /** The FIWARE Smart Data Model this family follows, or ours where there is none. */
  readonly dataModel: string;
  readonly dataModelSource: 'FIWARE' | 'ours';
  /** InfluxDB measurement the family's readings are stored in. */
  readonly measurement: string;
  readonly description: string;
  readonly metrics: Readonly<Record<string, MetricSpec>>;
  readonly consistency?: readonly ConsistencyRule[];
  /** A typical reading, for the docs (checked by a test to pass the contract). */
  readonly example: Readonly<Record<string, number | boolean | string>>;
}

const T = 'fraction 0..1';

export const FAMILY_SPECS = {
  traffic: {
    dataModel: 'TrafficFlowObserved',
    dataModelSource: 'FIWARE',
    measurement: 'traffic',
    description: 'A road traffic detector (loop, radar, camera) counting one lane or approach.',
    metrics: {
      intensity: { unit: 'vehicles/period', kind: 'integer', unitSymbol: 'count', min: 0, max: 100_000, description: 'Vehicles counted in the reporting period' },
      averageVehicleSpeed: { unit: 'km/h', kind: 'number', unitSymbol: 'km/h', min: 0, max: 300, description: 'Mean speed of the vehicles counted' },
      occupancy: { unit: T, kind: 'number', unitSymbol: '/', min: 0, max: 1, description: 'Share of the period the detector was occupied' },
      congested: { unit: 'boolean', kind: 'boolean', description: 'The detector reports congestion' },
      averageHeadwayTime: { unit: 's', kind: 'number', unitSymbol: 's', min: 0, max: 86_400, description: 'Mean time between two consecutive vehicles' },
      averageVehicleLength: { unit: 'm', kind: 'number', unitSymbol: 'm', min: 0, max: 50, description: 'Mean length of the vehicles counted' },
    },
    example: { ts: '2026-01-15T08:00:00Z', intensity: 42, averageVehicleSpeed: 38.5, occupancy: 0.31, congested: false },
  },
  airquality: {
    dataModel: 'AirQualityObserved',
    dataModelSource: 'FIWARE',
    measurement: 'airquality',
    description: 'An air-quality station: particulates, gases, and the temperature and humidity they are read at.',
    metrics: {
      pm25: { unit: 'µg/m³', kind: 'number', unitSymbol: 'ug/m3', min: 0, max: 2000, description: 'Fine particulate matter (PM2.5)' },
      pm10: { unit: 'µg/m³', kind: 'number', unitSymbol: 'ug/m3', min: 0, max: 5000, description: 'Particulate matter (PM10)' },
      no2: { unit: 'µg/m³', kind: 'number', unitSymbol: 'ug/m3', min: 0, max: 5000, description: 'Nitrogen dioxide' },
      o3: { unit: 'µg/m³', kind: 'number', unitSymbol: 'ug/m3', min: 0, max: 2000, description: 'Ozone' },
      co: { unit: 'mg/m³', kind: 'number', unitSymbol: 'mg/m3', min: 0, max: 500, description: 'Carbon monoxide' },
      so2: { unit: 'µg/m³', kind: 'number', unitSymbol: 'ug/m3', min: 0, max: 5000, description: 'Sulphur dioxide' },
      temperature: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: -60, max: 60, description: 'Air temperature at the station' },
      relativeHumidity: { unit: T, kind: 'number', unitSymbol: '/', extraUnits: ['%RH'], min: 0, max: 1, description: 'Relative humidity' },
      pm1: { unit: 'µg/m³', kind: 'number', unitSymbol: 'ug/m3', min: 0, max: 2000, description: 'Ultrafine particulate matter (PM1)' },
    },
    consistency: [
      { left: ['pm1'], right: 'pm25', why: 'PM1 is part of PM2.5' },
      { left: ['pm25'], right: 'pm10', why: 'PM2.5 is part of PM10' },
    ],
    example: { ts: '2026-01-15T08:00:00Z', pm25: 41.5, pm10: 60, no2: 38.2, temperature: -18.5, relativeHumidity: 0.71 },
  },
  noise: {
    dataModel: 'NoiseLevelObserved',
    dataModelSource: 'FIWARE',
    measurement: 'noise',
    description: 'A sound level meter: A-weighted levels over the reporting period.',
    metrics: {
      LAeq: { unit: 'dB(A)', kind: 'number', unitSymbol: 'dB', min: 0, max: 160, description: 'A-weighted equivalent continuous sound level over the period' },
      LAmax: { unit: 'dB(A)', kind: 'number', unitSymbol: 'dB', min: 0, max: 160, description: 'Highest A-weighted level in the period' },
      LAS: { unit: 'dB(A)', kind: 'number', unitSymbol: 'dB', min: 0, max: 160, description: 'A-weighted level, slow time weighting, at the end of the period' },
      LAeq_d: { unit: 'dB(A)', kind: 'number', unitSymbol: 'dB', min: 0, max: 160, description: 'A-weighted equivalent level over the day (07–19 h)' },
    },
    consistency: [
      { left: ['LAeq'], right: 'LAmax', why: 'an average level cannot exceed the highest level of its period' },
      { left: ['LAS'], right: 'LAmax', why: 'a level of the period cannot exceed its highest level' },
    ],
    example: { ts: '2026-01-15T08:00:00Z', LAeq: 67.8, LAmax: 94.5, LAS: 71.6 },
  },
  weather: {
    dataModel: 'WeatherObserved',
    dataModelSource: 'FIWARE',
    measurement: 'weather',
    description: 'A weather station.',
    metrics: {
      temperature: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: -80, max: 60, description: 'Air temperature' },
      relativeHumidity: { unit: T, kind: 'number', unitSymbol: '/', extraUnits: ['%RH'], min: 0, max: 1, description: 'Relative humidity' },
      dewPoint: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: -90, max: 60, description: 'Dew point temperature' },
      atmosphericPressure: { unit: 'hPa', kind: 'number', unitSymbol: 'hPa', min: 300, max: 1100, description: 'Air pressure at the station' },
      windSpeed: { unit: 'm/s', kind: 'number', unitSymbol: 'm/s', min: 0, max: 120, description: 'Wind speed' },
      windDirection: { unit: '° (0..360, from north, clockwise)', kind: 'number', unitSymbol: 'deg', min: 0, max: 360, description: 'Direction the wind blows from' },
      precipitation: { unit: 'mm (L/m²) in the period', kind: 'number', unitSymbol: 'mm', min: 0, max: 500, description: 'Precipitation in the reporting period' },
      solarRadiation: { unit: 'W/m²', kind: 'number', unitSymbol: 'W/m2', min: 0, max: 2000, description: 'Global solar irradiance' },
      illuminance: { unit: 'lx', kind: 'number', unitSymbol: 'lx', min: 0, max: 200_000, description: 'Illuminance' },
    },
    consistency: [{ left: ['dewPoint'], right: 'temperature', tolerance: 0.5, why: 'air cannot hold more water than saturates it: the dew point is at most the temperature' }],
    example: { ts: '2026-01-15T08:00:00Z', temperature: -12.4, relativeHumidity: 0.82, atmosphericPressure: 911.3, windSpeed: 2.1, windDirection: 135 },
  },
  water: {
    dataModel: 'WaterConsumptionObserved',
    dataModelSource: 'FIWARE',
    measurement: 'water',
    description: 'A water meter at a building, or a pressure/flow point of the network.',
    metrics: {
      waterConsumption: { unit: 'm³', kind: 'number', unitSymbol: 'm3', min: 0, max: 1e9, cumulative: true, description: 'Cumulative volume through the meter' },
      flow: { unit: 'L/h', kind: 'number', unitSymbol: 'l/h', min: 0, max: 1e7, description: 'Instantaneous flow' },
      pressure: { unit: 'bar', kind: 'number', unitSymbol: 'bar', min: 0, max: 40, description: 'Network pressure at the meter' },
      minFlow: { unit: 'L/h', kind: 'number', unitSymbol: 'l/h', min: 0, max: 1e7, description: 'Lowest flow in the reporting period' },
      maxFlow: { unit: 'L/h', kind: 'number', unitSymbol: 'l/h', min: 0, max: 1e7, description: 'Highest flow in the reporting period' },
    },
    consistency: [{ left: ['minFlow'], right: 'maxFlow', why: 'the lowest flow of a period cannot exceed its highest' }],
    example: { ts: '2026-01-15T08:00:00Z', waterConsumption: 872.113, flow: 410, pressure: 3.9 },
  },
  electricity: {
    dataModel: 'ACMeasurement (single phase) / ThreePhaseAcMeasurement',
    dataModelSource: 'FIWARE',
    measurement: 'electricity',
    description:
      'An electricity meter. Single phase: `voltage`, `current`, `powerFactor`. Three phase: the per-phase metrics ' +
      '(`…L1`, `…L2`, `…L3`, FIWARE’s phase keys), and the totals under the plain names (`activePower`, energies).',
    metrics: {
      activeEnergyImport: { unit: 'kWh', kind: 'number', unitSymbol: 'kWh', min: 0, max: 1e12, cumulative: true, dataModelAttribute: 'totalActiveEnergyImport', description: 'Cumulative active energy imported' },
      voltage: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1000, description: 'RMS phase voltage (single phase)' },
      current: { unit: 'A', kind: 'number', unitSymbol: 'A', min: 0, max: 10_000, description: 'RMS current (single phase)' },
      activePower: { unit: 'W', kind: 'number', unitSymbol: 'W', min: -1e8, max: 1e8, dataModelAttribute: 'totalActivePower', description: 'Active power, all phases (negative when exporting)' },
      frequency: { unit: 'Hz', kind: 'number', unitSymbol: 'Hz', min: 40, max: 70, description: 'Grid frequency' },
      powerFactor: { unit: '-1..1', kind: 'number', unitSymbol: '/', min: -1, max: 1, dataModelAttribute: 'totalPowerFactor', description: 'Power factor (single phase, or total)' },
      activeEnergyExport: { unit: 'kWh', kind: 'number', unitSymbol: 'kWh', min: 0, max: 1e12, cumulative: true, dataModelAttribute: 'totalActiveEnergyExport', description: 'Cumulative active energy exported' },
      reactivePower: { unit: 'var', kind: 'number', unitSymbol: 'var', min: -1e8, max: 1e8, dataModelAttribute: 'totalReactivePower', description: 'Reactive power, all phases' },
      apparentPower: { unit: 'VA', kind: 'number', unitSymbol: 'VA', min: 0, max: 1e8, dataModelAttribute: 'totalApparentPower', description: 'Apparent power, all phases' },
      voltageL1: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1000, dataModelAttribute: 'phaseVoltage.L1', description: 'RMS voltage, phase L1 to neutral' },
      voltageL2: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1000, dataModelAttribute: 'phaseVoltage.L2', description: 'RMS voltage, phase L2 to neutral' },
      voltageL3: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1000, dataModelAttribute: 'phaseVoltage.L3', description: 'RMS voltage, phase L3 to neutral' },
      voltageL12: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1800, dataModelAttribute: 'phaseToPhaseVoltage.L12', description: 'RMS voltage between L1 and L2' },
      voltageL23: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1800, dataModelAttribute: 'phaseToPhaseVoltage.L23', description: 'RMS voltage between L2 and L3' },
      voltageL31: { unit: 'V', kind: 'number', unitSymbol: 'V', min: 0, max: 1800, dataModelAttribute: 'phaseToPhaseVoltage.L31', description: 'RMS voltage between L3 and L1' },
      currentL1: { unit: 'A', kind: 'number', unitSymbol: 'A', min: 0, max: 10_000, dataModelAttribute: 'current.L1', description: 'RMS current, phase L1' },
      currentL2: { unit: 'A', kind: 'number', unitSymbol: 'A', min: 0, max: 10_000, dataModelAttribute: 'current.L2', description: 'RMS current, phase L2' },
      currentL3: { unit: 'A', kind: 'number', unitSymbol: 'A', min: 0, max: 10_000, dataModelAttribute: 'current.L3', description: 'RMS current, phase L3' },
      currentN: { unit: 'A', kind: 'number', unitSymbol: 'A', min: 0, max: 10_000, dataModelAttribute: 'current.N', description: 'RMS current, neutral' },
      activePowerL1: { unit: 'W', kind: 'number', unitSymbol: 'W', min: -1e8, max: 1e8, dataModelAttribute: 'activePower.L1', description: 'Active power, phase L1' },
      activePowerL2: { unit: 'W', kind: 'number', unitSymbol: 'W', min: -1e8, max: 1e8, dataModelAttribute: 'activePower.L2', description: 'Active power, phase L2' },
      activePowerL3: { unit: 'W', kind: 'number', unitSymbol: 'W', min: -1e8, max: 1e8, dataModelAttribute: 'activePower.L3', description: 'Active power, phase L3' },
      powerFactorL1: { unit: '-1..1', kind: 'number', unitSymbol: '/', min: -1, max: 1, dataModelAttribute: 'powerFactor.L1', description: 'Power factor, phase L1' },
      powerFactorL2: { unit: '-1..1', kind: 'number', unitSymbol: '/', min: -1, max: 1, dataModelAttribute: 'powerFactor.L2', description: 'Power factor, phase L2' },
      powerFactorL3: { unit: '-1..1', kind: 'number', unitSymbol: '/', min: -1, max: 1, dataModelAttribute: 'powerFactor.L3', description: 'Power factor, phase L3' },
    },
    example: { ts: '2026-01-15T08:00:00Z', activeEnergyImport: 1234.5, voltageL1: 229.4, voltageL2: 231.0, voltageL3: 230.2, activePower: 5320, frequency: 50.01 },
  },
  gas: {
    dataModel: 'GasConsumptionObserved (ours: WaterConsumptionObserved’s shape for a gas meter)',
    dataModelSource: 'ours',
    measurement: 'gas',
    description: 'A gas meter (volume at metering conditions) or a pressure point of the gas network.',
    metrics: {
      gasConsumption: { unit: 'm³', kind: 'number', unitSymbol: 'm3', min: 0, max: 1e10, cumulative: true, description: 'Cumulative volume through the meter' },
      flow: { unit: 'm³/h', kind: 'number', unitSymbol: 'm3/h', min: 0, max: 1e6, description: 'Instantaneous flow' },
      pressure: { unit: 'bar', kind: 'number', unitSymbol: 'bar', min: 0, max: 100, description: 'Gauge pressure at the meter (low-pressure networks are ~0.02 bar)' },
      temperature: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: -50, max: 80, description: 'Gas temperature, for volume correction' },
    },
    example: { ts: '2026-01-15T08:00:00Z', gasConsumption: 15234.71, flow: 1.42, pressure: 0.021 },
  },
  heating: {
    dataModel: 'DistrictHeatingObserved (ours: a heat meter, EN 1434)',
    dataModelSource: 'ours',
    measurement: 'heating',
    description: 'A district-heating substation heat meter: the supply and return of the hot-water loop, and the heat delivered.',
    metrics: {
      supplyTemperature: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: 0, max: 200, description: 'Water temperature in the supply pipe' },
      returnTemperature: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: 0, max: 200, description: 'Water temperature in the return pipe' },
      flow: { unit: 'm³/h', kind: 'number', unitSymbol: 'm3/h', min: 0, max: 100_000, description: 'Water flow through the meter' },
      supplyPressure: { unit: 'bar', kind: 'number', unitSymbol: 'bar', min: 0, max: 40, description: 'Pressure in the supply pipe' },
      returnPressure: { unit: 'bar', kind: 'number', unitSymbol: 'bar', min: 0, max: 40, description: 'Pressure in the return pipe' },
      thermalPower: { unit: 'kW', kind: 'number', unitSymbol: 'kW', min: 0, max: 1e6, description: 'Heat delivered now' },
      thermalEnergy: { unit: 'kWh', kind: 'number', unitSymbol: 'kWh', min: 0, max: 1e12, cumulative: true, description: 'Cumulative heat delivered' },
      volume: { unit: 'm³', kind: 'number', unitSymbol: 'm3', min: 0, max: 1e10, cumulative: true, description: 'Cumulative water volume through the meter' },
      outdoorTemperature: { unit: '°C', kind: 'number', unitSymbol: 'Cel', min: -60, max: 60, description: "Outdoor air temperature at the substation's weather-compensation sensor" },
    },
    example: { ts: '2026-01-15T08:00:00Z', supplyTemperature: 95.2, returnTemperature: 58.7, flow: 12.4, thermalPower: 525.6, thermalEnergy: 1843210.5 },
  },
  parking: {
    dataModel: 'OffStreetParking (a site) / ParkingSpot (one space)',
    dataModelSource: 'FIWARE',
    measurement: 'parking',
    description: 'Parking occupancy: a car park or street segment counting its spaces, or one space with its own sensor.',
    metrics: {
      occupancy: { unit: T, kind: 'number', unitSymbol: '/', min: 0, max: 1, description: 'Share of the spaces occupied' },
      occupiedSpotNumber: { unit: 'spaces', kind: 'integer', unitSymbol: 'count', min: 0, max: 100_000, description: 'Spaces occupied' },
      availableSpotNumber: { unit: 'spaces', kind: 'integer', unitSymbol: 'count', min: 0, max: 100_000, description: 'Spaces free' },
      totalSpotNumber: { unit: 'spaces', kind: 'integer', unitSymbol: 'count', min: 0, max: 100_000, description: 'Spaces in the site' },
      occupied: { unit: 'boolean', kind: 'boolean', dataModelAttribute: 'status (occupied | free)', description: 'One space: a vehicle is on it' },
    },
    consistency: [
      { left: ['occupiedSpotNumber'], right: 'totalSpotNumber', why: 'a site cannot have more spaces occupied than it has' },
      { left: ['availableSpotNumber'], right: 'totalSpotNumber', why: 'a site cannot have more spaces free than it has' },
      { left: ['occupiedSpotNumber', 'availableSpotNumber'], right: 'totalSpotNumber', why: 'occupied and free spaces are distinct spaces of the site' },
    ],
    example: { ts: '2026-01-15T08:00:00Z', occupancy: 0.68, occupiedSpotNumber: 282, availableSpotNumber: 132, totalSpotNumber: 414 },
  },
} as const satisfies Record<string, FamilySpec>;

export type Family = keyof typeof FAMILY_SPECS;
export const FAMILIES = Object.keys(FAMILY_SPECS) as [Family, ...Family[]];

/** zod enum of the family ids. */
export const FamilySchema = z.enum(FAMILIES);

export function isFamily(value: string): value is Family {
  return Object.hasOwn(FAMILY_SPECS, value);
}

/** A family's metrics, typed for lookup by a name read from a payload. */
export function metricsOf(family: Family): Readonly<Record<string, MetricSpec>> {
  return FAMILY_SPECS[family].metrics;
}

/** The cumulative (meter counter) metrics of a family. */
export function cumulativeMetricsOf(family: Family): string[] {
  return Object.entries(metricsOf(family))
    .filter(([, spec]) => spec.cumulative === true)
    .map(([name]) => name);
}
