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

describe('createMicroBatcher: adds are never split', () => {
  it('puts an add larger than maxItems into one batch of its own', async () => {
    const batches: number[][] = [];
    const batcher = createMicroBatcher<number>({ maxItems: 2, maxDelayMs: 60_000, flush: (b) => Promise.resolve(void batches.push(b)) });
    await Promise.all([batcher.add([1]), batcher.add([2, 3, 4])]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });
});

describe('createMicroBatcher: maxConcurrentFlushes (group commit)', () => {
  it('holds due batches while every slot is busy and sends what gathered meanwhile as one', async () => {
    const batches: number[][] = [];
    const releases: Array<() => void> = [];
    const batcher = createMicroBatcher<number>({
      maxItems: 100,
      maxDelayMs: 0,
      maxConcurrentFlushes: 1,
      flush: (b) => new Promise<void>((resolve) => releases.push(() => { batches.push(b); resolve(); })),
    });
    const first = batcher.add([1]);
    await new Promise((r) => setTimeout(r, 5));
    expect(releases).toHaveLength(1);
    // The slot is busy: these wait, past their delay, and go out together when it frees.
    const rest = [batcher.add([2]), batcher.add([3, 4]), batcher.add([5])];
    await new Promise((r) => setTimeout(r, 5));
    expect(releases).toHaveLength(1);
    releases[0]!();
    await first;
    await new Promise((r) => setTimeout(r, 5));
    expect(releases).toHaveLength(2);
    releases[1]!();
    await Promise.all(rest);
    expect(batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('cuts what gathered into batches of at most maxItems (whole adds)', async () => {
    const batches: number[][] = [];
    let release = () => {};
    const batcher = createMicroBatcher<number>({
      maxItems: 3,
      maxDelayMs: 0,
      maxConcurrentFlushes: 1,
      flush: (b) => {
        batches.push(b);
        return b[0] === 0 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
      },
    });
    const all = [batcher.add([0])];
    await new Promise((r) => setTimeout(r, 5));
    all.push(batcher.add([1, 2]), batcher.add([3]), batcher.add([4, 5]), batcher.add([6]));
    release();
    await Promise.all(all);
    expect(batches).toEqual([[0], [1, 2, 3], [4, 5, 6]]);
  });

  it('drain sends everything at once, whatever the limit', async () => {
    const batches: number[][] = [];
    const batcher = createMicroBatcher<number>({ maxItems: 2, maxDelayMs: 60_000, maxConcurrentFlushes: 1, flush: (b) => Promise.resolve(void batches.push(b)) });
    const adds = [batcher.add([1]), batcher.add([2]), batcher.add([3])];
    await batcher.drain();
    await Promise.all(adds);
    expect(batches).toEqual([[1, 2], [3]]);
  });
});
