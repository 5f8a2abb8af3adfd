// The commands that rebuild a keyspace (what sortKeyspace + commandsForKey give, as RESP) in canonical order, with
// bounded memory: each key's commands are encoded once and sorted as (sort key, RESP bytes) items by the external
// sort of keyspaceJsonlStream, a SELECT written whenever the db changes; a key handed out in pieces (`partial: true`)
// is never assembled: its elements go through external sorts of their own (a set's members, a zset's score and
// member, a hash's fields; a stream's entries by ID, each group's consumers by name with the pending entries each
// owns by ID after it, the groups by name), and its commands are written from there in the batches a whole value
// would have.
import { bytesEqual } from '@redis-persist/bytes';
import { batchReader, type RecordBatches, type RecordSource, type SortedKeyWriter } from './batches.js';
import { tmpdir } from 'node:os';
import { commandsForFunction, commandsForKey, createConsumer, xadd, xclaim, xgroupCreate, xsetid, type RewriteOptions } from './commands.js';
import { ByteSorter, SlabPool, TempDir, recordSortKey, zsetKeyScore, zsetSortKey } from '@redis-persist/extsort';
import { ChunkWriter } from '@redis-persist/jsonl';
import { KeyspaceError, canonicalizeRecord, type Bytes, type HashField, type KeyRecord, type KeyspacePiece, type KeyspaceRecord, type Score, type StreamGroup, type StreamPendingEntry, type StreamValue } from '@redis-persist/keyspace';
import { isCollection } from './jsonl-stream.js';
import { isStringPiece, setCommandHead, type PieceOutput } from './pieces.js';

/** Options of {@link keyspaceRespStream}: the rewrite options plus memory budget and temp dir. */
export interface KeyspaceRespStreamOptions extends RewriteOptions {
  /** Memory for commands (and elements of one huge key) held before a sorted run is spilled (default 64 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). A private subdirectory is made and always removed. */
  tmpDir?: string;
  /** Called when the same db and key come twice (after the first one was written). */
  onDuplicateKey?: (db: number, key: Bytes) => void;
  /**
   * With it, a key whose pieces stop before the last one (a damaged input) is left out and reported to its `drop`
   * (with `at` null: nothing of it was written) instead of being an error. See {@link PieceOutput}.
   */
  pieces?: PieceOutput;
  /**
   * Each chunk is only valid until the next one is asked for (write it out first): the 64 KiB buffers are then
   * recycled instead of left to the garbage collector. Default false.
   */
  reuseChunks?: boolean;
  /**
   * A direct transcoder's visitor, which the parser feeding `records` was given (`keyVisitor`): the commands it
   * writes for each key it takes go into the sort as one item (see {@link SortedKeyWriter}), in their place in the
   * input between the records. It must write what this stream writes for the same record: `commandsForKey` of the
   * canonicalized record (its elements in canonical order, `itemsPerCommand` per command, PEXPIREAT after), no
   * SELECT (the sort's drain writes those).
   */
  visitor?: SortedKeyWriter;
}

const DEFAULT_BUDGET = 64 * 1024 * 1024;
const OUT_CHUNK = 64 * 1024;
const HELD_GROUP = 1 << 20;
const SELECT = Buffer.from('SELECT');
const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = new Uint8Array(0);

/** One command as RESP: `*N`, then `$len` and the bytes of each argument. */
function putCommand(w: ChunkWriter, args: readonly Uint8Array[]): void {
  w.byte(0x2a);
  w.ascii(String(args.length));
  w.byte(0x0d);
  w.byte(0x0a);
  for (let i = 0; i < args.length; i++) putBulk(w, args[i]!);
}

/** One RESP bulk string of a safe integer's decimal text. */
function putIntArg(w: ChunkWriter, n: number): void {
  const text = String(n);
  w.byte(0x24);
  w.ascii(String(text.length));
  w.byte(0x0d);
  w.byte(0x0a);
  w.ascii(text);
  w.byte(0x0d);
  w.byte(0x0a);
}

const SET_HEAD = Buffer.from('*3\r\n$3\r\nSET\r\n');
const PEXPIREAT_HEAD = Buffer.from('*3\r\n$9\r\nPEXPIREAT\r\n');

/** `SET key value` and, with an expire time (a safe integer), `PEXPIREAT key ms`: what commandsForKey gives. */
function putSet(w: ChunkWriter, key: Uint8Array, value: Uint8Array, expireAt: number | null | undefined): void {
  w.raw(SET_HEAD);
  putBulk(w, key);
  putBulk(w, value);
  if (expireAt === null || expireAt === undefined) return;
  w.raw(PEXPIREAT_HEAD);
  putBulk(w, key);
  putIntArg(w, expireAt);
}

function putBulk(w: ChunkWriter, a: Uint8Array): void {
  w.byte(0x24);
  w.ascii(String(a.length));
  w.byte(0x0d);
  w.byte(0x0a);
  w.raw(a);
  w.byte(0x0d);
  w.byte(0x0a);
}

function putCommands(w: ChunkWriter, cmds: readonly Uint8Array[][]): void {
  for (const c of cmds) putCommand(w, c);
}

/** a[0..n) = b[0..n) (both hold n bytes at least). */
function samePrefix(a: Uint8Array, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * RESP commands rebuilding the keyspace the records hold, in canonical order (functions by name, then keys by db and
 * key bytes, each value canonical), in chunks of about 64 KiB: the bytes `respChunks(sortKeyspace(records))` gives,
 * with memory bounded by the budget whatever the size of one key, when huge keys come in pieces (a stream's pieces
 * in the parser's `streamPendingOrder: 'consumer'`: each consumer with the pending entries it owns).
 */
export async function* keyspaceRespStream(
  records: RecordSource | RecordBatches,
  options: KeyspaceRespStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  if (!options.reuseChunks) {
    yield* sortedCommands(records, options, null);
    return;
  }
  const out = new Chunks();
  for await (const c of sortedCommands(records, options, out)) {
    yield c;
    out.give(c); // the consumer asked for the next one: this one is done with
  }
}

async function* sortedCommands(
  records: RecordSource | RecordBatches,
  options: KeyspaceRespStreamOptions,
  out: Chunks | null,
): AsyncGenerator<Uint8Array> {
  const budget = options.memoryBudgetBytes ?? DEFAULT_BUDGET;
  const rewrite: RewriteOptions = { itemsPerCommand: options.itemsPerCommand ?? 64, scoreFormat: options.scoreFormat };
  // (a bad itemsPerCommand goes to commandsForKey, which says so)
  const perOk = Number.isInteger(rewrite.itemsPerCommand) && rewrite.itemsPerCommand! >= 1;
  const tmp = new TempDir(options.tmpDir ?? tmpdir());
  const pool = new SlabPool();
  const main = new ByteSorter(budget, tmp, pool);
  const ew = new ChunkWriter(OUT_CHUNK);
  const chunks = new Chunks();
  let huge: RespHugeKey | null = null;
  let item: Awaited<ReturnType<ByteSorter['openItem']>> | null = null;
  const pieces = options.pieces;
  // a big string in pieces: its SET written into an item of its own (a run file) as the pieces come
  let str: { db: number; key: Uint8Array; item: Awaited<ReturnType<ByteSorter['openItem']>> } | null = null;
  const dropStr = async (): Promise<void> => {
    const { db, key, item: it } = str!;
    str = null;
    await it.abort();
    pieces!.drop?.(db, key, null);
  };
  const dropHuge = async (): Promise<void> => {
    const first = huge!.first;
    const it = item!;
    huge = null;
    item = null;
    await it.abort();
    pieces!.drop?.(first.db, first.key, null);
  };
  // the visitor adds to the sort as the parser reads (no spill there): spilled between batches
  const visitor = options.visitor;
  visitor?.attach(new ChunkWriter(OUT_CHUNK), (key, kw) => main.add(key, kw));
  try {
    const reader = batchReader(records);
  for await (const got of reader.items) {
    if (visitor !== undefined && main.full()) await main.spill();
    for (const r of reader.batch(got)) {
      if (str !== null && (r.kind !== 'key' || r.db !== str.db || !bytesEqual(r.key, str.key))) {
        if (!pieces) throw new KeyspaceError('schema', 'a partial record is not followed by the rest of its key');
        await dropStr();
      }
      if (isStringPiece(r) && huge === null) {
        // the bytes putSet writes for the whole string: SET's head with the whole length, the pieces, CRLF, PEXPIREAT
        if (str === null) {
          str = { db: r.db, key: r.key, item: await main.openItem(recordSortKey(r)) };
          await str.item.write(setCommandHead(r.key, r.stringLength));
        }
        await str.item.write(r.value);
        if (!r.partial) {
          const tail = new ChunkWriter(256);
          tail.raw(CRLF);
          putCommands(tail, commandsForKey({ ...r, value: EMPTY }, rewrite).slice(1));
          for (const c of tail.takeAll()) await str.item.write(c);
          await str.item.finish(true);
          str = null;
        }
        continue;
      }
      if (huge !== null && !huge.matches(r)) {
        if (!pieces) throw new KeyspaceError('schema', 'a partial record is not followed by the rest of its key');
        await dropHuge();
      }
      if (huge !== null) {
        const out = r.partial ? huge.add(r as KeyRecord) : huge.finish(r as KeyRecord);
        for await (const b of out) {
          await item!.write(b);
          chunks.give(b);
        }
        if (!r.partial) {
          await item!.finish(huge.kept());
          huge = null;
          item = null;
        }
        continue;
      }
      if (r.partial && isCollection(r)) {
        huge = new RespHugeKey(r, rewrite, (share) => new ByteSorter(budget * share, tmp, pool), chunks);
        // the key's elements get the budget (and the same slabs)
        await main.spill();
        item = await main.openItem(recordSortKey(r));
        for await (const b of huge.add(r)) {
          await item.write(b);
          chunks.give(b);
        }
        continue;
      }
      if (r.kind === 'key' && r.type === 'string' && perOk && (r.expireAt === null || r.expireAt === undefined || Number.isSafeInteger(r.expireAt))) {
        // most keys: commandsForKey's SET (and PEXPIREAT), written without arrays
        putSet(ew, r.key, r.value, r.expireAt);
        main.add(recordSortKey(r), ew);
        if (main.full()) await main.spill();
        continue;
      }
      const rec = canonicalizeRecord(r);
      const cmds = rec.kind === 'function' ? commandsForFunction(rec) : commandsForKey(rec, rewrite);
      if (cmds.length === 0) continue;
      putCommands(ew, cmds);
      main.add(recordSortKey(rec), ew);
      if (main.full()) await main.spill();
    }
  }
    if (huge !== null) {
      if (!pieces) throw new KeyspaceError('schema', 'the records end inside a partial key');
      await dropHuge();
    }
    if (str !== null) {
      if (!pieces) throw new KeyspaceError('schema', 'the records end inside a partial key');
      await dropStr();
    }
    const w = new ChunkWriter(OUT_CHUNK, out?.take);
    const dbText = Buffer.alloc(10);
    let db = -1;
    let prev = Buffer.alloc(64);
    let prevLen = -1;
    const onDup = options.onDuplicateKey;
    yield* main.drainTo(w, null, true, (key, len) => {
      if (key[0] !== 1) return;
      if (onDup && prevLen === len && samePrefix(key, prev, len)) onDup(db, Buffer.from(key.subarray(5, len)));
      if (len > prev.length) prev = Buffer.alloc(len * 2);
      for (let i = 0; i < len; i++) prev[i] = key[i]!;
      prevLen = len;
      const d = ((key[1]! << 24) | (key[2]! << 16) | (key[3]! << 8) | key[4]!) >>> 0;
      if (d !== db) {
        db = d;
        putCommand(w, [SELECT, dbText.subarray(0, dbText.write(String(d), 'latin1'))]);
      }
    });
    yield* w.takeAll();
  } finally {
    // an item left open by a failure: closed and gone
    if (item !== null) await (item as { abort: () => Promise<void> }).abort();
    if (str !== null) await (str as { item: { abort: () => Promise<void> } }).item.abort();
    await tmp.remove();
  }
}

type Collection = 'list' | 'set' | 'zset' | 'hash';

/** Output chunks of a huge key, recycled once copied into its run file (glibc keeps each freed one in its heap). */
class Chunks {
  private free: Buffer[] = [];
  readonly take = (): Buffer => this.free.pop() ?? Buffer.allocUnsafe(OUT_CHUNK);
  give(c: Uint8Array): void {
    if (c.byteOffset === 0 && c.buffer.byteLength === OUT_CHUNK && this.free.length < 4) this.free.push(Buffer.from(c.buffer, 0, OUT_CHUNK));
  }
}
type NewSorter = (share: number) => ByteSorter;

const hashHead = new Uint8Array(9);
const hashHeadView = new DataView(hashHead.buffer);

/** A key arriving in pieces: its commands, in the batches of the whole value. */
class RespHugeKey {
  private n = 0;
  private readonly sorter: ByteSorter | null;
  private readonly stream: RespHugeStream | null;
  private readonly head: KeyRecord;
  private readonly w: ChunkWriter;
  /** A list's elements not yet in an RPUSH (a batch goes across pieces, as in the whole list's commands). */
  private batch: Bytes[] = [];
  private anyTtl = false;
  private readonly per: number;

  constructor(first: KeyRecord & { type: Collection | 'stream' }, private readonly rewrite: RewriteOptions, newSorter: NewSorter, chunks: Chunks) {
    this.head = first;
    this.w = new ChunkWriter(OUT_CHUNK, chunks.take);
    this.per = rewrite.itemsPerCommand ?? 64;
    this.stream = first.type === 'stream' ? new RespHugeStream(first, newSorter, chunks) : null;
    this.sorter = first.type === 'list' || this.stream !== null ? null : newSorter(1);
  }

  /** The first piece (its db and key). */
  get first(): KeyRecord {
    return this.head;
  }

  matches(rec: KeyspaceRecord): boolean {
    return rec.kind === 'key' && rec.type === this.head.type && rec.db === this.head.db && Buffer.from(rec.key.buffer, rec.key.byteOffset, rec.key.length).equals(this.head.key);
  }

  /** The commands of a part of the value, as a whole record of it would give them (no PEXPIREAT). */
  private commands(value: KeyRecord['value'], type: Collection): Uint8Array[][] {
    return commandsForKey({ ...this.head, expireAt: null, type, value } as KeyRecord, this.rewrite);
  }

  async *add(rec: KeyRecord): AsyncGenerator<Uint8Array> {
    if (this.stream !== null) {
      yield* this.stream.add(rec);
      return;
    }
    const els = rec.value as (Bytes | [Bytes, Score] | HashField)[];
    this.n += els.length;
    const sorter = this.sorter;
    switch (this.head.type) {
      case 'list':
        for (const el of els) {
          this.batch.push(el as Bytes);
          if (this.batch.length === this.per) {
            putCommands(this.w, this.commands(this.batch, 'list'));
            this.batch = [];
            if (this.w.pendingBytes >= OUT_CHUNK) yield* this.w.takeDone();
          }
        }
        return;
      case 'set':
        for (const el of els) {
          sorter!.addItem(el as Bytes);
          if (sorter!.full()) await sorter!.spill();
        }
        return;
      case 'zset':
        for (const el of els) {
          const [m, sc] = el as [Bytes, Score];
          if (typeof sc !== 'number' || Number.isNaN(sc)) this.commands([[m, sc]], 'zset'); // its error
          sorter!.addItem(zsetSortKey(m, sc));
          if (sorter!.full()) await sorter!.spill();
        }
        return;
      default:
        for (const el of els) {
          const h = el as HashField;
          let headLen = 1;
          if (h.expireAt === null || h.expireAt === undefined) hashHead[0] = 0;
          else {
            hashHead[0] = 1;
            hashHeadView.setFloat64(1, h.expireAt, true);
            headLen = 9;
            this.anyTtl = true;
          }
          sorter!.addItem(h.field, hashHead, headLen, h.value);
          if (sorter!.full()) await sorter!.spill();
        }
    }
  }

  async *finish(last: KeyRecord): AsyncGenerator<Uint8Array> {
    if (this.stream !== null) {
      yield* this.stream.finish(last);
      this.n = 1;
      return;
    }
    yield* this.add(last);
    if (this.n === 0) return;
    const w = this.w;
    const type = this.head.type as Collection;
    if (type === 'list') {
      if (this.batch.length > 0) putCommands(w, this.commands(this.batch, 'list'));
      this.batch = [];
    } else {
      // the elements in canonical order, in batches (a hash with field TTLs: one field at a time, as whole)
      const per = type === 'hash' && this.anyTtl ? 1 : this.per;
      let batch: unknown[] = [];
      const flush = (): void => {
        if (batch.length > 0) putCommands(w, this.commands(batch as KeyRecord['value'], type));
        batch = [];
      };
      const sorter = this.sorter!;
      const items = sorter.allHeld ? sorter.drainHeld() : sorter.drainItems();
      for await (const { key, payload } of items) {
        if (type === 'set') batch.push(Buffer.from(key));
        else if (type === 'zset') batch.push([Buffer.from(key.subarray(8)), zsetKeyScore(key)]);
        else {
          const withTtl = payload[0] === 1;
          batch.push({
            field: Buffer.from(key),
            value: Buffer.from(payload.subarray(withTtl ? 9 : 1)),
            expireAt: withTtl ? Buffer.from(payload.buffer, payload.byteOffset, payload.length).readDoubleLE(1) : null,
          });
        }
        if (batch.length === per) flush();
        if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
      }
      flush();
    }
    if (last.expireAt !== null && last.expireAt !== undefined) putCommands(w, [[Buffer.from('PEXPIREAT'), last.key, Buffer.from(String(last.expireAt))]]);
    yield* w.takeAll();
  }

  kept(): boolean {
    return this.n > 0;
  }
}

/** `name` with 0x00 as 0x00 0xFF, then 0x00 0x00: bytewise order of these is the order of the names. */
function escapedName(name: Bytes, tail: number): Buffer {
  let zeros = 0;
  for (let i = 0; i < name.length; i++) if (name[i] === 0) zeros++;
  const out = Buffer.allocUnsafe(name.length + zeros + 2 + tail);
  let p = 0;
  for (let i = 0; i < name.length; i++) {
    out[p++] = name[i]!;
    if (name[i] === 0) out[p++] = 0xff;
  }
  out[p++] = 0;
  out[p++] = 0;
  return out;
}

function idBytes(id: string, out: Uint8Array, at: number): void {
  const dash = id.indexOf('-');
  const put = (text: string, o: number): void => {
    let v = BigInt(text);
    for (let k = 7; k >= 0; k--) {
      out[o + k] = Number(v & 0xffn);
      v >>= 8n;
    }
  };
  put(id.slice(0, dash), at);
  put(id.slice(dash + 1), at + 8);
}

/**
 * A stream's pieces as commands: the entries' XADDs by ID, XSETID, then group by group (by name) XGROUP CREATE and
 * consumer by consumer (by name) its XCLAIMs (by ID) or XGROUP CREATECONSUMER; PEXPIREAT.
 */
class RespHugeStream {
  private readonly entries: ByteSorter;
  private readonly groups: ByteSorter;
  private entriesDone = false;
  private entryCount = 0;
  private group: StreamGroup | null = null;
  private members: ByteSorter | null = null;
  private readonly item = new ChunkWriter(4096);
  private readonly key16 = new Uint8Array(16);

  constructor(private readonly head: KeyRecord, private readonly newSorter: NewSorter, private readonly chunks: Chunks) {
    this.entries = newSorter(1);
    this.groups = newSorter(0.25);
  }

  async *add(rec: KeyRecord): AsyncGenerator<Uint8Array> {
    const s = (rec as KeyRecord & { type: 'stream' }).value;
    const key = this.head.key;
    const cmd: Uint8Array[][] = [];
    for (let i = 0; i < s.entries.length; i++) {
      const e = s.entries[i]!;
      cmd.length = 0;
      xadd(rec, key, e, cmd);
      putCommands(this.item, cmd);
      idBytes(e.id, this.key16, 0);
      if (!this.entries.tryPutWriter(this.key16, this.item)) await this.entries.putWriter(this.key16, this.item);
    }
    this.entryCount += s.entries.length;
    for (const g of s.groups) {
      if (!this.entriesDone) {
        this.entriesDone = true;
        await this.entries.spill();
      }
      if (this.group === null || !bytesEqual(this.group.name, g.name)) {
        await this.endGroup();
        this.group = g;
        this.members = this.newSorter(0.5);
        this.carry = null;
      }
      const members = this.members!;
      // in the parser's order: each consumer, then the entries it owns (sorted already, as Redis writes them); its
      // XGROUP CREATECONSUMER sorts after them and is written only when none came (held until they are over)
      const p = g.pending;
      let i = 0;
      const carry = this.carry;
      if (carry !== null) while (i < p.length && bytesEqual(p[i]!.consumer, carry)) if (!this.stagePending(rec, g, p[i++]!)) await members.putWriter(this.stagedKey, this.item);
      for (const c of g.consumers) {
        await this.putDeferred();
        while (i < p.length && bytesEqual(p[i]!.consumer, c.name)) if (!this.stagePending(rec, g, p[i++]!)) await members.putWriter(this.stagedKey, this.item);
        const k = escapedName(c.name, 1);
        k[k.length - 1] = 2;
        cmd.length = 0;
        createConsumer(key, g, c.name, cmd);
        const w = new ChunkWriter(256);
        putCommands(w, cmd);
        this.deferred = { key: k, payload: w };
        this.carry = c.name;
      }
      while (i < p.length) if (!this.stagePending(rec, g, p[i++]!)) await members.putWriter(this.stagedKey, this.item);
    }
  }

  /** The consumer whose pending entries the previous piece ended with. */
  private carry: Bytes | null = null;
  /** The XGROUP CREATECONSUMER of the last consumer, put once its pending entries are over. */
  private deferred: { key: Uint8Array; payload: ChunkWriter } | null = null;
  private stagedKey: Uint8Array = new Uint8Array(0);

  private async putDeferred(): Promise<void> {
    const d = this.deferred;
    if (d === null) return;
    this.deferred = null;
    if (!this.members!.tryPutWriter(d.key, d.payload)) await this.members!.putWriter(d.key, d.payload);
  }

  /** The XCLAIM of a pending entry into the group's sorter when that needs no I/O (true), else left in item/stagedKey. */
  private stagePending(rec: KeyRecord, g: StreamGroup, p: StreamPendingEntry): boolean {
    const k = escapedName(p.consumer, 17);
    k[k.length - 17] = 1;
    idBytes(p.id, k, k.length - 16);
    const cmd: Uint8Array[][] = [];
    xclaim(rec, this.head.key, g, p.consumer, p, cmd);
    putCommands(this.item, cmd);
    this.stagedKey = k;
    return this.members!.tryPutWriter(k, this.item);
  }

  /** The group just read, as its commands, into the sorter of the groups. */
  private async endGroup(): Promise<void> {
    const g = this.group;
    if (g === null) return;
    await this.putDeferred();
    const members = this.members!;
    this.group = this.members = null;
    const gw = new ChunkWriter(OUT_CHUNK, this.chunks.take);
    const rec = this.head;
    async function* bytes(): AsyncGenerator<Uint8Array> {
      const head: Uint8Array[][] = [];
      xgroupCreate(rec, rec.key, g!, head);
      putCommands(gw, head);
      // a consumer's XGROUP CREATECONSUMER (after its XCLAIMs) only when it had none
      let claimed = Buffer.alloc(64);
      let claimedLen = -1;
      yield* members.drainTo(gw, null, false, (k, len) => {
        const end = nameEnd(k, len);
        if (k[end] === 1) {
          if (end > claimed.length) claimed = Buffer.alloc(end * 2);
          for (let i = 0; i < end; i++) claimed[i] = k[i]!;
          claimedLen = end;
          return true;
        }
        return !(claimedLen === end && samePrefix(claimed, k, end));
      });
      yield* gw.takeAll();
    }
    const direct = await this.groups.openDirectItem(g.name);
    if (direct !== null) {
      for await (const b of bytes()) {
        await direct.write(b);
        this.chunks.give(b);
      }
      await direct.finish();
      return;
    }
    let held: Uint8Array[] = [];
    let size = 0;
    let own: Awaited<ReturnType<ByteSorter['openItem']>> | null = null;
    for await (const b of bytes()) {
      if (own !== null) {
        await own.write(b);
        continue;
      }
      held.push(Buffer.from(b));
      size += b.length;
      if (size > HELD_GROUP) {
        own = await this.groups.openItem(g.name);
        for (const h of held) await own.write(h);
        held = [];
      }
    }
    if (own !== null) await own.finish(true);
    else await this.groups.put(g.name, undefined, 0, Buffer.concat(held));
  }

  async *finish(last: KeyRecord): AsyncGenerator<Uint8Array> {
    yield* this.add(last);
    await this.endGroup();
    const s = (last as KeyRecord & { type: 'stream' }).value;
    const meta: StreamValue = (canonicalizeRecord({ kind: 'key', db: 0, key: last.key, expireAt: null, type: 'stream', value: { ...s, entries: [], groups: [] } }) as KeyRecord & { type: 'stream' }).value;
    const w = new ChunkWriter(OUT_CHUNK, this.chunks.take);
    yield* this.entries.drainTo(w, null);
    const cmd: Uint8Array[][] = [];
    xsetid(last, this.head.key, meta, this.entryCount > 0, cmd);
    putCommands(w, cmd);
    yield* this.groups.drainTo(w, null);
    if (last.expireAt !== null && last.expireAt !== undefined) putCommands(w, [[Buffer.from('PEXPIREAT'), last.key, Buffer.from(String(last.expireAt))]]);
    yield* w.takeAll();
  }
}

/** Where the escaped name of a consumer sort key `k[0..len)` ends (after its 0x00 0x00); the tag byte follows. */
function nameEnd(k: Uint8Array, len: number): number {
  for (let i = 0; i + 1 < len; i++) {
    if (k[i] === 0) {
      if (k[i + 1] === 0) return i + 2;
      i++; // 0x00 0xFF: an escaped zero
    }
  }
  throw new KeyspaceError('schema', 'a consumer sort key without its end');
}
