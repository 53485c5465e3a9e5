import { describe, expect, it } from 'vitest';
import { ingestPayload } from './ingest-payload.ts';

const receivedAt = Date.UTC(2026, 0, 15, 8, 0, 0);
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const ingest = (topic: string, payload: unknown, limits?: Parameters<typeof ingestPayload>[1]) =>
  ingestPayload({ topic, payload: payload instanceof Uint8Array ? payload : enc(payload), clientId: 'c1', receivedAt }, limits);
const AQ = 'city/v1/airquality/aq-medeu-0001/telemetry';

describe('ingestPayload', () => {
  it('turns one valid reading into a normalised reading with the device event time', () => {
    const outcome = ingest(AQ, { ts: '2026-01-15T07:59:00Z', pm25: 41.5, pm10: 60, district: 'medeu' });
    expect(outcome).toEqual({
      kind: 'ingest',
      rejects: [],
      readings: [
        { family: 'airquality', deviceId: 'aq-medeu-0001', ts: Date.UTC(2026, 0, 15, 7, 59), receivedAt, district: 'medeu', metrics: { pm25: 41.5, pm10: 60 } },
      ],
    });
  });

  it('uses the receive time when the device sends no ts', () => {
    const outcome = ingest('city/v1/traffic/trf-1/telemetry', { intensity: 12, occupancy: 0.2, congested: false });
    expect(outcome.kind === 'ingest' && outcome.readings[0]).toMatchObject({ ts: receivedAt, metrics: { intensity: 12, occupancy: 0.2, congested: false } });
  });

  it('passes operator alert topics through untouched', () => {
    expect(ingest('city/v1/alerts/high/airquality/aq-1', { anything: true })).toEqual({ kind: 'passthrough' });
  });

  it.each([
    ['not JSON', AQ, '{pm25: 4', 'invalid_json', /not UTF-8 JSON/],
    ['not UTF-8', AQ, new Uint8Array([0xff, 0xfe, 0x7b]), 'invalid_json', /not UTF-8 JSON/],
    ['unknown family', 'city/v1/sewage/s-1/telemetry', { level: 1 }, 'unknown_family', /unknown sensor family "sewage"/],
    ['foreign topic', 'home/kitchen/temp', { t: 1 }, 'unknown_topic', /is not city\/v1/],
    ['bad device id', 'city/v1/airquality/$bad/telemetry', { pm25: 1 }, 'invalid_device_id', /device id "\$bad"/],
    ['empty array', AQ, [], 'empty_batch', /no readings/],
    ['wrong type', AQ, { pm25: 'high' }, 'invalid_type', /pm25 must be a number in µg\/m³/],
    ['unknown field', AQ, { pm25: 3, pm2_5: 3 }, 'unknown_field', /unknown field\(s\) "pm2_5"/],
    ['out of range', 'city/v1/traffic/t-1/telemetry', { occupancy: 1.7 }, 'out_of_range', /occupancy is above the maximum 1 fraction 0..1/],
    ['below range', AQ, { temperature: -80 }, 'out_of_range', /temperature is below the minimum -60 °C/],
    ['non-integer count', 'city/v1/traffic/t-1/telemetry', { intensity: 2.5 }, 'invalid_type', /intensity must be a whole number/],
    ['no metrics', AQ, { ts: receivedAt }, 'no_metrics', /needs at least one of: pm25, pm10/],
    ['ts in seconds', AQ, { ts: 1768464000, pm25: 1 }, 'invalid_timestamp', /between 2000-01-01 and 2100-01-01/],
    ['ts without zone', AQ, { ts: '2026-01-15 08:00', pm25: 1 }, 'invalid_timestamp', /ISO 8601 with a time zone/],
    ['a string', AQ, '"hello"', 'invalid_type', /expected object/i],
  ])('rejects %s with a reason code and a detail naming the problem', (_name, topic, payload, reason, detail) => {
    const outcome = ingest(topic, payload);
    expect(outcome.kind).toBe('ingest');
    if (outcome.kind !== 'ingest') return;
    expect(outcome.readings).toEqual([]);
    expect(outcome.rejects).toHaveLength(1);
    expect(outcome.rejects[0]).toMatchObject({ reason, topic, clientId: 'c1', receivedAt });
    expect(outcome.rejects[0]?.detail).toMatch(detail);
  });

  it('keeps the valid readings of a batch and dead-letters each invalid one with its index', () => {
    const ts = receivedAt - 60_000;
    const outcome = ingest(AQ, [{ ts, pm25: 10 }, { ts, pm25: -1 }, { ts: ts + 1, pm25: 12 }, { ts, pm25: 3, colour: 'red' }, { pm25: 4 }]);
    if (outcome.kind !== 'ingest') throw new Error('expected ingest');
    expect(outcome.readings.map((r) => [r.ts, r.metrics.pm25])).toEqual([[ts, 10], [ts + 1, 12]]);
    expect(outcome.rejects.map((r) => [r.index, r.reason, r.payload])).toEqual([
      [1, 'out_of_range', `{"ts":${ts},"pm25":-1}`],
      [3, 'unknown_field', `{"ts":${ts},"pm25":3,"colour":"red"}`],
      [4, 'invalid_timestamp', '{"pm25":4}'],
    ]);
    expect(outcome.rejects[2]?.detail).toBe('ts: every reading of a batch array needs its own ts');
  });

  it('rejects payloads and batches over the limits before parsing them', () => {
    const limits = { maxPayloadBytes: 64, maxReadingsPerMessage: 2 };
    expect(ingest(AQ, { pm25: 1, pm10: 2, no2: 3, o3: 4, co: 5, so2: 6, temperature: 7 }, limits)).toMatchObject({
      rejects: [{ reason: 'payload_too_large', detail: expect.stringMatching(/the limit is 64/) as unknown }],
    });
    expect(ingest(AQ, [{ pm25: 1 }, { pm25: 2 }, { pm25: 3 }], limits)).toMatchObject({ readings: [], rejects: [{ reason: 'batch_too_large' }] });
  });

  it('keeps at most 4 KiB of a rejected payload, and says it cut it', () => {
    const big = `{"pm25": "${'x'.repeat(10_000)}"}`;
    const outcome = ingest(AQ, big);
    if (outcome.kind !== 'ingest') throw new Error('expected ingest');
    expect(outcome.rejects[0]).toMatchObject({ payloadBytes: big.length, truncated: true, payloadEncoding: 'utf8' });
    expect(outcome.rejects[0]?.payload).toHaveLength(4096);
  });

  it('keeps a binary payload exactly, as base64', () => {
    const outcome = ingest(AQ, new Uint8Array([0xff, 0x00, 0x01]));
    if (outcome.kind !== 'ingest') throw new Error('expected ingest');
    expect(outcome.rejects[0]).toMatchObject({ payloadEncoding: 'base64', payload: '/wAB', truncated: false });
  });
});
