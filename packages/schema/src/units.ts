/**
 * Units a device may name, per physical quantity, and how each converts to the quantity's reference unit:
 * `reference = value × scale + offset`. A metric is stored in one unit (its `unitSymbol` in FAMILY_SPECS); a value
 * sent in another unit of the same quantity is converted, a value in any other unit is rejected (`unsupported_unit`).
 *
 * Symbols are those of the SenML units registry where it has one (RFC 8428 §12.1, and the secondary units of
 * RFC 8798 and the IANA registry). A few units meters commonly report in, which the registry lacks (`l/h`, `m3/h`,
 * `bar`, `MWh`…), are accepted as our own: `source` says which is which.
 */
export const QUANTITIES = [
  'temperature',
  'massConcentration',
  'fraction',
  'relativeHumidity',
  'count',
  'speed',
  'length',
  'duration',
  'volume',
  'volumeFlow',
  'pressure',
  'energy',
  'power',
  'reactivePower',
  'apparentPower',
  'voltage',
  'current',
  'frequency',
  'soundLevel',
  'angle',
  'irradiance',
  'illuminance',
] as const;
export type Quantity = (typeof QUANTITIES)[number];

export interface UnitSpec {
  readonly quantity: Quantity;
  /** `reference = value × scale + offset`. */
  readonly scale: number;
  readonly offset?: number;
  readonly name: string;
  /** Where the symbol is defined: the SenML registry, or our own list. */
  readonly source: 'SenML' | 'ours';
}

const u = (quantity: Quantity, scale: number, name: string, source: UnitSpec['source'] = 'SenML', offset?: number): UnitSpec =>
  offset === undefined ? { quantity, scale, name, source } : { quantity, scale, name, source, offset };

export const UNITS = {
  // temperature, reference K
  Cel: u('temperature', 1, 'degree Celsius', 'SenML', 273.15),
  K: u('temperature', 1, 'kelvin'),
  // mass concentration, reference kg/m3
  'ug/m3': u('massConcentration', 1e-9, 'microgram per cubic metre'),
  'mg/m3': u('massConcentration', 1e-6, 'milligram per cubic metre', 'ours'),
  'kg/m3': u('massConcentration', 1, 'kilogram per cubic metre'),
  // fractions, reference 1
  '/': u('fraction', 1, 'ratio (1 = 100 %)'),
  '%': u('fraction', 0.01, 'percent (read as a percentage, as devices mean it)'),
  '/100': u('fraction', 0.01, 'percent'),
  '/1000': u('fraction', 0.001, 'permille'),
  // Its own quantity, so only relative humidity accepts it (its reference is a fraction too).
  '%RH': u('relativeHumidity', 0.01, 'percent relative humidity'),
  count: u('count', 1, 'count'),
  // speed, reference m/s
  'm/s': u('speed', 1, 'metre per second'),
  'km/h': u('speed', 1 / 3.6, 'kilometre per hour'),
  'm/h': u('speed', 1 / 3600, 'metre per hour'),
  // length, reference m
  m: u('length', 1, 'metre'),
  cm: u('length', 0.01, 'centimetre'),
  mm: u('length', 0.001, 'millimetre'),
  km: u('length', 1000, 'kilometre'),
  // duration, reference s
  s: u('duration', 1, 'second'),
  ms: u('duration', 0.001, 'millisecond'),
  min: u('duration', 60, 'minute'),
  h: u('duration', 3600, 'hour'),
  // volume, reference m3
  m3: u('volume', 1, 'cubic metre'),
  l: u('volume', 0.001, 'litre'),
  // volume flow, reference m3/s
  'm3/s': u('volumeFlow', 1, 'cubic metre per second'),
  'l/s': u('volumeFlow', 0.001, 'litre per second'),
  'm3/h': u('volumeFlow', 1 / 3600, 'cubic metre per hour', 'ours'),
  'l/h': u('volumeFlow', 0.001 / 3600, 'litre per hour', 'ours'),
  'l/min': u('volumeFlow', 0.001 / 60, 'litre per minute', 'ours'),
  // pressure, reference Pa
  Pa: u('pressure', 1, 'pascal'),
  hPa: u('pressure', 100, 'hectopascal'),
  kPa: u('pressure', 1000, 'kilopascal', 'ours'),
  mbar: u('pressure', 100, 'millibar', 'ours'),
  bar: u('pressure', 100_000, 'bar', 'ours'),
  // energy, reference J
  J: u('energy', 1, 'joule'),
  Wh: u('energy', 3600, 'watt-hour'),
  kWh: u('energy', 3_600_000, 'kilowatt-hour'),
  MWh: u('energy', 3_600_000_000, 'megawatt-hour', 'ours'),
  GJ: u('energy', 1e9, 'gigajoule', 'ours'),
  // power, reference W
  W: u('power', 1, 'watt'),
  kW: u('power', 1000, 'kilowatt'),
  MW: u('power', 1_000_000, 'megawatt', 'ours'),
  var: u('reactivePower', 1, 'volt-ampere reactive'),
  kvar: u('reactivePower', 1000, 'kilovar'),
  VA: u('apparentPower', 1, 'volt-ampere'),
  kVA: u('apparentPower', 1000, 'kilovolt-ampere'),
  V: u('voltage', 1, 'volt'),
  mV: u('voltage', 0.001, 'millivolt'),
  kV: u('voltage', 1000, 'kilovolt', 'ours'),
  A: u('current', 1, 'ampere'),
  mA: u('current', 0.001, 'milliampere'),
  Hz: u('frequency', 1, 'hertz'),
  // sound level, reference dB (A-weighting is a property of the metric, not of the unit)
  dB: u('soundLevel', 1, 'decibel'),
  dBA: u('soundLevel', 1, 'A-weighted decibel', 'ours'),
  Bspl: u('soundLevel', 10, 'bel (sound pressure level)'),
  deg: u('angle', 1, 'degree (angle)'),
  rad: u('angle', 180 / Math.PI, 'radian'),
  'W/m2': u('irradiance', 1, 'watt per square metre'),
  lx: u('illuminance', 1, 'lux'),
} as const satisfies Record<string, UnitSpec>;

export type UnitSymbol = keyof typeof UNITS;

export function isUnitSymbol(value: string): value is UnitSymbol {
  return Object.hasOwn(UNITS, value);
}

/** The symbols of one quantity, `symbol` first: what a value stored in `symbol` may be sent in. */
export function unitsOfQuantityOf(symbol: UnitSymbol): UnitSymbol[] {
  const quantity = UNITS[symbol].quantity;
  return [symbol, ...(Object.keys(UNITS) as UnitSymbol[]).filter((s) => s !== symbol && UNITS[s].quantity === quantity)];
}
