/**
 * Latencies in logarithmic buckets 1 % wide, from 1 µs to hours: constant memory whatever the count, percentiles
 * within 1 %, mergeable (one per second for the timeline, merged for the run).
 */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_MS = 0.001;

const bucketOf = (ms: number) => (ms <= MIN_MS ? 0 : Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
/** The upper bound of a bucket: a percentile is never reported below the true value. */
const upperOf = (bucket: number) => MIN_MS * GROWTH ** bucket;

export class LatencyHistogram {
  private counts = new Map<number, number>();
  count = 0;
  sum = 0;
  max = 0;
  min = Infinity;

  record(ms: number): void {
    const b = bucketOf(ms);
    this.counts.set(b, (this.counts.get(b) ?? 0) + 1);
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }

  merge(other: LatencyHistogram): void {
    for (const [b, n] of other.counts) this.counts.set(b, (this.counts.get(b) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
  }

  /** The p-th percentile (0 < p ≤ 100), nearest rank: the smallest value with at least p % of them at or below it. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const b of [...this.counts.keys()].sort((x, y) => x - y)) {
      seen += this.counts.get(b)!;
      if (seen >= rank) return Math.min(upperOf(b), this.max);
    }
    return this.max;
  }

  mean(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }
}

/** Nearest-rank percentile of exact values (0 < p ≤ 100); `undefined` for none. */
export function percentileOf(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}
