import { BytesError } from './errors.js';

/**
 * Decompresses an LZF stream (the format of Redis' lzf_d.c) into exactly `outLength` bytes.
 * `out`, when given, is reused (it must hold at least `outLength` bytes) so hot loops do not allocate.
 * Throws a `corrupt` {@link BytesError} (offset = position in `input`) when the stream reads past its end,
 * refers before the start of the output, or does not produce exactly `outLength` bytes.
 */
export function lzfDecompress(input: Uint8Array, outLength: number, out?: Uint8Array): Uint8Array {
  const dst = out && out.length >= outLength ? out : new Uint8Array(outLength);
  const inEnd = input.length;
  let ip = 0;
  let op = 0;
  while (ip < inEnd) {
    const ctrl = input[ip++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > outLength) throw new BytesError('corrupt', 'LZF literal run overflows the declared length', { offset: ip - 1 });
      if (ip + run > inEnd) throw new BytesError('corrupt', 'LZF literal run reads past the compressed data', { offset: ip - 1 });
      // at most 32 bytes: a loop beats subarray + set (which allocates a view)
      for (let k = 0; k < run; k++) dst[op + k] = input[ip + k];
      ip += run;
      op += run;
    } else {
      let len = ctrl >>> 5;
      const at = ip - 1;
      if (len === 7) {
        if (ip >= inEnd) throw new BytesError('corrupt', 'LZF back reference reads past the compressed data', { offset: at });
        len += input[ip++];
      }
      if (ip >= inEnd) throw new BytesError('corrupt', 'LZF back reference reads past the compressed data', { offset: at });
      const back = ((ctrl & 0x1f) << 8) + input[ip++] + 1;
      len += 2;
      if (back > op) throw new BytesError('corrupt', 'LZF back reference points before the start of the output', { offset: at });
      if (op + len > outLength) throw new BytesError('corrupt', 'LZF back reference overflows the declared length', { offset: at });
      let ref = op - back;
      // copyWithin's call costs more than a byte loop below ~64 bytes (most back references are short); an
      // overlapping one (back < len) must go byte by byte anyway
      if (back >= len && len >= 64) {
        dst.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        for (let k = 0; k < len; k++) dst[op++] = dst[ref++];
      }
    }
  }
  if (op !== outLength) {
    throw new BytesError('corrupt', `LZF data decompressed to ${op} bytes, expected ${outLength}`, { offset: inEnd });
  }
  return out === dst ? dst.subarray(0, outLength) : dst;
}

/**
 * True when `b[ip..inEnd)` is an LZF stream that decompresses to exactly `outLength` bytes: the checks of
 * {@link lzfDecompress}, made by walking the control bytes only, without producing the output.
 */
export function lzfValid(b: Uint8Array, ip: number, inEnd: number, outLength: number): boolean {
  let op = 0;
  while (ip < inEnd) {
    const ctrl = b[ip++];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > outLength || ip + run > inEnd) return false;
      ip += run;
      op += run;
    } else {
      let len = ctrl >>> 5;
      if (len === 7) {
        if (ip >= inEnd) return false;
        len += b[ip++];
      }
      if (ip >= inEnd) return false;
      const back = ((ctrl & 0x1f) << 8) + b[ip++] + 1;
      len += 2;
      if (back > op || op + len > outLength) return false;
      op += len;
    }
  }
  return op === outLength;
}

/**
 * The most bytes `compressedLength` bytes of LZF can decompress to (plus slack): a 3-byte back reference yields at
 * most 264 bytes, so a larger claimed ratio is a lie, refused before any memory is set aside for it.
 */
export function lzfMaxDecompressedLength(compressedLength: number): number {
  return compressedLength * 88 + 64;
}

const HLOG = 16;
const HSIZE = 1 << HLOG;
const MAX_LIT = 32;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);
// The hash table is shared by all calls and never cleared: each call stores positions shifted by `base`, and an
// entry below the current base belongs to an earlier input (so it is treated as empty). Clearing 256 KiB per call
// would dominate the cost of compressing many short strings.
let table: Int32Array | undefined;
let base = 1;

/**
 * LZF-compresses `input` with the parameters Redis uses (HLOG 16, 8 KiB window). Returns `null` when the
 * result would not fit in `maxOutput` bytes — Redis calls it with `len - 4` and stores the string raw then.
 * The output is a valid LZF stream; it is not promised to be byte-identical to Redis' (which hashes with an
 * uninitialised table). Allocates the result; hot loops use {@link lzfCompressInto}.
 */
export function lzfCompress(input: Uint8Array, maxOutput = input.length - 4): Uint8Array | null {
  if (input.length === 0 || maxOutput <= 0) return null;
  const out = new Uint8Array(maxOutput + 1);
  const n = lzfCompressInto(input, out, 0, maxOutput);
  return n < 0 ? null : out.slice(0, n);
}

/**
 * {@link lzfCompress} without allocating: writes the compressed bytes (exactly those `lzfCompress` returns) into
 * `out` from `outOffset` on and returns their count, or -1 when they would not fit in `maxOutput` bytes (then
 * `out[outOffset..outOffset + maxOutput]` holds garbage). `out` must hold `maxOutput + 1` bytes from `outOffset`
 * (the compressor may scribble one byte past the limit before it gives up); a RangeError otherwise.
 */
export function lzfCompressInto(input: Uint8Array, out: Uint8Array, outOffset = 0, maxOutput = input.length - 4): number {
  const inLen = input.length;
  if (inLen === 0 || maxOutput <= 0) return -1;
  if (outOffset < 0 || out.length - outOffset < maxOutput + 1) {
    throw new RangeError(`lzfCompressInto needs ${maxOutput + 1} bytes of output from offset ${outOffset}, has ${out.length - outOffset}`);
  }
  const htab = (table ??= new Int32Array(HSIZE));
  if (base + inLen + 1 > 0x7fffffff) {
    htab.fill(0);
    base = 1;
  }
  const b = base;
  base += inLen + 1;
  // positions in `out` are relative to o0; the limit check compares with maxOutput as before
  const o0 = outOffset;
  let ip = 0;
  let op = 1; // room for the first literal-run control byte
  let lit = 0;
  const HMASK = HSIZE - 1;
  // the hash's 3 bytes roll along (lzf_c.c's FRST/NEXT): one load per position instead of three
  let v = inLen > 1 ? (input[0] << 8) | input[1] : 0;
  while (ip < inLen) {
    if (ip < inLen - 2) {
      v = ((v << 8) | input[ip + 2]) & 0xffffff;
      const h = ((v >>> (24 - HLOG)) - v * 5) & HMASK;
      const stored = htab[h];
      const ref = stored >= b ? stored - b : -1;
      htab[h] = ip + b;
      const off = ip - ref - 1;
      if (ref >= 0 && off < MAX_OFF && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
        let len = 2;
        const maxLen = Math.min(inLen - ip - len, MAX_REF);
        // close the literal run
        out[o0 + op - lit - 1] = lit - 1;
        if (lit === 0) op--; // the reserved control byte was not used
        do len++;
        while (len < maxLen && input[ref + len] === input[ip + len]);
        len -= 2;
        ip++;
        if (op + 3 + 1 > maxOutput) return -1;
        if (len < 7) {
          out[o0 + op++] = (off >>> 8) + (len << 5);
        } else {
          out[o0 + op++] = (off >>> 8) + (7 << 5);
          out[o0 + op++] = len - 7;
        }
        out[o0 + op++] = off & 0xff;
        lit = 0;
        op++; // reserve the next literal control byte
        ip += len + 1;
        // the rolling value restarts at the new position (its first two bytes)
        if (ip < inLen - 1) v = (input[ip] << 8) | input[ip + 1];
        if (ip < inLen - 2) {
          // re-hash the two positions just before ip, as lzf_c.c does (VERY_FAST)
          let p = ip - 1;
          let w = (input[p] << 16) | (input[p + 1] << 8) | input[p + 2];
          htab[((w >>> (24 - HLOG)) - w * 5) & HMASK] = p + b;
          p = ip - 2;
          w = (input[p] << 16) | (input[p + 1] << 8) | input[p + 2];
          htab[((w >>> (24 - HLOG)) - w * 5) & HMASK] = p + b;
        }
        continue;
      }
    }
    if (op >= maxOutput) return -1;
    lit++;
    out[o0 + op++] = input[ip++];
    if (lit === MAX_LIT) {
      out[o0 + op - lit - 1] = lit - 1;
      lit = 0;
      op++;
    }
  }
  out[o0 + op - lit - 1] = lit - 1;
  if (lit === 0) op--;
  if (op > maxOutput) return -1;
  return op;
}

/**
 * Decompresses the whole LZF tokens of `input[ip..inEnd)` into `dst` from `op` on (`dst` holds the stream's whole
 * output, `outLength` bytes: back references reach into what earlier calls wrote), for a stream that arrives in
 * parts. Returns where it stopped: `ip` at the first token not wholly in the input (at most 33 bytes are left), `op`
 * the output written so far. Throws what {@link lzfDecompress} throws (offset = position in `input`), except the
 * final length check: the caller makes it once the stream is over (`op === outLength`, nothing left).
 */
export function lzfDecompressStep(input: Uint8Array, ip: number, inEnd: number, dst: Uint8Array, op: number, outLength: number): { ip: number; op: number } {
  while (ip < inEnd) {
    const ctrl = input[ip];
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + 1 + run > inEnd) break;
      if (op + run > outLength) throw new BytesError('corrupt', 'LZF literal run overflows the declared length', { offset: ip });
      dst.set(input.subarray(ip + 1, ip + 1 + run), op);
      ip += 1 + run;
      op += run;
    } else {
      let len = ctrl >>> 5;
      const size = len === 7 ? 3 : 2;
      if (ip + size > inEnd) break;
      const at = ip;
      if (len === 7) len += input[ip + 1];
      const back = ((ctrl & 0x1f) << 8) + input[ip + size - 1] + 1;
      len += 2;
      if (back > op) throw new BytesError('corrupt', 'LZF back reference points before the start of the output', { offset: at });
      if (op + len > outLength) throw new BytesError('corrupt', 'LZF back reference overflows the declared length', { offset: at });
      let ref = op - back;
      if (back >= len && len >= 64) {
        dst.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        for (let k = 0; k < len; k++) dst[op++] = dst[ref++];
      }
      ip += size;
    }
  }
  return { ip, op };
}
