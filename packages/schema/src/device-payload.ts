import { z } from 'zod';
import { FAMILY_SPECS, type Family, type MetricSpec } from './families.ts';

/** Event times before this are a device with an unset clock (epoch seconds, or 1970). */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);
/** Event times after this are not milliseconds (a microsecond or nanosecond epoch). */
export const MAX_EVENT_TIME_MS = Date.UTC(2100, 0, 1);

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** `ts`: event time as epoch milliseconds or an ISO 8601 string with a zone; normalised to epoch ms. */
export const EventTimeSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message, input: value });
    return z.NEVER;
  };
  if (typeof value === 'string' && !ISO_8601.test(value)) {
    return fail('ts must be ISO 8601 with a time zone, e.g. 2026-01-15T08:00:00Z');
  }
  const ms = typeof value === 'string' ? Date.parse(value) : value;
  if (!Number.isInteger(ms)) return fail('ts must be whole epoch milliseconds');
  if (ms < MIN_EVENT_TIME_MS || ms >= MAX_EVENT_TIME_MS) {
    return fail('ts must be between 2000-01-01 and 2100-01-01 in epoch milliseconds (seconds are not accepted)');
  }
  return ms;
});

/** A district slug, as a tag on every point ("medeu", "almaly"). The device registry (issue 3) will own it. */
export const DistrictSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, { error: 'district must be a lowercase slug' });

function metricSchema(name: string, spec: MetricSpec): z.ZodType<number | boolean> {
  if (spec.kind === 'boolean') return z.boolean({ error: `${name} must be true or false` });
  let schema = z.number({ error: `${name} must be a number in ${spec.unit}` });
  if (spec.kind === 'integer') schema = schema.int({ error: `${name} must be a whole number` });
  if (spec.min !== undefined) schema = schema.min(spec.min, { error: `${name} is below the minimum ${spec.min} ${spec.unit}` });
  if (spec.max !== undefined) schema = schema.max(spec.max, { error: `${name} is above the maximum ${spec.max} ${spec.unit}` });
  return schema;
}

function readingSchemaFor(family: Family) {
  const metrics = FAMILY_SPECS[family].metrics as Record<string, MetricSpec>;
  const shape: Record<string, z.ZodType> = {};
  for (const [name, spec] of Object.entries(metrics)) shape[name] = metricSchema(name, spec).optional();
  const metricNames = Object.keys(metrics);
  return z
    .object({ ts: EventTimeSchema.optional(), district: DistrictSchema.optional(), ...shape })
    .strict()
    .refine((r: Record<string, unknown>) => metricNames.some((m) => r[m] !== undefined), {
      error: `a ${family} reading needs at least one of: ${metricNames.join(', ')}`,
      params: { reason: 'no_metrics' },
    });
}

/** What one reading in a device's JSON payload looks like, per family: `{ "ts"?, "district"?, ...metrics }`. */
export const DEVICE_READING_SCHEMAS = Object.fromEntries(
  Object.keys(FAMILY_SPECS).map((family) => [family, readingSchemaFor(family as Family)]),
) as Record<Family, ReturnType<typeof readingSchemaFor>>;

export type DeviceReading = { ts?: number; district?: string } & Record<string, number | boolean | string | undefined>;
