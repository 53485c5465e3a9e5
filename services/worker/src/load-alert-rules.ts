import { readFile } from 'node:fs/promises';
import { AlertRulesFileSchema, FAMILY_SPECS, type AlertRule, type Family } from '@city/schema';

export class AlertRulesError extends Error {
  override readonly name = 'AlertRulesError';
}

/** Parse a rules file's text; errors name the rule (by id when it has one) and the field. */
export function parseAlertRules(text: string, source: string): AlertRule[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AlertRulesError(`${source}: not JSON: ${(err as Error).message}`);
  }
  const parsed = AlertRulesFileSchema.safeParse(json);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [, index, ...field] = issue.path;
      const id = typeof index === 'number' ? (json as { rules: Array<{ id?: unknown }> }).rules[index]?.id : undefined;
      const where = typeof index === 'number' ? `rule ${typeof id === 'string' ? `"${id}"` : `#${index}`}${field.length ? ` field ${field.join('.')}` : ''}` : issue.path.join('.') || 'file';
      problems.push(`${where}: ${issue.message}`);
    }
  } else {
    for (const rule of parsed.data.rules) {
      const metrics = FAMILY_SPECS[rule.family as Family].metrics as Record<string, { kind: string }>;
      if (metrics[rule.metric]?.kind === undefined || metrics[rule.metric]?.kind === 'boolean') {
        problems.push(`rule "${rule.id}" field metric: ${rule.family} has no numeric metric "${rule.metric}"`);
      }
    }
  }
  if (problems.length > 0) throw new AlertRulesError(`${source}:\n  ${problems.join('\n  ')}`);
  return parsed.data!.rules;
}

export async function loadAlertRules(path: string): Promise<AlertRule[]> {
  return parseAlertRules(await readFile(path, 'utf8'), path);
}
