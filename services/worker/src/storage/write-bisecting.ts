/** An item the database refused on its own, with the error that refused it. */
export interface RefusedItem<T> {
  item: T;
  error: unknown;
}

/**
 * Writes `items` in one request; when the database refuses some of them (`isSplittable`: InfluxDB's 400, which
 * names no line), writes each half again, and so on, until every refused item stands alone. Resolves with those.
 * Rewriting accepted lines is harmless: the same point overwrites itself. k refused items among n cost about
 * 2k·log2(n/k) requests, one at a time. Any other failure rejects the whole write, so nothing is dead-lettered
 * from a write that will be retried.
 */
export async function writeBisecting<T>(
  items: readonly T[],
  write: (items: readonly T[]) => Promise<void>,
  isSplittable: (err: unknown) => boolean,
): Promise<Array<RefusedItem<T>>> {
  try {
    await write(items);
    return [];
  } catch (err) {
    if (!isSplittable(err)) throw err;
    if (items.length === 1) return [{ item: items[0]!, error: err }];
  }
  const half = Math.ceil(items.length / 2);
  const refused = await writeBisecting(items.slice(0, half), write, isSplittable);
  refused.push(...(await writeBisecting(items.slice(half), write, isSplittable)));
  return refused;
}
