// The direct transcoder's RESP side: the RDB parser walks a key's bytes in place (RdbParser.setKeyVisitor) and this
// visitor writes the commands BGREWRITEAOF writes for it (respChunks / commandsForKey: SELECT when the db changes,
// SET, RPUSH / SADD / ZADD / HMSET batched by itemsPerCommand, PEXPIREAT) straight from those views into output
// slabs, with no object per key or element. Elements stay in file order, as the record path writes them. A key's
// bytes are kept contiguous in one slab, so that a variadic command's argument count can be patched when its batch
// ends short and a cancelled key is forgotten by moving the write position back.
// Canonical order (attach, keyspaceRespStream's `visitor`): a set's, sorted set's or hash's elements are held
// (HeldElements) and written sorted once the key is done, no SELECT is written (the sort's drain writes it), and
// each key's commands go to the sort as one item.
import type { ChunkWriter } from '@redis-persist/jsonl';
import type { KeyType } from '@redis-persist/keyspace';
import type { KeyVisitor } from '@redis-persist/rdb';
import type { SortedKeyWriter } from './batches.js';
import { scoreText } from './commands.js';
import { HeldElements, SortKeyBuffer } from './held-elements.js';

const enum Kind {
  String = 0,
  List = 1,
  Set = 2,
  Zset = 3,
  Hash = 4,
}

const KINDS: Record<string, Kind> = { string: Kind.String, list: Kind.List, set: Kind.Set, zset: Kind.Zset, hash: Kind.Hash };

/** Bytes per output slab (a chunk handed out is a view of one). */
const SLAB = 256 * 1024;
/** respChunks' chunk size: it hands its bytes out once they reach it, after a record. */
const CHUNK = 256 * 1024;
const CR = 0x0d;
const LF = 0x0a;

/** Command names as their bulk strings (`$5\r\nRPUSH\r\n`), by kind. */
const NAMES: Uint8Array[] = ['SET', 'RPUSH', 'SADD', 'ZADD', 'HMSET'].map((n) => Buffer.from(`$${n.length}\r\n${n}\r\n`, 'latin1'));
const SELECT = Buffer.from('*2\r\n$6\r\nSELECT\r\n', 'latin1');
const PEXPIREAT = Buffer.from('*3\r\n$9\r\nPEXPIREAT\r\n', 'latin1');

/** Options of {@link RespKeyVisitor}. */
export interface RespKeyVisitorOptions {
  /** Elements per variadic command (default 64, Redis' AOF_REWRITE_ITEMS_PER_CMD), as respChunks' option. */
  itemsPerCommand?: number;
  /**
   * The consumer is done with each chunk once it asks for the next (respChunks then calls {@link RespKeyVisitor.release}): the
   * slabs are recycled instead of being left to the garbage collector.
   */
  reuseChunks?: boolean;
}

/**
 * Writes the keys the parser visits as the RESP commands {@link respChunks} writes for their records, byte for
 * byte, into output slabs that {@link take} hands out. `db` is the database the output last selected: respChunks
 * (its `visitor` option) and this visitor share it, so that the records written between visited keys and the
 * visited keys SELECT as one stream.
 */
export class RespKeyVisitor implements KeyVisitor, SortedKeyWriter {
  /** The db the output last selected (-1: none yet). */
  db = -1;
  /** Keys written (done) so far. */
  keys = 0;
  private readonly per: number;
  private buf: Buffer = Buffer.allocUnsafe(SLAB);
  private pos = 0;
  /** Where the bytes not handed out yet start in `buf`. */
  private from = 0;
  /** Full slabs (views) not handed out yet. */
  private full: Uint8Array[] = [];
  private fullBytes = 0;

  // the key being written
  private open = false;
  private kind = Kind.String;
  private dbBefore = -1;
  /** Where the key's bytes start in `buf` (moved along when the key moves to a new slab). */
  private keyAt = 0;
  private expireAt: number | null = null;
  private k: Uint8Array = new Uint8Array(256);
  private klen = 0;
  /** Elements (pairs for a hash or zset) in the open command, and where its `*` is. */
  private inCmd = 0;
  private cmdAt = 0;
  /** Strings given in the key (a hash: field, value, field...). */
  private items = 0;
  /** The zset member waiting for its score. */
  private member = new Uint8Array(256);
  private mlen = 0;
  private readonly digits = new Uint8Array(24);

  // canonical order (see attach)
  private w: ChunkWriter | null = null;
  private sorted: ((sortKey: Uint8Array, w: ChunkWriter) => void) | null = null;
  /** A set's, sorted set's or hash's strings and scores, held until the key is done. */
  private readonly held = new HeldElements();
  /** Whether the current key's elements are held (canonical order, a set, sorted set or hash). */
  private holding = false;
  /** The current key's sort key (canonical order). */
  private readonly sortKey = new SortKeyBuffer();

  constructor(options: RespKeyVisitorOptions = {}) {
    const per = options.itemsPerCommand ?? 64;
    if (!Number.isInteger(per) || per < 1) throw new RangeError(`itemsPerCommand must be a positive integer, got ${per}`);
    this.per = per;
    this.reuseChunks = options.reuseChunks === true;
  }

  /**
   * Canonical order (keyspaceRespStream's `visitor`): from now on each key's commands are what commandsForKey writes
   * for the canonicalized record (elements in canonical order, PEXPIREAT after, no SELECT), copied into `w` once the
   * key is done, and `sorted(sortKey, w)` is called (the callee takes them and resets w; the sort key is valid only
   * then). A cancelled key leaves nothing in w. {@link take} then hands nothing out.
   */
  attach(w: ChunkWriter, sorted: (sortKey: Uint8Array, w: ChunkWriter) => void): void {
    this.w = w;
    this.sorted = sorted;
  }

  /** Whether the consumer gives the chunks back ({@link RespKeyVisitorOptions.reuseChunks}). */
  readonly reuseChunks: boolean;
  /** Slabs free for reuse. */
  private readonly pool: Buffer[] = [];
  /** Slabs left behind whose last views are still out, with where their bytes end, oldest first. */
  private readonly retired: { buf: Buffer; end: number }[] = [];
  /** How far the consumer gave back views of the current slab. */
  private releasedTo = 0;

  /**
   * The consumer is done with `view` (from {@link take}; views are given back in the order they were taken): a
   * slab whose bytes are all given back is reused.
   */
  release(view: Uint8Array): void {
    if (!this.reuseChunks) return;
    const end = view.byteOffset + view.length;
    if (view.buffer === this.buf.buffer) {
      this.releasedTo = end;
      return;
    }
    const r = this.retired[0];
    if (r !== undefined && view.buffer === r.buf.buffer && end === r.end) {
      this.retired.shift();
      this.pool.push(r.buf);
    }
  }

  /** Bytes written and not handed out yet. */
  get pendingBytes(): number {
    return this.fullBytes + this.pos - this.from;
  }

  /**
   * Where respChunks would have handed out a chunk had the visited keys come as records (after the key that took the
   * bytes since the last such point to 256 KiB or more), as a count of {@link pendingBytes}; 0: none. What goes
   * out before an error (a record that cannot be written, damage) is then what the record path hands out.
   */
  cut = 0;
  /** Bytes since the last such point (set by respChunks to what its encoder holds after records). */
  since = 0;

  /** The first `n` bytes not handed out yet, as views (valid for good: the slab is never written there again). */
  take(n: number = this.pendingBytes): Uint8Array[] {
    const out: Uint8Array[] = [];
    const full = this.full;
    let i = 0;
    for (; i < full.length && n > 0; i++) {
      const f = full[i]!;
      if (f.length <= n) {
        out.push(f);
        n -= f.length;
        this.fullBytes -= f.length;
      } else {
        out.push(f.subarray(0, n));
        full[i] = f.subarray(n);
        this.fullBytes -= n;
        n = 0;
        break;
      }
    }
    if (i > 0) full.splice(0, i);
    if (n > 0) {
      out.push(this.buf.subarray(this.from, this.from + n));
      this.from += n;
    }
    this.cut = 0;
    return out;
  }

  /**
   * Room for `n` more bytes in the slab: else a new slab, the open key's bytes moved to it (a key stays in one
   * slab), the bytes before it left in the old one for {@link take}.
   */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const start = this.open ? this.keyAt : this.pos;
    const carry = this.pos - start;
    const size = Math.max(SLAB, 2 * (carry + n));
    const next = size === SLAB && this.pool.length > 0 ? this.pool.pop()! : Buffer.allocUnsafe(size);
    if (start > this.from) {
      this.full.push(this.buf.subarray(this.from, start));
      this.fullBytes += start - this.from;
    }
    // the old slab is reused once its views are given back (all of them already, or the last one to come)
    if (this.buf.length === SLAB) {
      if (start === 0 || (this.reuseChunks && this.releasedTo === start)) this.pool.push(this.buf);
      else if (this.reuseChunks) this.retired.push({ buf: this.buf, end: start });
    }
    this.releasedTo = 0;
    if (carry > 0) this.buf.copy(next, 0, start, this.pos);
    this.cmdAt -= start;
    this.keyAt = 0;
    this.buf = next;
    this.pos = carry;
    this.from = 0;
  }

  key(db: number, k: Uint8Array, ks: number, ke: number, type: KeyType, expireAt: number | null): void {
    // what the record path refuses (an expiry it cannot write as it does) goes that way, which reports it
    if (expireAt !== null && !Number.isSafeInteger(expireAt)) throw new RangeError('expireAt is not a safe integer');
    const klen = ke - ks;
    if (this.k.length < klen) this.k = new Uint8Array(Math.max(klen, this.k.length * 2));
    const kk = this.k;
    for (let i = 0; i < klen; i++) kk[i] = k[ks + i]!;
    this.klen = klen;
    this.room(64);
    this.open = true;
    this.keyAt = this.pos;
    this.dbBefore = this.db;
    this.kind = KINDS[type]!;
    this.expireAt = expireAt;
    this.inCmd = 0;
    this.items = 0;
    if (this.sorted !== null) {
      this.sortKey.set(db, k, ks, ke);
      const kind = this.kind;
      this.holding = kind === Kind.Set || kind === Kind.Zset || kind === Kind.Hash;
      if (this.holding) this.held.reset();
    } else if (db !== this.db) {
      this.db = db;
      this.raw(SELECT);
      this.bulkUint(db);
    }
    if (this.kind === Kind.String) this.head(3);
  }

  /** `*argc\r\n`, the command's name and the key: a command of the key's kind begins. */
  private head(argc: number): void {
    const name = NAMES[this.kind]!;
    this.room(name.length + this.klen + 40);
    const b = this.buf;
    this.cmdAt = this.pos;
    b[this.pos++] = 0x2a;
    this.uintAt(argc);
    b[this.pos++] = CR;
    b[this.pos++] = LF;
    this.raw(name);
    this.bulk(this.k, 0, this.klen);
  }

  item(b: Uint8Array, s: number, e: number): void {
    const kind = this.kind;
    if (kind === Kind.String) {
      this.bulk(b, s, e);
      return;
    }
    if (this.holding) {
      this.held.add(b, s, e);
      return;
    }
    if (kind === Kind.Zset) {
      // ZADD takes the score first: the member waits for it
      const len = e - s;
      if (this.member.length < len) this.member = new Uint8Array(Math.max(len, this.member.length * 2));
      const m = this.member;
      if (len <= 64) for (let i = 0; i < len; i++) m[i] = b[s + i]!;
      else m.set(b.subarray(s, e));
      this.mlen = len;
      return;
    }
    if (kind === Kind.Hash) {
      if ((this.items++ & 1) === 0) this.element();
    } else this.element();
    this.bulk(b, s, e);
  }

  /** The next element (a pair for a hash or zset) begins: a new command when the open one is full. */
  private element(): void {
    const per = this.per;
    if (this.inCmd === 0 || this.inCmd === per) {
      this.head(this.kind === Kind.List || this.kind === Kind.Set ? 2 + per : 2 + 2 * per);
      this.inCmd = 0;
    }
    this.inCmd++;
  }

  score(score: number): void {
    if (this.holding) {
      // (what commandsForKey refuses goes the record path, which reports it; canonicalizeRecord's -0 is 0)
      if (score !== score) throw new RangeError('a sorted-set score is NaN');
      this.held.score(score === 0 ? 0 : score);
      return;
    }
    this.element();
    this.bulkScore(score);
    this.bulk(this.member, 0, this.mlen);
  }

  done(): void {
    const kind = this.kind;
    if (this.holding) this.writeHeld(kind);
    if (kind !== Kind.String && this.inCmd !== this.per) this.patchArgc(kind === Kind.List || kind === Kind.Set ? 2 + this.inCmd : 2 + 2 * this.inCmd, kind === Kind.List || kind === Kind.Set ? 2 + this.per : 2 + 2 * this.per);
    const x = this.expireAt;
    if (x !== null) {
      this.raw(PEXPIREAT);
      this.bulk(this.k, 0, this.klen);
      this.bulkInt(x);
    }
    this.open = false;
    this.keys++;
    if (this.sorted !== null) {
      // the key's commands go to the sort; the slab's space is reused for the next key
      const w = this.w!;
      w.raw(this.buf, this.keyAt, this.pos);
      this.pos = this.keyAt;
      this.sorted(this.sortKey.view(), w);
      return;
    }
    this.since += this.pos - this.keyAt;
    if (this.since >= CHUNK) {
      this.cut = this.pendingBytes;
      this.since = 0;
    }
  }

  /** The held elements in canonical order, as the commands file order writes (element / bulk). */
  private writeHeld(kind: Kind): void {
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
        this.element();
        this.bulkScore(sc[x]!);
        this.bulk(a, starts[x]!, ends[x]!);
      }
    } else if (kind === Kind.Set) {
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        this.element();
        this.bulk(a, starts[x]!, ends[x]!);
      }
    } else {
      for (let i = 0; i < count; i++) {
        const x = order[i]!;
        this.element();
        this.bulk(a, starts[x]!, ends[x]!);
        this.bulk(a, starts[x + 1]!, ends[x + 1]!);
      }
    }
  }

  cancel(): void {
    if (!this.open) return;
    this.open = false;
    this.pos = this.keyAt;
    this.db = this.dbBefore;
  }

  /** The open command (at cmdAt) was written with `*was`; it has `argc` arguments: its head is rewritten. */
  private patchArgc(argc: number, was: number): void {
    const b = this.buf;
    const dn = decimalDigits(argc);
    const dw = decimalDigits(was);
    const at = this.cmdAt + 1;
    if (dn !== dw) {
      // shorter: the command's body moves back
      b.copyWithin(at + dn, at + dw, this.pos);
      this.pos -= dw - dn;
    }
    let p = at + dn;
    let x = argc;
    do {
      b[--p] = 0x30 + (x % 10);
      x = (x / 10) | 0;
    } while (x > 0);
  }

  private raw(src: Uint8Array): void {
    const n = src.length;
    this.room(n);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = src[i]!;
    this.pos = p;
  }

  /** `$len\r\n` then `src[s..e)` then CRLF. */
  private bulk(src: Uint8Array, s: number, e: number): void {
    const len = e - s;
    this.room(len + 24);
    const b = this.buf;
    b[this.pos++] = 0x24;
    this.uintAt(len);
    let p = this.pos;
    b[p++] = CR;
    b[p++] = LF;
    if (len <= 64) for (let i = s; i < e; i++) b[p++] = src[i]!;
    else {
      b.set(src.subarray(s, e), p);
      p += len;
    }
    b[p++] = CR;
    b[p++] = LF;
    this.pos = p;
  }

  /** A non-negative safe integer's digits at pos (room made by the caller). */
  private uintAt(n: number): void {
    const b = this.buf;
    if (n < 10) {
      b[this.pos++] = 0x30 + n;
      return;
    }
    const d = this.digits;
    let i = d.length;
    if (n < 0x80000000) {
      let x = n | 0;
      do {
        const q = (x / 10) | 0;
        d[--i] = 0x30 + x - q * 10;
        x = q;
      } while (x > 0);
    } else {
      do {
        const q = Math.floor(n / 10);
        d[--i] = 0x30 + (n - q * 10);
        n = q;
      } while (n > 0);
    }
    let p = this.pos;
    for (; i < d.length; i++) b[p++] = d[i]!;
    this.pos = p;
  }

  /** A non-negative integer as a bulk string (`$1\r\n0\r\n`). */
  private bulkUint(n: number): void {
    this.room(40);
    const b = this.buf;
    b[this.pos++] = 0x24;
    this.uintAt(decimalDigits(n));
    b[this.pos++] = CR;
    b[this.pos++] = LF;
    this.uintAt(n);
    b[this.pos++] = CR;
    b[this.pos++] = LF;
  }

  /** A safe integer as a bulk string (String(n)). */
  private bulkInt(n: number): void {
    if (n >= 0) {
      this.bulkUint(n);
      return;
    }
    this.room(40);
    const b = this.buf;
    b[this.pos++] = 0x24;
    this.uintAt(decimalDigits(-n) + 1);
    b[this.pos++] = CR;
    b[this.pos++] = LF;
    b[this.pos++] = 0x2d;
    this.uintAt(-n);
    b[this.pos++] = CR;
    b[this.pos++] = LF;
  }

  /** A score as formatScore writes it (7.2+ shortest round trip, see {@link scoreText}). */
  private bulkScore(x: number): void {
    // (what commandsForKey refuses goes the record path, which reports it)
    if (x !== x) throw new RangeError('a sorted-set score is NaN');
    if (x !== 0 && x > -1e8 && x < 1e8 && Number.isInteger(x)) {
      this.bulkInt(x);
      return;
    }
    const t = scoreText(x);
    const n = t.length;
    this.room(n + 24);
    const b = this.buf;
    b[this.pos++] = 0x24;
    this.uintAt(n);
    let p = this.pos;
    b[p++] = CR;
    b[p++] = LF;
    for (let i = 0; i < n; i++) b[p++] = t.charCodeAt(i);
    b[p++] = CR;
    b[p++] = LF;
    this.pos = p;
  }
}

/** Digit count of a non-negative safe integer. */
function decimalDigits(n: number): number {
  let d = 1;
  for (let p = 10; n >= p && d < 16; p *= 10) d++;
  return d;
}
