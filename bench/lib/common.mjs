// Shared helpers for the benchmark: seeded PRNG, a bounded RESP buffer writer, small fs/format utilities.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const REPO_ROOT = path.dirname(BENCH_DIR);
export const DATA_DIR = path.join(BENCH_DIR, 'data');

export function log(...args) {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${args.join(' ')}\n`);
}

/** mulberry32: small, fast, seeded; good enough for generating traffic. */
export class Rng {
  constructor(seed) {
    this.s = seed >>> 0;
  }
  u32() {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** integer in [0, n) */
  int(n) {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** integer in [lo, hi] */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }
  chance(p) {
    return this.u32() / 4294967296 < p;
  }
}

/** A pool of pseudo-random bytes; values are slices of it (binary, incompressible, may contain \r\n). */
export function makeBytePool(rng, size = 8 << 20) {
  const pool = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) pool.writeUInt32LE(rng.u32(), i);
  return pool;
}

/**
 * Buffers RESP commands into fixed-size chunks and hands full chunks to `sink(chunk)`.
 * `sink` may return a promise (stream back-pressure); callers await `w.pending` when set.
 * Memory stays bounded by the chunk size (+ one large value written straight through).
 */
export class RespWriter {
  constructor(sink, chunkSize = 4 << 20) {
    this.sink = sink;
    this.chunkSize = chunkSize;
    this.buf = Buffer.allocUnsafe(chunkSize);
    this.pos = 0;
    this.bytes = 0;
    this.commands = 0;
    this.pending = null;
    this.freshBuffers = false; // set when the sink keeps references to chunks (streams)
  }
  _flush() {
    if (this.pos === 0) return;
    const chunk = this.freshBuffers ? this.buf.subarray(0, this.pos) : this.buf.subarray(0, this.pos);
    const r = this.sink(chunk);
    if (this.freshBuffers) this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
    if (r && typeof r.then === 'function') this.pending = this.pending ? this.pending.then(() => r) : r;
  }
  _ensure(n) {
    if (this.pos + n > this.chunkSize) this._flush();
  }
  _ascii(s) {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }
  /**
   * Append one command. Each arg is a string (latin1/ASCII), a number, or a Buffer.
   */
  cmd(args) {
    this.commands++;
    let need = 16;
    for (const a of args) need += (typeof a === 'string' ? a.length : typeof a === 'number' ? 24 : a.length) + 16;
    const start = this.bytes;
    if (need > this.chunkSize) {
      // A huge value: write piecewise, passing large buffers straight to the sink.
      this._ensure(16);
      this._ascii(`*${args.length}\r\n`);
      for (const a of args) {
        const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : typeof a === 'number' ? Buffer.from(String(a)) : a;
        this._ensure(24);
        this._ascii(`$${b.length}\r\n`);
        if (b.length > this.chunkSize / 2) {
          this._flush();
          const r = this.sink(this.freshBuffers ? Buffer.from(b) : b);
          if (r && typeof r.then === 'function') this.pending = this.pending ? this.pending.then(() => r) : r;
        } else {
          this._ensure(b.length);
          b.copy(this.buf, this.pos);
          this.pos += b.length;
        }
        this._ensure(2);
        this._ascii('\r\n');
        this.bytes += b.length;
      }
      this.bytes = start + respLength(args);
      return;
    }
    this._ensure(need);
    const p0 = this.pos;
    this._ascii(`*${args.length}\r\n`);
    for (const a of args) {
      if (typeof a === 'string') {
        this._ascii(`$${a.length}\r\n${a}\r\n`);
      } else if (typeof a === 'number') {
        const s = String(a);
        this._ascii(`$${s.length}\r\n${s}\r\n`);
      } else {
        this._ascii(`$${a.length}\r\n`);
        a.copy(this.buf, this.pos);
        this.pos += a.length;
        this._ascii('\r\n');
      }
    }
    this.bytes += this.pos - p0;
  }
  /** Raw bytes (e.g. an annotation line). */
  raw(s) {
    this._ensure(s.length);
    this._ascii(s);
    this.bytes += s.length;
  }
  end() {
    this._flush();
    return this.pending;
  }
}

function respLength(args) {
  let n = String(args.length).length + 3;
  for (const a of args) {
    const len = typeof a === 'string' ? a.length : typeof a === 'number' ? String(a).length : a.length;
    n += String(len).length + 3 + len + 2;
  }
  return n;
}

export function fmtMB(bytes) {
  return (bytes / (1 << 20)).toFixed(1);
}

export function fmtSecs(ns) {
  return (Number(ns) / 1e9).toFixed(2);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function loadavg() {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

export function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Writes JSON with paths inside the repo made relative to it (results are committed: no machine paths). */
export function writeJson(file, obj) {
  const text = JSON.stringify(obj, null, 2).split(REPO_ROOT + path.sep).join('');
  fs.writeFileSync(file + '.tmp', text + '\n');
  fs.renameSync(file + '.tmp', file);
}

export function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

/**
 * For generators writing many MB in a loop: `await pace(bytesWritten)` yields to the event loop every 8 MiB (so
 * signals such as Ctrl-C get through) and reports progress every 64 MiB.
 */
export function makePacer(onProgress) {
  let nextYield = 8 << 20;
  let nextProgress = 64 << 20;
  return async (bytes) => {
    if (bytes <= nextYield) return;
    nextYield += 8 << 20;
    await new Promise((r) => setImmediate(r));
    if (bytes > nextProgress) {
      nextProgress += 64 << 20;
      onProgress?.(bytes);
    }
  };
}
