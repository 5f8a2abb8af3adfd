// The AOF record scanner: a synchronous state machine fed chunks of one RESP part of an AOF file. It applies
// exactly the framing rules of redis-check-aof (Redis 7.x / 8.0, Valkey 8): records start with '*' (a command)
// or '#' (an annotation line), counts and lengths are read the way strtol reads them, CRLF is enforced after
// every line and payload, MULTI/EXEC must pair up. It tracks the same `ok_up_to` offset and line counter so
// verdicts and repairs match the reference tool byte for byte, and it can hand out each command's arguments.
//
// It never re-scans: a huge payload arriving in many chunks is skipped (or collected) incrementally.

/** One complete record of the RESP part. */
export type AofScanEvent =
  | { type: 'command'; offset: number; end: number; args: Uint8Array[] | null; name: Uint8Array }
  | { type: 'annotation'; offset: number; end: number; text: Uint8Array };

/** Why a scan stopped before the end of its input, in redis-check-aof's words. */
export interface AofScanFailure {
  /** `truncated`: the input ended inside a record; `corrupt`: bytes that cannot be a record. */
  kind: 'truncated' | 'corrupt';
  /** The offset redis-check-aof prints with the message (start of the failing line or payload). */
  errorOffset: number;
  /**
   * The message redis-check-aof prints, without its `0x...: ` prefix; `null` when it prints none (the file
   * ends exactly where a count or length line should start).
   */
  message: string | null;
  /** redis-check-aof prints "AOF <file> format error" without an offset for a bad first byte. */
  plain: boolean;
  /** A human explanation (always present), for our own reports. */
  explanation: string;
}

/** Options of {@link AofScanner}: which commands keep their arguments, limits, RDB preamble handling. */
export interface AofScannerOptions {
  /**
   * Collect every command's arguments (else only the command name is kept). A function decides per command from
   * its name (the first argument), so a caller that needs the arguments of a few commands only (SELECT, the
   * commands it removes) does not copy the others. Default false.
   */
  collectArgs?: boolean | ((name: Uint8Array) => boolean);
  /**
   * Emit an event per command (default true). A pure check turns it off: no allocation per command; only
   * annotations are emitted.
   */
  commandEvents?: boolean;
  /** Longest argument collected, in bytes (default 512 MiB, Redis' proto-max-bulk-len). */
  maxArgLength?: number;
  /** The path used in messages that name the file ("Unexpected MULTI in AOF <path>"). */
  path?: string;
  /** `--truncate-to-timestamp`: stop at the first `#TS:` annotation later than this (seconds; 0 = off). */
  truncateToTimestamp?: number;
  /** Offset of the first byte fed (for a RESP tail after an RDB preamble). Default 0. */
  startOffset?: number;
  /** Line counter to continue from (redis-check-aof counts across the files of a manifest). Default 1. */
  startLine?: number;
}

const enum State {
  Record,
  Annotation,
  Line,
  Payload,
  Done,
}

const STAR = 0x2a;
const DOLLAR = 0x24;
const HASH = 0x23;
const CR = 0x0d;
const LF = 0x0a;
const READLONG_MAX = 127; // fgets(buf, 128)
const ANNOTATION_MAX = 1023; // fgets(buf, AOF_ANNOTATION_LINE_MAX_LEN = 1024)
const MAX_NAME_KEPT = 1024;
const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;

function isSpace(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d);
}

function hex2(b: number): string {
  // printf("%02x", (char)b) with a signed char: bytes >= 0x80 print as ffffffXX.
  return b >= 0x80 ? 'ffffff' + b.toString(16) : b.toString(16).padStart(2, '0');
}

/** strtol(s, &end, 10) over `line[from..len)`, where the C string ends at the first NUL. */
function strtol(line: Uint8Array, from: number, len: number): { value: bigint; end: number } {
  let i = from;
  while (i < len && line[i] !== 0 && isSpace(line[i])) i++;
  let neg = false;
  if (i < len && (line[i] === 0x2b || line[i] === 0x2d)) {
    neg = line[i] === 0x2d;
    i++;
  }
  const digitsStart = i;
  let v = 0;
  let big: bigint | null = null;
  while (i < len && line[i] >= 0x30 && line[i] <= 0x39) {
    const d = line[i] - 0x30;
    if (big === null) {
      v = v * 10 + d;
      if (v > 9007199254740991 / 10) big = BigInt(v);
    } else if (big <= LONG_MAX) {
      big = big * 10n + BigInt(d);
    }
    i++;
  }
  if (i === digitsStart) return { value: 0n, end: from }; // no conversion: endptr = nptr
  let value = big ?? BigInt(v);
  if (neg) value = -value;
  if (value > LONG_MAX) value = LONG_MAX;
  if (value < LONG_MIN) value = LONG_MIN;
  return { value, end: i };
}

/** Compares a C string (up to its first NUL) with a lower-case ASCII word, ignoring case. */
function cstrEqualsIgnoreCase(bytes: Uint8Array, len: number, word: string): boolean {
  let n = 0;
  while (n < len && bytes[n] !== 0) n++;
  if (n !== word.length) return false;
  for (let k = 0; k < n; k++) {
    let b = bytes[k];
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    if (b !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Scans the RESP part of one AOF file. Driven as the project's other state machines (RespDecoder, RdbParser):
 * {@link push} a chunk, then call {@link next} until it returns `undefined` (the records the chunk completed, in
 * order; those not pulled before the next push are dropped), and {@link end} at the end of the input (then pull
 * the last records with {@link next}). Read the verdict from {@link okUpTo}, {@link line}, {@link failure} and
 * {@link timestampCut}.
 */
export class AofScanner {
  /** redis-check-aof's `ok_up_to`: end of the last complete record outside a MULTI. */
  okUpTo: number;
  /** redis-check-aof's line counter (one per CRLF consumed). */
  line: number;
  /** Set when the scan stopped on a damaged or incomplete record. */
  failure: AofScanFailure | null = null;
  /** With truncateToTimestamp: the offset of the first annotation past the timestamp. */
  timestampCut: number | null = null;
  /** With truncateToTimestamp: a `#TS:` annotation that is not `#TS:<number>\r`. */
  invalidTimestamp: { offset: number } | null = null;
  /** Open MULTI depth (redis-check-aof's `multi`). */
  multi = 0;
  /** Offset where the open MULTI began, or -1. */
  multiStart = -1;
  commands = 0;
  annotations = 0;
  /** Commands complete at {@link okUpTo} (the rest would be cut by a repair). */
  commandsAtOk = 0;
  /** Offsets of the first records with no arguments (`*0`, `*-1`): redis-check-aof passes them, Redis refuses them. */
  emptyCommands: number[] = [];

  private state: State = State.Record;
  private offset: number; // absolute offset of the next unprocessed byte
  private epos: number; // offset redis-check-aof would print
  private recordStart = 0;
  // line reading
  private lineBuf = new Uint8Array(READLONG_MAX + 2);
  private lineLen = 0;
  private lineStart = 0;
  private prefix = STAR;
  // command
  private argc = 0;
  private argi = 0;
  private payloadLen = 0;
  /** The exact claimed length when it is beyond 2^53 (only ever seen in damaged files). */
  private payloadLenExact: bigint | null = null;
  private payloadDone = 0;
  private payloadStart = 0;
  private tail = new Uint8Array(2); // the two bytes after a payload
  private nameBuf = new Uint8Array(8);
  private nameLen = 0;
  private name: Uint8Array = new Uint8Array(0);
  private args: Uint8Array[] | null = null;
  private argParts: Uint8Array[] = [];
  // annotation
  private annotation: Uint8Array[] = [];
  private annotationLen = 0;
  private annotationStart = 0;

  /** The records of the last push (or of end), and the next one {@link next} hands out. */
  private readonly queue: AofScanEvent[] = [];
  private queued = 0;

  private readonly collect: boolean;
  private readonly collectIf: ((name: Uint8Array) => boolean) | null;
  private readonly emitCommands: boolean;
  private readonly maxArg: number;
  private readonly path: string;
  private readonly toTimestamp: number;

  constructor(options: AofScannerOptions = {}) {
    this.collect = options.collectArgs === true;
    this.collectIf = typeof options.collectArgs === 'function' ? options.collectArgs : null;
    this.emitCommands = options.commandEvents ?? true;
    this.maxArg = options.maxArgLength ?? 512 * 1024 * 1024;
    this.path = options.path ?? 'appendonly.aof';
    this.toTimestamp = options.truncateToTimestamp ?? 0;
    this.offset = options.startOffset ?? 0;
    this.okUpTo = this.offset;
    this.epos = this.offset;
    this.line = options.startLine ?? 1;
  }

  /** True once the scan has stopped (failure, timestamp cut, or end). */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** Absolute offset of the next byte the scanner expects. */
  get position(): number {
    return this.offset;
  }

  /**
   * Processes a chunk (copying what it keeps: the caller may reuse it). The records it completes are then handed
   * out by {@link next}. Returns how many bytes of the chunk were used (all of them, unless the scan stopped inside
   * it).
   */
  push(chunk: Uint8Array): number {
    const events = this.queue;
    events.length = 0;
    this.queued = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n && this.state !== State.Done) {
      switch (this.state) {
        case State.Record: {
          if (this.multi === 0) {
            this.okUpTo = this.offset;
            this.commandsAtOk = this.commands;
          }
          const b = chunk[i];
          this.recordStart = this.offset;
          if (b === HASH) {
            this.state = State.Annotation;
            this.annotationStart = this.offset;
            this.annotation = [];
            this.annotationLen = 0;
            this.epos = this.offset;
          } else if (b === STAR) {
            this.startLine(STAR);
            this.nameLen = 0;
            this.args = this.collect ? [] : null;
          } else {
            this.fail('corrupt', this.offset, `AOF ${this.path} format error`, true,
              `expected '*' (a command) or '#' (an annotation) at the start of a record, found byte 0x${b.toString(16).padStart(2, '0')}`);
          }
          break;
        }
        case State.Annotation: {
          const room = ANNOTATION_MAX - this.annotationLen;
          const lim = Math.min(n, i + room);
          let j = i;
          while (j < lim && chunk[j] !== LF) j++;
          const complete = j < lim; // found '\n'
          const take = (complete ? j + 1 : lim) - i;
          this.annotation.push(chunk.slice(i, i + take));
          this.annotationLen += take;
          i += take;
          this.offset += take;
          if (complete || this.annotationLen === ANNOTATION_MAX) this.endAnnotation(events);
          continue;
        }
        case State.Line: {
          if (this.lineLen === 0 && chunk[i] === this.prefix) {
            // Fast path: a plain "<prefix><digits>\r\n" wholly inside this chunk (nearly every line).
            let k = i + 1;
            let v = 0;
            const lim = Math.min(n, i + 16);
            while (k < lim) {
              const d = chunk[k] - 0x30;
              if (d < 0 || d > 9) break;
              v = v * 10 + d;
              k++;
            }
            if (k > i + 1 && k + 1 < n && chunk[k] === CR && chunk[k + 1] === LF) {
              const took = k + 2 - i;
              i += took;
              this.offset += took;
              this.line++;
              if (this.prefix === STAR) this.acceptCount(v, events);
              else this.acceptLength(v, null);
              continue;
            }
          }
          const room = READLONG_MAX - this.lineLen;
          const lim = Math.min(n, i + room);
          let j = i;
          const buf = this.lineBuf;
          let len = this.lineLen;
          while (j < lim) {
            const b = chunk[j++];
            buf[len++] = b;
            if (b === LF) break;
          }
          const took = j - i;
          i = j;
          this.offset += took;
          this.lineLen = len;
          if (buf[len - 1] === LF || len === READLONG_MAX) this.endLine(events);
          continue;
        }
        case State.Payload: {
          const want = this.payloadLen + 2 - this.payloadDone;
          const take = Math.min(want, n - i);
          this.takePayload(chunk, i, take);
          i += take;
          this.offset += take;
          if (this.payloadDone === this.payloadLen + 2) this.endPayload(events);
          continue;
        }
        default:
          break;
      }
      // Record state consumed nothing yet for '#'/'*' lines: the byte is re-read by the next state, which
      // is how fgets re-reads it after redis-check-aof's fseek(-1).
    }
    return i;
  }

  /**
   * The next record completed by the last {@link push} (or by {@link end}), or `undefined` when there is none
   * left: push the next chunk.
   */
  next(): AofScanEvent | undefined {
    return this.queued < this.queue.length ? this.queue[this.queued++] : undefined;
  }

  /**
   * Declares the end of input; settles a partial record as redis-check-aof does at EOF (a last annotation or line
   * then comes out of {@link next}).
   */
  end(): void {
    this.queue.length = 0;
    this.queued = 0;
    this.settle(this.queue);
  }

  /** The end of input: settles the state the scan stopped in, appending a last record to `events`. */
  private settle(events: AofScanEvent[]): void {
    switch (this.state) {
      case State.Record:
        if (this.multi === 0) {
          this.okUpTo = this.offset;
          this.commandsAtOk = this.commands;
        }
        break;
      case State.Annotation:
        // A partial annotation at the end is fine: it is consumed, then the scan meets a clean EOF.
        this.endAnnotation(events);
        if ((this.state as State) === State.Record && this.multi === 0) {
          this.okUpTo = this.offset;
          this.commandsAtOk = this.commands;
        }
        break;
      case State.Line:
        if (this.lineLen === 0) {
          // fgets() found nothing to read: redis-check-aof stops without a message.
          const what = this.prefix === STAR ? 'a command' : `argument ${this.argi + 1} of ${this.argc} of a command`;
          this.failure = {
            kind: 'truncated',
            errorOffset: this.epos,
            message: null,
            plain: false,
            explanation: `the file ends where ${what} should start (the command starting at offset ${this.recordStart} is incomplete)`,
          };
        } else {
          this.endLine(events, true);
        }
        break;
      case State.Payload: {
        const got = this.payloadDone;
        const want = this.payloadLenExact !== null ? String(this.payloadLenExact + 2n) : String(this.payloadLen + 2);
        this.fail('truncated', this.payloadStart, `Expected to read ${want} bytes, got ${got} bytes`, false,
          `the file ends inside an argument of ${want} bytes with its CRLF: only ${got} present`);
        break;
      }
      default:
        break;
    }
    if (this.failure === null && this.timestampCut === null && this.invalidTimestamp === null && this.multi !== 0) {
      this.failure = {
        kind: 'truncated',
        errorOffset: this.epos,
        message: 'Reached EOF before reading EXEC for MULTI',
        plain: false,
        explanation: `the file ends inside the MULTI transaction that starts at offset ${this.multiStart} (no EXEC)`,
      };
    }
    this.state = State.Done;
  }

  private fail(kind: 'truncated' | 'corrupt', at: number, message: string, plain: boolean, explanation: string): void {
    this.epos = at;
    this.failure = { kind, errorOffset: at, message, plain, explanation };
    this.state = State.Done;
  }

  private startLine(prefix: number): void {
    this.state = State.Line;
    this.prefix = prefix;
    this.lineLen = 0;
    this.lineStart = this.offset;
    this.epos = this.offset;
  }

  private endLine(events: AofScanEvent[] | undefined, atEof = false): void {
    const buf = this.lineBuf;
    const len = this.lineLen;
    const prefix = this.prefix;
    const what = prefix === STAR ? 'argument count' : 'argument length';
    if (buf[0] !== prefix) {
      const got = buf[0] === 0 ? '' : String.fromCharCode(buf[0]);
      this.fail('corrupt', this.lineStart,
        `Expected prefix '${String.fromCharCode(prefix)}', got: '${got}'`, false,
        `expected '${String.fromCharCode(prefix)}' and an ${what}, found byte 0x${buf[0].toString(16).padStart(2, '0')}`);
      return;
    }
    const { value, end } = strtol(buf, 1, len);
    // consumeNewline: the bytes after the number must be "\r\n". Bytes past the line are what a C buffer
    // would hold there: a NUL, then whatever an earlier line left (redis-check-aof prints them as they are).
    const c0 = end < len ? buf[end] : 0;
    const c1 = end + 1 < len ? buf[end + 1] : end + 1 === len ? 0 : buf[end + 1];
    if (c0 !== CR || c1 !== LF) {
      const truncated = atEof && (end === len || (end === len - 1 && buf[end] === CR));
      this.fail(truncated ? 'truncated' : 'corrupt', this.lineStart, `Expected \\r\\n, got: ${hex2(c0)}${hex2(c1)}`, false,
        truncated
          ? `the file ends inside the ${what} line of a command`
          : `malformed ${what} line: expected digits then CRLF`);
      return;
    }
    this.line++;
    if (prefix === STAR) {
      this.acceptCount(value > 0x7fffffffn ? 0x7fffffff : Number(value), events);
      return;
    }
    if (value < 0n || value > LONG_MAX - 2n) {
      this.fail('corrupt', this.lineStart, `Expected to read string of ${value} bytes, which is not in the suitable range`, false,
        `argument length ${value} is negative or too large`);
      return;
    }
    this.acceptLength(Number(value), value > 9007199254740991n ? value : null);
  }

  private acceptCount(argc: number, events: AofScanEvent[] | undefined): void {
    this.argc = argc;
    this.argi = 0;
    if (argc <= 0) {
      if (this.emptyCommands.length < 5) this.emptyCommands.push(this.recordStart);
      this.endCommand(events);
      return;
    }
    this.startLine(DOLLAR);
  }

  private acceptLength(len: number, exact: bigint | null): void {
    this.payloadLen = len;
    this.payloadLenExact = exact;
    this.payloadDone = 0;
    this.payloadStart = this.offset;
    this.epos = this.offset;
    if (this.args !== null && len > this.maxArg) {
      const shown = exact ?? len;
      this.fail('corrupt', this.lineStart, `Expected to read string of ${shown} bytes, which is not in the suitable range`, false,
        `argument length ${shown} exceeds the limit of ${this.maxArg} bytes`);
      return;
    }
    this.state = State.Payload;
  }

  /** Arguments are kept when collecting; otherwise only a command name of sane length. */
  private keepsPayload(): boolean {
    return this.args !== null || (this.emitCommands && this.argi === 0 && this.payloadLen <= MAX_NAME_KEPT);
  }

  private takePayload(chunk: Uint8Array, from: number, take: number): void {
    const done = this.payloadDone;
    const len = this.payloadLen;
    // argument bytes in this piece: [from, from + dataTake)
    const dataTake = Math.max(0, Math.min(take, len - done));
    if (this.argi === 0 && this.nameLen < 8 && dataTake > 0) {
      const k = Math.min(8 - this.nameLen, dataTake);
      for (let q = 0; q < k; q++) this.nameBuf[this.nameLen + q] = chunk[from + q];
      this.nameLen += k;
    }
    if (this.keepsPayload() && dataTake > 0) this.argParts.push(chunk.slice(from, from + dataTake));
    // the CRLF bytes
    for (let q = dataTake; q < take; q++) this.tail[done + q - len] = chunk[from + q];
    this.payloadDone = done + take;
  }

  private endPayload(events: AofScanEvent[] | undefined): void {
    const t0 = this.tail[0];
    const t1 = this.tail[1];
    if (t0 !== CR || t1 !== LF) {
      this.fail('corrupt', this.payloadStart, `Expected \\r\\n, got: ${hex2(t0)}${hex2(t1)}`, false,
        `the ${this.payloadLen}-byte argument is not followed by CRLF`);
      return;
    }
    this.line++;
    let arg: Uint8Array | null = null;
    if (this.keepsPayload()) {
      arg = this.argParts.length === 1 ? this.argParts[0] : Buffer.concat(this.argParts, this.payloadLen);
      if (this.args !== null) this.args.push(arg);
    }
    this.argParts = [];
    if (this.argi === 0) {
      this.name = arg ?? this.nameBuf.slice(0, Math.min(this.nameLen, this.payloadLen));
      if (this.collectIf !== null && this.collectIf(this.name)) this.args = [this.name];
      const nb = this.nameBuf;
      const nl = Math.min(this.nameLen, this.payloadLen);
      if (cstrEqualsIgnoreCase(nb, nl, 'multi')) {
        if (this.multi++ !== 0) {
          this.fail('corrupt', this.payloadStart, `Unexpected MULTI in AOF ${this.path}`, false,
            `MULTI inside the transaction that starts at offset ${this.multiStart}`);
          return;
        }
        this.multiStart = this.recordStart;
      } else if (cstrEqualsIgnoreCase(nb, nl, 'exec')) {
        if (--this.multi !== 0) {
          this.fail('corrupt', this.payloadStart, `Unexpected EXEC in AOF ${this.path}`, false, 'EXEC without MULTI');
          return;
        }
        this.multiStart = -1;
      }
    }
    this.argi++;
    if (this.argi === this.argc) {
      this.endCommand(events);
      return;
    }
    this.startLine(DOLLAR);
  }

  private endCommand(events: AofScanEvent[] | undefined): void {
    this.commands++;
    if (events && this.emitCommands) {
      events.push({
        type: 'command',
        offset: this.recordStart,
        end: this.offset,
        args: this.args,
        name: this.argc > 0 ? this.name : new Uint8Array(0),
      });
    }
    this.args = null;
    this.state = State.Record;
  }

  private endAnnotation(events: AofScanEvent[] | undefined): void {
    this.annotations++;
    const text = this.annotation.length === 1 ? this.annotation[0] : Buffer.concat(this.annotation, this.annotationLen);
    this.annotation = [];
    this.state = State.Record;
    if (this.toTimestamp !== 0 && text.length >= 4 && text[0] === HASH && text[1] === 0x54 && text[2] === 0x53 && text[3] === 0x3a) {
      const { value, end } = strtol(text, 4, text.length);
      const overflow = value === LONG_MAX || value === LONG_MIN;
      if (overflow || end >= text.length || text[end] !== CR) {
        this.invalidTimestamp = { offset: this.annotationStart };
        this.state = State.Done;
        return;
      }
      if (value > BigInt(this.toTimestamp)) {
        this.timestampCut = this.annotationStart;
        this.state = State.Done;
        return;
      }
    }
    if (events) events.push({ type: 'annotation', offset: this.annotationStart, end: this.offset, text });
  }
}
