import { describe, expect, it } from 'vitest';
import type { DeadLetterEntry } from '@city/schema';
import { feedbackMessages } from './device-feedback.ts';

const at = Date.UTC(2026, 0, 15, 8);
const reject = (topic: string, extra: Partial<DeadLetterEntry> = {}): DeadLetterEntry => ({
  reason: 'out_of_range', detail: 'pm25 is above the maximum 2000 µg/m³', topic, clientId: 'aq-1', receivedAt: at,
  payload: '{}', payloadEncoding: 'utf8', payloadBytes: 2, truncated: false, ...extra,
});
const AQ = 'city/v1/airquality/aq-1/telemetry';

describe('feedbackMessages', () => {
  it('sends each reject to the device’s own error topic as {reason, detail, index?, topic, at}', () => {
    expect(feedbackMessages([reject(AQ), reject(AQ, { index: 3, reason: 'unsupported_unit', detail: 'unit "degF"…' })])).toEqual([
      ['city/v1/airquality/aq-1/errors', { reason: 'out_of_range', detail: 'pm25 is above the maximum 2000 µg/m³', topic: AQ, at: '2026-01-15T08:00:00.000Z' }],
      ['city/v1/airquality/aq-1/errors', { reason: 'unsupported_unit', detail: 'unit "degF"…', index: 3, topic: AQ, at: '2026-01-15T08:00:00.000Z' }],
    ]);
  });

  it('sends nothing for a topic that names no device of a known family', () => {
    expect(feedbackMessages([reject('city/v1/sewage/s-1/telemetry', { reason: 'unknown_family' }), reject('home/x', { reason: 'unknown_topic' })])).toEqual([]);
  });

  it('caps the messages per PUBLISH, the last one counting the rest, and cuts long details', () => {
    const many = Array.from({ length: 25 }, (_, index) => reject(AQ, { index, detail: 'x'.repeat(2000) }));
    const messages = feedbackMessages(many, { maxPerPublish: 3, maxDetailChars: 100 });
    expect(messages.map(([, m]) => m.index)).toEqual([0, 1, 2]);
    expect(messages[0]![1].detail).toHaveLength(100);
    expect(messages[2]![1].detail).toMatch(/… \(and 22 more rejected in this message; see the dead letters\)$/);
  });
});
