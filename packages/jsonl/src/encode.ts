// Canonical keyspace JSON Lines writer. Encodes straight to bytes (never one giant string), so a record whose
// JSON exceeds what a JS string can hold still streams out in ~64 KiB chunks.
import { isUtf8 } from 'node:buffer';
import { canonicalizeRecord, isStreamId, KeyspaceError } from '@redis-persist/keyspace';
import type { Bytes, KeyRecord, KeyspaceRecord, StreamConsumer, StreamEntry, StreamGroup, StreamPendingEntry, StreamValue } from '@redis-persist/keyspace';

/** Options of the JSON Lines encoders: whether the `encoding` member is written. */
export interface EncodeOptions {
  /** Write the key's `"encoding"` member (when the record has one) after `"value"`. Default false. */
  encoding?: boolean;
}

const CHUNK_SIZE = 64 * 1024;
/** Bytes of input per base64 step: a multiple of 3, so the pieces concatenate into one valid base64 text. */
const BASE64_STEP = 3 * 16 * 1024;
const HEX = '0123456789abcdef';
const B64 = new TextEncoder().encode('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
// Escape text per byte, exactly as JSON.stringify writes it (short forms where JSON has them, else \u00xx).
const ESCAPES: (string | null)[] = Array.from({ length: 256 }, (_, b) => {
  if (b === 0x22) return '\\"';
  if (b === 0x5c) return '\\\\';
  if (b >= 0x20) return null;
  const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
  return short[b] ?? `\\u00${HEX[b >> 4]}${HEX[b & 15]}`;
});

/** Accumulates output in fixed-size chunks; completed chunks are handed out through `take()`. */
export class ChunkWriter {
  private buf: Buffer;
  private pos = 0;
  private done: Uint8Array[] = [];
  private doneBytes = 0;

  /** `newChunk` supplies the buffers (of `chunkSize` bytes) that fill up, e.g. recycled ones; default fresh ones. */
  constructor(private readonly chunkSize: number = CHUNK_SIZE, private readonly newChunk?: () => Buffer) {
    this.buf = newChunk ? newChunk() : Buffer.allocUnsafe(chunkSize);
  }

  get pendingBytes(): number {
    return this.doneBytes + this.pos;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.done.push(this.buf.subarray(0, this.pos));
    this.doneBytes += this.pos;
    this.buf = this.newChunk ? this.newChunk() : Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
  }

  /** ASCII text (punctuation, numbers, IDs, base64). */
  ascii(s: string): void {
    let room = this.buf.length - this.pos;
    if (s.length <= room) {
      if (s.length < 24) {
        // A native call costs more than a short copy loop.
        const buf = this.buf;
        let p = this.pos;
        for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
        this.pos = p;
      } else {
        this.pos += this.buf.write(s, this.pos, 'latin1');
      }
      return;
    }
    for (let i = 0; i < s.length; ) {
      if (room === 0) {
        this.flush();
        room = this.buf.length;
      }
      const n = Math.min(room, s.length - i);
      this.pos += this.buf.write(s.slice(i, i + n), this.pos, 'latin1');
      i += n;
      room -= n;
    }
  }

  /**
   * `bytes` as a JSON string in one pass when they are printable ASCII needing no escape and fit in the current
   * chunk; false (nothing written) otherwise.
   */
  plainAsciiString(bytes: Uint8Array): boolean {
    return this.plainAsciiRange(bytes, 0, bytes.length);
  }

  /**
   * `bytes[start, end)` as a JSON string, as {@link plainAsciiString}: true when they were printable ASCII needing
   * no escape and fitted in the current chunk, false (nothing written) otherwise.
   */
  plainAsciiRange(bytes: Uint8Array, start: number, end: number): boolean {
    const buf = this.buf;
    let p = this.pos;
    if (end - start + 2 > buf.length - p) return false;
    buf[p++] = 0x22;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80 || b < 0x20 || b === 0x22 || b === 0x5c) return false;
      buf[p++] = b;
    }
    buf[p++] = 0x22;
    this.pos = p;
    return true;
  }

  /**
   * The base64 text of `bytes[start, end)` (without quotes) in one pass when it fits in the current chunk; false
   * (nothing written) otherwise.
   */
  base64Range(bytes: Uint8Array, start: number, end: number): boolean {
    const buf = this.buf;
    let p = this.pos;
    const n = end - start;
    if (4 * Math.ceil(n / 3) > buf.length - p) return false;
    const whole = end - (n % 3);
    let i = start;
    for (; i < whole; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      buf[p] = B64[v >> 18]!;
      buf[p + 1] = B64[(v >> 12) & 63]!;
      buf[p + 2] = B64[(v >> 6) & 63]!;
      buf[p + 3] = B64[v & 63]!;
      p += 4;
    }
    if (end - i === 1) {
      const v = bytes[i]! << 16;
      buf[p] = B64[v >> 18]!;
      buf[p + 1] = B64[(v >> 12) & 63]!;
      buf[p + 2] = 0x3d;
      buf[p + 3] = 0x3d;
      p += 4;
    } else if (end - i === 2) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
      buf[p] = B64[v >> 18]!;
      buf[p + 1] = B64[(v >> 12) & 63]!;
      buf[p + 2] = B64[(v >> 6) & 63]!;
      buf[p + 3] = 0x3d;
      p += 4;
    }
    this.pos = p;
    return true;
  }

  private markBuf: Buffer | null = null;
  private markPos = 0;
  private markDone = 0;
  private markDoneBytes = 0;

  /** Remembers the write position, for {@link rewind} (no {@link takeAll} or {@link takeDone} in between). */
  mark(): void {
    this.markBuf = this.buf;
    this.markPos = this.pos;
    this.markDone = this.done.length;
    this.markDoneBytes = this.doneBytes;
  }

  /** Drops what was written since the last {@link mark}. */
  rewind(): void {
    if (this.markBuf === null) return;
    if (this.done.length !== this.markDone) {
      this.done.length = this.markDone;
      this.doneBytes = this.markDoneBytes;
      this.buf = this.markBuf;
    }
    this.pos = this.markPos;
  }

  /** Appends one byte. */
  byte(b: number): void {
    if (this.pos === this.buf.length) this.flush();
    this.buf[this.pos++] = b;
  }

  /** Appends `bytes[start, end)` as they are. */
  raw(bytes: Uint8Array, start = 0, end = bytes.length): void {
    // up to a few hundred bytes a JS loop beats a subarray and a native copy
    if (end - start <= 256 && end - start <= this.buf.length - this.pos) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = start; i < end; i++) buf[p++] = bytes[i]!;
      this.pos = p;
      return;
    }
    while (start < end) {
      if (this.pos === this.buf.length) this.flush();
      const n = Math.min(end - start, this.buf.length - this.pos);
      this.buf.set(bytes.subarray(start, start + n), this.pos);
      this.pos += n;
      start += n;
    }
  }

  /** Everything written so far as complete chunks (the writer starts empty again). */
  takeAll(): Uint8Array[] {
    this.flush();
    return this.takeDone();
  }

  /** Only the chunks that are full; the partly filled one stays for more lines. */
  takeDone(): Uint8Array[] {
    const out = this.done;
    this.done = [];
    this.doneBytes = 0;
    return out;
  }

  /** The whole content as a string (for single lines); resets the writer. */
  takeString(): string {
    if (this.done.length === 0) {
      const s = this.buf.toString('utf8', 0, this.pos);
      this.pos = 0;
      return s;
    }
    const parts = this.takeAll();
    const all = Buffer.concat(parts);
    try {
      return all.toString('utf8');
    } catch {
      throw new KeyspaceError('range', `the line is ${all.length} bytes, more than a JavaScript string can hold; use keyspaceJsonlChunks() or encodeKeyspaceLineBytes()`);
    }
  }

  /** Copies everything written so far to `dst` at `at` (`pendingBytes` bytes); does not reset. */
  copyTo(dst: Uint8Array, at: number): void {
    for (const d of this.done) {
      dst.set(d, at);
      at += d.length;
    }
    const buf = this.buf;
    const n = this.pos;
    if (n <= 256) for (let i = 0; i < n; i++) dst[at + i] = buf[i]!;
    else dst.set(buf.subarray(0, n), at);
  }

  /** Drops everything buffered. */
  reset(): void {
    this.pos = 0;
    if (this.done.length > 0) this.done = [];
    this.doneBytes = 0;
  }
}

function fail(message: string): never {
  throw new KeyspaceError('schema', message);
}

function writeEscapedUtf8(w: ChunkWriter, bytes: Uint8Array, start = 0, end = bytes.length): void {
  w.byte(0x22);
  writeEscapedRun(w, bytes, start, end);
  w.byte(0x22);
}

/**
 * Valid UTF-8 bytes as they stand inside a JSON string (what {@link writeStr} writes between the quotes), of
 * `bytes[start, end)`: for a string written in pieces, cut anywhere outside a multi-byte character (only ASCII bytes
 * are escaped).
 */
export function writeEscapedRun(w: ChunkWriter, bytes: Uint8Array, start = 0, end = bytes.length): void {
  let runStart = start;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b >= 0x20 && b !== 0x22 && b !== 0x5c) continue;
    w.raw(bytes, runStart, i);
    w.ascii(ESCAPES[b]!);
    runStart = i + 1;
  }
  w.raw(bytes, runStart, end);
}


/** `{"base64":...}` of `bytes[start, end)`. */
function writeBase64Object(w: ChunkWriter, bytes: Uint8Array, start = 0, end = bytes.length): void {
  if (end - start <= 4096) {
    // short ones in a JS loop: no base64 string made, then copied
    w.ascii('{"base64":"');
    if (w.base64Range(bytes, start, end)) {
      w.ascii('"}');
      return;
    }
    const n = end;
    const whole = end - ((end - start) % 3);
    let i = start;
    for (; i < whole; i += 3) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      w.byte(B64[v >> 18]!);
      w.byte(B64[(v >> 12) & 63]!);
      w.byte(B64[(v >> 6) & 63]!);
      w.byte(B64[v & 63]!);
    }
    if (n - i === 1) {
      const v = bytes[i]! << 16;
      w.byte(B64[v >> 18]!);
      w.byte(B64[(v >> 12) & 63]!);
      w.ascii('==');
    } else if (n - i === 2) {
      const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
      w.byte(B64[v >> 18]!);
      w.byte(B64[(v >> 12) & 63]!);
      w.byte(B64[(v >> 6) & 63]!);
      w.byte(0x3d);
    }
    w.ascii('"}');
    return;
  }
  w.ascii('{"base64":"');
  for (let i = start; i < end; i += BASE64_STEP) {
    const e = Math.min(end, i + BASE64_STEP);
    w.ascii(Buffer.from(bytes.buffer, bytes.byteOffset + i, e - i).toString('base64'));
  }
  w.ascii('"}');
}

/**
 * Whether `b[s, e)` is valid UTF-8 as isUtf8 says (no overlong forms, no surrogates, nothing above U+10FFFF, no
 * cut character), in JS: for short strings cheaper than a view and a native call.
 */
function utf8Range(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xc2 || c > 0xf4) return false;
    if (c < 0xe0) {
      if (i + 1 >= e || (b[i + 1]! & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    if (c < 0xf0) {
      if (i + 2 >= e) return false;
      const c1 = b[i + 1]!;
      // E0: no overlong (A0..BF); ED: no surrogates (80..9F)
      if (c === 0xe0 ? c1 < 0xa0 || c1 > 0xbf : c === 0xed ? c1 < 0x80 || c1 > 0x9f : (c1 & 0xc0) !== 0x80) return false;
      if ((b[i + 2]! & 0xc0) !== 0x80) return false;
      i += 3;
      continue;
    }
    if (i + 3 >= e) return false;
    const c1 = b[i + 1]!;
    // F0: no overlong (90..BF); F4: nothing above U+10FFFF (80..8F)
    if (c === 0xf0 ? c1 < 0x90 || c1 > 0xbf : c === 0xf4 ? c1 < 0x80 || c1 > 0x8f : (c1 & 0xc0) !== 0x80) return false;
    if ((b[i + 2]! & 0xc0) !== 0x80 || (b[i + 3]! & 0xc0) !== 0x80) return false;
    i += 4;
  }
  return true;
}

/** Longest range {@link writeStrRange} checks for UTF-8 in JS (longer ones: isUtf8 on a view). */
const UTF8_JS_MAX = 1024;

/** A `Str`: valid UTF-8 as a JSON string, anything else as `{"base64":...}`. */
export function writeStr(w: ChunkWriter, bytes: Bytes): void {
  writeStrRange(w, bytes, 0, bytes.length);
}

/** {@link writeStr} of `bytes[start, end)` (the same output, without a view of the range for the common cases). */
export function writeStrRange(w: ChunkWriter, bytes: Uint8Array, start: number, end: number): void {
  // Short strings: printable ASCII without escapes is copied in one pass; else one JS pass decides "plain
  // ASCII" (no native call); otherwise ask isUtf8.
  if (end - start <= 64) {
    if (w.plainAsciiRange(bytes, start, end)) return;
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      writeEscapedUtf8(w, bytes, start, end);
      return;
    }
  }
  if (end - start <= UTF8_JS_MAX) {
    if (utf8Range(bytes, start, end)) writeEscapedUtf8(w, bytes, start, end);
    else writeBase64Object(w, bytes, start, end);
    return;
  }
  const v = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  if (isUtf8(v)) writeEscapedUtf8(w, v);
  else writeBase64Object(w, v);
}

const textEncoder = new TextEncoder();

function writeText(w: ChunkWriter, s: string): void {
  writeEscapedUtf8(w, textEncoder.encode(s));
}

function writeInt(w: ChunkWriter, n: number, what: string): void {
  if (!Number.isSafeInteger(n)) fail(`${what} must be a safe integer, got ${String(n)}`);
  w.ascii(String(n));
}

function writeIntOrNull(w: ChunkWriter, n: number | null, what: string): void {
  if (n === null) w.ascii('null');
  else writeInt(w, n, what);
}

/** Appends a sorted-set score as KEYSPACE-JSONL writes it (a number, or `"inf"` / `"-inf"`). */
export function writeScore(w: ChunkWriter, s: number): void {
  if (s === Infinity) w.ascii('"inf"');
  else if (s === -Infinity) w.ascii('"-inf"');
  else if (Number.isNaN(s) || typeof s !== 'number') fail(`a sorted-set score must be a number, got ${String(s)}`);
  else if (!writeShortDecimal(w, s)) w.ascii(String(s)); // String(-0) is "0"
}

const SCORE_DIGITS = new Uint8Array(24);

/**
 * String(s) for the common scores, without making the string: an integer or a number of hundredths, when it has at
 * most 15 significant digits. Such a decimal is the only one of that many digits that reads back as `s` (doubles
 * keep 15 digits apart), so it is what the shortest round-trip String(s) writes; below 1e15 and at or above 0.01
 * String(s) writes no exponent. False (nothing written) for the rest.
 */
function writeShortDecimal(w: ChunkWriter, s: number): boolean {
  const a = s < 0 ? -s : s;
  if (!(a < 1e13)) return false;
  let k: number;
  let frac: number;
  if (Number.isInteger(a)) {
    k = a;
    frac = 0;
  } else {
    k = Math.round(a * 100);
    if (k / 100 !== a) return false;
    frac = 2;
    if (k % 10 === 0) {
      k /= 10;
      frac = 1;
    }
  }
  const d = SCORE_DIGITS;
  let i = d.length;
  let f = frac;
  do {
    const q = Math.floor(k / 10);
    d[--i] = 0x30 + (k - q * 10);
    k = q;
    if (--f === 0) d[--i] = 0x2e;
  } while (k > 0 || f > 0);
  if (d[i] === 0x2e) d[--i] = 0x30;
  if (s < 0) d[--i] = 0x2d;
  w.raw(d, i, d.length);
  return true;
}

function writeId(w: ChunkWriter, id: string, what: string): void {
  if (typeof id !== 'string' || !isStreamId(id)) fail(`${what} must be a stream ID "<ms>-<seq>", got ${JSON.stringify(id)}`);
  w.byte(0x22);
  w.ascii(id);
  w.byte(0x22);
}

/** One stream entry: `[ID,[[field,value],...]]`. */
export function writeStreamEntry(w: ChunkWriter, e: StreamEntry): void {
  w.byte(0x5b);
  writeId(w, e.id, 'a stream entry ID');
  w.ascii(',[');
  for (let j = 0; j < e.fields.length; j++) {
    const [f, v] = e.fields[j]!;
    w.ascii(j > 0 ? ',[' : '[');
    writeStr(w, f);
    w.byte(0x2c);
    writeStr(w, v);
    w.byte(0x5d);
  }
  w.ascii(']]');
}

/** What lies between a stream's entries and its groups: `],"length":...,"groups":[`. */
export function writeStreamMeta(w: ChunkWriter, s: StreamValue): void {
  w.ascii('],"length":');
  writeInt(w, s.length, 'stream length');
  w.ascii(',"lastId":');
  writeId(w, s.lastId, 'lastId');
  w.ascii(',"firstId":');
  if (s.firstId === null) w.ascii('null');
  else writeId(w, s.firstId, 'firstId');
  w.ascii(',"maxDeletedId":');
  if (s.unreported?.includes('maxDeletedId')) w.ascii('null');
  else writeId(w, s.maxDeletedId, 'maxDeletedId');
  w.ascii(',"entriesAdded":');
  if (s.unreported?.includes('entriesAdded')) w.ascii('null');
  else writeInt(w, s.entriesAdded, 'entriesAdded');
  w.ascii(',"groups":[');
}

/** A group up to its pending entries: `{"name":...,"entriesRead":...,"pending":[`. */
export function writeStreamGroupHead(w: ChunkWriter, g: StreamGroup): void {
  w.ascii('{"name":');
  writeStr(w, g.name);
  w.ascii(',"lastDeliveredId":');
  writeId(w, g.lastDeliveredId, 'lastDeliveredId');
  w.ascii(',"entriesRead":');
  writeIntOrNull(w, g.entriesRead, 'entriesRead');
  w.ascii(',"pending":[');
}

/** A pending entry: `[ID,CONSUMER,DELIVERY_TIME_MS,DELIVERY_COUNT]`. */
export function writeStreamPending(w: ChunkWriter, p: StreamPendingEntry): void {
  w.byte(0x5b);
  writeId(w, p.id, 'a pending entry ID');
  w.byte(0x2c);
  writeStr(w, p.consumer);
  w.byte(0x2c);
  writeInt(w, p.deliveryTime, 'deliveryTime');
  w.byte(0x2c);
  writeInt(w, p.deliveryCount, 'deliveryCount');
  w.byte(0x5d);
}

/** A consumer: `{"name":...,"seenTime":...,"activeTime":...}`. */
export function writeStreamConsumer(w: ChunkWriter, c: StreamConsumer): void {
  w.ascii('{"name":');
  writeStr(w, c.name);
  w.ascii(',"seenTime":');
  writeInt(w, c.seenTime, 'seenTime');
  w.ascii(',"activeTime":');
  writeIntOrNull(w, c.activeTime, 'activeTime');
  w.byte(0x7d);
}

function writeStream(w: ChunkWriter, s: StreamValue): void {
  w.ascii('{"entries":[');
  for (let i = 0; i < s.entries.length; i++) {
    if (i > 0) w.byte(0x2c);
    writeStreamEntry(w, s.entries[i]!);
  }
  writeStreamMeta(w, s);
  for (let i = 0; i < s.groups.length; i++) {
    const g = s.groups[i]!;
    if (i > 0) w.byte(0x2c);
    writeStreamGroupHead(w, g);
    for (let j = 0; j < g.pending.length; j++) {
      if (j > 0) w.byte(0x2c);
      writeStreamPending(w, g.pending[j]!);
    }
    w.ascii('],"consumers":[');
    for (let j = 0; j < g.consumers.length; j++) {
      if (j > 0) w.byte(0x2c);
      writeStreamConsumer(w, g.consumers[j]!);
    }
    w.ascii(']}');
  }
  w.ascii(']}');
}

function writeValue(w: ChunkWriter, rec: KeyRecord): void {
  switch (rec.type) {
    case 'string':
      writeStr(w, rec.value);
      return;
    case 'list':
    case 'set':
      w.byte(0x5b);
      for (let i = 0; i < rec.value.length; i++) {
        if (i > 0) w.byte(0x2c);
        writeStr(w, rec.value[i]!);
      }
      w.byte(0x5d);
      return;
    case 'zset':
      w.byte(0x5b);
      for (let i = 0; i < rec.value.length; i++) {
        const [m, s] = rec.value[i]!;
        w.ascii(i > 0 ? ',[' : '[');
        writeStr(w, m);
        w.byte(0x2c);
        writeScore(w, s);
        w.byte(0x5d);
      }
      w.byte(0x5d);
      return;
    case 'hash':
      w.byte(0x5b);
      for (let i = 0; i < rec.value.length; i++) {
        const h = rec.value[i]!;
        w.ascii(i > 0 ? ',[' : '[');
        writeStr(w, h.field);
        w.byte(0x2c);
        writeStr(w, h.value);
        if (h.expireAt !== null && h.expireAt !== undefined) {
          w.byte(0x2c);
          writeInt(w, h.expireAt, 'a hash field expireAt');
        }
        w.byte(0x5d);
      }
      w.byte(0x5d);
      return;
    case 'stream':
      writeStream(w, rec.value);
      return;
    case 'module':
      w.ascii('{"module":');
      writeText(w, rec.value.module);
      w.ascii(',"encver":');
      writeInt(w, rec.value.encver, 'module encver');
      w.ascii(',"raw":');
      writeBase64Object(w, rec.value.raw);
      w.byte(0x7d);
      return;
    default:
      fail(`unknown key type ${JSON.stringify((rec as { type: unknown }).type)}`);
  }
}

/** Appends one record's line (with its newline) to a {@link ChunkWriter}. */
export function writeRecord(w: ChunkWriter, record: KeyspaceRecord, options: EncodeOptions | undefined): void {
  const rec = canonicalizeRecord(record);
  if (rec.kind === 'function') {
    w.ascii('{"library":');
    writeText(w, rec.library);
    w.ascii(',"engine":');
    writeText(w, rec.engine);
    w.ascii(',"code":');
    writeStr(w, rec.code);
    w.byte(0x7d);
    return;
  }
  if (rec.kind !== 'key') fail(`a record's kind must be "key" or "function", got ${JSON.stringify((rec as { kind: unknown }).kind)}`);
  writeKeyHead(w, rec);
  writeValue(w, rec);
  writeKeyTail(w, rec, options);
}

/** A key line up to and including `"value":`. */
export function writeKeyHead(w: ChunkWriter, rec: KeyRecord): void {
  w.ascii('{"db":');
  if (!Number.isSafeInteger(rec.db) || rec.db < 0) fail(`db must be a non-negative integer, got ${String(rec.db)}`);
  w.ascii(String(rec.db));
  w.ascii(',"key":');
  writeStr(w, rec.key);
  w.ascii(',"type":"');
  w.ascii(rec.type);
  w.ascii('","expireAt":');
  writeIntOrNull(w, rec.expireAt, 'expireAt');
  w.ascii(',"value":');
}

/** What follows a key's value: the optional `"encoding"` member and the closing brace (no newline). */
export function writeKeyTail(w: ChunkWriter, rec: KeyRecord, options: EncodeOptions | undefined): void {
  if (options?.encoding && rec.encoding !== undefined) {
    w.ascii(',"encoding":');
    writeText(w, rec.encoding);
  }
  w.byte(0x7d);
}

const lineWriter = new ChunkWriter();

/** One canonical line (without the trailing `\n`). Canonicalises the value first when needed. */
export function encodeKeyspaceLine(rec: KeyspaceRecord, options?: EncodeOptions): string {
  lineWriter.reset();
  try {
    writeRecord(lineWriter, rec, options);
    return lineWriter.takeString();
  } finally {
    lineWriter.reset();
  }
}

/** One canonical line as bytes, `\n` included. */
export function encodeKeyspaceLineBytes(rec: KeyspaceRecord, options?: EncodeOptions): Uint8Array {
  const w = new ChunkWriter(4096);
  writeRecord(w, rec, options);
  w.byte(0x0a);
  const parts = w.takeAll();
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Canonical JSON Lines bytes for a sequence of records (in the order given: sort them first with
 * `sortKeyspace` for the canonical file order), `\n` after every line, in chunks of about 64 KiB.
 */
export async function* keyspaceJsonlChunks(
  records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>,
  options?: EncodeOptions,
): AsyncGenerator<Uint8Array> {
  const w = new ChunkWriter(CHUNK_SIZE);
  for await (const rec of records) {
    writeRecord(w, rec, options);
    w.byte(0x0a);
    for (const chunk of w.takeDone()) yield chunk;
  }
  for (const chunk of w.takeAll()) yield chunk;
}
