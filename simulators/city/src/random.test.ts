import { describe, expect, it } from 'vitest';
import { createRng, hashSeed, randomInt, randomNormal } from './random.ts';

describe('createRng', () => {
  it('gives the same sequence for the same seed, another for another seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 100 }, a);
    expect(Array.from({ length: 100 }, b)).toEqual(seqA);
    expect(Array.from({ length: 100 }, c)).not.toEqual(seqA);
  });

  it('stays in [0, 1) and spreads evenly', () => {
    const rng = createRng(7);
    const draws = Array.from({ length: 20_000 }, rng);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeCloseTo(0.5, 1);
  });

  it('draws integers within bounds and normals around the mean', () => {
    const rng = createRng(3);
    const ints = Array.from({ length: 1000 }, () => randomInt(rng, 2, 5));
    expect(new Set(ints)).toEqual(new Set([2, 3, 4, 5]));
    const normals = Array.from({ length: 10_000 }, () => randomNormal(rng, 10, 2));
    expect(normals.reduce((s, x) => s + x, 0) / normals.length).toBeCloseTo(10, 0);
  });
});

describe('hashSeed', () => {
  it('is stable and separates labels and seeds', () => {
    expect(hashSeed(1, 'aq-almaly-0001')).toBe(hashSeed(1, 'aq-almaly-0001'));
    expect(hashSeed(1, 'aq-almaly-0001')).not.toBe(hashSeed(1, 'aq-almaly-0002'));
    expect(hashSeed(1, 'aq-almaly-0001')).not.toBe(hashSeed(2, 'aq-almaly-0001'));
  });
});
