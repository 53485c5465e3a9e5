/** Exponential backoff with a cap and jitter: the retry policy of the storage path. */
export interface BackoffPolicy {
  /** Delay after the first failure. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /**
   * Share of each delay taken off at random, 0..1: 0.5 makes a delay anywhere from half to all of it, so workers
   * that failed together do not come back together.
   * @defaultValue 0.5
   */
  jitter?: number;
}

/** Problems with a policy, for the config check; empty when it is usable. */
export function checkBackoffPolicy(policy: BackoffPolicy): string[] {
  const problems: string[] = [];
  if (!(policy.baseMs > 0)) problems.push(`baseMs must be > 0, got ${policy.baseMs}`);
  if (!(policy.maxMs >= policy.baseMs)) problems.push(`maxMs (${policy.maxMs}) must be at least baseMs (${policy.baseMs})`);
  const jitter = policy.jitter ?? 0.5;
  if (!(jitter >= 0 && jitter <= 1)) problems.push(`jitter must be within 0..1, got ${jitter}`);
  return problems;
}

/**
 * The wait before the next try after `failures` failures in a row (1 = the first): `baseMs · 2^(failures−1)`,
 * capped at `maxMs`, less up to `jitter` of it. `random` is a number in [0, 1).
 */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: number): number {
  const jitter = policy.jitter ?? 0.5;
  // 2^n overflows to Infinity long after the cap; Math.min keeps it finite.
  const full = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(full * (1 - jitter * random));
}

/**
 * The shortest total wait over `retries` retries (every jitter at its largest): an outage shorter than this is
 * ridden out by the retry budget whatever the dice say.
 */
export function minimumBackoffTotalMs(retries: number, policy: BackoffPolicy): number {
  let total = 0;
  for (let failures = 1; failures <= retries; failures++) total += backoffDelayMs(failures, policy, 1);
  return total;
}

/** Failures in a row, and until when the caller is waiting because of the last one. */
export interface RetryWaitState {
  failures: number;
  /** Epoch ms; 0 when not waiting. */
  waitUntil: number;
}

export const INITIAL_RETRY_WAIT: RetryWaitState = { failures: 0, waitUntil: 0 };

export type RetryWaitInput =
  /** A try failed at `at`; the server may have said how long to wait (Retry-After). */
  | { kind: 'failed'; at: number; retryAfterMs?: number | undefined }
  | { kind: 'succeeded' };

/**
 * How long to wait after a try of a shared resource (the database) failed, given the failures before it. Tries
 * that were already under way when a wait began (concurrent writes failing together) end inside that wait: they
 * wait for what is left of it and do not count as further failures, so N concurrent failures do not escalate the
 * delay N times. The server's Retry-After, when given, is the delay. A success starts over.
 */
export function nextRetryWait(
  state: RetryWaitState,
  input: RetryWaitInput,
  policy: BackoffPolicy,
  random: number,
): { state: RetryWaitState; delayMs: number } {
  if (input.kind === 'succeeded') return { state: INITIAL_RETRY_WAIT, delayMs: 0 };
  if (input.at < state.waitUntil) return { state, delayMs: state.waitUntil - input.at };
  const failures = state.failures + 1;
  const delayMs = input.retryAfterMs !== undefined && input.retryAfterMs > 0 ? input.retryAfterMs : backoffDelayMs(failures, policy, random);
  return { state: { failures, waitUntil: input.at + delayMs }, delayMs };
}
