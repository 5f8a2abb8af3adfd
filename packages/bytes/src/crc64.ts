// CRC-64/Jones as Redis computes it (src/crc64.c): reflected polynomial 0x95AC9329AC4BC9B5, init 0, no final
// XOR. The state is kept as two unsigned 32-bit halves so the hot loop never touches BigInt, and the table is
// sliced by 8 (eight bytes per step).

const SLICES = 8;
const LO = new Uint32Array(256 * SLICES);
const HI = new Uint32Array(256 * SLICES);

(function buildTables() {
  const polyLo = 0xac4bc9b5;
  const polyHi = 0x95ac9329;
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    LO[n] = lo;
    HI[n] = hi;
  }
  for (let s = 1; s < SLICES; s++) {
    for (let n = 0; n < 256; n++) {
      const plo = LO[(s - 1) * 256 + n];
      const phi = HI[(s - 1) * 256 + n];
      const idx = plo & 0xff;
      LO[s * 256 + n] = (LO[idx] ^ ((plo >>> 8) | (phi << 24))) >>> 0;
      HI[s * 256 + n] = (HI[idx] ^ (phi >>> 8)) >>> 0;
    }
  }
})();

/** Incremental CRC-64/Jones. Feed bytes with {@link update}; read the value with {@link value}. */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  /** Adds `data[start, end)` to the checksum; returns this. */
  update(data: Uint8Array, start = 0, end = data.length): this {
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const fastEnd = end - 8;
    while (i <= fastEnd) {
      const a = (lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
      const b = (hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24))) >>> 0;
      const i7 = 7 * 256 + (a & 0xff);
      const i6 = 6 * 256 + ((a >>> 8) & 0xff);
      const i5 = 5 * 256 + ((a >>> 16) & 0xff);
      const i4 = 4 * 256 + (a >>> 24);
      const i3 = 3 * 256 + (b & 0xff);
      const i2 = 2 * 256 + ((b >>> 8) & 0xff);
      const i1 = 256 + ((b >>> 16) & 0xff);
      const i0 = b >>> 24;
      lo = LO[i7] ^ LO[i6] ^ LO[i5] ^ LO[i4] ^ LO[i3] ^ LO[i2] ^ LO[i1] ^ LO[i0];
      hi = HI[i7] ^ HI[i6] ^ HI[i5] ^ HI[i4] ^ HI[i3] ^ HI[i2] ^ HI[i1] ^ HI[i0];
      i += 8;
    }
    while (i < end) {
      const idx = (lo ^ data[i]) & 0xff;
      lo = LO[idx] ^ ((lo >>> 8) | (hi << 24));
      hi = HI[idx] ^ (hi >>> 8);
      i++;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** The CRC as an unsigned 64-bit bigint. */
  value(): bigint {
    return (BigInt(this.hi >>> 0) << 32n) | BigInt(this.lo >>> 0);
  }

  /** True when the 8 bytes at `data[offset]` hold this CRC little-endian (as Redis stores it). */
  matchesLE(data: Uint8Array, offset: number): boolean {
    const lo = (data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24)) >>> 0;
    const hi = (data[offset + 4] | (data[offset + 5] << 8) | (data[offset + 6] << 16) | (data[offset + 7] << 24)) >>> 0;
    return lo === this.lo >>> 0 && hi === this.hi >>> 0;
  }

  /** Writes this CRC as 8 little-endian bytes into `out` at `offset`. */
  writeLE(out: Uint8Array, offset: number): void {
    const lo = this.lo >>> 0;
    const hi = this.hi >>> 0;
    for (let k = 0; k < 4; k++) out[offset + k] = (lo >>> (8 * k)) & 0xff;
    for (let k = 0; k < 4; k++) out[offset + 4 + k] = (hi >>> (8 * k)) & 0xff;
  }

  /** Starts over from the empty checksum; returns this. */
  reset(): this {
    this.lo = 0;
    this.hi = 0;
    return this;
  }
}

/** CRC-64/Jones of `data` (Redis' `crc64(0, data, len)`). */
export function crc64(data: Uint8Array): bigint {
  return new Crc64().update(data).value();
}

/** Reads 8 little-endian bytes as an unsigned 64-bit bigint. */
export function readU64LE(data: Uint8Array, offset: number): bigint {
  const lo = (data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24)) >>> 0;
  const hi = (data[offset + 4] | (data[offset + 5] << 8) | (data[offset + 6] << 16) | (data[offset + 7] << 24)) >>> 0;
  return (BigInt(hi) << 32n) | BigInt(lo);
}
