import { describe, expect, it } from 'vitest';
import { INITIAL_RETRY_WAIT, backoffDelayMs, checkBackoffPolicy, minimumBackoffTotalMs, nextRetryWait } from './backoff.ts';

const policy = { baseMs: 250, maxMs: 30_000, jitter: 0.5 };

describe('backoffDelayMs', () => {
  it('doubles from baseMs and stops at maxMs', () => {
    expect([1, 2, 3, 4, 7, 8, 9, 50, 5000].map((n) => backoffDelayMs(n, policy, 0))).toEqual([250, 500, 1000, 2000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('takes off up to `jitter` of the delay', () => {
    expect(backoffDelayMs(3, policy, 0.999_999)).toBe(500);
    expect(backoffDelayMs(3, policy, 0.5)).toBe(750);
    expect(backoffDelayMs(3, { baseMs: 250, maxMs: 30_000, jitter: 0 }, 0.9)).toBe(1000);
  });

  it('the minimum total over a budget is the sum of the halved delays', () => {
    expect(minimumBackoffTotalMs(3, { baseMs: 1000, maxMs: 300_000, jitter: 0.5 })).toBe(500 + 1000 + 2000);
  });

  it('names what is wrong with a policy', () => {
    expect(checkBackoffPolicy(policy)).toEqual([]);
    expect(checkBackoffPolicy({ baseMs: 0, maxMs: -1, jitter: 2 })).toEqual([
      'baseMs must be > 0, got 0',
      'maxMs (-1) must be at least baseMs (0)',
      'jitter must be within 0..1, got 2',
    ]);
  });
});

describe('nextRetryWait', () => {
  it('escalates once per wait, not once per concurrent failure, and a success starts over', () => {
    let state = INITIAL_RETRY_WAIT;
    const fail = (at: number) => {
      const next = nextRetryWait(state, { kind: 'failed', at }, policy, 0);
      state = next.state;
      return next.delayMs;
    };
    expect(fail(1000)).toBe(250);
    // Two writes that were in flight fail inside that wait: they wait for what is left of it.
    expect(fail(1100)).toBe(150);
    expect(fail(1200)).toBe(50);
    expect(state.failures).toBe(1);
    expect(fail(1250)).toBe(500);
    expect(fail(1750)).toBe(1000);
    expect(state).toEqual({ failures: 3, waitUntil: 2750 });
    state = nextRetryWait(state, { kind: 'succeeded' }, policy, 0).state;
    expect(fail(5000)).toBe(250);
  });

  it("uses the server's Retry-After when it gives one", () => {
    const { state, delayMs } = nextRetryWait(INITIAL_RETRY_WAIT, { kind: 'failed', at: 0, retryAfterMs: 7000 }, policy, 0);
    expect(delayMs).toBe(7000);
    expect(state).toEqual({ failures: 1, waitUntil: 7000 });
  });
});
