import { ByteQueue } from '@redis-persist/bytes';
import { RespError } from './errors.js';
import { DEFAULT_LIMITS, type RespLimits, type RespValue } from './types.js';

const CR = 0x0d;
const LF = 0x0a;
const PLUS = 0x2b;
const MINUS = 0x2d;
const COLON = 0x3a;
const DOLLAR = 0x24;
const STAR = 0x2a;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Bulks smaller than this that have not fully arrived are collected in one allocation of their full size. */
const SMALL_BULK = 64 * 1024;
/** Payload received after which a bulk's full claimed length is allocated at once. */
const BULK_TRUST = 8 * 1024 * 1024;

interface ArrayFrame {
  items: RespValue[];
  remaining: number;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function describeByte(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : hex;
}

/**
 * Synchronous, incremental RESP2 decoder, driven as the project's other state machines (RdbParser,
 * AofScanner): feed it chunks split anywhere with {@link push}, then call {@link next} until it returns `undefined`
 * (it needs more bytes): each call returns one complete top-level value; call {@link end} at the end of the input. Parsing state (open arrays,
 * a partially received bulk) survives between pushes, so no byte is examined twice and a huge bulk arriving
 * in small chunks costs O(n).
 */
export class RespDecoder {
  private readonly q = new ByteQueue();
  private readonly maxBulk: number;
  private readonly maxArray: number;
  private readonly maxDepth: number;
  private readonly maxLine: number;

  /** Open arrays, outermost first. */
  private readonly stack: ArrayFrame[] = [];
  /** Absolute offset where the current top-level value started. */
  private valueStart = 0;
  /** How far (relative to the queue's first unread byte) the current line was already scanned for LF. */
  private lineScanned = 0;

  /** A bulk being collected across pushes (its payload already left the queue). */
  private bulk: Uint8Array | null = null;
  private bulkLength = 0;
  private bulkFilled = 0;

  private failure: RespError | null = null;
  private ended = false;

  constructor(limits: RespLimits = {}) {
    this.maxBulk = limits.maxBulkLength ?? DEFAULT_LIMITS.maxBulkLength;
    this.maxArray = limits.maxArrayLength ?? DEFAULT_LIMITS.maxArrayLength;
    this.maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
    this.maxLine = limits.maxLineLength ?? DEFAULT_LIMITS.maxLineLength;
  }

  /** Absolute offset of the next unread byte (bytes of a partially collected bulk count as read). */
  get offset(): number {
    return this.q.offset;
  }

  /** Absolute offset where the value most recently returned by {@link next} (or the one in progress) started. */
  get valueOffset(): number {
    return this.valueStart;
  }

  /** Bytes pushed but not yet consumed by {@link next}. */
  get buffered(): number {
    return this.q.length;
  }

  /** True when a value has been started but not completed. */
  get pending(): boolean {
    return this.bulk !== null || this.stack.length > 0 || this.q.length > 0;
  }

  /** Appends input. The chunk is copied (or moved straight into a bulk being collected); the caller may reuse it. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new RespError('corrupt', 'push() after end()', { offset: this.q.offset });
    if (this.bulk !== null && this.q.length === 0) {
      // Payload of a large bulk goes straight to its destination instead of through the queue.
      const take = Math.min(chunk.length, this.bulkLength - this.bulkFilled);
      if (take > 0) {
        this.ensureBulkCapacity(this.bulkFilled + take);
        this.bulk.set(take === chunk.length ? chunk : chunk.subarray(0, take), this.bulkFilled);
        this.bulkFilled += take;
        this.q.reset(this.q.offset + take);
        if (take === chunk.length) return;
        chunk = chunk.subarray(take);
      }
    }
    this.q.push(chunk);
  }

  /**
   * Declares the end of input. Throws RespError('truncated') at the start offset of the incomplete value
   * when input stopped in the middle of one.
   */
  end(): void {
    if (this.failure) throw this.failure;
    this.ended = true;
    if (this.bulk === null && this.q.length > 0) this.checkTypeByte(this.q.buf[this.q.start]);
    if (this.pending) {
      const start = this.valueStart;
      const where =
        this.bulk !== null
          ? `, inside a bulk string of ${this.bulkLength} bytes of which ${this.bulkFilled} arrived`
          : this.stack.length > 0
            ? `, inside an array nested ${this.stack.length} deep`
            : '';
      throw this.fail(
        new RespError('truncated', `input ends in the middle of the value that starts here${where}`, { offset: start }),
      );
    }
  }

  /** The next complete top-level value, or `undefined` when more bytes are needed. */
  next(): RespValue | undefined {
    if (this.failure) throw this.failure;
    const q = this.q;
    for (;;) {
      let value: RespValue | undefined;
      if (this.bulk !== null) {
        value = this.continueBulk();
        if (value === undefined) return undefined;
      } else {
        if (q.length === 0) return undefined;
        if (this.stack.length === 0 && this.lineScanned === 0) this.valueStart = q.offset;
        const lf = this.findLineEnd();
        if (lf < 0) return undefined;
        value = this.parseLine(lf);
        if (value === undefined) continue; // an array opened or a bulk is being collected
      }
      // Place the completed value into the open arrays; return it when it completes a top-level value.
      const stack = this.stack;
      for (;;) {
        if (stack.length === 0) return value;
        const top = stack[stack.length - 1];
        top.items.push(value);
        if (--top.remaining > 0) break;
        stack.pop();
        value = { type: 'array', value: top.items };
      }
    }
  }

  private fail(err: RespError): RespError {
    this.failure = err;
    return err;
  }

  private corrupt(message: string, at: number): RespError {
    return this.fail(new RespError('corrupt', message, { offset: at }));
  }

  private limit(message: string, at: number): RespError {
    return this.fail(new RespError('limit', message, { offset: at }));
  }

  /** Index of the line's LF relative to the first unread byte, or -1 when the line is not complete yet. */
  private findLineEnd(): number {
    const q = this.q;
    const buf = q.buf;
    const base = q.start;
    const end = q.end;
    // type byte + up to maxLine content bytes + CR + LF
    const limitEnd = Math.min(end, base + this.maxLine + 3);
    for (let i = base + this.lineScanned; i < limitEnd; i++) {
      if (buf[i] === LF) {
        this.lineScanned = 0;
        return i - base;
      }
    }
    if (end - base >= this.maxLine + 3) {
      throw this.limit(
        `line longer than ${this.maxLine} bytes (maxLineLength)`,
        q.offset,
      );
    }
    this.lineScanned = end - base;
    // Validate the type byte early so garbage fails fast instead of waiting for a line end.
    this.checkTypeByte(buf[base]);
    return -1;
  }

  private checkTypeByte(b: number): void {
    if (b !== PLUS && b !== MINUS && b !== COLON && b !== DOLLAR && b !== STAR) {
      throw this.corrupt(
        `expected a RESP type byte (+ - : $ *), found ${describeByte(b)}`,
        this.q.offset,
      );
    }
  }

  /**
   * Handles one complete line `[type][content]\r\n` whose LF is at `lf`. Returns a finished scalar, or
   * undefined when it opened an array or started a bulk.
   */
  private parseLine(lf: number): RespValue | undefined {
    const q = this.q;
    const buf = q.buf;
    const s = q.start;
    const lineOffset = q.offset;
    const type = buf[s];
    this.checkTypeByte(type);
    if (lf < 1 || buf[s + lf - 1] !== CR) {
      throw this.corrupt(`expected CR before LF`, lineOffset + lf);
    }
    const cs = s + 1; // content start
    const ce = s + lf - 1; // content end (the CR)
    switch (type) {
      case PLUS:
      case MINUS: {
        for (let i = cs; i < ce; i++) {
          if (buf[i] === CR) {
            throw this.corrupt(
              `stray CR inside a ${type === PLUS ? 'simple string' : 'error'}`,
              q.offset + (i - s),
            );
          }
        }
        const text = utf8.decode(buf.subarray(cs, ce));
        q.consume(lf + 1);
        return type === PLUS ? { type: 'simple', value: text } : { type: 'error', value: text };
      }
      case COLON: {
        const v = this.parseInt64(buf, cs, ce, lineOffset + 1);
        q.consume(lf + 1);
        return { type: 'integer', value: v };
      }
      case DOLLAR: {
        const len = this.parseLength(buf, cs, ce, lineOffset + 1, 'bulk length', this.maxBulk, 'maxBulkLength');
        q.consume(lf + 1);
        if (len < 0) return { type: 'bulk', value: null };
        return this.startBulk(len);
      }
      default: {
        // STAR
        const n = this.parseLength(buf, cs, ce, lineOffset + 1, 'array length', this.maxArray, 'maxArrayLength');
        if (n < 0) {
          q.consume(lf + 1);
          return { type: 'array', value: null };
        }
        if (n === 0) {
          q.consume(lf + 1);
          return { type: 'array', value: [] };
        }
        if (this.stack.length >= this.maxDepth) {
          throw this.limit(
            `arrays nested deeper than ${this.maxDepth} (maxDepth)`,
            lineOffset,
          );
        }
        q.consume(lf + 1);
        this.stack.push({ items: [], remaining: n });
        return undefined;
      }
    }
  }

  /** Parses a `$`/`*` length: -1 or a canonical non-negative decimal not above `max`. */
  private parseLength(
    buf: Uint8Array,
    start: number,
    end: number,
    at: number,
    what: string,
    max: number,
    limitName: string,
  ): number {
    const text = () => latin1.decode(buf.subarray(start, Math.min(end, start + 40)));
    if (end - start === 2 && buf[start] === MINUS && buf[start + 1] === 0x31) return -1;
    const len = end - start;
    if (len === 0 || (buf[start] === 0x30 && len > 1)) {
      throw this.corrupt(`invalid ${what} "${text()}"`, at);
    }
    let n = 0;
    for (let i = start; i < end; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) throw this.corrupt(`invalid ${what} "${text()}"`, at);
      if (i - start >= 19) throw this.corrupt(`${what} "${text()}" out of range`, at);
      n = n * 10 + d;
    }
    if (n > max) {
      if (len > 19 || (len === 19 && BigInt(latin1.decode(buf.subarray(start, end))) > INT64_MAX)) {
        throw this.corrupt(`${what} "${text()}" out of range`, at);
      }
      throw this.limit(`${what} ${text()} exceeds ${limitName} (${max})`, at);
    }
    return n;
  }

  private parseInt64(buf: Uint8Array, start: number, end: number, at: number): bigint {
    const len = end - start;
    let i = start;
    let negative = false;
    if (len > 0 && buf[i] === MINUS) {
      negative = true;
      i++;
    }
    const digits = end - i;
    const bad = () =>
      this.corrupt(`invalid integer "${latin1.decode(buf.subarray(start, Math.min(end, start + 40)))}"`, at);
    if (digits === 0 || digits > 19) throw bad();
    if (buf[i] === 0x30 && (digits > 1 || negative)) throw bad();
    if (digits <= 15) {
      let n = 0;
      for (; i < end; i++) {
        const d = buf[i] - 0x30;
        if (d < 0 || d > 9) throw bad();
        n = n * 10 + d;
      }
      return BigInt(negative ? -n : n);
    }
    let v = 0n;
    for (; i < end; i++) {
      const d = buf[i] - 0x30;
      if (d < 0 || d > 9) throw bad();
      v = v * 10n + BigInt(d);
    }
    if (negative) v = -v;
    if (v > INT64_MAX || v < INT64_MIN) throw bad();
    return v;
  }

  /** Called with the header consumed: returns the bulk if it is all here, else starts collecting it. */
  private startBulk(len: number): RespValue | undefined {
    const q = this.q;
    if (q.length >= len + 2) {
      const b = q.buf;
      const e = q.start + len;
      if (b[e] !== CR || b[e + 1] !== LF) {
        const at = q.offset + len + (b[e] !== CR ? 0 : 1);
        throw this.corrupt(`expected CRLF after a bulk string of ${len} bytes`, at);
      }
      const value = q.copy(len);
      q.consume(len + 2);
      return { type: 'bulk', value };
    }
    this.bulkLength = len;
    this.bulkFilled = 0;
    // Never allocate from the header alone beyond a small size: grow with what actually arrives.
    this.bulk = new Uint8Array(Math.min(len, Math.max(SMALL_BULK, q.length * 2)));
    this.moveQueuedIntoBulk();
    return undefined;
  }

  private ensureBulkCapacity(needed: number): void {
    const cur = this.bulk!;
    if (cur.length >= needed) return;
    let cap = cur.length * 2;
    if (cap < needed) cap = needed;
    // Grow with what actually arrived, so a header alone never allocates its claim; once a few MiB of real
    // payload are here (or the claim is near), take the full length in one step, to avoid copying it repeatedly.
    if (this.bulkFilled >= BULK_TRUST || cap * 4 >= this.bulkLength) cap = this.bulkLength;
    if (cap > this.bulkLength) cap = this.bulkLength;
    const next = new Uint8Array(cap);
    next.set(cur.subarray(0, this.bulkFilled));
    this.bulk = next;
  }

  private moveQueuedIntoBulk(): void {
    const q = this.q;
    const take = Math.min(q.length, this.bulkLength - this.bulkFilled);
    if (take > 0) {
      this.ensureBulkCapacity(this.bulkFilled + take);
      this.bulk!.set(q.view(take), this.bulkFilled);
      this.bulkFilled += take;
      q.consume(take);
    }
  }

  private continueBulk(): RespValue | undefined {
    this.moveQueuedIntoBulk();
    if (this.bulkFilled < this.bulkLength) return undefined;
    const q = this.q;
    if (q.length < 2) {
      if (q.length === 1 && q.buf[q.start] !== CR) {
        throw this.corrupt(`expected CRLF after a bulk string of ${this.bulkLength} bytes`, q.offset);
      }
      return undefined;
    }
    const b = q.buf;
    if (b[q.start] !== CR || b[q.start + 1] !== LF) {
      const at = q.offset + (b[q.start] !== CR ? 0 : 1);
      throw this.corrupt(`expected CRLF after a bulk string of ${this.bulkLength} bytes`, at);
    }
    q.consume(2);
    const value = this.bulk!;
    this.bulk = null;
    return { type: 'bulk', value };
  }
}

/** Decodes a buffer that must hold only whole values. Throws RespError('truncated') if the last one is cut. */
export function decodeAll(bytes: Uint8Array, limits?: RespLimits): RespValue[] {
  const d = new RespDecoder(limits);
  d.push(bytes);
  const out: RespValue[] = [];
  for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
  d.end();
  return out;
}

/** Decodes a stream of chunks into a stream of top-level values; throws RespError('truncated') if input stops mid-value. */
export async function* decodeStream(
  source: AsyncIterable<Uint8Array>,
  limits?: RespLimits,
): AsyncGenerator<RespValue> {
  const d = new RespDecoder(limits);
  for await (const chunk of source) {
    d.push(chunk);
    for (let v = d.next(); v !== undefined; v = d.next()) yield v;
  }
  d.end();
}
