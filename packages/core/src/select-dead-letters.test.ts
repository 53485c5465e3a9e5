import { describe, expect, it } from 'vitest';
import type { DeadLetterEntry, ReasonCode } from '@city/schema';
import { deadLetterDevice, matchesDeadLetter, summarizeDeadLetters } from './select-dead-letters.ts';

const entry = (reason: ReasonCode, topic: string, receivedAt: number, clientId = 'c-1'): DeadLetterEntry => ({
  reason, detail: 'd', topic, clientId, receivedAt, payload: '{}', payloadEncoding: 'utf8', payloadBytes: 2, truncated: false,
});
const aq1 = 'city/v1/airquality/aq-1/telemetry';
const w2 = 'city/v1/water/w-2/telemetry';

describe('dead-letter selection', () => {
  it('names the device by the topic, or by the client when the topic names none', () => {
    expect(deadLetterDevice(entry('out_of_range', aq1, 1))).toBe('aq-1');
    expect(deadLetterDevice(entry('unknown_topic', 'home/kitchen', 1, 'gw-7'))).toBe('gw-7');
  });

  it.each([
    [{}, true],
    [{ reasons: ['out_of_range' as const] }, true],
    [{ reasons: ['invalid_json' as const, 'unsupported_unit' as const] }, false],
    [{ device: 'aq-1' }, true],
    [{ device: 'w-2' }, false],
    [{ sinceMs: 100 }, true],
    [{ sinceMs: 101 }, false],
    [{ reasons: ['out_of_range' as const], device: 'aq-1', sinceMs: 50 }, true],
  ])('filter %j selects the entry: %s', (filter, selected) => {
    expect(matchesDeadLetter(entry('out_of_range', aq1, 100), filter)).toBe(selected);
  });

  it('counts by reason and by device, most frequent first', () => {
    const entries = [entry('out_of_range', aq1, 1), entry('invalid_json', aq1, 2), entry('out_of_range', w2, 3), entry('out_of_range', aq1, 4)];
    expect(summarizeDeadLetters(entries)).toEqual({
      total: 4,
      byReason: [{ reason: 'out_of_range', count: 3 }, { reason: 'invalid_json', count: 1 }],
      byDevice: [
        { device: 'aq-1', count: 3, reasons: { out_of_range: 2, invalid_json: 1 } },
        { device: 'w-2', count: 1, reasons: { out_of_range: 1 } },
      ],
    });
  });
});
