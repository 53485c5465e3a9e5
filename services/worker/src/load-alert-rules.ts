import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { AlertRulesFileSchema, type AlertRule, type AlertRulesFile } from '@city/schema';

export class AlertRulesError extends Error {
  override readonly name = 'AlertRulesError';
}

/** `rule "pm25-24h" field levels.1.threshold: …`, or `rule #3 …` for a rule with no usable id. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const [section, index, ...field] = issue.path;
  if (typeof index !== 'number' || (section !== 'rules' && section !== 'maintenance')) return `${issue.path.join('.') || 'file'}: ${issue.message}`;
  const id = (input as Record<string, Array<{ id?: unknown }>>)[section]?.[index]?.id;
  const what = section === 'rules' ? 'rule' : 'maintenance window';
  return `${what} ${typeof id === 'string' ? `"${id}"` : `#${index}`}${field.length ? ` field ${field.join('.')}` : ''}: ${issue.message}`;
}

/**
 * Parses a rules file (YAML, or JSON when `source` ends in `.json`). Every problem is listed, naming the rule (by
 * id when it has one) and the field; a rule for a family or metric the device contract does not have is one.
 */
export function parseAlertRulesFile(text: string, source: string): AlertRulesFile {
  let input: unknown;
  try {
    input = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new AlertRulesError(`${source}: not ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = AlertRulesFileSchema.safeParse(input);
  if (!parsed.success) throw new AlertRulesError(`${source}:\n  ${parsed.error.issues.map((issue) => describeIssue(issue, input)).join('\n  ')}`);
  return parsed.data;
}

export async function loadAlertRulesFile(path: string): Promise<AlertRulesFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new AlertRulesError(`${path}: cannot read: ${(err as Error).message}`);
  }
  return parseAlertRulesFile(text, path);
}

/** The rules of a file's text (no maintenance windows). */
export function parseAlertRules(text: string, source: string): AlertRule[] {
  return parseAlertRulesFile(text, source).rules;
}

export async function loadAlertRules(path: string): Promise<AlertRule[]> {
  return (await loadAlertRulesFile(path)).rules;
}
