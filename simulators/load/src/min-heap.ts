/**
 * A binary min-heap of small integers (device indices) keyed by a number each (when the device is next due).
 * The keys live in the caller's array, so moving a device is a key write and a push: no objects per entry.
 */
export class MinHeap {
  private items: number[] = [];

  constructor(private readonly keys: Float64Array) {}

  get size(): number {
    return this.items.length;
  }

  /** The index with the smallest key, without removing it. */
  peek(): number | undefined {
    return this.items[0];
  }

  push(index: number): void {
    const items = this.items;
    items.push(index);
    let i = items.length - 1;
    const key = this.keys[index]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[items[parent]!]! <= key) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = index;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    const key = this.keys[last]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.keys[items[right]!]! < this.keys[items[left]!]! ? right : left;
      if (this.keys[items[child]!]! >= key) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
