import { describe, expect, it } from 'vitest';
import { FAMILIES, FAMILY_SPECS, metricsOf, type Family, type FamilySpec } from '@city/schema';
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
      usesReceiveTime: false,
    });
  });

  it('uses the receive time when the device sends no ts', () => {
    const outcome = ingest('city/v1/traffic/trf-1/telemetry', { intensity: 12, occupancy: 0.2, congested: false });
    expect(outcome).toMatchObject({ usesReceiveTime: true, readings: [{ ts: receivedAt, metrics: { intensity: 12, occupancy: 0.2, congested: false } }] });
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

const only = (outcome: ReturnType<typeof ingestPayload>) => {
  if (outcome.kind !== 'ingest') throw new Error('expected ingest');
  return outcome;
};

describe('ingestPayload: event-time windows', () => {
  const minute = 60_000;
  it.each([
    ['4 min ahead (clock skew)', receivedAt + 4 * minute, { late: undefined }],
    ['1 min old', receivedAt - minute, { late: undefined }],
    ['1 h old: stored, flagged late', receivedAt - 60 * minute, { late: true }],
    ['6 days old: stored, flagged late', receivedAt - 6 * 1440 * minute, { late: true }],
  ])('accepts a reading %s', (_name, ts, flags) => {
    const outcome = only(ingest(AQ, { ts, pm25: 10 }));
    expect(outcome.rejects).toEqual([]);
    expect(outcome.readings[0]?.late).toBe(flags.late);
  });

  it.each([
    ['6 min ahead', receivedAt + 6 * minute, 'timestamp_in_future', /is 360 s after the receive time; at most 300 s is accepted/],
    ['a year ahead', receivedAt + 365 * 1440 * minute, 'timestamp_in_future', /after the receive time/],
    ['8 days old', receivedAt - 8 * 1440 * minute, 'timestamp_too_old', /is 192.0 h before the receive time; at most 168.0 h is accepted/],
  ])('rejects a reading %s', (_name, ts, reason, detail) => {
    const outcome = only(ingest(AQ, { ts, pm25: 10 }));
    expect(outcome.readings).toEqual([]);
    expect(outcome.rejects[0]).toMatchObject({ reason, detail: expect.stringMatching(detail) as unknown });
  });

  it('takes the windows from its options', () => {
    const limits = { maxPayloadBytes: 1000, maxReadingsPerMessage: 10, maxFutureMs: 1000, maxAgeMs: 10 * minute, lateAfterMs: minute };
    expect(only(ingest(AQ, { ts: receivedAt + 2000, pm25: 1 }, limits)).rejects[0]?.reason).toBe('timestamp_in_future');
    expect(only(ingest(AQ, { ts: receivedAt - 11 * minute, pm25: 1 }, limits)).rejects[0]?.reason).toBe('timestamp_too_old');
    expect(only(ingest(AQ, { ts: receivedAt - 2 * minute, pm25: 1 }, limits)).readings[0]?.late).toBe(true);
  });

  it('judges each reading of a batch against the window on its own', () => {
    const outcome = only(ingest(AQ, [{ ts: receivedAt - 1000, pm25: 1 }, { ts: receivedAt + 3_600_000, pm25: 2 }, { ts: receivedAt - 7_200_000, pm25: 3 }]));
    expect(outcome.readings.map((r) => [r.metrics.pm25, r.late])).toEqual([[1, undefined], [3, true]]);
    expect(outcome.rejects.map((r) => [r.index, r.reason])).toEqual([[1, 'timestamp_in_future']]);
  });
});

describe('ingestPayload: every family', () => {
  const topicOf = (family: Family) => `city/v1/${family}/dev-1/telemetry`;
  const metricEntries = FAMILIES.flatMap((family) => Object.entries(metricsOf(family)).map(([metric, spec]) => [family, metric, spec] as const));

  it.each(FAMILIES)('%s: the documented example passes', (family) => {
    const outcome = only(ingest(topicOf(family), { ...FAMILY_SPECS[family].example, ts: receivedAt - 1000 }));
    expect(outcome.rejects).toEqual([]);
    expect(outcome.readings).toHaveLength(1);
  });

  const ranged = metricEntries.filter(([, , spec]) => spec.kind !== 'boolean');
  it.each(ranged)('%s.%s: accepts its bounds, rejects just outside them', (family, metric, spec) => {
    const judge = (value: number) => only(ingest(topicOf(family), { [metric]: value }));
    const step = spec.kind === 'integer' ? 1 : Math.max(1e-6, Math.abs(spec.max! - spec.min!) * 1e-6);
    for (const edge of [spec.min!, spec.max!]) expect(judge(edge).readings.map((r) => r.metrics[metric])).toEqual([edge]);
    expect(judge(spec.max! + step).rejects[0]).toMatchObject({ reason: 'out_of_range', detail: expect.stringContaining(`${metric} is above the maximum ${spec.max}`) as unknown });
    expect(judge(spec.min! - step).rejects[0]).toMatchObject({ reason: 'out_of_range', detail: expect.stringContaining(`${metric} is below the minimum ${spec.min}`) as unknown });
  });

  it.each(metricEntries.filter(([, , spec]) => spec.kind === 'integer'))('%s.%s: a count must be whole', (family, metric) => {
    expect(only(ingest(topicOf(family), { [metric]: 2.5 })).rejects[0]?.reason).toBe('invalid_type');
  });

  it.each(metricEntries.filter(([, , spec]) => spec.kind === 'boolean'))('%s.%s: true/false, not 1', (family, metric) => {
    expect(only(ingest(topicOf(family), { [metric]: true })).readings[0]?.metrics[metric]).toBe(true);
    expect(only(ingest(topicOf(family), { [metric]: 1 })).rejects[0]).toMatchObject({ reason: 'invalid_type', detail: `${metric} must be true or false` });
  });

  const rules = FAMILIES.flatMap((family) => ((FAMILY_SPECS[family] as FamilySpec).consistency ?? []).map((rule) => [family, `${rule.left.join(' + ')} ≤ ${rule.right}`, rule] as const));
  it.each(rules)('%s: %s holds at equality and is enforced past it', (family, _name, rule) => {
    const left = Object.fromEntries(rule.left.map((m) => [m, 10]));
    const sum = 10 * rule.left.length;
    // Metrics of the rule's other rules must not trip first: give every other metric of the family no value.
    expect(only(ingest(topicOf(family), { ...left, [rule.right]: sum })).rejects).toEqual([]);
    const bad = only(ingest(topicOf(family), { ...left, [rule.right]: sum - (rule.tolerance ?? 0) - 1 }));
    expect(bad.readings).toEqual([]);
    expect(bad.rejects[0]).toMatchObject({ reason: 'inconsistent_metrics', detail: expect.stringContaining(rule.why) as unknown });
  });

  it.each([
    ['airquality', { pm25: 80, pm10: 60 }, 'pm25 80 is above pm10 60: PM2.5 is part of PM10'],
    ['parking', { occupiedSpotNumber: 300, availableSpotNumber: 132, totalSpotNumber: 414 }, 'occupiedSpotNumber 300 + availableSpotNumber 132 is above totalSpotNumber 414'],
    ['noise', { LAeq: 70, LAmax: 65 }, 'LAeq 70 is above LAmax 65'],
  ] as const)('%s: explains an inconsistent reading with both values', (family, reading, detail) => {
    expect(only(ingest(topicOf(family), reading)).rejects[0]?.detail).toContain(detail);
  });

  it.each([
    ['airquality', 'relativeHumidity', 71],
    ['weather', 'relativeHumidity', 82],
    ['traffic', 'occupancy', 31],
    ['parking', 'occupancy', 68],
  ] as const)('%s.%s: a percentage where a fraction belongs is refused with a hint', (family, metric, value) => {
    expect(only(ingest(topicOf(family), { [metric]: value })).rejects[0]).toMatchObject({
      reason: 'out_of_range',
      detail: expect.stringContaining('(a fraction: send 0.71 for 71 %)') as unknown,
    });
  });
});

describe('ingestPayload: SenML packs (RFC 8428)', () => {
  const t0s = receivedAt / 1000 - 60;
  const senml = (topic: string, pack: unknown[]) => only(ingest(topic, pack));

  it('resolves base name, time and unit, and stores one reading per distinct time, in the metrics’ units', () => {
    const outcome = senml(AQ, [
      { bn: 'urn:dev:mac:0024befffe804ff1:', bt: t0s, bu: 'ug/m3', n: 'pm25', v: 41.5 },
      { n: 'pm10', v: 60 },
      { n: 'temperature', u: 'K', v: 254.65 },
      { n: 'relativeHumidity', u: '%RH', v: 71 },
      { n: 'pm25', t: 60, v: 43 },
      { n: 'co', u: 'ug/m3', t: 60, v: 1200 },
    ]);
    expect(outcome.rejects).toEqual([]);
    expect(outcome.usesReceiveTime).toBe(false);
    expect(outcome.readings.map((r) => [r.ts, r.metrics])).toEqual([
      [receivedAt - 60_000, { pm25: 41.5, pm10: 60, temperature: -18.5, relativeHumidity: 0.71 }],
      [receivedAt, { pm25: 43, co: 1.2 }],
    ]);
  });

  it('anchors relative times (below 2**28 s) at the receive time, and says it used it', () => {
    const outcome = senml(AQ, [{ n: 'pm25', v: 10, t: -120 }, { n: 'pm10', v: 13, t: 0 }, { n: 'pm25', v: 12 }]);
    expect(outcome.readings.map((r) => [r.ts, r.metrics])).toEqual([[receivedAt - 120_000, { pm25: 10 }], [receivedAt, { pm10: 13, pm25: 12 }]]);
    expect(outcome.usesReceiveTime).toBe(true);
  });

  it('adds base values and sums, takes a cumulative meter’s sum, and booleans from vb', () => {
    const water = senml('city/v1/water/w-1/telemetry', [{ bt: t0s, bv: 870, bu: 'm3', n: 'waterConsumption', v: 2.113 }, { n: 'flow', u: 'l/s', v: 0.1, bv: 0 }]);
    expect(water.readings[0]?.metrics).toEqual({ waterConsumption: 872.113, flow: 360 });
    const energy = senml('city/v1/electricity/e-1/telemetry', [{ bt: t0s, bs: 1_000_000, n: 'activeEnergyImport', u: 'Wh', s: 234_500 }]);
    expect(energy.readings[0]?.metrics).toEqual({ activeEnergyImport: 1234.5 });
    const traffic = senml('city/v1/traffic/t-1/telemetry', [{ bt: t0s, bu: '/', n: 'occupancy', v: 0.4 }, { n: 'congested', vb: true }]);
    expect(traffic.readings[0]?.metrics).toEqual({ occupancy: 0.4, congested: true });
  });

  it('skips a record that only sets base fields, as some gateways send first', () => {
    const outcome = senml(AQ, [{ bn: 'urn:dev:ow:10e2073a01080063:', bt: t0s }, { n: 'pm25', v: 3 }]);
    expect(outcome.readings.map((r) => r.metrics)).toEqual([{ pm25: 3 }]);
  });

  it.each([
    ['a unit of another quantity', [{ n: 'temperature', u: 'Pa', v: 1 }], 'unsupported_unit', /unit "Pa" cannot be converted to °C for temperature; accepted: Cel, K/],
    ['a unit we do not know', [{ n: 'pm25', u: 'grains/ft3', v: 1 }], 'unsupported_unit', /unit "grains\/ft3"/],
    ['%RH for a particulate', [{ n: 'pm25', u: '%RH', v: 1 }], 'unsupported_unit', /accepted: ug\/m3, mg\/m3, kg\/m3$/],
    ['a name that is not a metric', [{ n: 'urn:dev:x:temp', v: 1 }], 'unknown_field', /unknown field\(s\) "temp" \(SenML name "urn:dev:x:temp"\)/],
    ['a string value', [{ n: 'pm25', vs: 'high' }], 'invalid_type', /a SenML string \("vs"\) value; pm25 is a number/],
    ['a sum for a metric that is not a counter', [{ n: 'pm25', s: 4 }], 'invalid_senml', /a sum \("s"\) is accepted only for a cumulative metric/],
    ['a value out of range after conversion', [{ n: 'pm25', u: 'kg/m3', v: 1 }], 'out_of_range', /pm25 is above the maximum 2000/],
    ['inconsistent metrics of one time', [{ n: 'pm25', v: 80 }, { n: 'pm10', v: 60 }], 'inconsistent_metrics', /PM2.5 is part of PM10/],
  ])('rejects the reading with %s', (_name, pack, reason, detail) => {
    const outcome = senml(AQ, pack.map((r) => ({ bt: t0s, ...r })));
    expect(outcome.readings).toEqual([]);
    expect(outcome.rejects).toHaveLength(1);
    expect(outcome.rejects[0]).toMatchObject({ reason, index: 0, detail: expect.stringMatching(detail) as unknown });
  });

  it.each([
    ['a label of the wrong type', [{ n: 'pm25', v: '12' }], /SenML record 0: "v" must be a number/],
    ['two values in one record', [{ n: 'pm25', v: 1 }, { n: 'pm10', v: 2, vb: true }], /SenML record 1: has "v" and "vb"/],
    ['a record without a value', [{ n: 'pm25' }], /has neither a value/],
    ['a record without a name', [{ v: 3 }], /has no name/],
    ['a name RFC 8428 forbids', [{ n: 'pm 25', v: 3 }], /name "pm 25" has characters/],
    ['a newer version', [{ bver: 11, n: 'pm25', v: 3 }], /"bver" 11 is newer than the version understood \(10\)/],
    ['a must-understand label', [{ n: 'pm25', v: 3, crit_: 1 }], /label "crit_" must be understood/],
    ['a record that is not an object', [{ n: 'pm25', v: 3 }, 7], /SenML record 1: is not a JSON object/],
  ])('rejects the whole pack for %s (invalid_senml)', (_name, pack, detail) => {
    const outcome = senml(AQ, pack);
    expect(outcome.readings).toEqual([]);
    expect(outcome.rejects).toEqual([expect.objectContaining({ reason: 'invalid_senml', detail: expect.stringMatching(detail) as unknown })]);
  });

  it('refuses a reading that names one metric twice at one time, pointing at the second record', () => {
    const outcome = senml(AQ, [{ bt: t0s, n: 'pm25', v: 1 }, { n: 'pm25', v: 2 }]);
    expect(outcome.rejects).toEqual([expect.objectContaining({ reason: 'invalid_senml', index: 1, detail: expect.stringMatching(/pm25 appears twice at 2026-01-15T07:59:00.000Z/) as unknown })]);
  });

  it('ignores unknown labels without a trailing underscore (RFC 8428 §4.4)', () => {
    expect(senml(AQ, [{ n: 'pm25', v: 3, foo: 'bar' }]).readings).toHaveLength(1);
  });

  it('stores the valid times of a pack and dead-letters the bad one as resolved records a replay accepts', () => {
    const outcome = senml(AQ, [{ bt: t0s, n: 'pm25', v: 10 }, { n: 'pm25', t: 1, v: 11 }, { n: 'pm25', u: 'degF', t: 1 - 0, v: 12 }, { n: 'pm25', t: 2, v: 13 }]);
    expect(outcome.readings.map((r) => r.metrics.pm25)).toEqual([10, 13]);
    expect(outcome.rejects.map((r) => [r.index, r.reason])).toEqual([[2, 'invalid_senml']]);
    const fixed = [{ bt: t0s, n: 'pm25', v: 10 }, { n: 'pm25', t: 1, v: 11 }, { n: 'pm10', u: 'degF', t: 1, v: 12 }];
    const reject = senml(AQ, fixed).rejects[0]!;
    expect(reject).toMatchObject({ reason: 'unsupported_unit', index: 2 });
    expect(JSON.parse(reject.payload)).toEqual([{ n: 'pm25', v: 11, t: t0s + 1 }, { n: 'pm10', u: 'degF', v: 12, t: t0s + 1 }]);
    // The kept records are a pack of their own, with absolute times: once fixed, they replay as they were.
    const replayed = only(ingest(AQ, reject.payload.replace('"degF"', '"ug/m3"')));
    expect(replayed.readings.map((r) => [r.ts, r.metrics])).toEqual([[(t0s + 1) * 1000, { pm25: 11, pm10: 12 }]]);
  });

  it('counts records against the per-message limit', () => {
    const pack = Array.from({ length: 3 }, (_, i) => ({ n: 'pm25', v: i, t: -i }));
    expect(only(ingest(AQ, pack, { maxPayloadBytes: 10_000, maxReadingsPerMessage: 2 })).rejects[0]?.reason).toBe('batch_too_large');
  });
});
