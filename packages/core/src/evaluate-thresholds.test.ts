import { describe, expect, it } from 'vitest';
import type { AlertRule, Reading } from '@city/schema';
import { evaluateThresholds } from './evaluate-thresholds.ts';

const rules: AlertRule[] = [
  { id: 'pm25-high', family: 'airquality', metric: 'pm25', comparison: 'above', threshold: 75, severity: 'high' },
  { id: 'occupancy', family: 'traffic', metric: 'occupancy', comparison: 'above', threshold: 0.85, severity: 'medium' },
  { id: 'pressure-low', family: 'water', metric: 'pressure', comparison: 'below', threshold: 1.5, severity: 'high' },
];
const reading = (family: Reading['family'], metrics: Reading['metrics'], extra: Partial<Reading> = {}): Reading => ({
  family, deviceId: 'd-1', ts: Date.UTC(2026, 0, 15, 8), receivedAt: Date.UTC(2026, 0, 15, 8), metrics, ...extra,
});

describe('evaluateThresholds', () => {
  it.each([
    ['above, crossed', reading('airquality', { pm25: 75.1 }), ['pm25-high']],
    ['above, exactly at the line', reading('airquality', { pm25: 75 }), []],
    ['below, crossed', reading('water', { pressure: 1.2 }), ['pressure-low']],
    ['below, not crossed', reading('water', { pressure: 3 }), []],
    ['metric absent', reading('airquality', { pm10: 500 }), []],
    ['other family with the same metric name', reading('traffic', { occupancy: 0.5 }), []],
  ])('%s', (_name, r, expected) => {
    expect(evaluateThresholds(rules, [r]).map((e) => e.rule)).toEqual(expected);
  });

  it('describes the crossing with the reading event time and a stable id', () => {
    const [event] = evaluateThresholds(rules, [reading('airquality', { pm25: 180 }, { district: 'medeu' })]);
    expect(event).toEqual({
      id: `pm25-high:d-1:${Date.UTC(2026, 0, 15, 8)}`,
      rule: 'pm25-high', severity: 'high', family: 'airquality', device: 'd-1', district: 'medeu',
      metric: 'pm25', value: 180, threshold: 75, comparison: 'above', eventTime: '2026-01-15T08:00:00.000Z',
    });
  });
});
