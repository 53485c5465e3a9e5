import { describe, expect, it } from 'vitest';
import { createTokenBuckets } from './token-buckets.ts';

describe('createTokenBuckets', () => {
  it('tryTake: a full bucket, then refusals until it refills at the rate', () => {
    const buckets = createTokenBuckets({ capacity: 3, refillPerSecond: 2 });
    expect([1, 2, 3, 4].map(() => buckets.tryTake('10.0.0.1', 0))).toEqual([true, true, true, false]);
    expect(buckets.tryTake('10.0.0.1', 400)).toBe(false); // 0.8 tokens
    expect(buckets.tryTake('10.0.0.1', 500)).toBe(true); // 1 token
    expect(buckets.tryTake('10.0.0.2', 500)).toBe(true); // another key has its own bucket
  });

  it('refills to capacity, never beyond', () => {
    const buckets = createTokenBuckets({ capacity: 2, refillPerSecond: 10 });
    buckets.tryTake('a', 0);
    expect([1, 2, 3].map(() => buckets.tryTake('a', 60_000))).toEqual([true, true, false]);
  });

  it('take: no wait while tokens last, then waits that space borrowers 1/rate apart', () => {
    const buckets = createTokenBuckets({ capacity: 2, refillPerSecond: 10 });
    expect([1, 2, 3, 4, 5].map(() => buckets.take('dev', 1000))).toEqual([0, 0, 100, 200, 300]);
    // 300 ms later the debt of 3 tokens is paid back: the next one waits 100 ms again
    expect(buckets.take('dev', 1300)).toBe(100);
  });

  it('forgets the least recently used key beyond maxKeys', () => {
    const buckets = createTokenBuckets({ capacity: 1, refillPerSecond: 0.001, maxKeys: 2 });
    buckets.tryTake('a', 0);
    buckets.tryTake('b', 0);
    buckets.tryTake('a', 1); // a is now the most recent
    buckets.tryTake('c', 2); // forgets b
    expect(buckets.size()).toBe(2);
    expect(buckets.tryTake('a', 3)).toBe(false);
    expect(buckets.tryTake('b', 3)).toBe(true); // b starts full again
  });
});
