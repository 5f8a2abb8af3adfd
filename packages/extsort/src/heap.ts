/**
 * A binary min-heap ordered by `less`: the k-way merges of sorted runs take the smallest head each time. A merge
 * reads the top's item ({@link peek}), then moves that reader on and {@link replaceTop}s it (one sift down) or
 * {@link pop}s it when its run is done: half the comparisons of a pop and a push per item.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const h = this.items;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const x = h[i]!;
      const y = h[p]!;
      if (!this.less(x, y)) break;
      h[i] = y;
      h[p] = x;
      i = p;
    }
  }

  /** The smallest item (the heap must not be empty). */
  peek(): T {
    return this.items[0]!;
  }

  /** Restores the order after the smallest item's key grew (it stays in the heap). */
  replaceTop(): void {
    this.down(0);
  }

  pop(): T {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(i: number): void {
    const h = this.items;
    const n = h.length;
    const less = this.less;
    const x = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && less(h[r]!, h[l]!)) m = r;
      if (!less(h[m]!, x)) break;
      h[i] = h[m]!;
      i = m;
    }
    h[i] = x;
  }
}
