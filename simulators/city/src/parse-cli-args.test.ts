import { FAMILIES } from '@city/schema';
import { describe, expect, it } from 'vitest';
import { ALMATY_DISTRICTS } from './build-fleet.ts';
import { parseCliArgs } from './parse-cli-args.ts';

describe('parseCliArgs', () => {
  it('has defaults for everything', () => {
    expect(parseCliArgs([])).toEqual({
      kind: 'run',
      options: {
        url: 'mqtt://127.0.0.1:1883',
        devices: 5,
        families: FAMILIES,
        districts: [...ALMATY_DISTRICTS],
        intervalMs: 1000,
        durationS: 0,
        qos: 1,
        batchSize: 1,
        invalidRate: 0,
        overThresholdRate: 0,
        seed: 1,
        tsFormat: 'epoch-ms',
      },
    });
  });

  it('reads every flag', () => {
    const parsed = parseCliArgs([
      '--url',
      'mqtt://127.0.0.1:18830',
      '--devices',
      '3',
      '--families',
      'traffic, water',
      '--districts',
      'yesil,saryarka',
      '--interval-ms',
      '250',
      '--duration-s',
      '5',
      '--qos',
      '0',
      '--batch-size',
      '10',
      '--invalid-rate',
      '0.1',
      '--over-threshold-rate',
      '0.05',
      '--seed',
      '42',
      '--ts-format',
      'iso',
    ]);
    expect(parsed).toEqual({
      kind: 'run',
      options: {
        url: 'mqtt://127.0.0.1:18830',
        devices: 3,
        families: ['traffic', 'water'],
        districts: ['yesil', 'saryarka'],
        intervalMs: 250,
        durationS: 5,
        qos: 0,
        batchSize: 10,
        invalidRate: 0.1,
        overThresholdRate: 0.05,
        seed: 42,
        tsFormat: 'iso',
      },
    });
  });

  it('asks for help', () => {
    expect(parseCliArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it('lists every problem at once, by flag', () => {
    const parsed = parseCliArgs([
      '--url',
      'http://x',
      '--devices',
      'many',
      '--families',
      'traffic,sewage',
      '--qos',
      '2',
      '--invalid-rate',
      '1.5',
    ]);
    expect(parsed.kind).toBe('error');
    const problems = parsed.kind === 'error' ? parsed.problems.join('\n') : '';
    for (const flag of ['--url', '--devices', '--families', '--qos', '--invalid-rate'])
      expect(problems).toContain(flag);
  });

  it('rejects unknown flags and bad districts', () => {
    expect(parseCliArgs(['--device', '3']).kind).toBe('error');
    expect(parseCliArgs(['--districts', 'Almaly']).kind).toBe('error');
  });
});
