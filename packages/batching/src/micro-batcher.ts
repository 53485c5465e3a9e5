export interface MicroBatcherOptions<T> {
  /**
   * Flush as soon as this many items wait.
   * @defaultValue 500
   */
  maxItems?: number;
  /**
   * Flush at the latest this long after the first item of a batch arrived.
   * @defaultValue 20
   */
  maxDelayMs?: number;
  /**
   * At most this many flushes at once. A batch that is due while they are all busy goes out when one ends, with
   * everything that arrived meanwhile (up to `maxItems`): under load, batches grow by themselves while the writes
   * are in flight (group commit), without waiting out a longer delay when the load is light.
   * @defaultValue Infinity
   */
  maxConcurrentFlushes?: number;
  /** Persist one batch. Every `add` whose items are in the batch settles with it. */
  flush: (items: T[]) => Promise<void>;
}

export interface MicroBatcher<T> {
  /** Resolves once the batch holding these items is persisted; rejects if persisting it failed. */
  add(items: readonly T[]): Promise<void>;
  /** Flush what waits now (all of it, ignoring `maxConcurrentFlushes`) and wait for every flush in flight. */
  drain(): Promise<void>;
}

interface Pending<T> {
  items: readonly T[];
  /** When it was added (performance.now()). */
  at: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers items from many callers into one write, and settles each caller with the write that held its items.
 * The broker batches readings into BullMQ jobs (one job per few hundred readings moves ~50x more readings per
 * second into Redis than one job per reading, NOTES.md); the worker batches the lines of many jobs into one
 * InfluxDB request. An `add` is never split: a batch holds whole adds, and is larger than `maxItems` only when one add is.
 * Batches flush concurrently (up to `maxConcurrentFlushes`): a slow round trip does not hold the next batch back.
 */
export function createMicroBatcher<T>({ maxItems = 500, maxDelayMs = 20, maxConcurrentFlushes = Number.POSITIVE_INFINITY, flush }: MicroBatcherOptions<T>): MicroBatcher<T> {
  let pending: Array<Pending<T>> = [];
  let pendingItems = 0;
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  /** Takes whole adds, at least one, up to maxItems, and flushes them. */
  function flushOne(): void {
    let count = 0;
    let taken = 0;
    while (taken < pending.length && (taken === 0 || count + pending[taken]!.items.length <= maxItems)) count += pending[taken++]!.items.length;
    const settle = pending.slice(0, taken);
    pending = pending.slice(taken);
    pendingItems -= count;
    const batch = settle.length === 1 ? [...settle[0]!.items] : settle.flatMap((p) => p.items);
    const done = flush(batch).then(
      () => settle.forEach((p) => p.resolve()),
      (err: unknown) => settle.forEach((p) => p.reject(err)),
    );
    inFlight.add(done);
    void done.finally(() => {
      inFlight.delete(done);
      pump();
    });
  }

  /** Flushes while a batch is full or its oldest add has waited maxDelayMs, and a slot is free. */
  function pump(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    while (pending.length > 0 && inFlight.size < maxConcurrentFlushes) {
      const waitMs = pending[0]!.at + maxDelayMs - performance.now();
      if (pendingItems < maxItems && waitMs > 0) {
        timer = setTimeout(pump, waitMs);
        return;
      }
      flushOne();
    }
    // Every slot busy: the next flush to end pumps again.
  }

  return {
    add(items) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ items, at: performance.now(), resolve, reject });
        pendingItems += items.length;
        if (pendingItems >= maxItems) pump();
        // Otherwise a timer for an older add is armed already, or every slot is busy and the next to end pumps.
        else if (timer === undefined && inFlight.size < maxConcurrentFlushes) timer = setTimeout(pump, maxDelayMs);
      });
    },
    async drain() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      // Adds that arrive while draining go out too. A failed flush rejects its adds, never drain.
      while (pending.length > 0 || inFlight.size > 0) {
        while (pending.length > 0) flushOne();
        await Promise.all(inFlight);
      }
    },
  };
}
