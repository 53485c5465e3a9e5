import { describe, expect, it } from 'vitest';
import { writeBisecting } from './write-bisecting.ts';

class Refused extends Error {}

/** A database that stores every valid item of a request and refuses the request if any item is bad (InfluxDB 1.x). */
function database(bad: (n: number) => boolean) {
  const stored = new Set<number>();
  let requests = 0;
  return {
    stored,
    requests: () => requests,
    write: (items: readonly number[]) => {
      requests++;
      for (const n of items) if (!bad(n)) stored.add(n);
      return items.some(bad) ? Promise.reject(new Refused(`refused ${items.filter(bad).join(',')}`)) : Promise.resolve();
    },
  };
}

describe('writeBisecting', () => {
  it('isolates exactly the refused items; every valid one is stored', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const db = database((n) => n === 17 || n === 500 || n === 999);
    const refused = await writeBisecting(items, db.write, (e) => e instanceof Refused);
    expect(refused.map((r) => r.item)).toEqual([17, 500, 999]);
    expect(refused[0]!.error).toBeInstanceOf(Refused);
    expect(db.stored.size).toBe(997);
    // About 2k·log2(n/k) requests, not n.
    expect(db.requests()).toBeLessThan(60);
  });

  it('is one request when nothing is refused', async () => {
    const db = database(() => false);
    expect(await writeBisecting([1, 2, 3], db.write, () => true)).toEqual([]);
    expect(db.requests()).toBe(1);
  });

  it('rejects as a whole on any other failure, dead-lettering nothing', async () => {
    let calls = 0;
    const write = () => (++calls === 1 ? Promise.reject(new Refused('bad line')) : Promise.reject(new Error('ECONNREFUSED')));
    await expect(writeBisecting([1, 2, 3, 4], write, (e) => e instanceof Refused)).rejects.toThrow('ECONNREFUSED');
  });
});
