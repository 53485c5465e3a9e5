import { DEVICE_READING_SCHEMAS, FAMILIES, REASON_CODES, type Family } from '@city/schema';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { buildFleet } from './build-fleet.ts';
import { generateInvalid, INVALID_REASONS, READING_LEVEL_REASONS, type InvalidReason } from './generate-invalid.ts';
import { createRng } from './random.ts';

const NOW = Date.UTC(2026, 0, 15, 3, 30);
const fleet = buildFleet({ devicesPerFamily: 3 });

/** Whether a zod issue is the kind of failure the reason code names. */
function issueMatches(reason: InvalidReason, issue: z.core.$ZodIssue): boolean {
  switch (reason) {
    case 'invalid_type':
      return issue.code === 'invalid_type' && issue.path.length === 1 && issue.path[0] !== 'ts';
    case 'unknown_field':
      return issue.code === 'unrecognized_keys';
    case 'out_of_range':
      return issue.code === 'too_big' || issue.code === 'too_small';
    case 'invalid_timestamp':
      return issue.path[0] === 'ts';
    case 'no_metrics':
      return issue.code === 'custom' && (issue as { params?: { reason?: string } }).params?.reason === 'no_metrics';
    case 'invalid_json':
    case 'empty_batch':
      return false;
  }
}

function expectRejected(family: Family, reason: InvalidReason, payload: string): void {
  if (reason === 'invalid_json') {
    expect(() => JSON.parse(payload) as unknown, payload).toThrow();
    return;
  }
  const parsed = JSON.parse(payload) as unknown;
  if (reason === 'empty_batch') {
    expect(parsed).toEqual([]);
    return;
  }
  const result = DEVICE_READING_SCHEMAS[family].safeParse(parsed);
  expect(result.success, payload).toBe(false);
  // The label is unambiguous: every issue is of the labelled kind.
  for (const issue of result.error?.issues ?? [])
    expect(issueMatches(reason, issue), `${reason}: ${payload} -> ${JSON.stringify(issue)}`).toBe(true);
}

describe('generateInvalid', () => {
  it('labels payloads only with reason codes of the contract', () => {
    for (const reason of INVALID_REASONS) expect(REASON_CODES).toContain(reason);
  });

  it.each(INVALID_REASONS)('%s: every payload fails validation, for that reason, for every family', (reason) => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const rng = createRng(seed);
      for (const device of fleet) {
        for (let i = 0; i < 10; i++) {
          const bad = generateInvalid(device, NOW + i * 60_000, rng, { reason });
          expect(bad.reason).toBe(reason);
          expect(bad.detail.length).toBeGreaterThan(0);
          expectRejected(device.family, reason, bad.payload);
          if (READING_LEVEL_REASONS.has(reason)) expect(JSON.parse(bad.payload)).toEqual(bad.reading);
          else expect(bad.reading).toBeUndefined();
        }
      }
    }
  });

  it('draws every reason when none is asked for', () => {
    const rng = createRng(1);
    const seen = new Set<InvalidReason>();
    for (let i = 0; i < 500; i++) {
      const device = fleet[i % fleet.length]!;
      const bad = generateInvalid(device, NOW, rng);
      expectRejected(device.family, bad.reason, bad.payload);
      seen.add(bad.reason);
    }
    expect(seen).toEqual(new Set(INVALID_REASONS));
  });

  it('spoils the base reading it is given and keeps the rest of it', () => {
    const device = fleet.find((d) => d.family === 'traffic')!;
    const base = {
      ts: NOW,
      district: device.district,
      intensity: 40,
      averageVehicleSpeed: 35,
      occupancy: 0.4,
      congested: false,
    };
    const bad = generateInvalid(device, NOW, createRng(3), { reason: 'out_of_range', base });
    expect(bad.reading).toMatchObject({ ts: NOW, district: device.district });
    expect(Object.keys(bad.reading ?? {}).sort()).toEqual(Object.keys(base).sort());
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const rng = createRng(77);
      return fleet.map((d) => generateInvalid(d, NOW, rng));
    };
    expect(run()).toEqual(run());
  });

  it('covers every family', () => {
    expect(new Set(fleet.map((d) => d.family))).toEqual(new Set(FAMILIES));
  });
});
