import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AlertRulesError, loadAlertRulesFile, parseAlertRulesFile } from './load-alert-rules.ts';

const problems = (text: string, source = 'rules.json') => {
  try {
    parseAlertRulesFile(text, source);
  } catch (err) {
    if (err instanceof AlertRulesError) return err.message.split('\n').slice(1).map((l) => l.trim());
    throw err;
  }
  return [];
};
const file = (...rules: object[]) => JSON.stringify({ version: 2, rules });
const pm25 = { id: 'pm25', kind: 'threshold', family: 'airquality', metric: 'pm25', comparison: 'above', levels: [{ severity: 'medium', threshold: 35 }] };

describe('the default rule pack (config/alert-rules.json)', () => {
  it('is valid, and every rule names its source', async () => {
    const pack = await loadAlertRulesFile(new URL('../../../config/alert-rules.json', import.meta.url).pathname);
    expect(pack.rules.length).toBeGreaterThan(20);
    expect(pack.rules.filter((r) => !r.source || r.source.length < 20).map((r) => r.id)).toEqual([]);
    expect(new Set(pack.rules.map((r) => r.family))).toEqual(new Set(['airquality', 'traffic', 'water', 'electricity', 'heating', 'gas', 'noise']));
  });

  it('is also accepted as YAML', async () => {
    const { stringify } = await import('yaml');
    const json = JSON.parse(await readFile(new URL('../../../config/alert-rules.json', import.meta.url), 'utf8')) as unknown;
    expect(parseAlertRulesFile(stringify(json), 'rules.yaml').rules.length).toBeGreaterThan(20);
  });
});

describe('parseAlertRulesFile: every problem names the rule and the field', () => {
  it.each<[string, string, string[]]>([
    ['unknown family', file({ ...pm25, family: 'sewage' }), [expect.stringMatching(/^rule "pm25" field family: unknown family "sewage"; known: traffic, airquality/)]],
    ['a metric the family does not have', file({ ...pm25, metric: 'pm2_5' }), ['rule "pm25" field metric: airquality has no numeric metric "pm2_5"']],
    ['a boolean metric', file({ ...pm25, family: 'traffic', metric: 'congested' }), ['rule "pm25" field metric: traffic has no numeric metric "congested"']],
    [
      'a schedule input the family does not have',
      file({ id: 'heat', kind: 'threshold', family: 'heating', metric: 'supplyTemperature', comparison: 'below', levels: [{ severity: 'medium', threshold: -5 }], signal: { kind: 'schedule', input: 'indoorTemperature', points: [[-25, 95], [8, 45]] } }),
      ['rule "heat" field signal.input: heating has no numeric metric "indoorTemperature"'],
    ],
    [
      'levels out of order, a clear value on the wrong side',
      file({ ...pm25, levels: [{ severity: 'high', threshold: 75, clear: 80 }, { severity: 'medium', threshold: 35 }] }),
      [
        'rule "pm25" field levels.0.clear: must be at or below the threshold (it ends the level)',
        'rule "pm25" field levels.1.severity: levels must go from the lowest severity up, each higher than the one before',
        'rule "pm25" field levels.1.threshold: a higher severity needs a higher threshold',
      ],
    ],
    ['band fields on an above rule', file({ ...pm25, levels: [{ severity: 'medium', low: 1, high: 2 }] }), [
      'rule "pm25" field levels.0.low: not used with comparison "above"',
      'rule "pm25" field levels.0.high: not used with comparison "above"',
      'rule "pm25" field levels.0.threshold: required with comparison "above"',
    ]],
    ['an unknown kind', file({ ...pm25, kind: 'magic' }), [expect.stringMatching(/^rule "pm25" field kind: /)]],
    ['a rule without an id', file({ ...pm25, id: undefined }), [expect.stringMatching(/^rule #0 field id: /)]],
    ['a duplicate id', file(pm25, pm25), ['rule "pm25" field id: duplicate rule id "pm25"']],
    ['an unbounded window', file({ ...pm25, signal: { kind: 'window', fn: 'mean', windowMs: 86_400_000, bucketMs: 1000 } }), ['rule "pm25" field signal.bucketMs: windowMs / bucketMs must be at most 1440 (bounded state)']],
    ['the old format', JSON.stringify({ version: 1, rules: [] }), ['version: version must be 2 (the rules file format)']],
  ])('%s', (_name, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it('reports a file that is not JSON / YAML', () => {
    expect(() => parseAlertRulesFile('{"version": 2,', 'r.json')).toThrow(/^r\.json: not JSON/);
    expect(() => parseAlertRulesFile('version: 2\nrules: [\n', 'r.yaml')).toThrow(/^r\.yaml: not YAML/);
  });
});
