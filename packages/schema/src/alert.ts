import { z } from 'zod';
import { FAMILIES, FAMILY_SPECS, type Family, type MetricSpec } from './families.ts';
import { DistrictSchema } from './device-payload.ts';
import { ALERT_TOPIC_ROOT, DEVICE_ID_PATTERN } from './topic.ts';

/** Severities of the FIWARE `Alert` data model, lowest first. */
export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SeveritySchema = z.enum(SEVERITIES);

/**
 * Metrics the engine computes from a reading rather than reads from it. `aqi`: the US EPA Air Quality Index
 * (0–500) of the reading's pm25, pm10, o3 and no2, the highest sub-index (EPA-454/B-24-002, May 2024 breakpoints).
 */
export const DERIVED_METRICS: Partial<Record<Family, Record<string, { unit: string; inputs: readonly string[]; description: string }>>> = {
  airquality: {
    aqi: { unit: 'index 0..500', inputs: ['pm25', 'pm10', 'o3', 'no2'], description: 'US EPA Air Quality Index, highest sub-index' },
  },
};

/** A numeric metric the family has (as sent, or derived); undefined otherwise. */
export function alertableMetric(family: Family, metric: string): { unit: string } | undefined {
  const spec = (FAMILY_SPECS[family].metrics as Record<string, MetricSpec>)[metric];
  if (spec !== undefined) return spec.kind === 'boolean' ? undefined : spec;
  return DERIVED_METRICS[family]?.[metric];
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, { error: 'must be a lowercase slug (a-z 0-9 . _ -, at most 64)' });
const positiveMs = z.number().int().positive();
const family = z.enum(FAMILIES, { error: (issue) => `unknown family ${JSON.stringify(issue.input)}; known: ${FAMILIES.join(', ')}` });

/** Which readings a rule looks at, beyond its family. Every list given must contain the reading's value. */
export const AlertMatchSchema = z
  .object({
    districts: z.array(DistrictSchema).min(1).optional(),
    devices: z.array(z.string().regex(DEVICE_ID_PATTERN)).min(1).optional(),
    /** Device tags from the registry; every pair must be present. */
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type AlertMatch = z.infer<typeof AlertMatchSchema>;

/**
 * The value a rule compares, derived from the readings:
 * - `value`: the metric as read;
 * - `window`: mean/min/max over the last `windowMs` of event time, kept as `bucketMs` buckets (bounded state);
 *   not evaluated until `minCoverage` of the buckets have data (the EU's 75 % rule for daily means);
 * - `change`: the metric now minus its first value in the last `windowMs` (a drop is negative);
 * - `delta`: the metric minus the previous reading's (a cumulative counter that went down was reset);
 * - `schedule`: the metric minus a piecewise-linear schedule of another metric of the same reading
 *   (heating supply temperature minus the temperature the schedule wants for the outdoor temperature).
 */
export const AlertSignalSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('value') }).strict(),
  z
    .object({
      kind: z.literal('window'),
      fn: z.enum(['mean', 'min', 'max']),
      windowMs: positiveMs,
      bucketMs: positiveMs,
      minCoverage: z.number().min(0).max(1).default(0),
    })
    .strict(),
  z.object({ kind: z.literal('change'), windowMs: positiveMs, bucketMs: positiveMs }).strict(),
  z.object({ kind: z.literal('delta') }).strict(),
  z
    .object({
      kind: z.literal('schedule'),
      input: z.string().min(1),
      /** [input, wanted] pairs, input ascending; outside the range the nearest end applies. */
      points: z.array(z.tuple([z.number(), z.number()])).min(2),
    })
    .strict(),
]);
export type AlertSignal = z.infer<typeof AlertSignalSchema>;

/**
 * One severity level. `above`/`below`: `threshold` raises it, `clear` (default: the threshold) ends it, so a value
 * between the two keeps the current level (hysteresis). `outside`: the band `low`..`high`, cleared back inside
 * `clearLow`..`clearHigh`.
 */
export const AlertLevelSchema = z
  .object({
    severity: SeveritySchema,
    threshold: z.number().optional(),
    clear: z.number().optional(),
    low: z.number().optional(),
    high: z.number().optional(),
    clearLow: z.number().optional(),
    clearHigh: z.number().optional(),
  })
  .strict();
export type AlertLevel = z.infer<typeof AlertLevelSchema>;

const ruleBase = {
  id: slug,
  title: z.string().optional(),
  description: z.string().optional(),
  /** The standard or document the rule follows. */
  source: z.string().optional(),
  /** FIWARE Alert `category` / `subCategory`; defaults per family. */
  category: z.string().optional(),
  subCategory: z.string().optional(),
  family,
  match: AlertMatchSchema.optional(),
};

export const ThresholdRuleSchema = z
  .object({
    ...ruleBase,
    kind: z.literal('threshold'),
    metric: z.string().min(1),
    signal: AlertSignalSchema.default({ kind: 'value' }),
    comparison: z.enum(['above', 'below', 'outside']),
    /** Lowest severity first; each further level must be harder to reach. */
    levels: z.array(AlertLevelSchema).min(1).max(SEVERITIES.length),
    /** The condition must hold this long (event time) before a level is raised or escalated to. */
    forMs: z.number().int().min(0).optional(),
    /** Or: at least `n` of the last `m` readings meet the level. */
    nOfM: z.object({ n: z.number().int().min(1), m: z.number().int().min(1).max(64) }).strict().optional(),
    /** More than `maxChanges` level changes within `windowMs` (event time) holds the alert and marks it flapping. */
    flapping: z.object({ windowMs: positiveMs, maxChanges: z.number().int().min(2).max(50) }).strict().optional(),
    /** Only readings whose local hour (at `utcOffsetMinutes`) is in [fromHour, toHour) are evaluated. */
    hours: z
      .object({ fromHour: z.number().int().min(0).max(23), toHour: z.number().int().min(1).max(24), utcOffsetMinutes: z.number().int().min(-720).max(840) })
      .strict()
      .optional(),
    /** How far behind the newest reading a late one may be and still be put in its event-time place. */
    allowedLatenessMs: z.number().int().min(0).max(86_400_000).optional(),
  })
  .strict();
export type ThresholdRule = z.infer<typeof ThresholdRuleSchema>;

/** "No data": a device silent (by receive time) for longer than `factor` × its expected reporting interval. */
export const DeadmanRuleSchema = z
  .object({
    ...ruleBase,
    kind: z.literal('deadman'),
    /** Used when the device registry gives no interval for the device. */
    expectedIntervalMs: positiveMs,
    factor: z.number().min(1).default(3),
    severity: SeveritySchema,
  })
  .strict();
export type DeadmanRule = z.infer<typeof DeadmanRuleSchema>;

export const AlertRuleSchema = z.discriminatedUnion('kind', [ThresholdRuleSchema, DeadmanRuleSchema]);
export type AlertRule = z.infer<typeof AlertRuleSchema>;
/** What a rule is written as (defaults not applied yet). */
export type AlertRuleInput = z.input<typeof AlertRuleSchema>;

/** A planned silence in the rules file; ad-hoc ones are made with `pnpm city alerts silence`. */
export const SilenceSchema = z
  .object({
    id: slug,
    rules: z.array(slug).min(1).optional(),
    devices: z.array(z.string().regex(DEVICE_ID_PATTERN)).min(1).optional(),
    districts: z.array(DistrictSchema).min(1).optional(),
    /** ISO 8601 or epoch ms; absent: from now. */
    from: z.union([z.iso.datetime({ offset: true }), z.number().int()]).optional(),
    until: z.union([z.iso.datetime({ offset: true }), z.number().int()]),
    reason: z.string().optional(),
    by: z.string().optional(),
  })
  .strict()
  .refine((s) => s.rules !== undefined || s.devices !== undefined || s.districts !== undefined, {
    error: 'a silence names at least one of rules, devices, districts',
  });
export type Silence = z.infer<typeof SilenceSchema>;

const MAX_WINDOW_BUCKETS = 1440;

/** Checks what one field's schema cannot: level order, hysteresis sides, metrics that exist. */
function checkRule(rule: AlertRule, at: (string | number)[], ctx: z.core.$RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: [...at, ...path], message });
  if (rule.kind === 'deadman') return;
  if (alertableMetric(rule.family, rule.metric) === undefined) {
    issue(['metric'], `${rule.family} has no numeric metric "${rule.metric}"`);
  }
  const { signal } = rule;
  if (signal.kind === 'window' || signal.kind === 'change') {
    if (signal.bucketMs > signal.windowMs) issue(['signal', 'bucketMs'], 'must not exceed windowMs');
    else if (signal.windowMs / signal.bucketMs > MAX_WINDOW_BUCKETS) issue(['signal', 'bucketMs'], `windowMs / bucketMs must be at most ${MAX_WINDOW_BUCKETS} (bounded state)`);
  }
  if (signal.kind === 'schedule') {
    if (alertableMetric(rule.family, signal.input) === undefined) issue(['signal', 'input'], `${rule.family} has no numeric metric "${signal.input}"`);
    signal.points.forEach(([x], i) => {
      if (i > 0 && x <= signal.points[i - 1]![0]) issue(['signal', 'points', i], 'inputs must be strictly ascending');
    });
  }
  if (rule.nOfM && rule.nOfM.n > rule.nOfM.m) issue(['nOfM', 'n'], 'must not exceed m');
  if (rule.hours && rule.hours.fromHour === rule.hours.toHour) issue(['hours'], 'fromHour and toHour must differ');

  let previous: AlertLevel | undefined;
  rule.levels.forEach((level, i) => {
    const need = (field: keyof AlertLevel) => {
      if (level[field] === undefined) issue(['levels', i, field], `required with comparison "${rule.comparison}"`);
      return level[field] !== undefined;
    };
    const forbid = (...fields: (keyof AlertLevel)[]) => {
      for (const field of fields) if (level[field] !== undefined) issue(['levels', i, field], `not used with comparison "${rule.comparison}"`);
    };
    if (previous && SEVERITIES.indexOf(level.severity) <= SEVERITIES.indexOf(previous.severity)) {
      issue(['levels', i, 'severity'], 'levels must go from the lowest severity up, each higher than the one before');
    }
    if (rule.comparison === 'outside') {
      forbid('threshold', 'clear');
      if (!need('low') || !need('high')) return;
      const { low, high, clearLow = low, clearHigh = high } = level as Required<AlertLevel>;
      if (low >= high) issue(['levels', i, 'low'], 'must be below high');
      if (clearLow < low) issue(['levels', i, 'clearLow'], 'must not be below low (the band clears inside it)');
      if (clearHigh > high) issue(['levels', i, 'clearHigh'], 'must not be above high');
      if (clearLow > clearHigh) issue(['levels', i, 'clearLow'], 'must not be above clearHigh');
      if (previous?.low !== undefined && previous.high !== undefined && (low > previous.low || high < previous.high)) {
        issue(['levels', i], 'a higher severity needs a band at least as wide as the one before');
      }
    } else {
      forbid('low', 'high', 'clearLow', 'clearHigh');
      if (!need('threshold')) return;
      const up = rule.comparison === 'above';
      const threshold = level.threshold!;
      if (level.clear !== undefined && (up ? level.clear > threshold : level.clear < threshold)) {
        issue(['levels', i, 'clear'], `must be ${up ? 'at or below' : 'at or above'} the threshold (it ends the level)`);
      }
      if (previous?.threshold !== undefined && (up ? threshold <= previous.threshold : threshold >= previous.threshold)) {
        issue(['levels', i, 'threshold'], `a higher severity needs a ${up ? 'higher' : 'lower'} threshold`);
      }
    }
    previous = level;
  });
}

/** The rules file. `version` is the file format; bump it on a breaking change. */
export const AlertRulesFileSchema = z
  .object({
    version: z.literal(2, { error: 'version must be 2 (the rules file format)' }),
    rules: z.array(AlertRuleSchema),
    maintenance: z.array(SilenceSchema).default([]),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
      seen.add(rule.id);
      checkRule(rule, ['rules', i], ctx);
    });
  });
export type AlertRulesFile = z.infer<typeof AlertRulesFileSchema>;

export const ALERT_TRANSITIONS = ['raised', 'escalated', 'deescalated', 'acknowledged', 'resolved', 'flapping', 'stable'] as const;
export type AlertTransition = (typeof ALERT_TRANSITIONS)[number];
export const ALERT_STATES = ['active', 'acknowledged', 'resolved'] as const;
export type AlertStateName = (typeof ALERT_STATES)[number];

/**
 * One transition of one alert: what operators receive on `city/v1/alerts/{severity}/{family}/{deviceId}`, what is
 * retained on `city/v1/alerts/active/{ruleId}/{deviceId}` while the alert is open, what webhooks get, and what the
 * `alerts` measurement keeps. The FIWARE `Alert` fields first, then ours.
 */
export const AlertEventSchema = z.object({
  /** `{rule}:{device}:{seq}`: unique per transition; a redelivery carries the same id. */
  id: z.string(),
  type: z.literal('Alert'),
  category: z.string(),
  subCategory: z.string().optional(),
  severity: SeveritySchema,
  /** When the alert was raised (the event time of the reading that raised it), ISO 8601. */
  dateIssued: z.string(),
  /** When this transition happened: the reading's event time, or the operator's action time, ISO 8601. */
  dateObserved: z.string(),
  /** The device the alert is about. */
  alertSource: z.string(),
  description: z.string().optional(),

  /** `{rule}:{device}:{raised event time ms}`: the same for every transition of one alert. */
  alertId: z.string(),
  /** Transition number of this (rule, device), increasing: consumers keep the highest. */
  seq: z.number().int(),
  transition: z.enum(ALERT_TRANSITIONS),
  state: z.enum(ALERT_STATES),
  previousSeverity: SeveritySchema.optional(),
  rule: z.string(),
  ruleKind: z.enum(['threshold', 'deadman']),
  family: z.enum(FAMILIES),
  device: z.string(),
  district: z.string().optional(),
  /** GeoJSON, from the device registry when it knows the device. */
  location: z.object({ type: z.literal('Point'), coordinates: z.tuple([z.number(), z.number()]) }).optional(),
  metric: z.string().optional(),
  /** The compared value (after the rule's signal: a window mean, a change, …) at this transition. */
  value: z.number().optional(),
  /** The threshold of the current severity (the nearer edge for a band). */
  threshold: z.number().optional(),
  comparison: z.enum(['above', 'below', 'outside', 'silent']),
  flapping: z.boolean(),
  /** Raised or changed during a silence: recorded, not notified. */
  silenced: z.boolean(),
  acknowledgedBy: z.string().optional(),
  acknowledgedAt: z.string().optional(),
  resolvedBy: z.string().optional(),
  note: z.string().optional(),
});
export type AlertEvent = z.infer<typeof AlertEventSchema>;

/** One delivery of one event to one configured webhook (the hook's URL and secret stay in the worker's config). */
export const AlertWebhookJobSchema = z.object({ hook: z.string(), event: AlertEventSchema });
export type AlertWebhookJob = z.infer<typeof AlertWebhookJobSchema>;

/**
 * Retained while the alert is open, so a console that connects later sees what is open now; cleared with an
 * empty retained message [MQTT-3.3.1-10] when it is resolved. `active` is not a severity, so the stream topics
 * `city/v1/alerts/{severity}/{family}/{deviceId}` and these never collide.
 */
export function activeAlertTopic(ruleId: string, deviceId: string): string {
  return `${ALERT_TOPIC_ROOT}/active/${ruleId}/${deviceId}`;
}
