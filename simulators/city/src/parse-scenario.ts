import { parse as parseYaml } from 'yaml';
import { ScenarioSchema, type Scenario } from './scenario-schema.ts';

export type ParsedScenario = { ok: true; scenario: Scenario } | { ok: false; problems: string[] };

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

const shown = (value: unknown) => {
  const text = JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/**
 * A scenario file's text, checked: YAML when the name ends in `.yaml`/`.yml`, else JSON. Every problem is listed at
 * once as `file: path: rule (got value)`, e.g. `smog.yaml: episodes.0.pm25Peak: Too small: expected number to be
 * >=50 (got 20)`. Pure: the caller reads the file.
 */
export function parseScenario(text: string, fileName: string): ParsedScenario {
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(fileName) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`${fileName}: not valid ${/\.ya?ml$/i.test(fileName) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`] };
  }
  const parsed = ScenarioSchema.safeParse(raw);
  if (parsed.success) return { ok: true, scenario: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
      const got = issue.code === 'unrecognized_keys' ? '' : ` (got ${shown(valueAt(raw, issue.path))})`;
      return `${fileName}: ${path}: ${issue.message}${got}`;
    }),
  };
}
