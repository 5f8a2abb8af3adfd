// Keyspace JSON Lines with bounded memory: records are encoded once to bytes and sorted as (sort key, line bytes)
// items, spilled to sorted runs and merged on bytes (never parsed back); a huge collection handed out in pieces
// (`partial: true`, see the RDB parser's `chunkElements`) is streamed element by element, its elements sorted by
// an external sort of their own when the canonical form wants them sorted.
import { batchReader, type RecordBatches, type RecordSource } from './batches.js';
import { tmpdir } from 'node:os';
import { ByteSorter, SlabPool, TempDir, recordSortKey, zsetKeyScore, zsetSortKey } from '@redis-persist/extsort';
import { ChunkWriter, writeKeyHead, writeKeyTail, writeRecord, writeScore, writeStr, type EncodeOptions } from '@redis-persist/jsonl';
import { KeyspaceError, canonicalizeRecord, type Bytes, type HashField, type KeyRecord, type KeyspacePiece, type KeyspaceRecord, type Score } from '@redis-persist/keyspace';
import { HugeStream } from './huge-stream.js';
import { JsonlStringPieces, isStringPiece, type PieceOutput } from './pieces.js';
import type { JsonlKeyVisitor } from './transcode-jsonl.js';

/** Options of {@link keyspaceJsonlStream}: canonical or file order, memory budget, temp dir. */
export interface KeyspaceJsonlStreamOptions extends EncodeOptions {
  /** `canonical` (default): sorted as KEYSPACE-JSONL.md says; `file`: in the order given. */
  order?: 'canonical' | 'file';
  /** Memory for lines (and elements of one huge collection) held before a sorted run is spilled (default 64 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). A private subdirectory is made and always removed. */
  tmpDir?: string;
  /** Canonical order: called when the same db and key come twice (after the first one was written). */
  onDuplicateKey?: (db: number, key: Bytes) => void;
  /**
   * Each chunk is only valid until the next one is asked for (write it out first): the 64 KiB buffers are then
   * recycled instead of left to the garbage collector (which lets dead ones pile up to tens of MB). Default false.
   */
  reuseChunks?: boolean;
  /**
   * Where the output of a key in pieces lies (file order: its line goes out as it is made), and which keys were
   * left unfinished: with it, pieces that stop before their last one (the input was damaged) are dropped instead
   * of being an error. See {@link PieceOutput}.
   */
  pieces?: PieceOutput;
  /**
   * The direct transcoder's visitor, which the parser feeding `records` was given (`keyVisitor`). File order: it
   * writes the keys it takes into this stream's output writer, between the lines of the records that still come.
   * Canonical order: each line it makes goes into the sort as an item (sort key: db, key), in its place in the
   * input between the records (equal keys keep their input order, as `onDuplicateKey` wants).
   */
  visitor?: JsonlKeyVisitor;
}

const DEFAULT_BUDGET = 64 * 1024 * 1024;
const OUT_CHUNK = 64 * 1024;
const EMPTY = new Uint8Array(0);

/** Writes one element of a collection (no separator). */
function writeElement(w: ChunkWriter, type: 'list' | 'set' | 'zset' | 'hash', el: Bytes | [Bytes, Score] | HashField): void {
  if (type === 'list' || type === 'set') {
    writeStr(w, el as Bytes);
  } else if (type === 'zset') {
    const [m, s] = el as [Bytes, Score];
    w.byte(0x5b);
    writeStr(w, m);
    w.byte(0x2c);
    writeScore(w, s);
    w.byte(0x5d);
  } else {
    const h = el as HashField;
    w.byte(0x5b);
    writeStr(w, h.field);
    w.byte(0x2c);
    writeStr(w, h.value);
    if (h.expireAt !== null && h.expireAt !== undefined) {
      w.byte(0x2c);
      if (!Number.isSafeInteger(h.expireAt)) writeStr(w, Buffer.from(String(h.expireAt)));
      else w.ascii(String(h.expireAt));
    }
    w.byte(0x5d);
  }
}

type Collection = 'list' | 'set' | 'zset' | 'hash';

/** A hash element's sort payload starts with a flag byte (1: an expire time follows, as a little-endian double). */
const hashHead = new Uint8Array(9);
const hashHeadView = new DataView(hashHead.buffer);
const hashScratch: HashField = { field: EMPTY, value: EMPTY, expireAt: null };

/** A huge collection arriving in pieces: its elements streamed out (list) or externally sorted first. */
class HugeKey {
  private n = 0;
  private sorter: ByteSorter | null;
  private head: KeyRecord;
  private headWritten = false;
  /** A stream's pieces are a world of their own. */
  private readonly stream: HugeStream | null;
  /**
   * `lastUse`: nothing needs the slab pool after this key (file order), so it is let go before a merge.
   */
  constructor(first: KeyRecord & { type: Collection | 'stream' }, private readonly w: ChunkWriter, budget: number, tmp: TempDir, pool: SlabPool, private readonly lastUse = false) {
    this.head = first;
    this.stream = first.type === 'stream' ? new HugeStream(first, w, (share) => new ByteSorter(budget * share, tmp, pool), lastUse) : null;
    this.sorter = first.type === 'list' || this.stream !== null ? null : new ByteSorter(budget, tmp, pool);
  }

  matches(rec: KeyspaceRecord): boolean {
    return rec.kind === 'key' && rec.type === this.head.type && rec.db === this.head.db && Buffer.from(rec.key.buffer, rec.key.byteOffset, rec.key.length).equals(this.head.key);
  }

  /** Takes the next piece; yields output bytes (a list's elements go straight out). */
  async *add(rec: KeyRecord): AsyncGenerator<Uint8Array> {
    if (this.stream !== null) {
      yield* this.stream.add(rec);
      return;
    }
    const type = this.head.type as Collection;
    const els = rec.value as (Bytes | [Bytes, Score] | HashField)[];
    if (this.sorter === null) {
      for (const el of els) {
        if (!this.headWritten) {
          writeKeyHead(this.w, this.head);
          this.w.byte(0x5b);
          this.headWritten = true;
        } else {
          this.w.byte(0x2c);
        }
        writeElement(this.w, type, el);
        this.n++;
        if (this.w.pendingBytes >= OUT_CHUNK) yield* this.w.takeDone();
      }
      yield* this.w.takeDone();
      return;
    }
    // elements are sorted as their bytes (a set member; a zset's score and member; a hash field, then its value
    // and expire time): the JSON is written when they are drained
    if (type === 'set') {
      for (const el of els) {
        this.sorter.addItem(el as Bytes);
        if (this.sorter.full()) await this.sorter.spill();
        this.n++;
      }
    } else if (type === 'zset') {
      for (const el of els) {
        const [m, sc] = el as [Bytes, Score];
        if (typeof sc !== 'number' || Number.isNaN(sc)) writeScore(this.w, sc); // its error
        this.sorter.addItem(zsetSortKey(m, sc));
        if (this.sorter.full()) await this.sorter.spill();
        this.n++;
      }
    } else {
      const head = hashHead;
      for (const el of els) {
        const h = el as HashField;
        let headLen = 1;
        if (h.expireAt === null || h.expireAt === undefined) head[0] = 0;
        else {
          head[0] = 1;
          hashHeadView.setFloat64(1, h.expireAt, true);
          headLen = 9;
        }
        this.sorter.addItem(h.field, head, headLen, h.value);
        if (this.sorter.full()) await this.sorter.spill();
        this.n++;
      }
    }
  }

  /** The rest of the line; `kept()` is false afterwards when the collection turned out empty (nothing written). */
  async *finish(last: KeyRecord, options: EncodeOptions): AsyncGenerator<Uint8Array> {
    if (this.stream !== null) {
      yield* this.stream.finish(last, options);
      this.n = 1;
      return;
    }
    yield* this.add(last);
    if (this.n === 0) return;
    if (this.sorter !== null) {
      writeKeyHead(this.w, this.head);
      this.w.byte(0x5b);
      const type = this.head.type;
      const w = this.w;
      let first = true;
      const put = (k: Uint8Array, p: Uint8Array): void => {
        if (!first) w.byte(0x2c);
        first = false;
        if (type === 'set') {
          writeStr(w, k);
        } else if (type === 'zset') {
          w.byte(0x5b);
          writeStr(w, k.subarray(8));
          w.byte(0x2c);
          writeScore(w, zsetKeyScore(k));
          w.byte(0x5d);
        } else {
          const withExpire = p[0] === 1;
          const h = hashScratch;
          h.field = k;
          h.value = p.subarray(withExpire ? 9 : 1);
          h.expireAt = withExpire ? Buffer.from(p.buffer, p.byteOffset, p.length).readDoubleLE(1) : null;
          writeElement(w, 'hash', h);
        }
      };
      if (this.sorter.allHeld) {
        // no await per element: a million of them made as much garbage as the rest of the line
        for (const { key, payload } of this.sorter.drainHeld()) {
          put(key, payload);
          if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
        }
      } else {
        for await (const { key, payload } of this.sorter.drainItems(this.lastUse)) {
          put(key, payload);
          if (w.pendingBytes >= OUT_CHUNK) yield* w.takeDone();
        }
      }
      yield* w.takeDone();
    }
    this.w.byte(0x5d);
    writeKeyTail(this.w, last, options);
    this.w.byte(0x0a);
    yield* this.w.takeAll();
  }

  kept(): boolean {
    return this.n > 0;
  }
}

/** A key that may come in pieces: a collection, or a stream (see HugeStream). */
export function isCollection(rec: KeyspaceRecord): rec is { kind: 'key' } & KeyRecord & { type: Collection | 'stream' } {
  return rec.kind === 'key' && (rec.type === 'list' || rec.type === 'set' || rec.type === 'zset' || rec.type === 'hash' || rec.type === 'stream');
}

/** Output buffers handed back after use (see `reuseChunks`). */
class ChunkPool {
  private free: Buffer[] = [];
  /** `max` buffers kept: the direct transcoder writes a read's worth of output (some 3 MB) between two hand-outs. */
  constructor(private readonly max = 4) {}
  take = (): Buffer => this.free.pop() ?? Buffer.allocUnsafe(OUT_CHUNK);
  give(c: Uint8Array): void {
    if (c.byteOffset === 0 && c.buffer.byteLength === OUT_CHUNK && this.free.length < this.max) this.free.push(Buffer.from(c.buffer, 0, OUT_CHUNK));
  }
}

/**
 * Keyspace JSON Lines bytes (about 64 KiB per chunk) for records in any order, with bounded memory.
 * `order: 'canonical'` sorts them (external merge sort on encoded lines); `file` keeps the order given. Records
 * marked `partial: true` are pieces of one huge collection (the next pieces follow, the last unmarked): they are
 * never assembled; set/zset/hash elements go through an external sort of their own.
 */
export async function* keyspaceJsonlStream(
  records: RecordSource | RecordBatches,
  options: KeyspaceJsonlStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  // bytes handed out so far (the offsets of options.pieces)
  const handed = { bytes: 0 };
  if (!options.reuseChunks) {
    for await (const c of jsonlChunks(records, options, null, handed)) {
      handed.bytes += c.length;
      yield c;
    }
    return;
  }
  const chunks = new ChunkPool(options.visitor !== undefined && options.order === 'file' ? 80 : 4);
  for await (const c of jsonlChunks(records, options, chunks, handed)) {
    handed.bytes += c.length;
    yield c;
    chunks.give(c); // the consumer asked for the next one: this one is done with
  }
}

async function* jsonlChunks(
  records: RecordSource | RecordBatches,
  options: KeyspaceJsonlStreamOptions,
  chunks: ChunkPool | null,
  handed: { bytes: number },
): AsyncGenerator<Uint8Array> {
  const newChunk = chunks?.take;
  const budget = options.memoryBudgetBytes ?? DEFAULT_BUDGET;
  const canonical = (options.order ?? 'canonical') === 'canonical';
  const tmp = new TempDir(options.tmpDir ?? tmpdir());
  const w = new ChunkWriter(OUT_CHUNK, newChunk);
  const ew = new ChunkWriter(OUT_CHUNK);
  const pool = new SlabPool();
  const main = canonical ? new ByteSorter(budget, tmp, pool) : null;
  let huge: HugeKey | null = null;
  let hugeItem: Awaited<ReturnType<ByteSorter['openItem']>> | null = null;
  // the first piece of the huge key, and (file order) where its line starts in the output
  let hugeFirst: KeyRecord | null = null;
  let hugeAt = 0;
  const pieces = options.pieces;
  // canonical order: a big string in pieces, its line written into a sort item of its own as they come
  let str: JsonlStringPieces | null = null;
  const dropStr = async (): Promise<void> => {
    const s = str!;
    str = null;
    await s.abort();
    pieces!.drop?.(s.first.db, s.first.key, null);
  };
  /** The huge key's pieces stopped before its last one (options.pieces): it is left out of the output. */
  const dropHuge = async (): Promise<void> => {
    const first = hugeFirst!;
    huge = null;
    hugeFirst = null;
    if (hugeItem !== null) {
      const item = hugeItem;
      hugeItem = null;
      await item.abort();
      pieces!.drop?.(first.db, first.key, null);
    } else {
      // the line's bytes not handed out yet go; those that were, the writer drops (w held nothing else: see below)
      w.reset();
      pool.clear();
      handed.bytes = hugeAt;
      pieces!.drop?.(first.db, first.key, hugeAt);
    }
  };
  if (main === null) options.visitor?.attach(w);
  else if (options.visitor !== undefined) {
    const sorter = main;
    options.visitor.attach(new ChunkWriter(OUT_CHUNK), (key, lw) => sorter.add(key, lw));
  }
  const visited = main === null && options.visitor !== undefined;
  // canonical order: the visitor adds to the sort as the parser reads (no spill there): spilled between batches
  const sortVisited = main !== null && options.visitor !== undefined;
  try {
    const reader = batchReader(records);
  for await (const got of reader.items) {
    // what the visitor wrote while the parser read this batch's records (or more input)
    if (visited && huge === null && w.pendingBytes >= OUT_CHUNK) for (const c of w.takeDone()) yield c;
    if (sortVisited && main!.full()) await main!.spill();
    for (const r of reader.batch(got)) {
      if (str !== null && !str.matches(r)) {
        if (!pieces) throw new KeyspaceError('schema', 'a partial record is not followed by the rest of its key');
        await dropStr();
      }
      if (main !== null && huge === null && isStringPiece(r)) {
        const sorter = main;
        str ??= new JsonlStringPieces(r, () => sorter.openItem(recordSortKey(r)), () => tmp.path());
        await str.add(r.value, !r.partial, (tw) => writeKeyTail(tw, r, options));
        if (!r.partial) str = null;
        continue;
      }
      if (huge !== null && !huge.matches(r)) {
        if (!pieces) throw new KeyspaceError('schema', 'a partial record is not followed by the rest of its key');
        await dropHuge();
      }
      if (huge !== null) {
        const out = r.partial ? huge.add(r as KeyRecord) : huge.finish(r as KeyRecord, options);
        if (hugeItem !== null) {
          for await (const b of out) {
            await hugeItem.write(b);
            chunks?.give(b);
          }
        } else {
          // file order: the line goes out as it is made (w holds at most the unfinished chunk of earlier lines)
          yield* w.takeAll();
          for await (const b of out) yield b;
        }
        if (!r.partial) {
          if (hugeItem !== null) await hugeItem.finish(huge.kept());
          else {
            // file order has no other use for the slabs: let them go rather than hold the budget to the end
            pool.clear();
            pieces?.close?.(handed.bytes);
          }
          huge = null;
          hugeItem = null;
          hugeFirst = null;
        }
        continue;
      }
      if (r.partial && isCollection(r)) {
        huge = new HugeKey(r, main !== null ? new ChunkWriter(OUT_CHUNK, newChunk) : w, budget, tmp, pool, main === null);
        hugeFirst = r as KeyRecord;
        if (main !== null) {
          // the collection's elements get the whole budget (and the same slabs)
          await main.spill();
          hugeItem = await main.openItem(recordSortKey(r));
          for await (const b of huge.add(r)) {
            await hugeItem.write(b);
            chunks?.give(b);
          }
        } else {
          yield* w.takeAll();
          hugeAt = handed.bytes;
          pieces?.open?.(hugeAt);
          yield* huge.add(r);
        }
      } else if (main !== null) {
        const rec = canonicalizeRecord(r);
        writeRecord(ew, rec, options);
        ew.byte(0x0a);
        main.add(recordSortKey(rec), ew);
        if (main.full()) await main.spill();
      } else {
        writeRecord(w, r, options);
        w.byte(0x0a);
        // a loop, not yield*: yield* over an array costs an async step per record even when it is empty
        if (w.pendingBytes >= OUT_CHUNK) for (const c of w.takeDone()) yield c;
      }
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
    if (main === null) {
      yield* w.takeAll();
      return;
    }
    // Sorted output: payloads copied into fresh 64 KiB chunks.
    const onDup = options.onDuplicateKey;
    const fresh = newChunk ?? (() => Buffer.allocUnsafe(OUT_CHUNK));
    let buf = fresh();
    let pos = 0;
    for await (const p of main.drain(
      undefined,
      onDup
        ? (key) => {
            if (key[0] === 1) onDup(Buffer.from(key).readUInt32BE(1), key.subarray(5));
          }
        : undefined,
      true,
    )) {
      let i = 0;
      while (i < p.length) {
        const n = Math.min(p.length - i, OUT_CHUNK - pos);
        buf.set(p.subarray(i, i + n), pos);
        pos += n;
        i += n;
        if (pos === OUT_CHUNK) {
          yield buf;
          buf = fresh();
          pos = 0;
        }
      }
    }
    if (pos > 0) yield buf.subarray(0, pos);
  } finally {
    // a huge key's run still being written when the records failed (or the consumer stopped) holds a file open
    if (hugeItem !== null) await (hugeItem as { abort: () => Promise<void> }).abort().catch(() => undefined);
    if (str !== null) await (str as JsonlStringPieces).abort().catch(() => undefined);
    await tmp.remove();
  }
}
