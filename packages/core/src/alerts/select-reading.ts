import type { AlertRule, Reading, ThresholdRule } from '@city/schema';
import { computeAqi } from './epa-aqi.ts';

/** What the device registry knows of a device, when it knows it. */
export interface DeviceInfo {
  district?: string;
  tags?: Readonly<Record<string, string>>;
  /** How often the device reports; overrides a deadman rule's `expectedIntervalMs`. */
  expectedIntervalMs?: number;
  location?: { lat: number; lon: number };
}

/** The part of a reading a threshold rule needs: its metric (or derived metric) and the schedule input. */
export interface Sample {
  /** Event time, epoch ms. */
  ts: number;
  v: number;
  /** The `schedule` signal's input metric. */
  x?: number;
}

/** Does the rule look at this device's readings at all (family, districts, devices, tags)? */
export function ruleSelects(rule: AlertRule, reading: Pick<Reading, 'family' | 'deviceId' | 'district'>, device?: DeviceInfo): boolean {
  if (rule.family !== reading.family) return false;
  const { match } = rule;
  if (!match) return true;
  if (match.devices && !match.devices.includes(reading.deviceId)) return false;
  const district = device?.district ?? reading.district;
  if (match.districts && (district === undefined || !match.districts.includes(district))) return false;
  if (match.tags) {
    for (const [key, value] of Object.entries(match.tags)) if (device?.tags?.[key] !== value) return false;
  }
  return true;
}

function metricValue(reading: Reading, metric: string): number | undefined {
  if (metric === 'aqi' && reading.family === 'airquality') {
    const num = (name: string) => (typeof reading.metrics[name] === 'number' ? (reading.metrics[name]) : undefined);
    return computeAqi({ pm25: num('pm25'), pm10: num('pm10'), o3: num('o3'), no2: num('no2') })?.aqi;
  }
  const value = reading.metrics[metric];
  return typeof value === 'number' ? value : undefined;
}

/** The rule's sample of this reading, or undefined when the reading lacks the metric or is outside the rule's hours. */
export function sampleOf(rule: ThresholdRule, reading: Reading): Sample | undefined {
  if (rule.hours) {
    const { fromHour, toHour, utcOffsetMinutes } = rule.hours;
    const hour = new Date(reading.ts + utcOffsetMinutes * 60_000).getUTCHours();
    const inside = fromHour < toHour ? hour >= fromHour && hour < toHour : hour >= fromHour || hour < toHour;
    if (!inside) return undefined;
  }
  const v = metricValue(reading, rule.metric);
  if (v === undefined) return undefined;
  if (rule.signal.kind !== 'schedule') return { ts: reading.ts, v };
  const x = metricValue(reading, rule.signal.input);
  return x === undefined ? undefined : { ts: reading.ts, v, x };
}
