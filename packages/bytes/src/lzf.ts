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
 * final length check: the caller makes it once the stream is over (`op === outLength`, nothing left). With `stopAt`
 * it also stops once `op` reaches it (a token writes at most 264 bytes past it): a caller decompressing into a
 * window hands out what is there, keeps the last 8 KiB (the farthest a back reference reaches) and goes on.
 */
export function lzfDecompressStep(input: Uint8Array, ip: number, inEnd: number, dst: Uint8Array, op: number, outLength: number, stopAt = Infinity): { ip: number; op: number } {
  while (ip < inEnd && op < stopAt) {
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

/** Bytes of input the streaming compressor needs past a position before it decides what to write there. */
const LOOKAHEAD = MAX_REF + 8;

/**
 * {@link lzfCompressInto} of a stream of known length given in pieces, in bounded memory: it writes exactly the
 * bytes `lzfCompressInto(whole, out, 0, maxOutput)` writes for the whole input (same hash, same matches, same
 * literal runs), handing them out as they are decided. It keeps the last 8 KiB of input (the farthest a back
 * reference reaches), a 256 KiB hash table of its own and at most one literal run of output. Feed the `length`
 * bytes with {@link push} (any piece sizes), then {@link end}. When the output would not fit in `maxOutput` bytes
 * (Redis then stores the string raw) {@link failed} turns true: nothing more is handed out and `end` returns -1.
 */
export class LzfCompressStream {
  private readonly htab = new Int32Array(HSIZE);
  /** Input bytes from stream position `winStart` on (`win[0]` is that position). */
  private win: Uint8Array;
  private winStart = 0;
  private winLen = 0;
  /** Bytes of input pushed so far; the next position to compress. */
  private got = 0;
  private ip = 0;
  private v = 0;
  private started = false;
  /** Output not handed out yet (the open literal run and its control byte); `op` counts all output so far. */
  private out: Uint8Array;
  private outLen = 1;
  private op = 1;
  private lit = 0;
  private flushed = 0;
  failed = false;

  constructor(
    readonly length: number,
    readonly maxOutput: number,
    /** Receives compressed bytes as they are decided (the array is reused: copy what is kept). */
    private readonly emit: (bytes: Uint8Array) => void,
    private readonly outChunk = 64 * 1024,
  ) {
    if (length > 0x7ffffffe) throw new RangeError(`LzfCompressStream: ${length} bytes is more than it can index`);
    this.win = new Uint8Array(MAX_OFF + LOOKAHEAD + 64 * 1024);
    this.out = new Uint8Array(this.outChunk + 2 * MAX_LIT + 8);
    if (length <= 0 || maxOutput <= 0) this.failed = true;
  }

  /** The next bytes of input. */
  push(piece: Uint8Array): void {
    if (this.got + piece.length > this.length) throw new RangeError(`LzfCompressStream: more than the declared ${this.length} bytes`);
    let at = 0;
    while (at < piece.length) {
      if (this.failed) {
        this.got += piece.length - at;
        return;
      }
      // keep from (ip - MAX_OFF) on; make room for more
      const keepFrom = Math.max(this.winStart, this.ip - MAX_OFF - 2);
      if (this.winLen === this.win.length) {
        const drop = keepFrom - this.winStart;
        if (drop > 0) {
          this.win.copyWithin(0, drop, this.winLen);
          this.winStart += drop;
          this.winLen -= drop;
        }
        if (this.winLen === this.win.length) {
          const bigger = new Uint8Array(this.win.length * 2);
          bigger.set(this.win.subarray(0, this.winLen));
          this.win = bigger;
        }
      }
      const n = Math.min(piece.length - at, this.win.length - this.winLen);
      this.win.set(piece.subarray(at, at + n), this.winLen);
      this.winLen += n;
      this.got += n;
      at += n;
      this.run();
    }
  }

  /** The input is all in: the total of compressed bytes handed out, or -1 when it did not fit in `maxOutput`. */
  end(): number {
    if (this.got !== this.length) throw new RangeError(`LzfCompressStream: ${this.got} of ${this.length} bytes pushed`);
    if (this.failed) return -1;
    this.run();
    if (this.failed) return -1;
    const o = this.out;
    const base = this.op - this.outLen;
    o[this.op - this.lit - 1 - base] = this.lit - 1;
    if (this.lit === 0) this.op--;
    if (this.op > this.maxOutput) {
      this.failed = true;
      return -1;
    }
    const n = this.op - base;
    if (n > 0) this.emit(o.subarray(0, n));
    this.flushed += n;
    return this.op;
  }

  /** Compresses what the input in hand decides (all of it once the whole input is in). */
  private run(): void {
    const inLen = this.length;
    const input = this.win;
    const ws = this.winStart;
    const avail = ws + this.winLen;
    const last = avail === inLen;
    const stop = last ? inLen : avail - LOOKAHEAD;
    const htab = this.htab;
    const maxOutput = this.maxOutput;
    const HMASK = HSIZE - 1;
    if (!this.started) {
      if (!last && avail < 2) return;
      this.v = inLen > 1 ? (input[0] << 8) | input[1] : 0;
      this.started = true;
    }
    let ip = this.ip;
    let v = this.v;
    let op = this.op;
    let lit = this.lit;
    let o = this.out;
    // out[k] holds output position (op - outLen + k)
    let base = op - this.outLen;
    while (ip < stop) {
      // hand out what is decided: everything before the open literal run's control byte
      if (op - base > this.outChunk) {
        const keep = op - lit - 1;
        const n = keep - base;
        this.emit(o.subarray(0, n));
        this.flushed += n;
        o.copyWithin(0, n, op - base);
        base = keep;
      }
      if (ip < inLen - 2) {
        v = ((v << 8) | input[ip + 2 - ws]) & 0xffffff;
        const h = ((v >>> (24 - HLOG)) - v * 5) & HMASK;
        const ref = htab[h] - 1;
        htab[h] = ip + 1;
        const off = ip - ref - 1;
        if (ref >= 0 && off < MAX_OFF && input[ref - ws] === input[ip - ws] && input[ref + 1 - ws] === input[ip + 1 - ws] && input[ref + 2 - ws] === input[ip + 2 - ws]) {
          let len = 2;
          const maxLen = Math.min(inLen - ip - len, MAX_REF);
          o[op - lit - 1 - base] = lit - 1;
          if (lit === 0) op--;
          do len++;
          while (len < maxLen && input[ref + len - ws] === input[ip + len - ws]);
          len -= 2;
          ip++;
          if (op + 3 + 1 > maxOutput) {
            this.failed = true;
            return;
          }
          if (len < 7) {
            o[op++ - base] = (off >>> 8) + (len << 5);
          } else {
            o[op++ - base] = (off >>> 8) + (7 << 5);
            o[op++ - base] = len - 7;
          }
          o[op++ - base] = off & 0xff;
          lit = 0;
          op++;
          ip += len + 1;
          if (ip < inLen - 1) v = (input[ip - ws] << 8) | input[ip + 1 - ws];
          if (ip < inLen - 2) {
            let p = ip - 1;
            let w = (input[p - ws] << 16) | (input[p + 1 - ws] << 8) | input[p + 2 - ws];
            htab[((w >>> (24 - HLOG)) - w * 5) & HMASK] = p + 1;
            p = ip - 2;
            w = (input[p - ws] << 16) | (input[p + 1 - ws] << 8) | input[p + 2 - ws];
            htab[((w >>> (24 - HLOG)) - w * 5) & HMASK] = p + 1;
          }
          continue;
        }
      }
      if (op >= maxOutput) {
        this.failed = true;
        return;
      }
      lit++;
      o[op++ - base] = input[ip++ - ws];
      if (lit === MAX_LIT) {
        o[op - lit - 1 - base] = lit - 1;
        lit = 0;
        op++;
      }
    }
    this.ip = ip;
    this.v = v;
    this.op = op;
    this.lit = lit;
    this.out = o;
    this.outLen = op - base;
  }
}
