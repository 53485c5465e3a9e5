import { describe, expect, it } from 'vitest';
import { LatencyHistogram, percentileOf } from './latency-histogram.ts';
import { MinHeap } from './min-heap.ts';
import { createRateProfile } from './rate-profile.ts';

describe('createRateProfile', () => {
  it('steady: work grows linearly and timeAtWork inverts it', () => {
    const p = createRateProfile({ targetPerS: 2000 });
    expect(p.workAt(1500)).toBe(3000);
    expect(p.timeAtWork(3000)).toBe(1500);
    expect(p.rateAt(0)).toBe(2000);
  });

  it('ramp: from 5 % to the target over the ramp, the integral exact, then steady', () => {
    const p = createRateProfile({ targetPerS: 1000, rampMs: 10_000 });
    expect(p.rateAt(0)).toBeCloseTo(50);
    expect(p.rateAt(5000)).toBeCloseTo(525);
    expect(p.rateAt(20_000)).toBe(1000);
    // ∫0..10 s of 50 + 95 t = 500 + 4750 = 5250 readings; then 1000/s.
    expect(p.workAt(10_000)).toBeCloseTo(5250);
    expect(p.workAt(12_000)).toBeCloseTo(7250);
    for (const t of [0, 1, 999, 4321, 9999, 10_000, 10_001, 55_555]) expect(p.timeAtWork(p.workAt(t))).toBeCloseTo(t, 6);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createRateProfile({ targetPerS: 0 })).toThrow(RangeError);
  });
});

describe('LatencyHistogram', () => {
  it('percentiles within 1 % of the exact ones, never below them', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => 0.05 * 1.0007 ** i); // 0.05 ms … ~55 ms
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    for (const p of [50, 95, 99, 99.9]) {
      const exact = percentileOf(values, p)!;
      expect(h.percentile(p)!).toBeGreaterThanOrEqual(exact);
      expect(h.percentile(p)!).toBeLessThanOrEqual(exact * 1.01);
    }
    expect(h.percentile(100)).toBe(h.max);
    expect(h.count).toBe(10_000);
  });

  it('merges per-second histograms into the run', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 50; i++) a.record(i);
    for (let i = 51; i <= 100; i++) b.record(i);
    a.merge(b);
    expect(a.count).toBe(100);
    expect(a.percentile(50)!).toBeCloseTo(50, -0.5);
    expect(a.max).toBe(100);
    expect(new LatencyHistogram().percentile(99)).toBeUndefined();
  });

  it('percentileOf: nearest rank', () => {
    expect(percentileOf([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentileOf([5, 1, 4, 2, 3], 99)).toBe(5);
    expect(percentileOf([], 50)).toBeUndefined();
  });
});

describe('MinHeap', () => {
  it('pops indices in key order, whatever order they came in', () => {
    const keys = new Float64Array([5, 3, 9, 1, 7, 3, 0.5]);
    const heap = new MinHeap(keys);
    for (const i of [0, 1, 2, 3, 4, 5, 6]) heap.push(i);
    const out: number[] = [];
    for (let i = heap.pop(); i !== undefined; i = heap.pop()) out.push(keys[i]!);
    expect(out).toEqual([0.5, 1, 3, 3, 5, 7, 9]);
  });
});
