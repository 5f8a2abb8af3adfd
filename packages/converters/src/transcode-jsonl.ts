// The direct transcoder's JSON Lines side: the RDB parser walks a key's bytes in place (RdbParser.setKeyVisitor)
// and this visitor writes its line straight from those views into the output chunks, with no object per key or
// element. A set's, sorted set's or hash's elements are held (HeldElements: one reused arena) and sorted there into
// the canonical element order. It writes what writeRecord writes for the
// same (canonicalized) record, byte for byte: in file order into the output, in canonical order into a writer of its
// own whose line goes into the external sort when the key is done (see attach).
import { ChunkWriter, writeScore, writeStrRange } from '@redis-persist/jsonl';
import type { KeyType } from '@redis-persist/keyspace';
import type { KeyVisitor } from '@redis-persist/rdb';
import { HeldElements, SortKeyBuffer } from './held-elements.js';

const enum Kind {
  String = 0,
  List = 1,
  Set = 2,
  Zset = 3,
  Hash = 4,
}

const KINDS: Record<string, Kind> = { string: Kind.String, list: Kind.List, set: Kind.Set, zset: Kind.Zset, hash: Kind.Hash };
const KIND_NAMES = ['string', 'list', 'set', 'zset', 'hash'];
const ascii = (t: string): Uint8Array => Uint8Array.from(t, (c) => c.charCodeAt(0));
/** `{"db":N,"key":` for the first 16 dbs. */
const DB_HEADS = Array.from({ length: 16 }, (_, db) => ascii(`{"db":${db},"key":`));
/** What follows the key name, by kind: without an expiry up to the value, with one up to its digits. */
const TYPE_NO_EXPIRY = KIND_NAMES.map((t) => ascii(`,"type":"${t}","expireAt":null,"value":`));
const TYPE_EXPIRY = KIND_NAMES.map((t) => ascii(`,"type":"${t}","expireAt":`));

/** Writes the keys the parser visits as keyspace JSON Lines into a {@link ChunkWriter} (see {@link attach}). */
export class JsonlKeyVisitor implements KeyVisitor {
  private w: ChunkWriter | null = null;
  private kind = Kind.String;
  private n = 0;
  /** Sorted kinds: the strings so far (a hash: field, value, field...) and the zset scores. */
  private readonly held = new HeldElements();
  /** A key was begun and not finished: what cancel drops (a cancel may come before its key, e.g. a key not buffered). */
  private open = false;

  /** Canonical order: where each finished line goes, with its sort key (see {@link attach}). */
  private sorted: ((sortKey: Uint8Array, w: ChunkWriter) => void) | null = null;
  /** The current key's sort key (canonical order). */
  private readonly sortKey = new SortKeyBuffer();

  /**
   * The writer the lines go to. File order: the output's, so that they land between the other records' lines.
   * Canonical order (`sorted` given): a writer of its own, and `sorted(sortKey, w)` is called when a key's line is
   * complete (w holds just that line; the callee takes it and resets w; the sort key is valid only then).
   */
  attach(w: ChunkWriter, sorted?: (sortKey: Uint8Array, w: ChunkWriter) => void): void {
    this.w = w;
    this.sorted = sorted ?? null;
  }

  key(db: number, k: Uint8Array, ks: number, ke: number, type: KeyType, expireAt: number | null): void {
    const w = this.w!;
    // what writeKeyHead refuses goes the usual way, which reports it
    if (expireAt !== null && !Number.isSafeInteger(expireAt)) throw new RangeError('expireAt is not a safe integer');
    w.mark();
    this.open = true;
    if (this.sorted !== null) this.sortKey.set(db, k, ks, ke);
    this.kind = KINDS[type]!;
    this.n = 0;
    this.held.reset();
    // the text around the key name comes from bytes made once per db and type
    const head = db < DB_HEADS.length ? DB_HEADS[db]! : null;
    if (head !== null) w.raw(head, 0, head.length);
    else {
      w.ascii('{"db":');
      writeUint(w, db);
      w.ascii(',"key":');
    }
    writeStrRange(w, k, ks, ke);
    if (expireAt === null) {
      const t = TYPE_NO_EXPIRY[this.kind]!;
      w.raw(t, 0, t.length);
    } else {
      const t = TYPE_EXPIRY[this.kind]!;
      w.raw(t, 0, t.length);
      writeInt(w, expireAt);
      w.ascii(',"value":');
    }
  }

  item(b: Uint8Array, s: number, e: number): void {
    const kind = this.kind;
    if (kind === Kind.String) {
      writeStrRange(this.w!, b, s, e);
      return;
    }
    if (kind === Kind.List) {
      this.w!.byte(this.n++ === 0 ? 0x5b : 0x2c);
      writeStrRange(this.w!, b, s, e);
      return;
    }
    this.held.add(b, s, e);
  }

  score(score: number): void {
    this.held.score(score);
  }

  done(): void {
    const w = this.w!;
    const kind = this.kind;
    if (kind === Kind.List) w.byte(0x5d);
    else if (kind !== Kind.String) this.writeSorted(w, kind);
    w.ascii('}\n');
    this.open = false;
    if (this.sorted !== null) this.sorted(this.sortKey.view(), w);
  }

  cancel(): void {
    if (!this.open) return;
    this.open = false;
    this.w!.rewind();
  }

  /** The held elements in canonical order: a set's by bytes, a hash's by field, a zset's by score then member. */
  private writeSorted(w: ChunkWriter, kind: Kind): void {
    const held = this.held;
    const step = kind === Kind.Hash ? 2 : 1;
    const count = held.items / step;
    const order = held.sorted(step, kind === Kind.Zset);
    const a = held.arena;
    const starts = held.starts;
    const ends = held.ends;
    if (kind === Kind.Zset) {
      const sc = held.scores;
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        w.ascii(i === 0 ? '[[' : ',[');
        writeStrRange(w, a, starts[x]!, ends[x]!);
        w.byte(0x2c);
        writeScore(w, sc[x]!);
        w.byte(0x5d);
      }
    } else if (kind === Kind.Set) {
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        w.byte(i === 0 ? 0x5b : 0x2c);
        writeStrRange(w, a, starts[x]!, ends[x]!);
      }
    } else {
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        w.ascii(i === 0 ? '[[' : ',[');
        writeStrRange(w, a, starts[x]!, ends[x]!);
        w.byte(0x2c);
        writeStrRange(w, a, starts[x + 1]!, ends[x + 1]!);
        w.byte(0x5d);
      }
    }
    w.byte(0x5d);
  }
}

const DIGITS = new Uint8Array(24);

/** A non-negative safe integer's decimal digits (as String(n)). */
function writeUint(w: ChunkWriter, n: number): void {
  if (n < 10) {
    w.byte(0x30 + n);
    return;
  }
  let i = DIGITS.length;
  do {
    DIGITS[--i] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  w.raw(DIGITS, i, DIGITS.length);
}

/** A safe integer's decimal text (as String(n)). */
function writeInt(w: ChunkWriter, n: number): void {
  if (n < 0) {
    w.byte(0x2d);
    writeUint(w, -n);
  } else writeUint(w, n);
}
