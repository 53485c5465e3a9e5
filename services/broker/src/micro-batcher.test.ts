import { describe, expect, it } from 'vitest';
import { createMicroBatcher } from './micro-batcher.ts';

describe('createMicroBatcher', () => {
  it('flushes when the batch is full, and settles each add with its batch', async () => {
    const batches: number[][] = [];
    const batcher = createMicroBatcher<number>({ maxItems: 3, maxDelayMs: 60_000, flush: (b) => Promise.resolve(void batches.push(b)) });
    await Promise.all([batcher.add([1, 2]), batcher.add([3]), batcher.add([4, 5, 6])]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('flushes a partial batch after maxDelayMs', async () => {
    const batches: number[][] = [];
    const batcher = createMicroBatcher<number>({ maxItems: 100, maxDelayMs: 5, flush: (b) => Promise.resolve(void batches.push(b)) });
    await batcher.add([7]);
    expect(batches).toEqual([[7]]);
  });

  it('rejects every add of a batch whose flush failed, and only those', async () => {
    let fail = true;
    const batcher = createMicroBatcher<number>({
      maxItems: 2,
      flush: () => (fail ? Promise.reject(new Error('redis down')) : Promise.resolve()),
    });
    const first = Promise.allSettled([batcher.add([1]), batcher.add([2])]);
    expect((await first).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batcher.add([3, 4])).resolves.toBeUndefined();
  });

  it('drain flushes what waits and waits for flushes in flight', async () => {
    let release = () => {};
    const flushed: number[][] = [];
    const batcher = createMicroBatcher<number>({
      maxItems: 2,
      maxDelayMs: 60_000,
      flush: (b) => new Promise<void>((resolve) => (release = () => { flushed.push(b); resolve(); })),
    });
    void batcher.add([1, 2]);
    const drained = batcher.drain();
    release();
    await drained;
    expect(flushed).toEqual([[1, 2]]);
  });
});
