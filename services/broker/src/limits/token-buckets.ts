export interface TokenBucketsOptions {
  /** Tokens a key can spend at once: the size of a full bucket. */
  capacity: number;
  /** Tokens added to each bucket per second. */
  refillPerSecond: number;
  /**
   * Keys remembered; beyond it the least recently used key is forgotten and starts again with a full bucket.
   * @defaultValue 100000
   */
  maxKeys?: number;
}

export interface TokenBuckets {
  /** Spends a token if the key has one; `false` leaves the bucket as it was. */
  tryTake(key: string, now: number): boolean;
  /**
   * Spends a token, borrowing against the refill when the bucket is empty, and returns how long (ms) the caller
   * must wait so that the key's rate holds: 0 while tokens are left. Successive borrowers are spaced 1/rate apart.
   */
  take(key: string, now: number): number;
  /** Keys remembered now. */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets keyed by client id or source address. No timers: a bucket refills when it is next touched, from
 * the time passed in. A Map in least-recently-used order bounds the memory: touching a key moves it to the end,
 * and the first key is the one forgotten.
 */
export function createTokenBuckets({ capacity, refillPerSecond, maxKeys = 100_000 }: TokenBucketsOptions): TokenBuckets {
  const buckets = new Map<string, Bucket>();
  const perMs = refillPerSecond / 1000;

  function touch(key: string, now: number): Bucket {
    let bucket = buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: capacity, at: now };
      if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!);
    } else {
      buckets.delete(key);
      if (now > bucket.at) {
        bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
        bucket.at = now;
      }
    }
    buckets.set(key, bucket);
    return bucket;
  }

  return {
    tryTake(key, now) {
      const bucket = touch(key, now);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
    take(key, now) {
      const bucket = touch(key, now);
      bucket.tokens -= 1;
      return bucket.tokens >= 0 ? 0 : Math.ceil(-bucket.tokens / perMs);
    },
    size: () => buckets.size,
  };
}
