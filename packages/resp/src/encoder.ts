import { RespError } from './errors.js';
import type { RespValue } from './types.js';

/** One argument of a command: bytes as they are, strings as UTF-8, numbers in decimal. */
export type CommandArg = Uint8Array | string | number | bigint;

const textEncoder = new TextEncoder();
const CRLF0 = 0x0d;
const CRLF1 = 0x0a;

/** Digit count of a non-negative safe integer. */
function decimalDigits(n: number): number {
  let d = 1;
  for (let p = 10; n >= p && d < 16; p *= 10) d++;
  return d;
}

/** Writes non-negative safe integer `n` in decimal at `at`; returns the index after it. */
function writeDecimal(b: Uint8Array, at: number, n: number): number {
  const end = at + decimalDigits(n);
  let p = end;
  if (n < 0x80000000) {
    let x = n | 0;
    do {
      const q = (x / 10) | 0;
      b[--p] = 0x30 + x - q * 10;
      x = q;
    } while (x > 0);
  } else {
    do {
      const q = Math.floor(n / 10);
      b[--p] = 0x30 + (n - q * 10);
      n = q;
    } while (n > 0);
  }
  return end;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) throw new RespError('corrupt', 'cannot encode NaN as a command argument');
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return Object.is(n, -0) ? '0' : String(n);
}

/**
 * A growable output buffer that is reused between batches. Writing is append-only; `take()` hands out a copy
 * of what was written and starts over with the same storage.
 */
class Output {
  buf: Uint8Array;
  pos = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(initial);
  }

  reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2 || 256;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  crlf(): void {
    this.reserve(2);
    this.buf[this.pos++] = CRLF0;
    this.buf[this.pos++] = CRLF1;
  }

  /** ASCII text (digits, signs). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A non-negative integer in decimal, without allocating for the common small sizes. */
  uint(n: number): void {
    if (n < 10) {
      this.byte(0x30 + n);
      return;
    }
    this.ascii(String(n));
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** UTF-8 of `s`; returns its byte length. */
  utf8(s: string): number {
    // Worst case 3 bytes per UTF-16 unit.
    this.reserve(s.length * 3);
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(this.pos));
    this.pos += written;
    return written;
  }

  /** `$<len>\r\n<utf8>\r\n` for a string whose UTF-8 length is only known after encoding it. */
  bulkString(s: string): void {
    const n = s.length;
    this.reserve(n * 3 + 26);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0x24;
    // Assume the byte length has as many digits as the UTF-16 length (true for ASCII); shift if not.
    const digits = decimalDigits(n);
    const dataStart = p + 1 + digits + 2;
    let byteLen: number;
    let i = 0;
    if (n <= 256) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[dataStart + i] = c;
      }
    }
    if (i === n) {
      byteLen = n;
    } else {
      byteLen = textEncoder.encodeInto(s, b.subarray(dataStart)).written;
      const d2 = decimalDigits(byteLen);
      if (d2 !== digits) b.copyWithin(dataStart + (d2 - digits), dataStart, dataStart + byteLen);
    }
    const lenEnd = writeDecimal(b, p + 1, byteLen);
    b[lenEnd] = CRLF0;
    b[lenEnd + 1] = CRLF1;
    const end = lenEnd + 2 + byteLen;
    b[end] = CRLF0;
    b[end + 1] = CRLF1;
    this.pos = end + 2;
  }

  /** `$<len>\r\n<decimal>\r\n` for a safe integer, without making a string. */
  bulkInt(v: number): void {
    this.reserve(48);
    const b = this.buf;
    const neg = v < 0;
    const abs = neg ? -v : v;
    const len = decimalDigits(abs) + (neg ? 1 : 0);
    let p = this.pos;
    b[p++] = 0x24;
    p = writeDecimal(b, p, len);
    b[p++] = CRLF0;
    b[p++] = CRLF1;
    if (neg) b[p++] = 0x2d;
    p = writeDecimal(b, p, abs);
    b[p++] = CRLF0;
    b[p++] = CRLF1;
    this.pos = p;
  }

  bulkBytes(src: Uint8Array): void {
    const n = src.length;
    this.reserve(n + 26);
    const b = this.buf;
    b[this.pos] = 0x24;
    let p = writeDecimal(b, this.pos + 1, n);
    b[p++] = CRLF0;
    b[p++] = CRLF1;
    if (n < 32) for (let i = 0; i < n; i++) b[p + i] = src[i];
    else b.set(src, p);
    p += n;
    b[p++] = CRLF0;
    b[p++] = CRLF1;
    this.pos = p;
  }

  arg(a: CommandArg): void {
    if (a instanceof Uint8Array) this.bulkBytes(a);
    else if (typeof a === 'string') this.bulkString(a);
    else if (typeof a === 'bigint') this.bulkString(a.toString());
    else if (typeof a === 'number') {
      if (Number.isSafeInteger(a)) this.bulkInt(a);
      else this.bulkString(numberText(a));
    }
    else throw new RespError('corrupt', `cannot encode a command argument of type ${typeof a}`);
  }

  command(args: readonly CommandArg[]): void {
    this.reserve(24);
    const b = this.buf;
    b[this.pos] = 0x2a;
    let p = writeDecimal(b, this.pos + 1, args.length);
    b[p++] = CRLF0;
    b[p++] = CRLF1;
    this.pos = p;
    for (let i = 0; i < args.length; i++) this.arg(args[i]);
  }

  line(type: number, text: string, what: string): void {
    if (text.includes('\r') || text.includes('\n')) {
      throw new RespError('corrupt', `cannot encode a ${what} containing CR or LF`);
    }
    this.byte(type);
    this.utf8(text);
    this.crlf();
  }

  value(v: RespValue, depth: number): void {
    switch (v.type) {
      case 'simple':
        this.line(0x2b, v.value, 'simple string');
        return;
      case 'error':
        this.line(0x2d, v.value, 'error');
        return;
      case 'integer':
        this.byte(0x3a);
        this.ascii(v.value.toString());
        this.crlf();
        return;
      case 'bulk':
        if (v.value === null) this.ascii('$-1\r\n');
        else this.bulkBytes(v.value);
        return;
      case 'array':
        if (v.value === null) {
          this.ascii('*-1\r\n');
          return;
        }
        if (depth > 10_000) throw new RespError('limit', 'value nested too deeply to encode');
        this.byte(0x2a);
        this.uint(v.value.length);
        this.crlf();
        for (const item of v.value) this.value(item, depth + 1);
        return;
      default:
        throw new RespError('corrupt', `cannot encode a value of type ${(v as { type: unknown }).type}`);
    }
  }

  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}

/** The RESP2 encoding of a value. Simple strings and errors are written as UTF-8 and must not contain CR/LF. */
export function encodeValue(v: RespValue): Uint8Array {
  const out = new Output(256);
  out.value(v, 0);
  return out.take();
}

/**
 * A command as Redis reads it: `*N\r\n` then each argument as a bulk string (strings as UTF-8).
 *
 * @example
 * ```ts
 * socket.write(encodeCommand(['SET', 'counter', 42])); // *3\r\n$3\r\nSET\r\n$7\r\ncounter\r\n$2\r\n42\r\n
 * ```
 */
export function encodeCommand(args: readonly CommandArg[]): Uint8Array {
  const out = new Output(64);
  out.command(args);
  return out.take();
}

/**
 * Appends commands into one growing buffer that is reused across batches, for hot paths writing millions of
 * commands (AOF writers, pipelines): `add()` many, then `take()` the bytes and keep going.
 */
export class CommandEncoder {
  private readonly out: Output;

  constructor(initialCapacity = 64 * 1024) {
    this.out = new Output(initialCapacity);
  }

  /** Appends one command. */
  add(args: readonly CommandArg[]): this {
    this.out.command(args);
    return this;
  }

  /** Appends one already-encoded RESP value (e.g. to copy a command verbatim). */
  addRaw(bytes: Uint8Array): this {
    this.out.bytes(bytes);
    return this;
  }

  /** Bytes appended since the last take(). */
  get length(): number {
    return this.out.pos;
  }

  /** A copy of everything appended since the last take(); the internal buffer is kept for reuse. */
  take(): Uint8Array {
    return this.out.take();
  }

  /**
   * A view of everything appended since the last take(), without copying; valid only until the next
   * add()/addRaw(). Resets like take().
   */
  takeView(): Uint8Array {
    const v = this.out.buf.subarray(0, this.out.pos);
    this.out.pos = 0;
    return v;
  }

  /** Forgets everything appended since the last take(). */
  clear(): void {
    this.out.pos = 0;
  }
}
