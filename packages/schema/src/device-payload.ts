import { z } from 'zod';
import { FAMILY_SPECS, type ConsistencyRule, type Family, type FamilySpec, type MetricSpec } from './families.ts';

/** Event times before this are a device with an unset clock (epoch seconds, or 1970). */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);
/** Event times after this are not milliseconds (a microsecond or nanosecond epoch). */
export const MAX_EVENT_TIME_MS = Date.UTC(2100, 0, 1);

/**
 * Default event-time windows, relative to the receive time (broker env `EVENT_TIME_MAX_FUTURE_MS`,
 * `EVENT_TIME_MAX_AGE_MS`, `EVENT_TIME_LATE_AFTER_MS`): later than `maxFutureMs` ahead or older than `maxAgeMs` is
 * rejected; older than `lateAfterMs` is stored with `late=true`.
 */
export const EVENT_TIME_DEFAULTS = { maxFutureMs: 300_000, maxAgeMs: 7 * 86_400_000, lateAfterMs: 300_000 } as const;

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** `ts`: event time as epoch milliseconds or an ISO 8601 string with a zone; normalised to epoch ms. */
/** Why a `ts` is not an event time, or undefined when it is one. */
function eventTimeProblem(value: number | string, ms: number): string | undefined {
  if (typeof value === 'string' && !ISO_8601.test(value)) return 'ts must be ISO 8601 with a time zone, e.g. 2026-01-15T08:00:00Z';
  if (!Number.isInteger(ms)) return 'ts must be whole epoch milliseconds';
  if (ms < MIN_EVENT_TIME_MS || ms >= MAX_EVENT_TIME_MS) {
    return 'ts must be between 2000-01-01 and 2100-01-01 in epoch milliseconds (seconds are not accepted)';
  }
  return undefined;
}

export const EventTimeSchema = z.union([z.number(), z.string()]).transform((value, ctx) => {
  // No closure in here: this runs for every reading, and tsx wraps each named closure (keepNames).
  const ms = typeof value === 'string' ? Date.parse(value) : value;
  const problem = eventTimeProblem(value, ms);
  if (problem === undefined) return ms;
  ctx.addIssue({ code: 'custom', message: problem, input: value });
  return z.NEVER;
});

/** A district slug, as a tag on every point ("medeu", "almaly"). The device registry (issue 3) will own it. */
export const DistrictSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, { error: 'district must be a lowercase slug' });

// A fraction sent as a percentage is the commonest unit mistake: say so in the detail.
const hintFor = (spec: MetricSpec) => (spec.unitSymbol === '/' && spec.max === 1 ? ' (a fraction: send 0.71 for 71 %)' : '');

function metricSchema(name: string, spec: MetricSpec): z.ZodType<number | boolean> {
  if (spec.kind === 'boolean') return z.boolean({ error: `${name} must be true or false` });
  let schema = z.number({ error: `${name} must be a number in ${spec.unit}` });
  if (spec.kind === 'integer') schema = schema.int({ error: `${name} must be a whole number` });
  if (spec.min !== undefined) schema = schema.min(spec.min, { error: `${name} is below the minimum ${spec.min} ${spec.unit}` });
  if (spec.max !== undefined) schema = schema.max(spec.max, { error: `${name} is above the maximum ${spec.max} ${spec.unit}${hintFor(spec)}` });
  return schema;
}

/** The consistency rules of a family a reading breaks, as details; empty when it breaks none. */
export function inconsistencies(family: Family, metrics: Readonly<Record<string, unknown>>): string[] {
  const rules: readonly ConsistencyRule[] = (FAMILY_SPECS[family] as FamilySpec).consistency ?? [];
  const problems: string[] = [];
  for (const rule of rules) {
    if (![...rule.left, rule.right].every((n) => typeof metrics[n] === 'number')) continue;
    const left = rule.left.reduce((sum, n) => sum + (metrics[n] as number), 0);
    const right = metrics[rule.right] as number;
    if (left > right + (rule.tolerance ?? 0)) {
      const shown = rule.left.map((n) => `${n} ${String(metrics[n])}`).join(' + ');
      problems.push(`${shown} is above ${rule.right} ${right}${rule.tolerance ? ` (+${rule.tolerance})` : ''}: ${rule.why}`);
    }
  }
  return problems;
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
    })
    .superRefine((r: Record<string, unknown>, ctx) => {
      for (const message of inconsistencies(family, r)) ctx.addIssue({ code: 'custom', message, params: { reason: 'inconsistent_metrics' } });
    });
}

/** What one reading in a device's JSON payload looks like, per family: `{ "ts"?, "district"?, ...metrics }`. */
export const DEVICE_READING_SCHEMAS = Object.fromEntries(
  Object.keys(FAMILY_SPECS).map((family) => [family, readingSchemaFor(family as Family)]),
) as Record<Family, ReturnType<typeof readingSchemaFor>>;

export type DeviceReading = { ts?: number; district?: string } & Record<string, number | boolean | string | undefined>;
