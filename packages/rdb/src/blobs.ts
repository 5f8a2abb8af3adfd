// Decoders and validators for the packed encodings that travel inside RDB strings: listpack, ziplist, intset, zipmap.
// Every function takes a complete blob and throws through `fail` (which raises an RdbError at the blob's offset).
// Validation follows what Redis' deep sanitisation checks (lpValidateIntegrity, ziplistValidateIntegrity,
// intsetValidateIntegrity, zipmapValidateIntegrity), so `rdb-tool check` reaches the verdict of redis-check-rdb.

/** An entry of a packed encoding: a string (a view into the blob) or an integer. */
export type PackedEntry = Uint8Array | number | bigint;

export type Fail = (message: string) => never;

const u16 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8);
const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
const i64 = (b: Uint8Array, p: number): number | bigint => {
  const lo = u32(b, p);
  const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
};

function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** Decodes (and fully validates) a listpack. */
export function listpackEntries(b: Uint8Array, fail: Fail, checkCount = true): PackedEntry[] {
  const out: PackedEntry[] = [];
  listpackWalk(b, fail, checkCount, out);
  return out;
}

/** Validates a listpack as {@link listpackEntries} does without materialising it: returns its entry count. */
export function listpackCount(b: Uint8Array, fail: Fail, checkCount = true): number {
  return listpackWalk(b, fail, checkCount, null);
}

function listpackWalk(b: Uint8Array, fail: Fail, checkCount: boolean, out: PackedEntry[] | null): number {
  const n = b.length;
  if (n < 7) fail(`listpack of ${n} bytes is shorter than its 7-byte minimum`);
  const total = u32(b, 0);
  if (total !== n) fail(`listpack header says ${total} bytes but the string holds ${n}`);
  if (b[n - 1] !== 0xff) fail('listpack does not end with the 0xFF terminator');
  const count = u16(b, 4);
  const last = n - 1;
  let p = 6;
  let entries = 0;
  let e: PackedEntry = 0;
  while (p < last) {
    const start = p;
    const c = b[p];
    if (c < 0x80) {
      e = c;
      p += 1;
    } else if ((c & 0xc0) === 0x80) {
      const len = c & 0x3f;
      if (p + 1 + len > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = b.subarray(p + 1, p + 1 + len);
      p += 1 + len;
    } else if ((c & 0xe0) === 0xc0) {
      if (p + 2 > last) fail(`listpack entry at ${start} overflows the listpack`);
      const u = ((c & 0x1f) << 8) | b[p + 1];
      e = u >= 4096 ? u - 8192 : u;
      p += 2;
    } else if ((c & 0xf0) === 0xe0) {
      if (p + 2 > last) fail(`listpack entry at ${start} overflows the listpack`);
      const len = ((c & 0x0f) << 8) | b[p + 1];
      if (p + 2 + len > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = b.subarray(p + 2, p + 2 + len);
      p += 2 + len;
    } else if (c === 0xf0) {
      if (p + 5 > last) fail(`listpack entry at ${start} overflows the listpack`);
      const len = u32(b, p + 1);
      if (p + 5 + len > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = b.subarray(p + 5, p + 5 + len);
      p += 5 + len;
    } else if (c === 0xf1) {
      if (p + 3 > last) fail(`listpack entry at ${start} overflows the listpack`);
      e = (u16(b, p + 1) << 16) >> 16;
      p += 3;
    } else if (c === 0xf2) {
      if (p + 4 > last) fail(`listpack entry at ${start} overflows the listpack`);
      e = ((b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16)) << 8) >> 8;
      p += 4;
    } else if (c === 0xf3) {
      if (p + 5 > last) fail(`listpack entry at ${start} overflows the listpack`);
      e = u32(b, p + 1) | 0;
      p += 5;
    } else if (c === 0xf4) {
      if (p + 9 > last) fail(`listpack entry at ${start} overflows the listpack`);
      if (out) e = i64(b, p + 1);
      p += 9;
    } else if (c === 0xff) {
      fail(`listpack terminator at ${start}, before the end of the listpack`);
    } else {
      fail(`invalid listpack entry encoding 0x${c.toString(16)} at ${start}`);
    }
    const l = p - start;
    const bl = backlenSize(l);
    if (p + bl > last) fail(`listpack entry at ${start} overflows the listpack`);
    // the back-length: high 7-bit group first (bit 7 clear), following bytes with bit 7 set
    let v = 0;
    for (let k = 0; k < bl; k++) {
      const byte = b[p + k];
      if ((k === 0) !== ((byte & 0x80) === 0)) fail(`bad listpack back-length at ${p}`);
      v = v * 128 + (byte & 0x7f);
    }
    if (v !== l) fail(`listpack back-length at ${p} says ${v}, entry has ${l} bytes`);
    p += bl;
    entries++;
    if (out) out.push(e);
  }
  if (checkCount && count !== 0xffff && count !== entries) fail(`listpack header counts ${count} entries but holds ${entries}`);
  return entries;
}

/** Decodes (and fully validates) a ziplist. */
export function ziplistEntries(b: Uint8Array, fail: Fail): PackedEntry[] {
  const out: PackedEntry[] = [];
  ziplistWalk(b, fail, out);
  return out;
}

/** Validates a ziplist as {@link ziplistEntries} does without materialising it: returns its entry count. */
export function ziplistCount(b: Uint8Array, fail: Fail): number {
  return ziplistWalk(b, fail, null);
}

function ziplistWalk(b: Uint8Array, fail: Fail, out: PackedEntry[] | null): number {
  const n = b.length;
  if (n < 11) fail(`ziplist of ${n} bytes is shorter than its 11-byte minimum`);
  const total = u32(b, 0);
  if (total !== n) fail(`ziplist header says ${total} bytes but the string holds ${n}`);
  const tail = u32(b, 4);
  const count = u16(b, 8);
  if (b[n - 1] !== 0xff) fail('ziplist does not end with the 0xFF terminator');
  if (tail > n - 1) fail(`ziplist tail offset ${tail} is beyond the ziplist`);
  const last = n - 1;
  let p = 10;
  let prevRaw = 0;
  let lastStart = 10;
  let entries = 0;
  let e: PackedEntry = 0;
  while (p < last) {
    const start = p;
    let prevlen: number;
    if (b[p] < 254) {
      prevlen = b[p];
      p += 1;
    } else if (b[p] === 254) {
      if (p + 5 > last) fail(`ziplist entry at ${start} overflows the ziplist`);
      prevlen = u32(b, p + 1);
      p += 5;
    } else {
      fail(`ziplist terminator at ${start}, before the end of the ziplist`);
    }
    if (prevlen !== prevRaw) fail(`ziplist entry at ${start} says the previous entry has ${prevlen} bytes, it has ${prevRaw}`);
    if (p >= last) fail(`ziplist entry at ${start} overflows the ziplist`);
    const c = b[p];
    const t = c >> 6;
    if (t < 3) {
      let len: number;
      if (t === 0) {
        len = c & 0x3f;
        p += 1;
      } else if (t === 1) {
        if (p + 2 > last) fail(`ziplist entry at ${start} overflows the ziplist`);
        len = ((c & 0x3f) << 8) | b[p + 1];
        p += 2;
      } else {
        if (p + 5 > last) fail(`ziplist entry at ${start} overflows the ziplist`);
        len = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        p += 5;
      }
      if (p + len > last) fail(`ziplist entry at ${start} overflows the ziplist`);
      if (out) e = b.subarray(p, p + len);
      p += len;
    } else {
      let size: number;
      if (c === 0xc0) size = 2;
      else if (c === 0xd0) size = 4;
      else if (c === 0xe0) size = 8;
      else if (c === 0xf0) size = 3;
      else if (c === 0xfe) size = 1;
      else if (c >= 0xf1 && c <= 0xfd) size = 0;
      else fail(`invalid ziplist entry encoding 0x${c.toString(16)} at ${p}`);
      if (p + 1 + size > last) fail(`ziplist entry at ${start} overflows the ziplist`);
      const d = p + 1;
      if (!out) e = 0;
      else if (size === 2) e = (u16(b, d) << 16) >> 16;
      else if (size === 4) e = u32(b, d) | 0;
      else if (size === 8) e = i64(b, d);
      else if (size === 3) e = ((b[d] | (b[d + 1] << 8) | (b[d + 2] << 16)) << 8) >> 8;
      else if (size === 1) e = (b[d] << 24) >> 24;
      else e = (c & 0x0f) - 1;
      p = d + size;
    }
    prevRaw = p - start;
    lastStart = start;
    entries++;
    if (out) out.push(e);
  }
  if (p !== last) fail('ziplist entries overrun the terminator');
  if (tail !== lastStart) fail(`ziplist tail offset ${tail} does not point at the last entry (${lastStart})`);
  if (count !== 0xffff && count !== entries) fail(`ziplist header counts ${count} entries but holds ${entries}`);
  return entries;
}

/** Decodes (and validates) an intset: members in stored order, as numbers or bigints. */
export function intsetEntries(b: Uint8Array, fail: Fail): (number | bigint)[] {
  if (b.length < 8) fail(`intset of ${b.length} bytes is shorter than its 8-byte header`);
  const enc = u32(b, 0);
  if (enc !== 2 && enc !== 4 && enc !== 8) fail(`intset element size ${enc} is not 2, 4 or 8`);
  const count = u32(b, 4);
  if (count === 0) fail('intset is empty');
  if (8 + count * enc !== b.length) fail(`intset of ${count} × ${enc}-byte elements must be ${8 + count * enc} bytes, it is ${b.length}`);
  const out: (number | bigint)[] = new Array(count);
  let prev: number | bigint | undefined;
  for (let k = 0, p = 8; k < count; k++, p += enc) {
    const v = enc === 2 ? (u16(b, p) << 16) >> 16 : enc === 4 ? u32(b, p) | 0 : i64(b, p);
    if (prev !== undefined && !(v > prev)) fail(`intset members are not strictly ascending at index ${k}`);
    prev = v;
    out[k] = v;
  }
  return out;
}

/** Decodes (and validates) a zipmap (Redis 2.x hashes): field, value, field, value... */
export function zipmapEntries(b: Uint8Array, fail: Fail): Uint8Array[] {
  const n = b.length;
  if (n < 2) fail('zipmap is shorter than 2 bytes');
  const zmlen = b[0];
  const out: Uint8Array[] = [];
  let p = 1;
  const readLen = (): number => {
    if (p >= n) fail('zipmap overflows its string');
    const c = b[p];
    if (c < 254) {
      p += 1;
      return c;
    }
    if (c === 254) {
      if (p + 5 > n) fail('zipmap overflows its string');
      const v = u32(b, p + 1);
      p += 5;
      return v;
    }
    fail(`unexpected zipmap terminator at ${p}`);
  };
  for (;;) {
    if (p >= n) fail('zipmap has no terminator');
    if (b[p] === 0xff) break;
    const klen = readLen();
    if (p + klen > n) fail('zipmap field overflows its string');
    out.push(b.subarray(p, p + klen));
    p += klen;
    const vlen = readLen();
    if (p >= n) fail('zipmap overflows its string');
    const free = b[p];
    p += 1;
    if (p + vlen + free > n) fail('zipmap value overflows its string');
    out.push(b.subarray(p, p + vlen));
    p += vlen + free;
  }
  if (p !== n - 1) fail('zipmap terminator is not its last byte');
  const pairs = out.length / 2;
  if (pairs === 0) fail('zipmap is empty');
  if (zmlen !== 254 && zmlen !== pairs) fail(`zipmap header counts ${zmlen} pairs but holds ${pairs}`);
  return out;
}

/** The part of {@link DupCheck} the duplicate scans need. */
export interface DupSink {
  seenRange(b: Uint8Array, s: number, e: number): boolean;
  seenInt(v: number | bigint): boolean;
}

/**
 * Walks a listpack already validated by {@link listpackCount} and feeds every `step`-th entry (0, step, 2*step...)
 * to `dup`; returns the index of the first duplicate, or -1.
 */
export function listpackDuplicate(b: Uint8Array, step: number, dup: DupSink): number {
  const last = b.length - 1;
  let p = 6;
  let k = 0;
  while (p < last) {
    const start = p;
    const c = b[p];
    const take = k % step === 0;
    let seen = false;
    if (c < 0x80) {
      if (take) seen = dup.seenInt(c);
      p += 1;
    } else if ((c & 0xc0) === 0x80) {
      const len = c & 0x3f;
      if (take) seen = dup.seenRange(b, p + 1, p + 1 + len);
      p += 1 + len;
    } else if ((c & 0xe0) === 0xc0) {
      if (take) {
        const u = ((c & 0x1f) << 8) | b[p + 1];
        seen = dup.seenInt(u >= 4096 ? u - 8192 : u);
      }
      p += 2;
    } else if ((c & 0xf0) === 0xe0) {
      const len = ((c & 0x0f) << 8) | b[p + 1];
      if (take) seen = dup.seenRange(b, p + 2, p + 2 + len);
      p += 2 + len;
    } else if (c === 0xf0) {
      const len = u32(b, p + 1);
      if (take) seen = dup.seenRange(b, p + 5, p + 5 + len);
      p += 5 + len;
    } else if (c === 0xf1) {
      if (take) seen = dup.seenInt((u16(b, p + 1) << 16) >> 16);
      p += 3;
    } else if (c === 0xf2) {
      if (take) seen = dup.seenInt(((b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16)) << 8) >> 8);
      p += 4;
    } else {
      // 0xf3 or 0xf4 (validation refused everything else)
      if (take) seen = dup.seenInt(c === 0xf3 ? u32(b, p + 1) | 0 : i64(b, p + 1));
      p += c === 0xf3 ? 5 : 9;
    }
    if (seen) return k;
    p += backlenSize(p - start);
    k++;
  }
  return -1;
}

/** As {@link listpackDuplicate}, for a ziplist already validated by {@link ziplistCount}. */
export function ziplistDuplicate(b: Uint8Array, step: number, dup: DupSink): number {
  const last = b.length - 1;
  let p = 10;
  let k = 0;
  while (p < last) {
    p += b[p] < 254 ? 1 : 5;
    const c = b[p];
    const t = c >> 6;
    const take = k % step === 0;
    let seen = false;
    if (t < 3) {
      let len: number;
      if (t === 0) {
        len = c & 0x3f;
        p += 1;
      } else if (t === 1) {
        len = ((c & 0x3f) << 8) | b[p + 1];
        p += 2;
      } else {
        len = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
        p += 5;
      }
      if (take) seen = dup.seenRange(b, p, p + len);
      p += len;
    } else {
      const d = p + 1;
      let size: number;
      let v: number | bigint;
      if (c === 0xc0) {
        size = 2;
        v = (u16(b, d) << 16) >> 16;
      } else if (c === 0xd0) {
        size = 4;
        v = u32(b, d) | 0;
      } else if (c === 0xe0) {
        size = 8;
        v = take ? i64(b, d) : 0;
      } else if (c === 0xf0) {
        size = 3;
        v = ((b[d] | (b[d + 1] << 8) | (b[d + 2] << 16)) << 8) >> 8;
      } else if (c === 0xfe) {
        size = 1;
        v = (b[d] << 24) >> 24;
      } else {
        size = 0;
        v = (c & 0x0f) - 1;
      }
      if (take) seen = dup.seenInt(v);
      p = d + size;
    }
    if (seen) return k;
    k++;
  }
  return -1;
}
