// The one key filter of every tool that reads a keyspace (RDB dump/info/export/memory/convert/to-aof, AOF cat and
// filter): key globs and regexes to include and to exclude, types, databases, expired or not, size.
//
// A key passes when
//   - its name matches at least one include pattern (globs and regexes together), or there is none, and
//   - its name matches no exclude pattern, and
//   - every other criterion given holds (type, database, expired or not at `now`, size).
//
// Names:
//   - Globs have Redis' KEYS/SCAN MATCH semantics on the raw key bytes (matchGlob of @redis-persist/bytes: linear
//     time, CVE-2022-36021 safe). A glob given as a string is its UTF-8 bytes.
//   - Regexes are JavaScript RegExps tested on the key read as latin1: one character per key byte (U+0000..U+00FF),
//     so binary keys are safe and `.` is one byte. A regex given as a string may hold non-ASCII characters outside
//     `[...]` classes: each stands for its UTF-8 bytes (`café` matches the UTF-8 key café); inside a class a
//     non-ASCII character is refused (write its bytes as `\xNN`, or use an alternation). A RegExp object is used
//     as given (its `g`/`y` flags dropped so that tests keep no state). Regexes backtrack: a catastrophic one
//     (`(a+)+$`) is the caller's responsibility, globs never are.
// Expiry: a key is expired when it has an expiry strictly before `now` (Unix ms), as a loading master decides.
// Size: `minBytes` is the key's record in the RDB (type byte, key, value and the expiry/LRU/LFU opcodes before
// it: the `size` that dump and info report), `minElements` its element count (list items, set/zset members, hash
// fields, stream entries; 1 for a string or a module value). Both are "at least". Size is unknown outside an RDB
// (an AOF): there only names and databases apply.
//
// The checks allocate nothing, except that a filter with regexes reads each tested key into a string once.
import { matchGlob } from '@redis-persist/bytes';
import { KeyspaceError } from './errors.js';
import type { KeyRecord, KeyType, KeyValue } from './model.js';

/** Every key type, in the order the tools list them. */
export const KEY_TYPES: readonly KeyType[] = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'module'];

/** What a {@link KeyFilter} is made from. Every member is optional; an empty spec passes every key. */
export interface KeyFilterSpec {
  /** Include: key globs (Redis glob syntax, raw bytes; a string is its UTF-8 bytes). Any one may match. */
  keys?: readonly (string | Uint8Array)[];
  /** Include: regexes on the key read as latin1 (see the module comment). Any include (glob or regex) may match. */
  keyRegexes?: readonly (string | RegExp)[];
  /** Exclude: keys matching any of these globs fail. */
  excludeKeys?: readonly (string | Uint8Array)[];
  /** Exclude: keys matching any of these regexes fail. */
  excludeKeyRegexes?: readonly (string | RegExp)[];
  /** Only keys of these types. */
  types?: readonly KeyType[];
  /** Only keys of these databases. */
  dbs?: readonly number[];
  /** true: only keys with an expiry before `now`; false: only keys without one or with one at or after `now`. */
  expired?: boolean;
  /** The time `expired` compares with, Unix ms (default: when the filter is made). */
  now?: number;
  /** Only keys whose RDB record is at least this many bytes. */
  minBytes?: number;
  /** Only keys with at least this many elements. */
  minElements?: number;
}

/** A regex string as a latin1-key regex: non-ASCII characters outside classes become their UTF-8 bytes. */
function byteRegexSource(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\' && i + 1 < source.length) {
      out += ch + source[++i];
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') inClass = true;
    const code = ch.codePointAt(0)!;
    if (code < 0x80) {
      out += ch;
      continue;
    }
    if (inClass) throw new Error(`non-ASCII character ${JSON.stringify(ch)} inside a [...] class: write its bytes as \\xNN, or use an alternation`);
    const full = String.fromCodePoint(code);
    if (full.length === 2) i++;
    const bytes = Buffer.from(full, 'utf8');
    out += '(?:' + [...bytes].map((b) => '\\x' + b.toString(16).padStart(2, '0')).join('') + ')';
  }
  return out;
}

function compileRegex(r: string | RegExp, what: string): RegExp {
  if (r instanceof RegExp) return r.global || r.sticky ? new RegExp(r.source, r.flags.replace(/[gy]/g, '')) : r;
  try {
    return new RegExp(byteRegexSource(r));
  } catch (err) {
    throw new KeyspaceError('range', `${what}: invalid regular expression ${JSON.stringify(r)}: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`, { kind: 'usage' });
  }
}

const globBytes = (g: string | Uint8Array) => (typeof g === 'string' ? Buffer.from(g, 'utf8') : g);

function count(n: number | undefined, what: string): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new KeyspaceError('range', `${what} must be a non-negative integer, got ${n}`, { kind: 'usage' });
  return n;
}

/** The element count {@link KeyFilterSpec.minElements} compares: collection members, stream entries, 1 otherwise. */
export function keyElements(rec: KeyValue): number {
  switch (rec.type) {
    case 'list':
    case 'set':
    case 'zset':
    case 'hash':
      return rec.value.length;
    case 'stream':
      return rec.value.length;
    default:
      return 1;
  }
}

/**
 * A compiled key filter (see {@link KeyFilterSpec} and the module comment for the semantics). Immutable; the
 * checks are pure. {@link KeyFilter.from} throws a {@link KeyspaceError} (kind `usage`) for a bad regex, an
 * unknown type or a bad number.
 */
export class KeyFilter {
  private readonly incGlobs: Uint8Array[];
  private readonly incRegexes: RegExp[];
  private readonly excGlobs: Uint8Array[];
  private readonly excRegexes: RegExp[];
  private readonly typeSet: ReadonlySet<KeyType> | null;
  private readonly dbSet: ReadonlySet<number> | null;
  /** true/false as in the spec, null: either. */
  readonly expired: boolean | null;
  readonly now: number;
  readonly minBytes: number;
  readonly minElements: number;
  /** The spec it was made from (types, dbs and numbers as given; regexes as their sources). */
  readonly spec: Readonly<KeyFilterSpec>;

  private constructor(spec: KeyFilterSpec) {
    this.incGlobs = (spec.keys ?? []).map(globBytes);
    this.excGlobs = (spec.excludeKeys ?? []).map(globBytes);
    this.incRegexes = (spec.keyRegexes ?? []).map((r) => compileRegex(r, 'key regex'));
    this.excRegexes = (spec.excludeKeyRegexes ?? []).map((r) => compileRegex(r, 'exclude-key regex'));
    for (const t of spec.types ?? []) {
      if (!KEY_TYPES.includes(t)) throw new KeyspaceError('range', `unknown key type ${JSON.stringify(t)}: one of ${KEY_TYPES.join(', ')}`, { kind: 'usage' });
    }
    for (const d of spec.dbs ?? []) {
      if (!Number.isSafeInteger(d) || d < 0) throw new KeyspaceError('range', `a database number must be a non-negative integer, got ${d}`, { kind: 'usage' });
    }
    this.typeSet = spec.types && spec.types.length > 0 ? new Set(spec.types) : null;
    this.dbSet = spec.dbs && spec.dbs.length > 0 ? new Set(spec.dbs) : null;
    this.expired = spec.expired ?? null;
    this.now = spec.now ?? Date.now();
    if (!Number.isFinite(this.now)) throw new KeyspaceError('range', `now must be a time in Unix ms, got ${spec.now}`, { kind: 'usage' });
    this.minBytes = count(spec.minBytes, 'minBytes');
    this.minElements = count(spec.minElements, 'minElements');
    this.spec = spec;
  }

  /** A filter from a spec (or the filter itself). */
  static from(spec: KeyFilterSpec | KeyFilter | undefined): KeyFilter {
    if (spec instanceof KeyFilter) return spec;
    return new KeyFilter(spec ?? {});
  }

  /** The filter that passes every key. */
  static readonly all: KeyFilter = new KeyFilter({});

  /** True when no criterion is set (every key passes). */
  get passesAll(): boolean {
    return !this.hasNamePatterns && !this.typeSet && !this.dbSet && this.expired === null && !this.needsSize;
  }

  /** True when a name pattern (include or exclude, glob or regex) is set. */
  get hasNamePatterns(): boolean {
    return this.incGlobs.length + this.incRegexes.length + this.excGlobs.length + this.excRegexes.length > 0;
  }

  /** True when `minBytes` or `minElements` is set: the value must be read before the key is decided. */
  get needsSize(): boolean {
    return this.minBytes > 0 || this.minElements > 0;
  }

  /** True when only names and databases are constrained (all an AOF command can be filtered on). */
  get namesAndDbsOnly(): boolean {
    return !this.typeSet && this.expired === null && !this.needsSize;
  }

  /** The name criteria: some include matches (or there is none) and no exclude matches. */
  passKey(key: Uint8Array): boolean {
    let text: string | null = null;
    const inc = this.incGlobs.length + this.incRegexes.length;
    if (inc > 0) {
      let hit = false;
      for (let i = 0; i < this.incGlobs.length && !hit; i++) hit = matchGlob(this.incGlobs[i], key);
      for (let i = 0; i < this.incRegexes.length && !hit; i++) {
        text ??= Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
        hit = this.incRegexes[i].test(text);
      }
      if (!hit) return false;
    }
    for (let i = 0; i < this.excGlobs.length; i++) if (matchGlob(this.excGlobs[i], key)) return false;
    for (let i = 0; i < this.excRegexes.length; i++) {
      text ??= Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
      if (this.excRegexes[i].test(text)) return false;
    }
    return true;
  }

  /** The database criterion. */
  passDb(db: number): boolean {
    return this.dbSet === null || this.dbSet.has(db);
  }

  /** The criteria known before a value is read: database, type, expiry. */
  passMeta(db: number, type: KeyType, expireAt: number | null): boolean {
    if (this.dbSet !== null && !this.dbSet.has(db)) return false;
    if (this.typeSet !== null && !this.typeSet.has(type)) return false;
    if (this.expired !== null && (expireAt !== null && expireAt < this.now) !== this.expired) return false;
    return true;
  }

  /** The size criteria (`bytes`: the RDB record's size; `elements`: see {@link keyElements}). */
  passSize(bytes: number, elements: number): boolean {
    return bytes >= this.minBytes && elements >= this.minElements;
  }

  /** Every criterion. Without `bytes`, `minBytes` is not checked (the size in an RDB is unknown). */
  matches(db: number, key: Uint8Array, type: KeyType, expireAt: number | null, bytes?: number, elements?: number): boolean {
    return (
      this.passMeta(db, type, expireAt) &&
      this.passKey(key) &&
      (bytes === undefined || bytes >= this.minBytes) &&
      (elements === undefined || elements >= this.minElements)
    );
  }

  /** Every criterion on a keyspace record (elements counted from its value; `bytes` as in {@link matches}). */
  matchesRecord(rec: KeyRecord, bytes?: number): boolean {
    return this.matches(rec.db, rec.key, rec.type, rec.expireAt, bytes, this.minElements > 0 ? keyElements(rec) : undefined);
  }
}
