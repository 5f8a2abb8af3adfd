// CRC-64/Jones as Redis computes it (src/crc64.c): reflected polynomial 0x95AC9329AC4BC9B5, init 0, no final
// XOR. Three implementations of the same sliced table lookup, measured by bench/micro.mjs (MB/s on the bench
// machine, Node 20): JavaScript on two unsigned 32-bit halves (so the hot loop never touches BigInt) sliced by 8
// and by 16 bytes per step, and a small WebAssembly module (scripts/gen-crc64-wasm.mjs) on i64 sliced by 8 and 16.
// {@link Crc64} uses the WebAssembly one sliced by 16 (the fastest) and falls back to JavaScript where
// WebAssembly is not available.
import { CRC64_WASM_BASE64, CRC64_WASM_INPUT, CRC64_WASM_INPUT_SIZE, CRC64_WASM_STATE } from './crc64-wasm.js';

const SLICES = 16;
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

/** The CRC state: two unsigned 32-bit halves, updated in place by the implementations below. */
interface CrcState {
  lo: number;
  hi: number;
}

function tail(st: CrcState, data: Uint8Array, i: number, end: number): void {
  let lo = st.lo;
  let hi = st.hi;
  while (i < end) {
    const idx = (lo ^ data[i]) & 0xff;
    lo = LO[idx] ^ ((lo >>> 8) | (hi << 24));
    hi = HI[idx] ^ (hi >>> 8);
    i++;
  }
  st.lo = lo >>> 0;
  st.hi = hi >>> 0;
}

/** JavaScript, 8 bytes per step. */
function updateJs8(st: CrcState, data: Uint8Array, start: number, end: number): void {
  let lo = st.lo;
  let hi = st.hi;
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
  st.lo = lo >>> 0;
  st.hi = hi >>> 0;
  tail(st, data, i, end);
}

/** JavaScript, 16 bytes per step. */
function updateJs16(st: CrcState, data: Uint8Array, start: number, end: number): void {
  let lo = st.lo;
  let hi = st.hi;
  let i = start;
  const fastEnd = end - 16;
  while (i <= fastEnd) {
    const a = (lo ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    const b = (hi ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24))) >>> 0;
    const c = (data[i + 8] | (data[i + 9] << 8) | (data[i + 10] << 16) | (data[i + 11] << 24)) >>> 0;
    const d = (data[i + 12] | (data[i + 13] << 8) | (data[i + 14] << 16) | (data[i + 15] << 24)) >>> 0;
    const j15 = 15 * 256 + (a & 0xff);
    const j14 = 14 * 256 + ((a >>> 8) & 0xff);
    const j13 = 13 * 256 + ((a >>> 16) & 0xff);
    const j12 = 12 * 256 + (a >>> 24);
    const j11 = 11 * 256 + (b & 0xff);
    const j10 = 10 * 256 + ((b >>> 8) & 0xff);
    const j9 = 9 * 256 + ((b >>> 16) & 0xff);
    const j8 = 8 * 256 + (b >>> 24);
    const j7 = 7 * 256 + (c & 0xff);
    const j6 = 6 * 256 + ((c >>> 8) & 0xff);
    const j5 = 5 * 256 + ((c >>> 16) & 0xff);
    const j4 = 4 * 256 + (c >>> 24);
    const j3 = 3 * 256 + (d & 0xff);
    const j2 = 2 * 256 + ((d >>> 8) & 0xff);
    const j1 = 256 + ((d >>> 16) & 0xff);
    const j0 = d >>> 24;
    lo =
      LO[j15] ^ LO[j14] ^ LO[j13] ^ LO[j12] ^ LO[j11] ^ LO[j10] ^ LO[j9] ^ LO[j8] ^
      LO[j7] ^ LO[j6] ^ LO[j5] ^ LO[j4] ^ LO[j3] ^ LO[j2] ^ LO[j1] ^ LO[j0];
    hi =
      HI[j15] ^ HI[j14] ^ HI[j13] ^ HI[j12] ^ HI[j11] ^ HI[j10] ^ HI[j9] ^ HI[j8] ^
      HI[j7] ^ HI[j6] ^ HI[j5] ^ HI[j4] ^ HI[j3] ^ HI[j2] ^ HI[j1] ^ HI[j0];
    i += 16;
  }
  st.lo = lo >>> 0;
  st.hi = hi >>> 0;
  tail(st, data, i, end);
}

type WasmFn = (ptr: number, len: number) => void;
// The few WebAssembly names used (the project's TypeScript libs do not declare them).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { mem: { buffer: ArrayBuffer }; s8: WasmFn; s16: WasmFn } };
}
interface WasmCrc {
  mem: Uint8Array;
  state: Uint32Array;
  s8: WasmFn;
  s16: WasmFn;
}
let wasm: WasmCrc | null | undefined;

/** The WebAssembly module, instantiated (synchronously: 668 bytes) on first use; null where it cannot be. */
function loadWasm(): WasmCrc | null {
  if (wasm !== undefined) return wasm;
  try {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    if (!api) return (wasm = null);
    const ex = new api.Instance(new api.Module(Buffer.from(CRC64_WASM_BASE64, 'base64'))).exports;
    const mem = new Uint8Array(ex.mem.buffer);
    const view = new DataView(ex.mem.buffer);
    for (let k = 0; k < 256 * SLICES; k++) {
      view.setUint32(k * 8, LO[k], true);
      view.setUint32(k * 8 + 4, HI[k], true);
    }
    wasm = { mem, state: new Uint32Array(ex.mem.buffer, CRC64_WASM_STATE, 2), s8: ex.s8, s16: ex.s16 };
  } catch {
    wasm = null;
  }
  return wasm;
}

function updateWasm(w: WasmCrc, fn: WasmFn, st: CrcState, data: Uint8Array, start: number, end: number): void {
  const mem = w.mem;
  const state = w.state;
  state[0] = st.lo;
  state[1] = st.hi;
  for (let i = start; i < end; ) {
    const n = Math.min(end - i, CRC64_WASM_INPUT_SIZE);
    mem.set(data.subarray(i, i + n), CRC64_WASM_INPUT);
    fn(0, n);
    i += n;
  }
  st.lo = state[0];
  st.hi = state[1];
}

// Below this many bytes the call into WebAssembly and the copy into its memory cost more than they save.
const WASM_MIN = 256;

function updateFast(st: CrcState, data: Uint8Array, start: number, end: number): void {
  const w = end - start >= WASM_MIN ? loadWasm() : null;
  if (w) updateWasm(w, w.s16, st, data, start, end);
  else updateJs16(st, data, start, end);
}

/**
 * Every implementation by name (for bench/micro.mjs and the test that they agree): each feeds `data` to a CRC
 * state starting at `crc` and returns the new CRC. `wasm-*` are null where WebAssembly is not available.
 */
export function crc64Implementations(): Record<'js8' | 'js16' | 'wasm8' | 'wasm16' | 'default', ((crc: bigint, data: Uint8Array) => bigint) | null> {
  const wrap = (f: (st: CrcState, data: Uint8Array, start: number, end: number) => void) => (crc: bigint, data: Uint8Array): bigint => {
    const st = { lo: Number(crc & 0xffffffffn), hi: Number((crc >> 32n) & 0xffffffffn) };
    f(st, data, 0, data.length);
    return (BigInt(st.hi) << 32n) | BigInt(st.lo);
  };
  const w = loadWasm();
  return {
    js8: wrap(updateJs8),
    js16: wrap(updateJs16),
    wasm8: w && wrap((st, d, s, e) => updateWasm(w, w.s8, st, d, s, e)),
    wasm16: w && wrap((st, d, s, e) => updateWasm(w, w.s16, st, d, s, e)),
    default: wrap(updateFast),
  };
}

/** Incremental CRC-64/Jones. Feed bytes with {@link update}; read the value with {@link value}. */
export class Crc64 {
  private readonly st: CrcState;

  /** Starts from `initial` (a CRC of earlier bytes, to resume from), default 0. */
  constructor(initial = 0n) {
    this.st = { lo: Number(initial & 0xffffffffn), hi: Number((initial >> 32n) & 0xffffffffn) };
  }

  /** Adds `data[start, end)` to the checksum; returns this. */
  update(data: Uint8Array, start = 0, end = data.length): this {
    updateFast(this.st, data, start, end);
    return this;
  }

  /** The CRC as an unsigned 64-bit bigint. */
  value(): bigint {
    return (BigInt(this.st.hi) << 32n) | BigInt(this.st.lo);
  }

  /** True when the 8 bytes at `data[offset]` hold this CRC little-endian (as Redis stores it). */
  matchesLE(data: Uint8Array, offset: number): boolean {
    const lo = (data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) | (data[offset + 3] << 24)) >>> 0;
    const hi = (data[offset + 4] | (data[offset + 5] << 8) | (data[offset + 6] << 16) | (data[offset + 7] << 24)) >>> 0;
    return lo === this.st.lo && hi === this.st.hi;
  }

  /** Writes this CRC as 8 little-endian bytes into `out` at `offset`. */
  writeLE(out: Uint8Array, offset: number): void {
    const { lo, hi } = this.st;
    for (let k = 0; k < 4; k++) out[offset + k] = (lo >>> (8 * k)) & 0xff;
    for (let k = 0; k < 4; k++) out[offset + 4 + k] = (hi >>> (8 * k)) & 0xff;
  }

  /** Starts over from the empty checksum; returns this. */
  reset(): this {
    this.st.lo = 0;
    this.st.hi = 0;
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
