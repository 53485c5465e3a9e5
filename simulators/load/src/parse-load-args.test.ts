import { describe, expect, it } from 'vitest';
import { parseLoadArgs } from './parse-load-args.ts';

describe('parseLoadArgs', () => {
  it('reads a run with durations, rates and overrides', () => {
    expect(parseLoadArgs(['--scenario', 'almaty-winter-smog', '--rate', '20000', '--duration', '2m', '--ramp', '30s', '--batch', '10', '--no-faults', '--rules', 'none'])).toEqual({
      kind: 'run',
      args: { scenario: 'almaty-winter-smog', rate: 20000, duration: 120_000, ramp: 30_000, batch: 10, noFaults: true, rules: 'none', profile: false, keep: false },
    });
    expect(parseLoadArgs(['run', '--rate', 'max'])).toMatchObject({ kind: 'run', args: { scenario: 'steady-load', rate: 'max', duration: 60_000 } });
    expect(parseLoadArgs(['idle', '--connections', '100, 2000'])).toEqual({ kind: 'idle', args: { connections: [100, 2000] } });
    expect(parseLoadArgs(['-h'])).toEqual({ kind: 'help' });
  });

  it('lists every bad option by its flag', () => {
    expect(parseLoadArgs(['--rate=-5', '--duration', '10', '--qos', '2', '--redis-url', 'http://x'])).toEqual({
      kind: 'error',
      problems: [
        '--rate: must be a number of readings per second > 0, or max (got "-5")',
        '--duration: must be a duration of at least 1s, e.g. 60s or 5m (got "10")',
        '--qos: must be 0 or 1 (got "2")',
        '--redis-url: must be a URL like redis://127.0.0.1:6379 (got "http://x")',
      ],
    });
    expect(parseLoadArgs(['idle', '--rate', '5'])).toEqual({ kind: 'error', problems: ['--rate: not an option of "idle"'] });
    expect(parseLoadArgs(['fly'])).toMatchObject({ kind: 'error', problems: ['unknown command "fly": run or idle'] });
  });
});
