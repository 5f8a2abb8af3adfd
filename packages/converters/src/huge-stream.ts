// A stream key arriving in pieces (`partial: true`, see the RDB parser's `chunkElements`), written as its one
// canonical JSON line with bounded memory: entries, each group's pending entries and consumers, and the groups
// themselves go through external sorts of their own (entries by ID, pending entries by ID, consumers and groups by
// name). What Redis writes is already in that order except the pending entries (they come by consumer): sorted
// input goes straight to a run file and holds no memory (ByteSorter's direct run).
import { bytesEqual } from '@redis-persist/bytes';
import type { ByteSorter, SlabPool, TempDir } from '@redis-persist/extsort';
import {
  ChunkWriter,
  writeKeyHead,
  writeKeyTail,
  writeStreamConsumer,
  writeStreamEntry,
  writeStreamGroupHead,
  writeStreamMeta,
  writeStreamPending,
  type EncodeOptions,
} from '@redis-persist/jsonl';
import { canonicalizeRecord, type KeyRecord, type StreamGroup, type StreamValue } from '@redis-persist/keyspace';

const OUT_CHUNK = 64 * 1024;
/** A finished group up to this size is held (sorted among the others in memory); a bigger one gets a run file. */
const HELD_GROUP = 1 << 20;
const COMMA = Uint8Array.of(0x2c);

type NewSorter = (share: number) => ByteSorter;

/** The 16-byte big-endian form of a canonical stream ID (bytewise order is ID order), in `out`. */
function idKey(id: string, out: Uint8Array): Uint8Array {
  const dash = id.indexOf('-');
  putU64(id, 0, dash, out, 0);
  putU64(id, dash + 1, id.length, out, 8);
  return out;
}

/** The decimal `text[s..e)` (at most 2^64 - 1) as 8 big-endian bytes at `out[at]`, without a BigInt. */
function putU64(text: string, s: number, e: number, out: Uint8Array, at: number): void {
  // 16-bit limbs, least significant first
  let l0 = 0;
  let l1 = 0;
  let l2 = 0;
  let l3 = 0;
  for (let i = s; i < e; i++) {
    let v = l0 * 10 + (text.charCodeAt(i) - 0x30);
    l0 = v & 0xffff;
    v = l1 * 10 + (v >>> 16);
    l1 = v & 0xffff;
    v = l2 * 10 + (v >>> 16);
    l2 = v & 0xffff;
    l3 = (l3 * 10 + (v >>> 16)) & 0xffff;
  }
  out[at] = l3 >>> 8;
  out[at + 1] = l3 & 0xff;
  out[at + 2] = l2 >>> 8;
  out[at + 3] = l2 & 0xff;
  out[at + 4] = l1 >>> 8;
  out[at + 5] = l1 & 0xff;
  out[at + 6] = l0 >>> 8;
  out[at + 7] = l0 & 0xff;
}

/**
 * The pieces of one stream key (as the RDB parser hands them out: entries first, then the groups, a group going on
 * in the next piece when that piece's first group has its name; the metadata in the last piece). `add` takes a
 * piece, `finish` the last one and yields the line.
 */
export class HugeStream {
  private readonly entries: ByteSorter;
  private readonly groups: ByteSorter;
  private entriesDone = false;
  /** The group being read: its header, and the sorters of its pending entries and consumers. */
  private group: StreamGroup | null = null;
  private pending: ByteSorter | null = null;
  private consumers: ByteSorter | null = null;
  private readonly item = new ChunkWriter(4096);
  private readonly key16 = new Uint8Array(16);
  /** Output chunks of the groups' JSON, recycled (64 KiB each: glibc would keep each freed one in its heap). */
  private readonly free: Buffer[] = [];
  private readonly takeChunk = (): Buffer => this.free.pop() ?? Buffer.allocUnsafe(OUT_CHUNK);
  private giveChunk(c: Uint8Array): void {
    if (c.byteOffset === 0 && c.buffer.byteLength === OUT_CHUNK && this.free.length < 4) this.free.push(Buffer.from(c.buffer, 0, OUT_CHUNK));
  }

  /**
   * `newSorter(share)`: a sorter with that share of the sort memory. The entries are sorted before the groups come
   * (their sorter spills then) and get it all; a group's pending entries and consumers come together and get half
   * each; the finished groups held (the small ones out of name order) a quarter.
   */
  constructor(
    private readonly head: KeyRecord,
    private readonly w: ChunkWriter,
    private readonly newSorter: NewSorter,
    private readonly lastUse: boolean,
  ) {
    this.entries = newSorter(1);
    this.groups = newSorter(0.25);
  }

  /** Takes the next piece (nothing is written before the last). */
  async *add(rec: KeyRecord): AsyncGenerator<Uint8Array> {
    const s = (rec as KeyRecord & { type: 'stream' }).value;
    const item = this.item;
    const entries = s.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      writeStreamEntry(item, e);
      const k = idKey(e.id, this.key16);
      if (!this.entries.tryPutWriter(k, item)) await this.entries.putWriter(k, item);
    }
    for (const g of s.groups) {
      if (!this.entriesDone) {
        // entries are over: what their sorter holds goes to disk, its memory to the groups
        this.entriesDone = true;
        await this.entries.spill();
      }
      if (this.group === null || !bytesEqual(this.group.name, g.name)) {
        await this.endGroup();
        this.group = g;
        this.pending = this.newSorter(0.5);
        this.consumers = this.newSorter(0.5);
      }
      for (let i = 0; i < g.pending.length; i++) {
        const p = g.pending[i]!;
        writeStreamPending(item, p);
        const k = idKey(p.id, this.key16);
        if (!this.pending!.tryPutWriter(k, item)) await this.pending!.putWriter(k, item);
      }
      for (let i = 0; i < g.consumers.length; i++) {
        const c = g.consumers[i]!;
        writeStreamConsumer(item, c);
        if (!this.consumers!.tryPutWriter(c.name, item)) await this.consumers!.putWriter(c.name, item);
      }
    }
  }

  /** The group just read, as its JSON (pending entries and consumers sorted), into the sorter of the groups. */
  private async endGroup(): Promise<void> {
    const g = this.group;
    if (g === null) return;
    const pending = this.pending!;
    const consumers = this.consumers!;
    this.group = this.pending = this.consumers = null;
    // its chunks go back to `free` once written to the direct run (they are copied there)
    const gw = new ChunkWriter(OUT_CHUNK, this.takeChunk);
    async function* bytes(): AsyncGenerator<Uint8Array> {
      writeStreamGroupHead(gw, g!);
      yield* pending.drainTo(gw, COMMA);
      gw.ascii('],"consumers":[');
      yield* consumers.drainTo(gw, COMMA);
      gw.ascii(']}');
      yield* gw.takeAll();
    }
    const direct = await this.groups.openDirectItem(g.name);
    if (direct !== null) {
      for await (const b of bytes()) {
        await direct.write(b);
        this.giveChunk(b);
      }
      await direct.finish();
      return;
    }
    // out of name order: held with the others when small, else a run of its own
    let held: Uint8Array[] = [];
    let size = 0;
    let own: Awaited<ReturnType<ByteSorter['openItem']>> | null = null;
    for await (const b of bytes()) {
      if (own !== null) {
        await own.write(b);
        continue;
      }
      held.push(b);
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

  /** Takes the last piece and yields the whole line. */
  async *finish(last: KeyRecord, options: EncodeOptions): AsyncGenerator<Uint8Array> {
    yield* this.add(last);
    await this.endGroup();
    const s = (last as KeyRecord & { type: 'stream' }).value;
    // the metadata as the canonical form has it (unreported members)
    const meta: StreamValue = (canonicalizeRecord({ kind: 'key', db: 0, key: last.key, expireAt: null, type: 'stream', value: { ...s, entries: [], groups: [] } }) as KeyRecord & { type: 'stream' }).value;
    const w = this.w;
    writeKeyHead(w, this.head);
    w.ascii('{"entries":[');
    yield* this.entries.drainTo(w, COMMA);
    writeStreamMeta(w, meta);
    yield* this.groups.drainTo(w, COMMA, this.lastUse);
    w.ascii(']}');
    writeKeyTail(w, last, options);
    w.byte(0x0a);
    yield* w.takeAll();
  }
}
