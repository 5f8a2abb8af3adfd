// The listpack back-length (FORMATS §4.4): an entry's size written after it, 7 bits per byte, the high group
// first with bit 7 clear and every following byte with bit 7 set, so it reads backwards from the entry's end.

/** Bytes the back-length of an entry of `l` bytes takes. */
export function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Writes the back-length of `l` at `out[p..]` (room for {@link backlenSize} bytes); returns the offset after it. */
export function writeBacklen(out: Uint8Array, p: number, l: number): number {
  const n = backlenSize(l);
  let v = l;
  for (let k = n - 1; k >= 0; k--) {
    const low = v % 128;
    out[p + k] = k === 0 ? low : low | 0x80;
    v = Math.floor(v / 128);
  }
  return p + n;
}

/** The value of the `n`-byte back-length at `b[p..p+n)`, or -1 when its continuation bits are wrong. */
export function readBacklen(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const byte = b[p + k];
    if ((k === 0) !== ((byte & 0x80) === 0)) return -1;
    v = v * 128 + (byte & 0x7f);
  }
  return v;
}
