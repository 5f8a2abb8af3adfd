/**
 * A growable window over a byte stream that arrives in chunks. Parsers read the unread bytes contiguously
 * (`buf[start..end)`) without caring where chunk borders fell, and `offset` tracks the absolute stream
 * position of `buf[start]`. Each pushed chunk is copied once; views handed out by {@link view} are valid
 * only until the next {@link push}.
 */
export class ByteQueue {
  /** Backing storage; unread bytes are `buf[start..end)`. */
  buf: Uint8Array;
  start = 0;
  end = 0;
  private consumedBefore = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Unread byte count. */
  get length(): number {
    return this.end - this.start;
  }

  /** Absolute stream offset of the first unread byte. */
  get offset(): number {
    return this.consumedBefore + this.start;
  }

  /** Appends a chunk, compacting or growing the storage as needed. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.end + n > this.buf.length) {
      const unread = this.end - this.start;
      if (unread + n <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let cap = Math.max(this.buf.length, 1024);
        while (cap < unread + n) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end), 0);
        this.buf = next;
      }
      this.consumedBefore += this.start;
      this.end = unread;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += n;
  }

  /** Marks `n` unread bytes as read. */
  consume(n: number): void {
    this.start += n;
    if (this.start === this.end) {
      this.consumedBefore += this.start;
      this.start = this.end = 0;
    }
  }

  /** The next `n` unread bytes without copying (valid until the next push). */
  view(n: number, from = 0): Uint8Array {
    return this.buf.subarray(this.start + from, this.start + from + n);
  }

  /** A copy of the next `n` unread bytes. */
  copy(n: number, from = 0): Uint8Array {
    return this.buf.slice(this.start + from, this.start + from + n);
  }

  /** Index (relative to the first unread byte) of `byte` at or after `from`, or -1. */
  indexOf(byte: number, from = 0): number {
    const i = this.buf.indexOf(byte, this.start + from);
    return i < 0 || i >= this.end ? -1 : i - this.start;
  }

  /** Drops everything, and resets the absolute offset to `offset`. */
  reset(offset = 0): void {
    this.start = this.end = 0;
    this.consumedBefore = offset;
  }
}
