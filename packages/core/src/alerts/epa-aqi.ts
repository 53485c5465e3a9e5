/**
 * US EPA Air Quality Index, from "Technical Assistance Document for the Reporting of Daily Air Quality – the AQI"
 * (EPA-454/B-24-002, May 2024: the PM2.5 breakpoints revised in February 2024). The index of a pollutant is the
 * linear interpolation of its truncated concentration between the breakpoints; the AQI is the highest index.
 *
 * The EPA defines the PM indices on 24-hour means, ozone on 8-hour means and NO2 on 1-hour means; a rule that
 * wants the official figure averages the AQI with a `window` signal. Gas concentrations arrive in µg/m³ (FIWARE)
 * and are converted to ppm/ppb at 25 °C and 1 atm (molar volume 24.45 L).
 */
export const AQI_CATEGORIES = [
  { max: 50, name: 'Good' },
  { max: 100, name: 'Moderate' },
  { max: 150, name: 'Unhealthy for Sensitive Groups' },
  { max: 200, name: 'Unhealthy' },
  { max: 300, name: 'Very Unhealthy' },
  { max: 500, name: 'Hazardous' },
] as const;
export type AqiCategory = (typeof AQI_CATEGORIES)[number]['name'];

type Breakpoints = ReadonlyArray<readonly [cLow: number, cHigh: number, iLow: number, iHigh: number]>;

const PM25: Breakpoints = [[0, 9.0, 0, 50], [9.1, 35.4, 51, 100], [35.5, 55.4, 101, 150], [55.5, 125.4, 151, 200], [125.5, 225.4, 201, 300], [225.5, 325.4, 301, 500]];
const PM10: Breakpoints = [[0, 54, 0, 50], [55, 154, 51, 100], [155, 254, 101, 150], [255, 354, 151, 200], [355, 424, 201, 300], [425, 604, 301, 500]];
/** 8-hour ozone, ppm; the table stops at 0.200 (above it the EPA uses 1-hour values, which we cap at 300). */
const O3_8H: Breakpoints = [[0, 0.054, 0, 50], [0.055, 0.07, 51, 100], [0.071, 0.085, 101, 150], [0.086, 0.105, 151, 200], [0.106, 0.2, 201, 300]];
const NO2: Breakpoints = [[0, 53, 0, 50], [54, 100, 51, 100], [101, 360, 101, 150], [361, 649, 151, 200], [650, 1249, 201, 300], [1250, 2049, 301, 500]];

const MOLAR_VOLUME_L = 24.45;
const O3_G_PER_MOL = 48.0;
const NO2_G_PER_MOL = 46.01;

const truncate = (value: number, decimals: number) => Math.floor(value * 10 ** decimals + 1e-9) / 10 ** decimals;

function subIndex(concentration: number, table: Breakpoints): number {
  const top = table[table.length - 1]!;
  if (concentration > top[1]) return top[3];
  // Truncation puts every value on a breakpoint grid, so it falls in exactly one row.
  const row = table.find(([, cHigh]) => concentration <= cHigh) ?? top;
  const [cLow, cHigh, iLow, iHigh] = row;
  return Math.round(((iHigh - iLow) / (cHigh - cLow)) * (concentration - cLow) + iLow);
}

export interface AqiInputs {
  /** µg/m³ */
  pm25?: number;
  /** µg/m³ */
  pm10?: number;
  /** µg/m³ */
  o3?: number;
  /** µg/m³ */
  no2?: number;
}

export interface AqiResult {
  aqi: number;
  category: AqiCategory;
  /** The pollutant with the highest sub-index. */
  pollutant: keyof AqiInputs;
}

/** The AQI of what the reading has; undefined when it has none of the four pollutants. */
export function computeAqi(inputs: AqiInputs): AqiResult | undefined {
  const indices: Array<[keyof AqiInputs, number]> = [];
  if (inputs.pm25 !== undefined) indices.push(['pm25', subIndex(truncate(inputs.pm25, 1), PM25)]);
  if (inputs.pm10 !== undefined) indices.push(['pm10', subIndex(Math.floor(inputs.pm10), PM10)]);
  if (inputs.o3 !== undefined) indices.push(['o3', subIndex(truncate((inputs.o3 * MOLAR_VOLUME_L) / O3_G_PER_MOL / 1000, 3), O3_8H)]);
  if (inputs.no2 !== undefined) indices.push(['no2', subIndex(Math.floor((inputs.no2 * MOLAR_VOLUME_L) / NO2_G_PER_MOL), NO2)]);
  if (indices.length === 0) return undefined;
  const [pollutant, aqi] = indices.reduce((best, next) => (next[1] > best[1] ? next : best));
  return { aqi, pollutant, category: AQI_CATEGORIES.find((c) => aqi <= c.max)!.name };
}
