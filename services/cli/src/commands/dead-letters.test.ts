import { describe, expect, it } from 'vitest';
import { parseDuration, parseSince } from './dead-letters.ts';

describe('dead-letters command arguments', () => {
  it.each([['250ms', 250], ['90s', 90_000], ['15m', 900_000], ['1.5h', 5_400_000], ['30d', 2_592_000_000]])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['15', '1w', 'h', '-2h'])('refuses "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });

  it('reads --since as a duration ago or an ISO time', () => {
    const now = Date.UTC(2026, 0, 15, 8);
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('2026-01-15T06:00:00Z', now)).toBe(Date.UTC(2026, 0, 15, 6));
    expect(() => parseSince('yesterday', now)).toThrow(/a duration \(2h\) or an ISO 8601 time/);
  });
});
