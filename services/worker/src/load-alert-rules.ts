import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { AlertRulesFileSchema, FAMILY_SPECS, type AlertRule, type MetricSpec } from '@city/schema';

export class AlertRulesError extends Error {
  override readonly name = 'AlertRulesError';
}

/** "rule "pm25-high" field comparison: …", or "rule #3 …" for a rule with no usable id. */
function describeIssue(issue: z.core.$ZodIssue, json: unknown): string {
  const [, index, ...field] = issue.path;
  if (typeof index !== 'number') return `${issue.path.join('.') || 'file'}: ${issue.message}`;
  const id = (json as { rules: Array<{ id?: unknown }> }).rules[index]?.id;
  return `rule ${typeof id === 'string' ? `"${id}"` : `#${index}`}${field.length ? ` field ${field.join('.')}` : ''}: ${issue.message}`;
}

/** Parse a rules file's text; every problem is listed, naming the rule (by id when it has one) and the field. */
export function parseAlertRules(text: string, source: string): AlertRule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AlertRulesError(`${source}: not JSON: ${(err as Error).message}`);
  }
  const parsed = AlertRulesFileSchema.safeParse(json);
  const problems = parsed.success
    ? parsed.data.rules.flatMap((rule) => {
        const spec = (FAMILY_SPECS[rule.family].metrics as Record<string, MetricSpec>)[rule.metric];
        return spec === undefined || spec.kind === 'boolean' ? [`rule "${rule.id}" field metric: ${rule.family} has no numeric metric "${rule.metric}"`] : [];
      })
    : parsed.error.issues.map((issue) => describeIssue(issue, json));
  if (problems.length > 0 || !parsed.success) throw new AlertRulesError(`${source}:\n  ${problems.join('\n  ')}`);
  return parsed.data.rules;
}

export async function loadAlertRules(path: string): Promise<AlertRule[]> {
  return parseAlertRules(await readFile(path, 'utf8'), path);
}
