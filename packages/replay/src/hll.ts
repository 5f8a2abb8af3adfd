// PFADD producing the bytes Redis stores: the 16-byte "HYLL" header, the sparse encoding (ZERO / XZERO / VAL
// opcodes) with Redis' splitting and merging rules, promotion to the 12304-byte dense encoding past
// hll-sparse-max-bytes or for a run length over 32, and the invalidated cardinality cache.

const HDR = 16;
const P = 14;
const REGISTERS = 1 << P;
const DENSE_SIZE = HDR + ((REGISTERS * 6 + 7) >> 3);
const M = 0xc6a4a7935bd1e995n;
const MASK64 = 0xffffffffffffffffn;
const SEED = 0xadc83b19n;

function murmur64a(key: Uint8Array): bigint {
  const len = key.length;
  let h = (SEED ^ ((BigInt(len) * M) & MASK64)) & MASK64;
  const whole = len - (len & 7);
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  for (let i = 0; i < whole; i += 8) {
    let k = view.getBigUint64(i, true);
    k = (k * M) & MASK64;
    k ^= k >> 47n;
    k = (k * M) & MASK64;
    h ^= k;
    h = (h * M) & MASK64;
  }
  const rest = len & 7;
  if (rest > 0) {
    for (let i = rest - 1; i >= 0; i--) h ^= BigInt(key[whole + i]) << BigInt(8 * i);
    h = (h * M) & MASK64;
  }
  h ^= h >> 47n;
  h = (h * M) & MASK64;
  h ^= h >> 47n;
  return h;
}

/** Register index and run length of the element's hash (Redis hllPatLen). */
function patLen(ele: Uint8Array): [number, number] {
  const hash = murmur64a(ele);
  const index = Number(hash & BigInt(REGISTERS - 1));
  let rest = (hash >> BigInt(P)) | (1n << 50n);
  let count = 1;
  // low 32 bits first, then the rest, without a BigInt per bit
  let lo = Number(rest & 0xffffffffn);
  if (lo === 0) {
    count += 32;
    rest >>= 32n;
    lo = Number(rest & 0xffffffffn);
  }
  while ((lo & 1) === 0) {
    count++;
    lo >>>= 1;
  }
  return [index, count];
}

export function isHll(v: Uint8Array): boolean {
  if (v.length < HDR || v[0] !== 0x48 || v[1] !== 0x59 || v[2] !== 0x4c || v[3] !== 0x4c) return false;
  if (v[4] > 1) return false;
  if (v[4] === 0 && v.length !== DENSE_SIZE) return false;
  return true;
}

export function emptyHll(): Uint8Array {
  const b = new Uint8Array(HDR + 2);
  b.set([0x48, 0x59, 0x4c, 0x4c, 1]);
  const l = REGISTERS - 1;
  b[HDR] = (l >> 8) | 0x40;
  b[HDR + 1] = l & 0xff;
  return b;
}

function denseGet(r: Uint8Array, reg: number): number {
  const byte = HDR + ((reg * 6) >> 3);
  const fb = (reg * 6) & 7;
  return ((r[byte] >> fb) | ((r[byte + 1] ?? 0) << (8 - fb))) & 63;
}

function denseSet(r: Uint8Array, reg: number, val: number): void {
  const byte = HDR + ((reg * 6) >> 3);
  const fb = (reg * 6) & 7;
  r[byte] = (r[byte] & ~(63 << fb)) | ((val << fb) & 0xff);
  if (byte + 1 < r.length) r[byte + 1] = (r[byte + 1] & ~(63 >> (8 - fb))) | (val >> (8 - fb));
}

function toDense(s: Uint8Array): Uint8Array {
  const d = new Uint8Array(DENSE_SIZE);
  d.set(s.subarray(0, HDR));
  d[4] = 0;
  let idx = 0;
  let p = HDR;
  while (p < s.length) {
    const b = s[p];
    if ((b & 0xc0) === 0) {
      idx += (b & 0x3f) + 1;
      p++;
    } else if ((b & 0xc0) === 0x40) {
      idx += (((b & 0x3f) << 8) | s[p + 1]) + 1;
      p += 2;
    } else {
      let run = (b & 3) + 1;
      const val = ((b >> 2) & 0x1f) + 1;
      if (run + idx > REGISTERS) break;
      while (run-- > 0) denseSet(d, idx++, val);
      p++;
    }
  }
  return d;
}

const val = (v: number, len: number): number => 0x80 | ((v - 1) << 2) | (len - 1);

/**
 * Adds one element; returns the (possibly new) value and whether a register changed. `maxSparse` is
 * hll-sparse-max-bytes (3000 by default).
 */
function addOne(hll: Uint8Array, ele: Uint8Array, maxSparse: number): [Uint8Array, boolean] {
  const [index, count] = patLen(ele);
  return setRegister(hll, index, count, maxSparse);
}

/** Raises register `index` to `count` (hllDenseSet / hllSparseSet); returns the value and whether it changed. */
function setRegister(hll: Uint8Array, index: number, count: number, maxSparse: number): [Uint8Array, boolean] {
  if (hll[4] === 0) {
    if (count > denseGet(hll, index)) {
      denseSet(hll, index, count);
      return [hll, true];
    }
    return [hll, false];
  }
  const promote = (): [Uint8Array, boolean] => {
    const d = toDense(hll);
    denseSet(d, index, count);
    return [d, true];
  };
  if (count > 32) return promote();
  let p = HDR;
  const end = hll.length;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const b = hll[p];
    let oplen = 1;
    if ((b & 0xc0) === 0) span = (b & 0x3f) + 1;
    else if (b & 0x80) span = (b & 3) + 1;
    else {
      span = (((b & 0x3f) << 8) | hll[p + 1]) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return [hll, false]; // invalid sparse data: Redis fails the command
  const b = hll[p];
  const isVal = (b & 0x80) !== 0;
  const isZero = (b & 0xc0) === 0;
  const isXzero = !isVal && !isZero;
  const runlen = isZero ? (b & 0x3f) + 1 : isVal ? (b & 3) + 1 : (((b & 0x3f) << 8) | hll[p + 1]) + 1;
  let out = hll;
  if (isVal) {
    const old = ((b >> 2) & 0x1f) + 1;
    if (old >= count) return [hll, false];
  }
  if ((isVal || isZero) && runlen === 1) {
    out[p] = val(count, 1);
  } else {
    const seq: number[] = [];
    const last = first + runlen - 1;
    if (!isVal) {
      const zeros = (len: number) => {
        if (len > 64) seq.push(((len - 1) >> 8) | 0x40, (len - 1) & 0xff);
        else seq.push(len - 1);
      };
      if (index !== first) zeros(index - first);
      seq.push(val(count, 1));
      if (index !== last) zeros(last - index);
    } else {
      const cur = ((b >> 2) & 0x1f) + 1;
      if (index !== first) seq.push(val(cur, index - first));
      seq.push(val(count, 1));
      if (index !== last) seq.push(val(cur, last - index));
    }
    const oldlen = isXzero ? 2 : 1;
    const delta = seq.length - oldlen;
    if (delta > 0 && hll.length + delta > maxSparse) return promote();
    out = new Uint8Array(hll.length + delta);
    out.set(hll.subarray(0, p));
    out.set(seq, p);
    out.set(hll.subarray(p + oldlen), p + seq.length);
  }
  // Merge adjacent VAL opcodes of the same value (up to 5 opcodes from the one before the change).
  let q = prev >= 0 ? prev : HDR;
  let scan = 5;
  let e = out.length;
  while (q < e && scan-- > 0) {
    const c = out[q];
    if ((c & 0xc0) === 0x40) {
      q += 2;
      continue;
    }
    if ((c & 0xc0) === 0) {
      q++;
      continue;
    }
    if (q + 1 < e && out[q + 1] & 0x80) {
      const v1 = ((c >> 2) & 0x1f) + 1;
      const n = out[q + 1];
      const v2 = ((n >> 2) & 0x1f) + 1;
      if (v1 === v2) {
        const len = (c & 3) + 1 + (n & 3) + 1;
        if (len <= 4) {
          out[q + 1] = val(v1, len);
          out.copyWithin(q, q + 1, e);
          e--;
          out = out.subarray(0, e);
          continue;
        }
      }
    }
    q++;
  }
  return [out.slice(), true];
}

/** PFADD semantics on an existing HLL value (or null for a new key): the new value, or null when unchanged. */
export function pfadd(existing: Uint8Array | null, elements: Uint8Array[], maxSparse = 3000): Uint8Array | null {
  let hll = existing === null ? emptyHll() : existing.slice();
  let updated = existing === null;
  for (const e of elements) {
    const [next, changed] = addOne(hll, e, maxSparse);
    hll = next;
    if (changed) updated = true;
  }
  if (!updated) return null;
  hll[15] |= 0x80;
  return hll;
}

/** Register histogram (hllDenseRegHisto / hllSparseRegHisto); null for an invalid sparse encoding. */
function histogram(hll: Uint8Array): number[] | null {
  const h = new Array<number>(64).fill(0);
  if (hll[4] === 0) {
    for (let i = 0; i < REGISTERS; i++) h[denseGet(hll, i)]++;
    return h;
  }
  let idx = 0;
  let p = HDR;
  while (p < hll.length) {
    const b = hll[p];
    if ((b & 0xc0) === 0) {
      const run = (b & 0x3f) + 1;
      idx += run;
      h[0] += run;
      p++;
    } else if ((b & 0xc0) === 0x40) {
      const run = (((b & 0x3f) << 8) | hll[p + 1]) + 1;
      idx += run;
      h[0] += run;
      p += 2;
    } else {
      const run = (b & 3) + 1;
      idx += run;
      h[((b >> 2) & 0x1f) + 1] += run;
      p++;
    }
  }
  return idx === REGISTERS ? h : null;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrime: number;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrime: number;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (zPrime !== z);
  return z / 3;
}

/** hllCount: Ertl's estimator over the register histogram, as Redis 5+ computes it. */
function estimate(hll: Uint8Array): number | null {
  const h = histogram(hll);
  if (h === null) return null;
  const m = REGISTERS;
  let z = m * tau((m - h[51]) / m);
  for (let j = 50; j >= 1; j--) {
    z += h[j];
    z *= 0.5;
  }
  z += m * sigma(h[0] / m);
  return Math.round((0.72134752044448170368 * m * m) / z);
}

/**
 * PFCOUNT on one key: when the cached cardinality is invalid, Redis computes it and stores it in the header
 * (and propagates the PFCOUNT). Returns the new value, or null when nothing changes.
 */
export function pfcountCache(hll: Uint8Array): Uint8Array | null {
  if ((hll[15] & 0x80) === 0) return null;
  const card = estimate(hll);
  if (card === null) return null;
  const out = hll.slice();
  let c = BigInt(card);
  for (let i = 0; i < 8; i++) {
    out[8 + i] = Number(c & 0xffn);
    c >>= 8n;
  }
  return out;
}

/** PFMERGE: the destination (null when absent) after merging every source's registers, cache invalidated. */
export function pfmerge(dest: Uint8Array | null, sources: Uint8Array[], maxSparse = 3000): Uint8Array {
  const max = new Uint8Array(REGISTERS);
  let dense = false;
  for (const s of sources) {
    if (s[4] === 0) {
      dense = true;
      for (let i = 0; i < REGISTERS; i++) {
        const v = denseGet(s, i);
        if (v > max[i]) max[i] = v;
      }
    } else {
      let idx = 0;
      let p = HDR;
      while (p < s.length && idx < REGISTERS) {
        const b = s[p];
        if ((b & 0xc0) === 0) {
          idx += (b & 0x3f) + 1;
          p++;
        } else if ((b & 0xc0) === 0x40) {
          idx += (((b & 0x3f) << 8) | s[p + 1]) + 1;
          p += 2;
        } else {
          let run = (b & 3) + 1;
          const v = ((b >> 2) & 0x1f) + 1;
          while (run-- > 0 && idx < REGISTERS) {
            if (v > max[idx]) max[idx] = v;
            idx++;
          }
          p++;
        }
      }
    }
  }
  let out = dest === null ? emptyHll() : dest.slice();
  if (dense && out[4] !== 0) out = toDense(out);
  for (let i = 0; i < REGISTERS; i++) {
    if (max[i] === 0) continue;
    out = setRegister(out, i, max[i], maxSparse)[0];
  }
  out[15] |= 0x80;
  return out;
}
