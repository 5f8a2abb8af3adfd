// Strict parser for one line of keyspace JSON Lines, straight from UTF-8 bytes: a schema-directed recursive
// descent over the line, so every error names the byte where the expectation failed, numbers keep their exact
// text, and byte strings are never round-tripped through JS strings.
import { isUtf8 } from 'node:buffer';
import { canonicalizeRecord, compareBytes, compareStreamIds, firstRepeatIndex, isStreamId, KeyspaceError } from '@redis-persist/keyspace';
import type {
  Bytes,
  HashField,
  KeyRecord,
  KeyType,
  KeyspaceRecord,
  ModuleValue,
  Score,
  StreamConsumer,
  StreamEntry,
  StreamGroup,
  StreamPendingEntry,
  StreamValue,
} from '@redis-persist/keyspace';

/** Where a parsed line comes from (file, line, byte offset), for error messages and offsets. */
export interface ParseWhere {
  file?: string;
  /** 1-based line number, for messages. */
  line?: number;
  /** Byte offset of the line's first byte in the file; error offsets are then file offsets. */
  offset?: number;
}

const KEY_TYPES: ReadonlySet<string> = new Set(['string', 'list', 'set', 'zset', 'hash', 'stream', 'module']);
const MAX_DEPTH_SKIP = 64;

const enum C {
  Quote = 0x22,
  Comma = 0x2c,
  Minus = 0x2d,
  Colon = 0x3a,
  LBracket = 0x5b,
  Backslash = 0x5c,
  RBracket = 0x5d,
  LBrace = 0x7b,
  RBrace = 0x7d,
}

function describeByte(b: number | undefined): string {
  if (b === undefined) return 'end of line';
  if (b >= 0x21 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `byte 0x${b.toString(16).padStart(2, '0')}`;
}

/** Unescaping scratch, shared by all cursors (a fresh one per line cost an allocation per record). */
let scratch = new Uint8Array(256);

class Cursor {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
    readonly where: ParseWhere,
  ) {
    this.pos = start;
  }

  fail(message: string, at = this.pos, code: 'json' | 'schema' = 'schema'): never {
    const column = at - this.start + 1;
    const offset = this.where.offset !== undefined ? this.where.offset + (at - this.start) : at - this.start;
    const loc: { file?: string; line?: number; offset: number } = { offset };
    if (this.where.file !== undefined) loc.file = this.where.file;
    if (this.where.line !== undefined) loc.line = this.where.line;
    throw new KeyspaceError(code, `${message} (column ${column})`, loc);
  }

  expected(what: string): never {
    const b = this.pos < this.end ? this.buf[this.pos] : undefined;
    return this.fail(`expected ${what}, found ${describeByte(b)}`, this.pos, b === undefined || !isJsonStart(b) ? 'json' : 'schema');
  }

  ws(): void {
    const buf = this.buf;
    let p = this.pos;
    while (p < this.end) {
      const b = buf[p]!;
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  peek(): number | undefined {
    this.ws();
    return this.pos < this.end ? this.buf[this.pos] : undefined;
  }

  /** Consumes `ch`; the message (`what` + `suffix`) is only built on failure. */
  eat(ch: number, what: string, suffix = ''): void {
    if (this.peek() !== ch) this.expected(what + suffix);
    this.pos++;
  }

  /** Consumes the literal `null` if it is next. */
  eatNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    this.literal('null');
    return true;
  }

  literal(word: string): void {
    for (let i = 0; i < word.length; i++) {
      if (this.buf[this.pos + i] !== word.charCodeAt(i) || this.pos + i >= this.end) this.fail(`invalid JSON literal (expected ${word})`, this.pos, 'json');
    }
    this.pos += word.length;
  }

  /** A JSON string's content as UTF-8 bytes (a fresh Uint8Array). */
  stringBytes(what: string): Uint8Array {
    if (this.peek() !== C.Quote) this.expected(what);
    const open = this.pos;
    const buf = this.buf;
    let p = open + 1;
    let escapes = false;
    let high = false;
    for (;;) {
      if (p >= this.end) this.fail(`unterminated string (${what})`, open, 'json');
      const b = buf[p]!;
      if (b === C.Quote) break;
      if (b === C.Backslash) {
        escapes = true;
        p += 2;
        continue;
      }
      if (b < 0x20) this.fail(`control character 0x${b.toString(16).padStart(2, '0')} must be escaped inside a JSON string`, p, 'json');
      if (b >= 0x80) high = true;
      p++;
    }
    const close = p;
    if (high && !isUtf8(buf.subarray(open + 1, close))) {
      this.fail(`invalid UTF-8 inside a JSON string (${what}); binary data must be written as {"base64":...}`, firstInvalidUtf8(buf, open + 1, close), 'json');
    }
    this.pos = close + 1;
    if (!escapes) {
      const n = close - open - 1;
      const out = new Uint8Array(n);
      if (n <= 32) for (let i = 0; i < n; i++) out[i] = buf[open + 1 + i]!;
      else out.set(buf.subarray(open + 1, close));
      return out;
    }
    return this.unescape(open + 1, close);
  }

  private unescape(from: number, to: number): Uint8Array {
    const buf = this.buf;
    let out = scratch.length >= to - from ? scratch : (scratch = new Uint8Array(to - from));
    let n = 0;
    let p = from;
    while (p < to) {
      const b = buf[p]!;
      if (b !== C.Backslash) {
        out[n++] = b;
        p++;
        continue;
      }
      const e = buf[p + 1];
      p += 2;
      switch (e) {
        case 0x22: out[n++] = 0x22; break;
        case 0x5c: out[n++] = 0x5c; break;
        case 0x2f: out[n++] = 0x2f; break;
        case 0x62: out[n++] = 0x08; break;
        case 0x66: out[n++] = 0x0c; break;
        case 0x6e: out[n++] = 0x0a; break;
        case 0x72: out[n++] = 0x0d; break;
        case 0x74: out[n++] = 0x09; break;
        case 0x75: {
          let cp = this.hex4(p, to);
          p += 4;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (buf[p] !== C.Backslash || buf[p + 1] !== 0x75) this.fail('lone UTF-16 surrogate escape: not valid UTF-8 (write binary data as {"base64":...})', p - 6);
            const lo = this.hex4(p + 2, to);
            if (lo < 0xdc00 || lo > 0xdfff) this.fail('lone UTF-16 surrogate escape: not valid UTF-8 (write binary data as {"base64":...})', p - 6);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p += 6;
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            this.fail('lone UTF-16 surrogate escape: not valid UTF-8 (write binary data as {"base64":...})', p - 6);
          }
          // A \u escape is 6 bytes of input and at most 4 of output, so `out` (sized to the input) is big enough.
          if (cp < 0x80) out[n++] = cp;
          else if (cp < 0x800) {
            out[n++] = 0xc0 | (cp >> 6);
            out[n++] = 0x80 | (cp & 63);
          } else if (cp < 0x10000) {
            out[n++] = 0xe0 | (cp >> 12);
            out[n++] = 0x80 | ((cp >> 6) & 63);
            out[n++] = 0x80 | (cp & 63);
          } else {
            out[n++] = 0xf0 | (cp >> 18);
            out[n++] = 0x80 | ((cp >> 12) & 63);
            out[n++] = 0x80 | ((cp >> 6) & 63);
            out[n++] = 0x80 | (cp & 63);
          }
          break;
        }
        default:
          this.fail(`invalid escape ${describeByte(e)} in a JSON string`, p - 2, 'json');
      }
    }
    const result = out.slice(0, n);
    if (out.length > 1 << 16) scratch = new Uint8Array(256);
    return result;
  }

  private hex4(p: number, to: number): number {
    if (p + 4 > to) this.fail('truncated \\u escape in a JSON string', p - 2, 'json');
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.buf[p + i]!;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) this.fail('invalid hex digit in a \\u escape', p + i, 'json');
      v = (v << 4) | d;
    }
    return v;
  }

  text(what: string): string {
    // Fast path: short ASCII text without escapes (member names, types, IDs, numbers as text). A word of the
    // schema (member names, key types: several per record) is looked up, not built.
    if (this.peek() === C.Quote) {
      const buf = this.buf;
      const from = this.pos + 1;
      const limit = Math.min(this.end, from + 64);
      let h = 0;
      for (let p = from; p < limit; p++) {
        const b = buf[p]!;
        if (b === C.Quote) {
          this.pos = p + 1;
          const word = schemaWord(buf, from, p, h);
          if (word !== null) return word;
          let s = '';
          for (let i = from; i < p; i++) s += String.fromCharCode(buf[i]!);
          return s;
        }
        if (b === C.Backslash || b < 0x20 || b >= 0x80) break;
        h = (h * 31 + b) | 0;
      }
    }
    return Buffer.from(this.stringBytes(what)).toString('utf8');
  }

  /** The text of a JSON number at the cursor (validated against the JSON grammar). */
  numberText(what: string): { text: string; integer: boolean; at: number } {
    this.ws();
    const buf = this.buf;
    const at = this.pos;
    let p = at;
    if (buf[p] === C.Minus) p++;
    const digits0 = p;
    if (buf[p] === 0x30) p++;
    else while (p < this.end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
    if (p === digits0) this.expected(what);
    let integer = true;
    if (p < this.end && buf[p] === 0x2e) {
      integer = false;
      const f = ++p;
      while (p < this.end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
      if (p === f) this.fail('invalid JSON number: digits must follow the decimal point', p, 'json');
    }
    if (p < this.end && (buf[p] === 0x65 || buf[p] === 0x45)) {
      integer = false;
      p++;
      if (buf[p] === 0x2b || buf[p] === C.Minus) p++;
      const e = p;
      while (p < this.end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
      if (p === e) this.fail('invalid JSON number: digits must follow the exponent', p, 'json');
    }
    this.pos = p;
    // (a short number, as scores are: its characters one by one beat a Buffer view per number)
    let text = '';
    if (p - at <= 24) for (let i = at; i < p; i++) text += String.fromCharCode(buf[i]!);
    else text = Buffer.from(buf.buffer, buf.byteOffset + at, p - at).toString('latin1');
    return { text, integer, at };
  }

  int(what: string, min = Number.MIN_SAFE_INTEGER): number {
    // Fast path: up to 15 plain digits (always a safe integer), optional '-'.
    this.ws();
    const buf = this.buf;
    let p = this.pos;
    const neg = buf[p] === C.Minus;
    if (neg) p++;
    const d0 = p;
    let v = 0;
    while (p < this.end && p - d0 < 16) {
      const b = buf[p]!;
      if (b < 0x30 || b > 0x39) break;
      v = v * 10 + (b - 0x30);
      p++;
    }
    const nd = p - d0;
    if (nd > 0 && nd <= 15 && (nd === 1 || buf[d0] !== 0x30)) {
      const next = p < this.end ? buf[p]! : 0;
      if (next !== 0x2e && next !== 0x65 && next !== 0x45 && !(next >= 0x30 && next <= 0x39)) {
        const n = neg ? -v : v;
        if (n >= min) {
          this.pos = p;
          return n === 0 ? 0 : n;
        }
      }
    }
    const { text, integer, at } = this.numberText(what);
    if (!integer) this.fail(`expected ${what} (an integer), found ${text}`, at);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) this.fail(`${what} ${text} is outside the safe integer range (±2^53-1)`, at, 'schema');
    if (n < min) this.fail(`${what} must be at least ${min}, found ${text}`, at);
    return n === 0 ? 0 : n;
  }

  intOrNull(what: string, min?: number): number | null {
    return this.eatNull() ? null : this.int(what, min);
  }

  /** A `Str`: JSON string (UTF-8) or `{"base64":"..."}`. */
  str(what: string): Bytes {
    const b = this.peek();
    if (b === C.Quote) return this.stringBytes(what);
    if (b !== C.LBrace) this.expected(`${what} (a string or {"base64":...})`);
    this.pos++;
    this.eatName('base64', '"base64"');
    if (this.peek() === C.Quote) {
      // the common case, decoded straight from the line (no text, no copies): canonical base64 without escapes
      const buf = this.buf;
      const from = this.pos + 1;
      let p = from;
      while (p < this.end && buf[p] !== C.Quote && buf[p] !== C.Backslash) p++;
      if (p < this.end && buf[p] === C.Quote) {
        const out = decodeCanonicalBase64(buf, from, p);
        if (out !== null) {
          this.pos = p + 1;
          this.eat(C.RBrace, "'}' after the base64 text of ", what);
          return out;
        }
      }
      // anything else (escapes, bad symbols) takes the general path below, which names the fault
    }
    const at = this.pos;
    const b64 = this.stringBytes('base64 text');
    const text = Buffer.from(b64).toString('latin1');
    if (!isCanonicalBase64(text)) this.fail(`invalid base64 (standard alphabet with padding expected) in ${what}`, at);
    this.eat(C.RBrace, "'}' after the base64 text of ", what);
    return new Uint8Array(Buffer.from(text, 'base64'));
  }

  /** A member name that must be `name`, and its colon. */
  private eatName(name: string, what: string): void {
    const at = this.pos;
    const got = this.text(what);
    if (got !== name) this.fail(`expected member ${what}, found ${JSON.stringify(got)}`, at);
    this.eat(C.Colon, "':'");
  }

  /** Iterates an array, calling `item` for each element. */
  array(what: string, item: (index: number) => void): void {
    this.eat(C.LBracket, what, ' (an array)');
    if (this.peek() === C.RBracket) {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      item(i);
      const b = this.peek();
      if (b === C.Comma) {
        this.pos++;
        continue;
      }
      if (b === C.RBracket) {
        this.pos++;
        return;
      }
      this.expected(`',' or ']' in ${what}`); // failure path only
    }
  }

  /** Iterates an object; `member(name, at)` parses the value of each member (duplicates are rejected). */
  object(what: string, member: (name: string, at: number) => void): void {
    this.eat(C.LBrace, what, ' (an object)');
    if (this.peek() === C.RBrace) {
      this.pos++;
      return;
    }
    // an array, not a Set (one per record otherwise): an object of the schema has at most 7 members; a Set past
    // 16 (an object skipped unread may have any number)
    const seen: string[] = [];
    let many: Set<string> | null = null;
    for (;;) {
      const at = this.pos;
      const name = this.text('a member name (a string)');
      if (many === null ? seen.includes(name) : many.has(name)) this.fail(`duplicate member ${JSON.stringify(name)} in ${what}`, at);
      if (many !== null) many.add(name);
      else if (seen.push(name) > 16) many = new Set(seen);
      this.eat(C.Colon, "':' after member ", JSON.stringify(name));
      member(name, at);
      const b = this.peek();
      if (b === C.Comma) {
        this.pos++;
        continue;
      }
      if (b === C.RBrace) {
        this.pos++;
        return;
      }
      this.expected(`',' or '}' in ${what}`);
    }
  }

  /** Skips any JSON value (syntax-checked), for a member whose schema is known only later. */
  skipValue(depth = 0): void {
    if (depth > MAX_DEPTH_SKIP) this.fail('JSON nested too deeply', this.pos, 'json');
    const b = this.peek();
    if (b === C.Quote) this.stringBytes('a string');
    else if (b === C.LBrace) this.object('an object', () => this.skipValue(depth + 1));
    else if (b === C.LBracket) this.array('an array', () => this.skipValue(depth + 1));
    else if (b === 0x74) this.literal('true');
    else if (b === 0x66) this.literal('false');
    else if (b === 0x6e) this.literal('null');
    else this.numberText('a JSON value');
  }

  end_(): void {
    this.ws();
    if (this.pos < this.end) this.fail(`unexpected ${describeByte(this.buf[this.pos])} after the end of the record`, this.pos, 'json');
  }
}

/** The words of the schema that {@link Cursor.text} returns without building them, by hash (h * 31 + byte). */
const SCHEMA_WORDS = (() => {
  const words = [
    'db', 'key', 'type', 'expireAt', 'value', 'encoding', 'library', 'engine', 'code', 'base64',
    'string', 'list', 'set', 'zset', 'hash', 'stream', 'module',
    'entries', 'length', 'lastId', 'firstId', 'maxDeletedId', 'entriesAdded', 'groups',
    'name', 'lastDeliveredId', 'entriesRead', 'pending', 'consumers', 'seenTime', 'activeTime', 'encver', 'raw',
  ];
  const table = new Map<number, string[]>();
  for (const w of words) {
    let h = 0;
    for (let i = 0; i < w.length; i++) h = (h * 31 + w.charCodeAt(i)) | 0;
    const list = table.get(h);
    if (list) list.push(w);
    else table.set(h, [w]);
  }
  return table;
})();

/** The schema word spelled by the ASCII bytes `buf[from, to)` (hash `h`), or null. */
function schemaWord(buf: Uint8Array, from: number, to: number, h: number): string | null {
  const list = SCHEMA_WORDS.get(h);
  if (list === undefined) return null;
  for (const w of list) {
    if (w.length !== to - from) continue;
    let i = 0;
    while (i < w.length && w.charCodeAt(i) === buf[from + i]) i++;
    if (i === w.length) return w;
  }
  return null;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (error path only). */
function firstInvalidUtf8(buf: Uint8Array, from: number, to: number): number {
  let p = from;
  while (p < to) {
    const b = buf[p]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || p + n > to || !isUtf8(buf.subarray(p, p + n))) return p;
    p += n;
  }
  return from;
}

function isJsonStart(b: number): boolean {
  return b === C.Quote || b === C.LBrace || b === C.LBracket || b === C.Minus || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e;
}

/** Value of each base64 symbol of the standard alphabet, -1 for any other byte. */
const BASE64_SYMBOLS = (() => {
  const t = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

/**
 * The bytes of canonical base64 text `buf[from, to)` (groups of 4 symbols, '=' padding, unused low bits zero), or
 * null when it is not that (the caller then reports the fault through the general path).
 */
function decodeCanonicalBase64(buf: Uint8Array, from: number, to: number): Uint8Array | null {
  const n = to - from;
  if (n % 4 !== 0) return null;
  if (n === 0) return new Uint8Array(0);
  const pad = buf[to - 1] === 0x3d ? (buf[to - 2] === 0x3d ? 2 : 1) : 0;
  const out = new Uint8Array((n / 4) * 3 - pad);
  const T = BASE64_SYMBOLS;
  const full = pad === 0 ? to : to - 4;
  let o = 0;
  for (let p = from; p < full; p += 4) {
    const a = T[buf[p]!]!;
    const b = T[buf[p + 1]!]!;
    const c = T[buf[p + 2]!]!;
    const d = T[buf[p + 3]!]!;
    if ((a | b | c | d) < 0) return null;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pad === 0) return out;
  const a = T[buf[full]!]!;
  const b = T[buf[full + 1]!]!;
  if ((a | b) < 0) return null;
  if (pad === 2) {
    if ((b & 0x0f) !== 0) return null;
    out[o] = (a << 2) | (b >>> 4);
    return out;
  }
  const c = T[buf[full + 2]!]!;
  if (c < 0 || (c & 0x03) !== 0) return null;
  out[o++] = (a << 2) | (b >>> 4);
  out[o] = ((b & 0x0f) << 4) | (c >>> 2);
  return out;
}

function isBase64Symbol(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f;
}

/** Groups of 4 symbols of the standard alphabet, the last one padded with at most two '=' (a scan: the regex cost more). */
function isPaddedBase64(text: string): boolean {
  const n = text.length;
  if (n % 4 !== 0) return false;
  let end = n;
  if (n > 0 && text.charCodeAt(n - 1) === 0x3d) end = text.charCodeAt(n - 2) === 0x3d ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) if (!isBase64Symbol(text.charCodeAt(i))) return false;
  return true;
}

function isCanonicalBase64(text: string): boolean {
  if (!isPaddedBase64(text)) return false;
  // Unused low bits of the last symbol must be zero, or two texts would decode to the same bytes.
  if (text.endsWith('==')) return (BASE64_VALUE(text.charCodeAt(text.length - 3)) & 0x0f) === 0;
  if (text.endsWith('=')) return (BASE64_VALUE(text.charCodeAt(text.length - 2)) & 0x03) === 0;
  return true;
}

function BASE64_VALUE(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x47;
  if (c >= 0x30 && c <= 0x39) return c + 4;
  return c === 0x2b ? 62 : 63;
}

function parseId(c: Cursor, what: string): string {
  const at = c.pos;
  const id = c.text(what);
  if (!isStreamId(id)) c.fail(`${what} must be a stream ID "<ms>-<seq>" (unsigned 64-bit decimals), found ${JSON.stringify(id)}`, at);
  return id;
}

function parseScore(c: Cursor): Score {
  const b = c.peek();
  if (b === C.Quote) {
    const at = c.pos;
    const t = c.text('a score');
    if (t === 'inf') return Infinity;
    if (t === '-inf') return -Infinity;
    c.fail(`a score string must be "inf" or "-inf", found ${JSON.stringify(t)}`, at);
  }
  const { text, at } = c.numberText('a score (a number, "inf" or "-inf")');
  const n = Number(text);
  if (!Number.isFinite(n)) c.fail(`score ${text} overflows a double; write "inf" or "-inf"`, at);
  return n === 0 ? 0 : n;
}

/** Tuple helpers: `[`, `,` and `]` with constant messages (built only on failure). */
function open(c: Cursor, what: string): void {
  c.eat(C.LBracket, what, ' (an array)');
}
function sep(c: Cursor, what: string): void {
  c.eat(C.Comma, "',' inside ", what);
}
function close(c: Cursor, what: string): void {
  c.eat(C.RBracket, "']' closing ", what);
}

function parseStrList(c: Cursor, what: string, item: string): Bytes[] {
  const out: Bytes[] = [];
  c.array(what, () => out.push(c.str(item)));
  return out;
}

const ZPAIR = 'a zset pair [member, score]';
function parseZset(c: Cursor): [Bytes, Score][] {
  const out: [Bytes, Score][] = [];
  c.array('a zset value', () => {
    open(c, ZPAIR);
    const m = c.str('a zset member');
    sep(c, ZPAIR);
    const s = parseScore(c);
    close(c, ZPAIR);
    out.push([m, s]);
  });
  return out;
}

const HFIELD = 'a hash field [field, value] or [field, value, expireAt]';
function parseHash(c: Cursor): HashField[] {
  const out: HashField[] = [];
  c.array('a hash value', () => {
    open(c, HFIELD);
    const field = c.str('a hash field');
    sep(c, HFIELD);
    const value = c.str('a hash value');
    let expireAt: number | null = null;
    if (c.peek() === C.Comma) {
      c.pos++;
      expireAt = c.int('a hash field expireAt');
    }
    close(c, HFIELD);
    out.push({ field, value, expireAt });
  });
  return out;
}

const ENTRY = 'a stream entry [id, [[field, value], ...]]';
const EFIELD = 'a stream entry field [field, value]';
function parseEntry(c: Cursor): StreamEntry {
  open(c, ENTRY);
  const id = parseId(c, 'a stream entry ID');
  sep(c, ENTRY);
  const fields: [Bytes, Bytes][] = [];
  c.array('the fields of a stream entry', () => {
    open(c, EFIELD);
    const f = c.str('a stream field');
    sep(c, EFIELD);
    const v = c.str('a stream value');
    close(c, EFIELD);
    fields.push([f, v]);
  });
  close(c, ENTRY);
  return { id, fields };
}

const PEL = 'a pending entry [id, consumer, deliveryTime, deliveryCount]';
function parsePending(c: Cursor): StreamPendingEntry {
  open(c, PEL);
  const id = parseId(c, 'a pending entry ID');
  sep(c, PEL);
  const consumer = c.str('a pending entry consumer');
  sep(c, PEL);
  const deliveryTime = c.int('a delivery time');
  sep(c, PEL);
  const deliveryCount = c.int('a delivery count', 0);
  close(c, PEL);
  return { id, consumer, deliveryTime, deliveryCount };
}

type Members<T> = { [K in keyof T]?: T[K] };

function required<T extends object>(c: Cursor, obj: Members<T>, names: (keyof T & string)[], what: string, at: number): T {
  const missing = names.filter((n) => obj[n] === undefined);
  if (missing.length > 0) c.fail(`${what} lacks member${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')}`, at);
  return obj as T;
}

function unknownMember(c: Cursor, name: string, what: string, at: number, allowed: string[]): never {
  return c.fail(`unexpected member ${JSON.stringify(name)} in ${what} (allowed: ${allowed.join(', ')})`, at);
}

const CONSUMER_MEMBERS = ['name', 'seenTime', 'activeTime'];
function parseConsumer(c: Cursor): StreamConsumer {
  const at = c.pos;
  const m: Members<StreamConsumer> = {};
  c.object('a stream consumer', (name, nat) => {
    if (name === 'name') m.name = c.str('a consumer name');
    else if (name === 'seenTime') m.seenTime = c.int('seenTime');
    else if (name === 'activeTime') m.activeTime = c.intOrNull('activeTime');
    else unknownMember(c, name, 'a stream consumer', nat, CONSUMER_MEMBERS);
  });
  const r = required(c, m, ['name', 'seenTime', 'activeTime'], 'a stream consumer', at);
  return { name: r.name, seenTime: r.seenTime, activeTime: r.activeTime };
}

const GROUP_MEMBERS = ['name', 'lastDeliveredId', 'entriesRead', 'pending', 'consumers'];
function parseGroup(c: Cursor): StreamGroup {
  const at = c.pos;
  const m: Members<StreamGroup> = {};
  c.object('a stream consumer group', (name, nat) => {
    if (name === 'name') m.name = c.str('a group name');
    else if (name === 'lastDeliveredId') m.lastDeliveredId = parseId(c, 'lastDeliveredId');
    else if (name === 'entriesRead') m.entriesRead = c.intOrNull('entriesRead', 0);
    else if (name === 'pending') {
      const pending: StreamPendingEntry[] = [];
      c.array('a group PEL', () => pending.push(parsePending(c)));
      m.pending = pending;
    } else if (name === 'consumers') {
      const consumers: StreamConsumer[] = [];
      c.array('a group consumer list', () => consumers.push(parseConsumer(c)));
      m.consumers = consumers;
    } else unknownMember(c, name, 'a stream consumer group', nat, GROUP_MEMBERS);
  });
  const r = required(c, m, ['name', 'lastDeliveredId', 'entriesRead', 'pending', 'consumers'], 'a stream consumer group', at);
  return { name: r.name, lastDeliveredId: r.lastDeliveredId, entriesRead: r.entriesRead, pending: r.pending, consumers: r.consumers };
}

const STREAM_MEMBERS = ['entries', 'length', 'lastId', 'firstId', 'maxDeletedId', 'entriesAdded', 'groups'];
function parseStream(c: Cursor): StreamValue {
  const at = c.pos;
  const m: Members<StreamValue> = {};
  const unreported = new Set<'maxDeletedId' | 'entriesAdded'>();
  c.object('a stream value', (name, nat) => {
    switch (name) {
      case 'entries': {
        const entries: StreamEntry[] = [];
        c.array('stream entries', () => entries.push(parseEntry(c)));
        m.entries = entries;
        break;
      }
      case 'length': m.length = c.int('stream length', 0); break;
      case 'lastId': m.lastId = parseId(c, 'lastId'); break;
      case 'firstId': m.firstId = c.eatNull() ? null : parseId(c, 'firstId'); break;
      case 'maxDeletedId':
        if (c.eatNull()) unreported.add('maxDeletedId');
        else m.maxDeletedId = parseId(c, 'maxDeletedId');
        break;
      case 'entriesAdded':
        if (c.eatNull()) unreported.add('entriesAdded');
        else m.entriesAdded = c.int('entriesAdded', 0);
        break;
      case 'groups': {
        const groups: StreamGroup[] = [];
        c.array('stream groups', () => groups.push(parseGroup(c)));
        m.groups = groups;
        break;
      }
      default:
        unknownMember(c, name, 'a stream value', nat, STREAM_MEMBERS);
    }
  });
  // null (a Redis < 7.0 export): keep what Redis 7 derives, and remember that the source did not say.
  if (unreported.has('maxDeletedId')) m.maxDeletedId = '0-0';
  if (unreported.has('entriesAdded') && m.length !== undefined) m.entriesAdded = m.length;
  const r = required(c, m, ['entries', 'length', 'lastId', 'firstId', 'maxDeletedId', 'entriesAdded', 'groups'], 'a stream value', at);
  const out: StreamValue = {
    entries: r.entries,
    length: r.length,
    lastId: r.lastId,
    firstId: r.firstId,
    maxDeletedId: r.maxDeletedId,
    entriesAdded: r.entriesAdded,
    groups: r.groups,
  };
  if (unreported.size > 0) out.unreported = (['maxDeletedId', 'entriesAdded'] as const).filter((u) => unreported.has(u));
  return out;
}

const MODULE_MEMBERS = ['module', 'encver', 'raw'];
function parseModule(c: Cursor): ModuleValue {
  const at = c.pos;
  const m: Members<ModuleValue> = {};
  c.object('a module value', (name, nat) => {
    if (name === 'module') m.module = c.text('a module name');
    else if (name === 'encver') m.encver = c.int('encver', 0);
    else if (name === 'raw') m.raw = c.str('raw module data');
    else unknownMember(c, name, 'a module value', nat, MODULE_MEMBERS);
  });
  const r = required(c, m, ['module', 'encver', 'raw'], 'a module value', at);
  return { module: r.module, encver: r.encver, raw: r.raw };
}

function parseValue(c: Cursor, type: KeyType): KeyRecord['value'] {
  switch (type) {
    case 'string': return c.str('a string value');
    case 'list': return parseStrList(c, 'a list value', 'a list element');
    case 'set': return parseStrList(c, 'a set value', 'a set member');
    case 'zset': return parseZset(c);
    case 'hash': return parseHash(c);
    case 'stream': return parseStream(c);
    case 'module': return parseModule(c);
  }
}

function firstDuplicate<T>(items: readonly T[], cmp: (a: T, b: T) => number): number {
  for (let i = 1; i < items.length; i++) if (cmp(items[i - 1]!, items[i]!) === 0) return i;
  return -1;
}

function printable(b: Bytes): string {
  return isUtf8(b) ? JSON.stringify(Buffer.from(b).toString('utf8')) : `base64 ${Buffer.from(b).toString('base64')}`;
}

/** Rejects what a canonical record cannot hold twice: set members, hash fields, zset members, stream IDs, names. */
function checkUnique(c: Cursor, rec: KeyRecord, at: number): void {
  const dup = (what: string, b: Bytes | string): never => c.fail(`duplicate ${what} ${typeof b === 'string' ? b : printable(b)}`, at);
  switch (rec.type) {
    case 'set': {
      const i = firstDuplicate(rec.value, compareBytes);
      if (i >= 0) dup('set member', rec.value[i]!);
      return;
    }
    case 'hash': {
      const i = firstDuplicate(rec.value, (a, b) => compareBytes(a.field, b.field));
      if (i >= 0) dup('hash field', rec.value[i]!.field);
      return;
    }
    case 'zset': {
      // the pairs are in score order: a hash scan finds whether a member repeats (linear), the sort below only
      // names the same member as before when one does
      if (firstRepeatIndex(rec.value.map((p) => p[0])) < 0) return;
      const members = rec.value.map((p) => p[0]).sort(compareBytes);
      const i = firstDuplicate(members, compareBytes);
      if (i >= 0) dup('zset member', members[i]!);
      return;
    }
    case 'stream': {
      const s = rec.value;
      const i = firstDuplicate(s.entries, (a, b) => compareStreamIds(a.id, b.id));
      if (i >= 0) dup('stream entry ID', s.entries[i]!.id);
      const g = firstDuplicate(s.groups, (a, b) => compareBytes(a.name, b.name));
      if (g >= 0) dup('consumer group', s.groups[g]!.name);
      for (const group of s.groups) {
        const p = firstDuplicate(group.pending, (a, b) => compareStreamIds(a.id, b.id));
        if (p >= 0) dup('pending entry ID', group.pending[p]!.id);
        const k = firstDuplicate(group.consumers, (a, b) => compareBytes(a.name, b.name));
        if (k >= 0) dup('consumer', group.consumers[k]!.name);
      }
      return;
    }
    default:
      return;
  }
}

const KEY_MEMBERS = ['db', 'key', 'type', 'expireAt', 'value', 'encoding'];
const FUNCTION_MEMBERS = ['library', 'engine', 'code'];

function parseRecord(c: Cursor): KeyspaceRecord {
  const at = c.pos;
  if (c.peek() !== C.LBrace) c.expected('a record (a JSON object)');
  let db: number | undefined;
  let key: Bytes | undefined;
  let type: KeyType | undefined;
  let expireAt: number | null | undefined;
  let value: KeyRecord['value'] | undefined;
  let valueAt = -1;
  let encoding: string | undefined;
  let library: string | undefined;
  let engine: string | undefined;
  let code: Bytes | undefined;
  let kind: 'key' | 'function' | undefined;
  const setKind = (k: 'key' | 'function', name: string, nat: number): void => {
    if (kind !== undefined && kind !== k) c.fail(`member ${JSON.stringify(name)} cannot appear in a ${kind} record`, nat);
    kind = k;
  };
  c.object('a record', (name, nat) => {
    switch (name) {
      case 'db': setKind('key', name, nat); db = c.int('db', 0); break;
      case 'key': setKind('key', name, nat); key = c.str('a key'); break;
      case 'type': {
        setKind('key', name, nat);
        const tat = c.pos;
        const t = c.text('a key type');
        if (!KEY_TYPES.has(t)) c.fail(`unknown key type ${JSON.stringify(t)} (expected string, list, set, zset, hash, stream or module)`, tat);
        type = t as KeyType;
        break;
      }
      case 'expireAt': setKind('key', name, nat); expireAt = c.intOrNull('expireAt'); break;
      case 'value':
        setKind('key', name, nat);
        valueAt = c.pos;
        if (type !== undefined) value = parseValue(c, type);
        else c.skipValue(); // parsed below, once "type" is known
        break;
      case 'encoding': setKind('key', name, nat); encoding = c.text('an encoding name'); break;
      case 'library': setKind('function', name, nat); library = c.text('a library name'); break;
      case 'engine': setKind('function', name, nat); engine = c.text('an engine name'); break;
      case 'code': setKind('function', name, nat); code = c.str('library code'); break;
      case 'rdb':
        c.fail('this is a header line ({"rdb":...}), not a keyspace record', nat);
        break;
      default:
        unknownMember(c, name, 'a record', nat, kind === 'function' ? FUNCTION_MEMBERS : KEY_MEMBERS);
    }
  });
  const endPos = c.pos;
  c.end_();
  if (kind === 'function') {
    const r = required(c, { library, engine, code }, ['library', 'engine', 'code'], 'a function record', at);
    return { kind: 'function', library: r.library, engine: r.engine, code: r.code };
  }
  if (kind === undefined) c.fail('empty record: expected a key record {"db":..,"key":..,"type":..,"expireAt":..,"value":..} or a function record {"library":..,"engine":..,"code":..}', at);
  const r = required(c, { db, key, type, expireAt, value: valueAt < 0 ? undefined : valueAt }, ['db', 'key', 'type', 'expireAt', 'value'], 'a key record', at);
  if (value === undefined) {
    c.pos = r.value;
    value = parseValue(c, r.type);
    c.pos = endPos;
  }
  const rec = { kind: 'key', db: r.db, key: r.key, type: r.type, expireAt: r.expireAt, value } as KeyRecord & { kind: 'key' };
  if (encoding !== undefined) rec.encoding = encoding;
  const canonical = canonicalizeRecord(rec);
  checkUnique(c, canonical, at);
  return canonical;
}

/**
 * Parses the bytes `buf[start, end)` (one line, without its `\n`) as a keyspace record. Internal entry point of
 * the streaming reader; `where.offset` is the file offset of `buf[start]`.
 */
export function parseKeyspaceLineBytes(buf: Uint8Array, start: number, end: number, where: ParseWhere = {}): KeyspaceRecord {
  const c = new Cursor(buf, start, end, where);
  return parseRecord(c);
}

/**
 * Parses one line of keyspace JSON Lines (strictly: a record with exactly the members of KEYSPACE-JSONL.md, in
 * any member order, optionally `"encoding"`). Returns the record with its value in canonical form. Bad input
 * throws a {@link KeyspaceError} naming the file, line and byte.
 */
export function parseKeyspaceLine(line: string, where: ParseWhere = {}): KeyspaceRecord {
  // The cheap scan first: most lines hold no UTF-16 surrogates at all.
  const lone = /[\ud800-\udfff]/.test(line) ? /\p{Cs}/u.exec(line) : null;
  if (lone) {
    const at = Buffer.byteLength(line.slice(0, lone.index));
    const loc: ParseWhere = { ...where, offset: (where.offset ?? 0) + at };
    throw new KeyspaceError('json', `the line holds a lone UTF-16 surrogate, which is not UTF-8 text (column ${at + 1})`, loc);
  }
  const bytes = Buffer.from(line, 'utf8');
  return parseKeyspaceLineBytes(bytes, 0, bytes.length, where);
}
