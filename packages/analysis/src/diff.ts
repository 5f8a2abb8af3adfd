// `rdb-tool diff`: the keys two keyspaces differ in. Both sides are read as canonical keyspace JSON Lines (the
// converters' external sort gives that order with bounded memory) and walked together by (db, key bytes), as a
// merge of two sorted files. A line's head (db, key, type, expireAt: the members before `"value"`) is parsed; the
// value is never parsed or assembled: the canonical form makes equal values equal bytes, so the two values are
// compared piece by piece as the chunks arrive, and memory stays at one chunk and one head per side however big a
// key is.
import { dumpRdb, dumpReplayed, keyspaceBytes, type ConvertInput } from '@redis-persist/converters';
import { abortableChunks } from '@redis-persist/fsio';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { KeyFilter, type Bytes, type HashField, type KeyFilterSpec, type KeyType, type KeyspaceRecord } from '@redis-persist/keyspace';
import { AnalysisError } from './errors.js';

/** What a key differs in: `value` also when the type changed (a value of another type is another value). */
export type KeyChange = 'type' | 'value' | 'ttl';

/** A key of one side only: `added` (in `b` only) or `removed` (in `a` only). */
export interface DiffKey {
  kind: 'added' | 'removed';
  db: number;
  key: Bytes;
  type: KeyType;
  /** Unix ms, or null (no expiry). */
  expireAt: number | null;
}

/** A key of both sides that differs; the old (`a`) and new (`b`) type and expiry are always given. */
export interface DiffChanged {
  kind: 'changed';
  db: number;
  key: Bytes;
  changes: KeyChange[];
  oldType: KeyType;
  newType: KeyType;
  oldExpireAt: number | null;
  newExpireAt: number | null;
}

/** A Redis 7+ function library only in `b` (added), only in `a` (removed), or with other code or engine (changed). */
export interface DiffFunction {
  kind: 'function';
  change: 'added' | 'removed' | 'changed';
  library: Bytes;
}

/** One difference found by {@link diffKeyspaces}: a key only on one side, a changed key, or a function library. */
export type DiffEntry = DiffKey | DiffChanged | DiffFunction;

/** One side of a diff: an RDB, keyspace JSON Lines (any order), or a keyspace replayed from an AOF. */
export type DiffInput = ConvertInput;

/** Options of {@link diffKeyspaces}: dbs, key glob, what to ignore, expired keys. */
export interface DiffOptions {
  /**
   * Only the keys this filter keeps, on each side (`{ dbs: [0], keys: ['user:*'] }`...; with any filter functions
   * are not compared). A key whose type changed and a type criterion keeps on one side only shows as added or removed.
   * `minBytes` applies to an RDB side only (JSON Lines and AOF sides have no RDB records).
   */
  filter?: KeyFilter | KeyFilterSpec;
  /** Expiry differences are no change (hash field expiries are part of the value and still count). */
  ignoreTtl?: boolean;
  /** Keep keys already expired at `now` (default: dropped, as a loading master and `rdb-tool dump` drop them). */
  keepExpired?: boolean;
  /** Unix ms for the expiry rule, the same for both sides (default: the time of the call). */
  now?: number;
  /** Memory each side's canonical sort holds before spilling a run (default 64 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). */
  tmpDir?: string;
  /**
   * Stops the diff: checked once per chunk read on each side (and per output chunk of their sorts). When aborted
   * the generator rejects with `signal.reason` (an `AbortError` DOMException by default); the inputs are closed
   * and the sorts' spilled runs removed.
   */
  signal?: AbortSignal;
}

/**
 * The differences between two keyspaces, in canonical order (functions first, then keys by db and key bytes),
 * each entry as soon as it is known. Nothing is held beyond one line head and one chunk per side (plus each side's
 * external sort), so the inputs may be far larger than memory.
 */
export function diffKeyspaces(a: DiffInput, b: DiffInput, options: DiffOptions = {}): AsyncGenerator<DiffEntry> {
  const now = options.keepExpired ? undefined : (options.now ?? Date.now());
  const signal = options.signal;
  return diffCanonicalJsonl(abortableChunks(canonicalChunks(a, options, now), signal), abortableChunks(canonicalChunks(b, options, now), signal), options);
}

/** The filter of `filter`. */
function diffFilter(options: DiffOptions): KeyFilter {
  return KeyFilter.from(options.filter);
}

/** An input as canonical JSON Lines, filtered and with expired keys dropped as `rdb-tool dump` does. */
function canonicalChunks(input: DiffInput, options: DiffOptions, now: number | undefined): AsyncIterable<Uint8Array> {
  const file = input.format === 'aof' ? undefined : input.file;
  const onDuplicateKey = (db: number, key: Bytes): void => {
    throw new AnalysisError('duplicate-key', `duplicated key ${JSON.stringify(Buffer.from(key).toString('utf8'))} in db ${db}: Redis refuses to load this file`, { file });
  };
  const filter = diffFilter(options);
  const { memoryBudgetBytes, tmpDir, signal } = options;
  if (input.format === 'rdb') {
    return dumpRdb(input.source, { format: 'jsonl', filter, keepExpired: now === undefined, now, memoryBudgetBytes, tmpDir, onDuplicateKey, signal });
  }
  if (input.format === 'aof') return dumpReplayed(input.replayed, { format: 'jsonl', filter, keepExpired: now === undefined, now });
  const records = readKeyspaceJsonl(input.source, { file: input.file });
  return keyspaceBytes(filterJsonl(abortableChunks(records, signal), options, now), { format: 'jsonl', memoryBudgetBytes, tmpDir, onDuplicateKey, signal });
}

/** The filters and expiry rule of an RDB dump, for JSON Lines records (keys and hash fields already expired go). */
async function* filterJsonl(records: AsyncIterable<KeyspaceRecord>, options: DiffOptions, now: number | undefined): AsyncGenerator<KeyspaceRecord> {
  const filter = diffFilter(options);
  const filtered = !filter.passesAll;
  for await (const r of records) {
    if (r.kind === 'function') {
      if (!filtered) yield r;
      continue;
    }
    if (filtered && !filter.matchesRecord(r)) continue;
    if (now !== undefined && r.expireAt !== null && r.expireAt !== undefined && Number(r.expireAt) <= now) continue;
    if (now !== undefined && r.type === 'hash') {
      // lapsed hash fields go too, and a hash left empty, as the RDB reader drops them
      const fields = (r.value as HashField[]).filter((f) => f.expireAt === null || f.expireAt === undefined || Number(f.expireAt) > now);
      if (fields.length === 0) continue;
      yield { ...r, value: fields };
      continue;
    }
    yield r;
  }
}

/**
 * What {@link JsonlLineCursor.head} reads of a canonical JSON Lines line: for a key line, its members before the
 * value (db, key bytes, type, expiry as a number and as written); for a function line, the library name and the
 * whole line.
 */
export type JsonlLineHead =
  | { kind: 'key'; db: number; key: Buffer; type: KeyType; expireAt: number | null; expireText: string }
  | { kind: 'function'; library: Buffer; line: Buffer };

const NL = 0x0a;
const VALUE_MEMBER = Buffer.from('"value"');

/** Reads canonical JSON Lines a line head at a time, then the value as byte pieces (never the whole line). */
export class JsonlLineCursor {
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Index of the first newline at or after `pos` in `chunk`, -1 when none, or -2 when not looked for yet. */
  private nl = -2;
  private ended = false;
  private lineNo = 0;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(chunks: AsyncIterable<Uint8Array>, private readonly name: string) {
    this.it = chunks[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      this.chunk = r.value;
      this.pos = 0;
      this.nl = -2;
    }
    return true;
  }

  private fail(detail: string): never {
    throw new AnalysisError('format', `${this.name}, line ${this.lineNo}: ${detail}`);
  }

  /** The next line's head, or null at the end. A key line's value is then read with {@link piece}/{@link skipLine}. */
  async head(): Promise<JsonlLineHead | null> {
    if (!(await this.fill())) return null;
    this.lineNo++;
    // the head ends at the `:` after the member name "value": outside strings, a string followed by `:` is a
    // member name, and the only one spelled "value" before a key's value is the record's own (a key written as
    // {"base64":...} has the member base64)
    const parts: Uint8Array[] = [];
    let inStr = false;
    let esc = false;
    let tail = Buffer.alloc(0); // the last bytes seen, to recognise "value" across chunk ends
    for (;;) {
      if (!(await this.fill())) this.fail('the input ends inside a line');
      const c = this.chunk;
      let i = this.pos;
      let found = -1;
      let newline = -1;
      for (; i < c.length; i++) {
        const b = c[i]!;
        if (inStr) {
          if (esc) esc = false;
          else if (b === 0x5c) esc = true;
          else if (b === 0x22) inStr = false;
        } else if (b === 0x22) {
          inStr = true;
        } else if (b === 0x3a) {
          const seen = Buffer.concat([tail, c.subarray(Math.max(this.pos, i - VALUE_MEMBER.length), i)]);
          if (seen.length >= VALUE_MEMBER.length && seen.subarray(seen.length - VALUE_MEMBER.length).equals(VALUE_MEMBER)) {
            found = i + 1;
            break;
          }
        } else if (b === NL) {
          newline = i;
          break;
        }
      }
      const end = found >= 0 ? found : newline >= 0 ? newline : c.length;
      parts.push(c.slice(this.pos, end));
      tail = Buffer.concat([tail, c.subarray(this.pos, end)]);
      if (tail.length > VALUE_MEMBER.length) tail = tail.subarray(tail.length - VALUE_MEMBER.length);
      if (found >= 0) {
        this.pos = found;
        this.nl = -2;
        return this.keyHead(Buffer.concat(parts));
      }
      if (newline >= 0) {
        this.pos = newline + 1;
        this.nl = -2;
        return this.functionHead(Buffer.concat(parts));
      }
      this.pos = c.length;
    }
  }

  private keyHead(head: Buffer): JsonlLineHead {
    let rec: { db?: unknown; key?: unknown; type?: unknown; expireAt?: unknown };
    try {
      rec = JSON.parse(head.toString('utf8') + 'null}') as typeof rec;
    } catch {
      this.fail('not a keyspace JSON Lines record');
    }
    const { db, key, type, expireAt } = rec;
    if (typeof db !== 'number' || typeof type !== 'string') this.fail('a key record without db or type');
    if (expireAt !== null && typeof expireAt !== 'number' && typeof expireAt !== 'string') this.fail('expireAt is not a number or null');
    return { kind: 'key', db, key: strBytes(key, () => this.fail('key is not a string or {"base64":...}')), type: type as KeyType, expireAt: expireAt === null ? null : Number(expireAt), expireText: JSON.stringify(expireAt) };
  }

  private functionHead(line: Buffer): JsonlLineHead {
    let rec: { library?: unknown };
    try {
      rec = JSON.parse(line.toString('utf8')) as typeof rec;
    } catch {
      this.fail('not a keyspace JSON Lines record');
    }
    if (rec.library === undefined) this.fail('neither a key nor a function record');
    return { kind: 'function', library: strBytes(rec.library, () => this.fail('library is not a string')), line };
  }

  /**
   * The value bytes of the current line available now (up to the chunk's end or the line's), and whether the line
   * ends there. The bytes stay valid until {@link advance}.
   */
  async piece(): Promise<{ bytes: Uint8Array; eol: boolean }> {
    if (!(await this.fill())) this.fail('the input ends inside a line');
    if (this.nl === -2 || (this.nl >= 0 && this.nl < this.pos)) this.nl = this.chunk.indexOf(NL, this.pos);
    const end = this.nl >= 0 ? this.nl : this.chunk.length;
    return { bytes: this.chunk.subarray(this.pos, end), eol: this.nl >= 0 };
  }

  /** Stops the input early (its generators' cleanup runs: temp files of a sort, open files). */
  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.it.return?.();
    }
  }

  /** Moves past `n` bytes of the current line. */
  advance(n: number): void {
    this.pos += n;
  }

  /** Past the current line's newline. */
  async skipLine(): Promise<void> {
    for (;;) {
      const p = await this.piece();
      this.pos += p.bytes.length;
      if (p.eol) {
        this.pos++;
        return;
      }
    }
  }
}

function strBytes(v: unknown, bad: () => never): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'object' && v !== null && typeof (v as { base64?: unknown }).base64 === 'string') return Buffer.from((v as { base64: string }).base64, 'base64');
  return bad();
}

/** Two values compared piece by piece; both cursors end past their line. */
async function sameValue(a: JsonlLineCursor, b: JsonlLineCursor): Promise<boolean> {
  for (;;) {
    const pa = await a.piece();
    const pb = await b.piece();
    const n = Math.min(pa.bytes.length, pb.bytes.length);
    if (n === 0) {
      // one side is at its line's end (or both): equal only when both are
      const both = pa.eol && pb.eol && pa.bytes.length === 0 && pb.bytes.length === 0;
      await a.skipLine();
      await b.skipLine();
      return both;
    }
    if (Buffer.compare(pa.bytes.subarray(0, n), pb.bytes.subarray(0, n)) !== 0) {
      await a.skipLine();
      await b.skipLine();
      return false;
    }
    a.advance(n);
    b.advance(n);
  }
}

/** Canonical order of heads: functions (by library name bytes) before keys (by db, then key bytes). */
function compareHeads(x: JsonlLineHead, y: JsonlLineHead): number {
  if (x.kind === 'function') return y.kind === 'function' ? Buffer.compare(x.library, y.library) : -1;
  if (y.kind === 'function') return 1;
  return x.db - y.db || Buffer.compare(x.key, y.key);
}

function oneSide(h: JsonlLineHead, kind: 'added' | 'removed'): DiffEntry {
  if (h.kind === 'function') return { kind: 'function', change: kind, library: h.library };
  return { kind, db: h.db, key: h.key, type: h.type, expireAt: h.expireAt };
}

/**
 * The merge walk: two canonical keyspace JSON Lines streams (`a` old, `b` new) to their differences. Both must be
 * in canonical order (a stream out of order is an error, not a wrong diff).
 */
export async function* diffCanonicalJsonl(a: AsyncIterable<Uint8Array>, b: AsyncIterable<Uint8Array>, options: Pick<DiffOptions, 'ignoreTtl'> = {}): AsyncGenerator<DiffEntry> {
  const ca = new JsonlLineCursor(a, 'a');
  const cb = new JsonlLineCursor(b, 'b');
  try {
    yield* walk(ca, cb, options);
  } finally {
    // an error on one side, or a consumer that stopped early: the other side's sort and file are let go too
    await Promise.allSettled([ca.close(), cb.close()]);
  }
}

async function* walk(ca: JsonlLineCursor, cb: JsonlLineCursor, options: Pick<DiffOptions, 'ignoreTtl'>): AsyncGenerator<DiffEntry> {
  let ha = await ca.head();
  let hb = await cb.head();
  let lastA: JsonlLineHead | null = null;
  let lastB: JsonlLineHead | null = null;
  const ordered = (prev: JsonlLineHead | null, h: JsonlLineHead | null, side: string): void => {
    if (prev !== null && h !== null && compareHeads(prev, h) >= 0) throw new AnalysisError('format', `${side}: records out of canonical order (or a key twice)`);
  };
  const nextA = async (): Promise<void> => {
    if (ha?.kind === 'key') await ca.skipLine();
    lastA = ha;
    ha = await ca.head();
    ordered(lastA, ha, 'a');
  };
  const nextB = async (): Promise<void> => {
    if (hb?.kind === 'key') await cb.skipLine();
    lastB = hb;
    hb = await cb.head();
    ordered(lastB, hb, 'b');
  };
  while (ha !== null || hb !== null) {
    const c = ha === null ? 1 : hb === null ? -1 : compareHeads(ha, hb);
    if (c < 0) {
      yield oneSide(ha!, 'removed');
      await nextA();
    } else if (c > 0) {
      yield oneSide(hb!, 'added');
      await nextB();
    } else if (ha!.kind === 'function' || hb!.kind === 'function') {
      const fa = ha as JsonlLineHead & { kind: 'function' };
      const fb = hb as JsonlLineHead & { kind: 'function' };
      if (!fa.line.equals(fb.line)) yield { kind: 'function', change: 'changed', library: fa.library };
      await nextA();
      await nextB();
    } else {
      const ka = ha!;
      const kb = hb!;
      const changes: KeyChange[] = [];
      if (ka.type !== kb.type) {
        changes.push('type', 'value');
        await ca.skipLine();
        await cb.skipLine();
      } else if (!(await sameValue(ca, cb))) {
        changes.push('value');
      }
      if (!options.ignoreTtl && ka.expireText !== kb.expireText) changes.push('ttl');
      if (changes.length > 0) {
        yield { kind: 'changed', db: ka.db, key: ka.key, changes, oldType: ka.type, newType: kb.type, oldExpireAt: ka.expireAt, newExpireAt: kb.expireAt };
      }
      // the values are consumed: move on without skipping a line
      lastA = ha;
      lastB = hb;
      ha = await ca.head();
      hb = await cb.head();
      ordered(lastA, ha, 'a');
      ordered(lastB, hb, 'b');
    }
  }
}
