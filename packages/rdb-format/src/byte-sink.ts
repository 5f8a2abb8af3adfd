// Encoders append to one growable buffer; the writer uses the same one for whole files.
const SHRINK_ABOVE = 1024 * 1024;

/**
 * A growable byte buffer the encoders append to. One sink is reused for every key; {@link take} copies the
 * bytes out (consumers such as AtomicFile keep the chunks they are given).
 */
export class ByteSink {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Empties the sink (keeping its buffer). */
  reset(): void {
    this.pos = 0;
  }

  /**
   * What was written since the last reset, and the sink is reset. A buffer that grew past 1 MiB (a huge value) is
   * handed out as it is, not copied, and the sink starts over small, so one huge key does not pin its size.
   */
  takeAndReset(): Uint8Array {
    if (this.buf.length <= SHRINK_ABOVE) {
      const out = this.buf.slice(0, this.pos);
      this.pos = 0;
      return out;
    }
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.initial);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    return out;
  }

  /** Resets, and gives back a buffer that grew past 1 MiB. */
  resetAndShrink(): void {
    this.pos = 0;
    if (this.buf.length > SHRINK_ABOVE) {
      this.buf = new Uint8Array(this.initial);
      this.view = new DataView(this.buf.buffer);
    }
  }

  /** A copy of what was written since the last reset. */
  take(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Appends a byte. */
  u8(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** Appends bytes. */
  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Appends an unsigned 16-bit little-endian integer. */
  u16le(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  /** Appends an unsigned 32-bit little-endian integer. */
  u32le(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  /** Appends an unsigned 32-bit big-endian integer. */
  u32be(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, false);
    this.pos += 4;
  }

  /** Appends an unsigned 64-bit big-endian integer. */
  u64be(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, false);
    this.pos += 8;
  }

  /** Signed 64-bit little endian (Redis' `ms8` times). */
  i64le(v: number | bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, typeof v === 'bigint' ? v : BigInt(v), true);
    this.pos += 8;
  }

  /** Appends a signed 32-bit little-endian integer. */
  i32le(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }

  /** Appends a 64-bit little-endian IEEE 754 double. */
  f64le(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
}
