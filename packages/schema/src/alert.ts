import { z } from 'zod';
import { FamilySchema } from './families.ts';

/** Severities of the FIWARE `Alert` data model. */
export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A threshold rule, as written in the rules file. */
export const AlertRuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'id must be a lowercase slug' }),
    family: FamilySchema,
    metric: z.string().min(1),
    comparison: z.enum(['above', 'below']),
    threshold: z.number(),
    severity: z.enum(SEVERITIES),
    description: z.string().optional(),
  })
  .strict();
export type AlertRule = z.infer<typeof AlertRuleSchema>;

export const AlertRulesFileSchema = z
  .object({ version: z.literal(1), rules: z.array(AlertRuleSchema) })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((rule, i) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${rule.id}"` });
      seen.add(rule.id);
    });
  });

/** What an operator receives on `city/v1/alerts/{severity}/{family}/{deviceId}`. */
export const AlertEventSchema = z.object({
  /** Stable for one rule, device and event time: a redelivered batch raises the same id. */
  id: z.string(),
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  family: FamilySchema,
  device: z.string(),
  district: z.string().optional(),
  metric: z.string(),
  value: z.number(),
  threshold: z.number(),
  comparison: z.enum(['above', 'below']),
  /** Event time of the reading that crossed the threshold, ISO 8601. */
  eventTime: z.string(),
  description: z.string().optional(),
});
export type AlertEvent = z.infer<typeof AlertEventSchema>;
