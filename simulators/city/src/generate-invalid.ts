import { FAMILY_SPECS, type Family, type ReasonCode } from '@city/schema';
import type { SimDevice } from './build-fleet.ts';
import { generateReading, type SimReading } from './generate-reading.ts';
import { randomPick, type Rng } from './random.ts';

/** The rejections the simulator can provoke, each labelled with the reason code the broker should give. */
export const INVALID_REASONS = [
  'invalid_json',
  'invalid_type',
  'unknown_field',
  'out_of_range',
  'invalid_timestamp',
  'empty_batch',
  'no_metrics',
] as const satisfies readonly ReasonCode[];
export type InvalidReason = (typeof INVALID_REASONS)[number];

/** Reasons about one reading: inside a batch, only that reading is rejected. The others spoil the whole payload. */
export const READING_LEVEL_REASONS: ReadonlySet<InvalidReason> = new Set([
  'invalid_type',
  'unknown_field',
  'out_of_range',
  'invalid_timestamp',
  'no_metrics',
]);

export interface InvalidPayload {
  reason: InvalidReason;
  /** The payload, as the text a device would publish. */
  payload: string;
  /** For a person: what is wrong with it. */
  detail: string;
  /** For reading-level reasons, the one bad reading, so a batch can carry it among valid ones. */
  reading?: Record<string, unknown>;
}

export interface GenerateInvalidOptions {
  /**
   * Which rejection to provoke.
   * @defaultValue one of {@link INVALID_REASONS}, drawn from `rng`
   */
  reason?: InvalidReason;
  /**
   * A valid reading to spoil.
   * @defaultValue a fresh `generateReading` for the device at `nowMs`
   */
  base?: SimReading;
}

/** Keys a careless firmware might send: none is a metric of any family it is used for. */
const UNKNOWN_FIELDS: Readonly<Record<Family, readonly string[]>> = {
  traffic: ['speed', 'avgSpeed', 'vehicleCount', 'Occupancy', 'battery', 'rssi'],
  airquality: ['PM1', 'PM25', 'humidity', 'temp', 'aqi', 'battery'],
  water: ['consumption', 'flowRate', 'pressureBar', 'leak', 'rssi'],
  electricity: ['power', 'energy', 'Voltage', 'thd', 'firmware'],
  noise: ['laeq', 'LAmin', 'dBA', 'level', 'battery'],
  weather: ['humidity', 'temp', 'windGust', 'pressure', 'rain'],
  gas: ['consumption', 'volume', 'pressureMbar', 'battery'],
  heating: ['supplyTemp', 'returnTemp', 'power', 'energy', 'deltaT'],
  parking: ['free', 'occupiedSpots', 'capacity', 'status'],
};

/** Values outside the plausibility bounds in FAMILY_SPECS, most of them a unit mistake. */
const OUT_OF_RANGE: Readonly<Record<Family, readonly (readonly [string, number, string])[]>> = {
  traffic: [
    ['occupancy', 1.7, 'occupancy above 1'],
    ['occupancy', 85, 'occupancy sent as a percentage'],
    ['averageVehicleSpeed', 420, 'speed above 300 km/h'],
    ['intensity', -3, 'negative vehicle count'],
  ],
  airquality: [
    ['relativeHumidity', 78, 'humidity sent as a percentage'],
    ['pm25', -4, 'negative PM2.5'],
    ['temperature', -75, 'temperature below -60 °C'],
    ['co', 800, 'CO in µg/m³ instead of mg/m³'],
  ],
  water: [
    ['pressure', 58, 'pressure in psi instead of bar'],
    ['flow', -12, 'negative flow'],
    ['waterConsumption', -1, 'negative meter reading'],
  ],
  electricity: [
    ['frequency', 0, 'frequency 0 Hz'],
    ['voltage', 2300, 'voltage in decivolts'],
    ['powerFactor', 1.4, 'power factor above 1'],
    ['current', -2, 'negative RMS current'],
  ],
  // Out of range without breaking a consistency rule too (LAeq ≤ LAmax, occupied + free ≤ total): one reason each.
  noise: [
    ['LAeq', -3, 'a negative level'],
    ['LAS', -5, 'a negative level'],
  ],
  weather: [
    ['relativeHumidity', 82, 'humidity sent as a percentage'],
    ['atmosphericPressure', 91_130, 'pressure in Pa instead of hPa'],
    ['windDirection', 400, 'direction above 360°'],
  ],
  gas: [
    ['pressure', 210, 'pressure in mbar instead of bar'],
    ['flow', -1, 'negative flow'],
  ],
  heating: [
    ['supplyTemperature', 368, 'supply temperature in kelvin'],
    ['thermalPower', -20, 'negative heat power'],
  ],
  parking: [
    ['occupancy', 68, 'occupancy sent as a percentage'],
    ['occupiedSpotNumber', -2, 'a negative count'],
  ],
};

const metricNames = (family: Family): string[] => Object.keys(FAMILY_SPECS[family].metrics);

function withoutTs(reading: SimReading): Record<string, unknown> {
  const { ts: _ts, ...rest } = reading;
  return rest;
}

function badReading(
  reason: InvalidReason,
  family: Family,
  base: SimReading,
  ts: number,
  rng: Rng,
): { reading: Record<string, unknown>; detail: string } {
  const present = metricNames(family).filter((m) => base[m] !== undefined);
  switch (reason) {
    case 'invalid_type': {
      const metric = randomPick(rng, present);
      if (typeof base[metric] === 'boolean') {
        const value = randomPick(rng, ['yes', 1]);
        return {
          reading: { ...base, [metric]: value },
          detail: `${metric} is ${JSON.stringify(value)}, not true/false`,
        };
      }
      const value = randomPick(rng, ['high', String(base[metric]), null, true]);
      return { reading: { ...base, [metric]: value }, detail: `${metric} is ${JSON.stringify(value)}, not a number` };
    }
    case 'unknown_field': {
      const field = randomPick(rng, UNKNOWN_FIELDS[family]);
      return { reading: { ...base, [field]: Math.round(rng() * 100) }, detail: `unknown field "${field}"` };
    }
    case 'out_of_range': {
      const [metric, value, why] = randomPick(rng, OUT_OF_RANGE[family]);
      return { reading: { ...base, [metric]: value }, detail: `${metric} = ${value}: ${why}` };
    }
    case 'invalid_timestamp': {
      const iso = new Date(ts).toISOString();
      const [value, why] = randomPick<readonly [unknown, string]>(rng, [
        [Math.floor(ts / 1000), 'epoch seconds instead of milliseconds'],
        [ts * 1000, 'epoch microseconds instead of milliseconds'],
        [ts + 0.5, 'fractional milliseconds'],
        [iso.slice(0, 19), 'ISO 8601 without a time zone'],
        [`${iso.slice(8, 10)}.${iso.slice(5, 7)}.${iso.slice(0, 4)} ${iso.slice(11, 16)}`, 'a dd.mm.yyyy date'],
        ['yesterday', 'not a time at all'],
      ]);
      return { reading: { ...withoutTs(base), ts: value }, detail: `ts ${JSON.stringify(value)}: ${why}` };
    }
    case 'no_metrics': {
      const reading: Record<string, unknown> = {};
      if (base.ts !== undefined) reading.ts = base.ts;
      if (base.district !== undefined && rng() < 0.7) reading.district = base.district;
      return { reading, detail: 'a reading with no metric' };
    }
    case 'invalid_json':
    case 'empty_batch':
      throw new RangeError(`${reason} is not about one reading`);
  }
}

/**
 * A payload the broker must reject, labelled with the reason code it should give. Pure: `nowMs` and `rng` are
 * arguments. Reading-level payloads spoil one thing in an otherwise valid reading, so the label is unambiguous.
 */
export function generateInvalid(
  device: SimDevice,
  nowMs: number,
  rng: Rng,
  options: GenerateInvalidOptions = {},
): InvalidPayload {
  const reason = options.reason ?? randomPick(rng, INVALID_REASONS);
  const ts = Math.round(nowMs);
  const base = options.base ?? generateReading(device, {}, ts, rng).reading;
  if (reason === 'empty_batch') return { reason, payload: '[]', detail: 'an empty batch array' };
  if (reason === 'invalid_json') {
    const json = JSON.stringify(base);
    const firstMetric = metricNames(device.family)[0] ?? 'value';
    const [payload, detail] = randomPick<readonly [string, string]>(rng, [
      [json.slice(0, Math.max(1, Math.floor(json.length / 2))), 'truncated JSON'],
      [json.replaceAll('"', "'"), 'single-quoted JSON'],
      [`${json.slice(0, -1)},}`, 'a trailing comma'],
      [`{"${firstMetric}": NaN}`, 'NaN is not JSON'],
      [
        Object.entries(base)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(';'),
        'key=value text, not JSON',
      ],
    ]);
    return { reason, payload, detail };
  }
  const { reading, detail } = badReading(reason, device.family, base, ts, rng);
  return { reason, payload: JSON.stringify(reading), detail, reading };
}
