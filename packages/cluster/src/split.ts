// Splitting one snapshot into one RDB per cluster node, in one streaming pass: each key goes to the owner of its
// hash slot. Keys are copied byte for byte when the output keeps the input's RDB version, else re-encoded by
// @redis-persist/rdb-writer. The outputs are built in a temporary directory renamed into place at the end.
import { AtomicDir, AtomicFile } from '@redis-persist/fsio';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import type { RdbSource } from '@redis-persist/rdb';
import { DEFAULT_RDB_VERSION, RdbWriter, type DropInfo, type RdbThresholds } from '@redis-persist/rdb-writer';
import { ClusterError, describeKey } from './errors.js';
import { Encoder, NOT_COPIED_AUX, PartWriter, functionBytes, hasModuleAux, type OutTarget } from './part.js';
import { readRdbRaw, type RawReadInfo } from './raw-reader.js';
import { keyHashSlot } from './slot.js';
import { nodeRanges, slotOwnerTable, type ClusterNode, type SlotMap } from './slot-map.js';

/** Options of {@link splitRdb}: the slot map, the output directory, the db, the RDB version. */
export interface SplitOptions {
  /** Who owns which slots: one output per node of the map. */
  map: SlotMap;
  /** The directory to create (absent, or empty; an existing non-empty one only with `force`). */
  output: string;
  /** Replace an existing non-empty output directory; the old one is moved to `<dir>.bak` (`.bak.N`). */
  force?: boolean;
  /** The paths read (an output that is one of them, or holds one, is refused). */
  inputs?: string[];
  /** Name of a node's file (default `<node id>.rdb`, the id of a range-list node being its ranges: `0-5460.rdb`). */
  fileName?: (node: ClusterNode) => string;
  /**
   * Output RDB version. Default: the input's (then keys are copied verbatim); for keyspace records (a replayed
   * AOF) 10. Another version re-encodes every key through rdb-writer.
   */
  rdbVersion?: number;
  /** Write for Valkey (with `rdbVersion`: Valkey's version range, 80 = Valkey 9). */
  valkey?: boolean;
  /**
   * Which database of the input the cluster's keyspace is. Unset: db 0, and a key in any other db is refused
   * (ClusterError `other-db`, naming it). Set to n: the keys of db n are split (written to db 0, the only one a
   * cluster has) and the keys of every other db are left out (counted in `skipped`).
   */
  db?: number;
  /** Re-encoding only: LZF for strings (default true), encoding limits, what to do with data the target lacks. */
  compress?: boolean;
  thresholds?: Partial<RdbThresholds>;
  dropUnsupported?: boolean;
  lossy?: boolean;
  /** Called for each key or function left out (or written without metadata) for the target version. */
  onDrop?: (info: DropInfo) => void;
  /** Input name for messages. */
  file?: string;
  /** Called now and then with the input bytes read (RDB input) and keys written so far. */
  onProgress?: (progress: { bytes: number; keys: number }) => void;
  /**
   * Stops the work: checked once per chunk read. When aborted the call rejects with `signal.reason` (an
   * `AbortError` DOMException by default): the inputs are closed and the temporary output removed (nothing is left).
   */
  signal?: AbortSignal;
}

/** One node's RDB written by {@link splitRdb}: file, slots and key counts. */
export interface SplitPart {
  node: ClusterNode;
  /** The file's name inside the output directory. */
  file: string;
  /** The slots the node owns. */
  slots: { first: number; last: number }[];
  keys: number;
  /** Keys with an expiry. */
  expires: number;
  functions: number;
  bytes: number;
}

/** What {@link splitRdb} wrote: one part per node, and whether keys were copied byte for byte. */
export interface SplitResult {
  output: string;
  /** Where an existing output directory went (`force`). */
  replacedBackup: string | null;
  rdbVersion: number;
  magic: 'REDIS' | 'VALKEY';
  /** Keys were copied byte for byte (the output keeps the input's version). */
  verbatim: boolean;
  parts: SplitPart[];
  keys: number;
  functions: number;
  /** AUX fields copied into each part. */
  aux: number;
  /** Keys left out because they are in another db than the one split (`db`). */
  skipped: { db: number; keys: number }[];
  /** Bytes after the end of the input RDB (ignored, as Redis does). */
  trailingBytes: number;
  dropped: DropInfo[];
}

const defaultFileName = (node: ClusterNode): string => `${node.id.replace(/[/\\\0]/g, '_')}.rdb`;

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** The outputs of a split: one part per node, built in a temporary directory. */
class Parts {
  readonly owners: Uint16Array;
  readonly names: string[];
  writers: PartWriter[] = [];
  private files: AtomicFile[] = [];
  readonly skipped = new Map<number, number>();
  keys = 0;
  functions = 0;
  aux = 0;
  readonly dropped: DropInfo[] = [];

  private constructor(
    readonly options: SplitOptions,
    readonly dir: AtomicDir,
  ) {
    const map = options.map;
    this.owners = slotOwnerTable(map);
    const name = options.fileName ?? defaultFileName;
    this.names = map.nodes.map(name);
    const seen = new Set<string>();
    for (const n of this.names) {
      if (seen.has(n)) throw new ClusterError('input', `two nodes would write the same file ${n}`);
      seen.add(n);
    }
  }

  static async create(options: SplitOptions): Promise<Parts> {
    const dir = await AtomicDir.create(options.output, { force: options.force, inputs: options.inputs });
    try {
      return new Parts(options, dir);
    } catch (err) {
      await dir.abort();
      throw err;
    }
  }

  async open(target: OutTarget): Promise<void> {
    for (const n of this.names) {
      const f = await AtomicFile.create(this.dir.path(n), { lock: false });
      this.files.push(f);
      this.writers.push(new PartWriter(f, target));
    }
  }

  /** The db a key of input db `db` goes to (0), or null when it is left out. Throws for a key of another db. */
  take(db: number, key: Uint8Array): boolean {
    const want = this.options.db;
    if (want === undefined) {
      if (db === 0) return true;
      const file = this.options.file ? `${this.options.file}: ` : '';
      throw new ClusterError('other-db', `${file}db ${db} key ${describeKey(key)}: a cluster holds db 0 only; choose the db to split (the other dbs are then left out)`, {
        db,
        key,
        ...(this.options.file ? { files: [this.options.file] } : {}),
      });
    }
    return db === want;
  }

  skip(db: number): void {
    this.skipped.set(db, (this.skipped.get(db) ?? 0) + 1);
  }

  part(key: Uint8Array): PartWriter {
    return this.writers[this.owners[keyHashSlot(key)]];
  }

  partOfSlot(slot: number): PartWriter {
    return this.writers[this.owners[slot]];
  }

  async all(parts: Uint8Array[]): Promise<void> {
    for (const w of this.writers) await w.write(parts);
  }

  async finish(target: OutTarget, verbatim: boolean, trailingBytes: number): Promise<SplitResult> {
    for (const w of this.writers) await w.end();
    for (const f of this.files) await f.commit();
    await this.dir.commit();
    const map = this.options.map;
    return {
      output: this.options.output,
      replacedBackup: this.dir.replacedBackup,
      rdbVersion: target.version,
      magic: target.magic,
      verbatim,
      parts: map.nodes.map((node, i) => {
        const w = this.writers[i];
        return { node, file: this.names[i], slots: nodeRanges(map, node), keys: w.keys, expires: w.expires, functions: w.functions, bytes: w.bytes };
      }),
      keys: this.keys,
      functions: this.functions,
      aux: this.aux,
      skipped: [...this.skipped].sort((a, b) => a[0] - b[0]).map(([db, keys]) => ({ db, keys })),
      trailingBytes,
      dropped: this.dropped,
    };
  }

  async abort(): Promise<void> {
    for (const f of this.files) await f.abort().catch(() => undefined);
    await this.dir.abort();
  }
}

/** The target for an input of `version`/`magic` under the options (rdbVersion/valkey), checked. */
export function resolveOutTarget(input: OutTarget, options: { rdbVersion?: number; valkey?: boolean }): OutTarget {
  if (options.rdbVersion === undefined) return input;
  const valkey = options.valkey ?? false;
  Encoder.check({ version: options.rdbVersion, magic: 'REDIS' }, valkey);
  return { version: options.rdbVersion, magic: options.rdbVersion >= 80 ? 'VALKEY' : 'REDIS' };
}

const sameTarget = (a: OutTarget, b: OutTarget) => a.version === b.version && a.magic === b.magic;

function encoderFor(target: OutTarget, options: SplitOptions, dropped: DropInfo[]): Encoder {
  return new Encoder(target, {
    compress: options.compress,
    thresholds: options.thresholds,
    dropUnsupported: options.dropUnsupported,
    lossy: options.lossy,
    onDrop: (d) => {
      dropped.push(d);
      options.onDrop?.(d);
    },
  });
}

/**
 * Splits an RDB (a path, bytes or chunks) into one RDB per node of `options.map`, in `options.output`, reading the
 * input once. Each part gets: the input's AUX fields (but not the replication ones — `repl-id`, `repl-offset`,
 * `repl-stream-db` — nor `cluster-asm-task`: a part is a new dataset), every function library and module AUX
 * record, and the keys of its slots, with the SLOT_INFO records (and Valkey's `slot-info` AUX fields) the input
 * has for them. RESIZEDB hints are not written. Memory stays bounded by about one input chunk per part plus the
 * parser's (the largest value when re-encoding). On any error nothing is left: the temporary directory goes.
 */
export async function splitRdb(source: RdbSource, options: SplitOptions): Promise<SplitResult> {
  options.signal?.throwIfAborted();
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  const opts = { ...options, file };
  const parts = await Parts.create(opts);
  try {
    let target: OutTarget | null = null;
    let verbatim = true;
    let encoder: Encoder | null = null;
    let db = 0;
    // the key whose first bytes went out in parts: where they went (null: left out)
    let partKeyAt = -1;
    let partDest: PartWriter | null = null;
    const info: RawReadInfo = { trailingBytes: 0, bytes: 0 };
    // the input's version decides the mode: verbatim copies need the bytes, re-encoding the values
    const events = readRdbRaw(
      source,
      {
        file,
        mode: (h) => {
          const same = sameTarget({ version: h.version, magic: h.magic }, resolveOutTarget({ version: h.version, magic: h.magic }, options));
          return { values: !same, rawKeys: same };
        },
        onProgress: ({ bytes }) => options.onProgress?.({ bytes, keys: parts.keys }),
        signal: options.signal,
      },
      info,
    );
    for await (const ev of events) {
      if (ev.kind === 'key-part') {
        if (partKeyAt !== ev.offset) {
          partKeyAt = ev.offset;
          partDest = parts.take(ev.db, ev.key) ? parts.part(ev.key) : null;
          if (partDest) await partDest.selectDb(0);
        }
        if (partDest) await partDest.write(ev.raw);
        continue;
      }
      const r = ev.rec;
      switch (r.kind) {
        case 'header': {
          const input: OutTarget = { version: r.version, magic: r.magic };
          target = resolveOutTarget(input, options);
          verbatim = sameTarget(input, target);
          if (!verbatim) encoder = encoderFor(target, opts, parts.dropped);
          await parts.open(target);
          for (const w of parts.writers) await w.header([]);
          break;
        }
        case 'aux': {
          const name = text(r.key);
          if (NOT_COPIED_AUX.has(name)) break;
          if (name === 'slot-info') {
            // Valkey 8 cluster saves: "slot,keys,expires" before the slot's keys; it goes with them
            const slot = Number(text(r.value).split(',')[0]);
            if (Number.isInteger(slot) && slot >= 0 && slot < 16384 && (options.db ?? 0) === db) {
              const w = parts.partOfSlot(slot);
              await w.selectDb(0);
              await w.aux(r.key, r.value);
            }
            break;
          }
          parts.aux++;
          for (const w of parts.writers) await w.aux(r.key, r.value);
          break;
        }
        case 'db':
          db = r.db;
          break;
        case 'slot-info':
          if ((options.db ?? 0) === db && r.slot < 16384) await parts.partOfSlot(r.slot).slotInfo(0, r.slot, r.size, r.expires);
          break;
        case 'function': {
          const b = functionBytes(target!, r.function, (d) => {
            parts.dropped.push(d);
            options.onDrop?.(d);
          }, options.dropUnsupported ?? false);
          if (!b) break;
          parts.functions++;
          for (const w of parts.writers) {
            await w.write(b);
            w.functions++;
          }
          break;
        }
        case 'module-aux':
          if (!hasModuleAux(target!)) {
            throw new ClusterError('unsupported', `${file ? `${file}: ` : ''}module AUX data of module ${r.module} needs RDB 9 (Redis 5.0.6+); the target is RDB ${target!.version}`);
          }
          await parts.all(ev.raw);
          break;
        case 'key': {
          let dest: PartWriter | null;
          if (ev.continued) dest = partDest;
          else dest = parts.take(r.db, r.key) ? parts.part(r.key) : null;
          partKeyAt = -1;
          partDest = null;
          if (!dest) {
            parts.skip(r.db);
            break;
          }
          if (verbatim) {
            await dest.selectDb(0);
            await dest.write(ev.raw);
          } else {
            const bytes = encoder!.key({ kind: 'key', db: r.db, key: r.key, expireAt: r.expireAt, ...r.value! } as KeyspaceRecord & { kind: 'key' });
            if (bytes.length === 0) break; // dropped (reported)
            await dest.selectDb(0);
            await dest.write([bytes]);
          }
          dest.keys++;
          if (r.expireAt !== null) dest.expires++;
          parts.keys++;
          break;
        }
        default:
          break;
      }
    }
    if (!target) throw new ClusterError('input', `${file ?? 'the input'} holds no RDB header`);
    options.signal?.throwIfAborted();
    return await parts.finish(target, verbatim, info.trailingBytes);
  } catch (err) {
    await parts.abort();
    throw err;
  }
}

/**
 * Splits keyspace records (functions and whole keys, e.g. a replayed AOF's) like {@link splitRdb}: every key
 * re-encoded for `rdbVersion` (default 10), each part with the standard AUX fields rdb-writer writes.
 */
export async function splitKeyspace(records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>, options: SplitOptions): Promise<SplitResult> {
  const version = options.rdbVersion ?? DEFAULT_RDB_VERSION;
  const target = resolveOutTarget({ version, magic: version >= 80 ? 'VALKEY' : 'REDIS' }, { rdbVersion: version, valkey: options.valkey ?? version >= 80 });
  const parts = await Parts.create(options);
  try {
    const encoder = encoderFor(target, options, parts.dropped);
    await parts.open(target);
    // magic and the standard AUX fields, as rdb-writer writes them
    const head = new RdbWriter({ rdbVersion: target.version, valkey: options.valkey ?? target.version >= 80 }).header();
    await parts.all([head]);
    for await (const rec of records) {
      options.signal?.throwIfAborted();
      if (rec.kind === 'function') {
        const b = functionBytes(target, rec, (d) => {
          parts.dropped.push(d);
          options.onDrop?.(d);
        }, options.dropUnsupported ?? false);
        if (!b) continue;
        parts.functions++;
        for (const w of parts.writers) {
          await w.write(b);
          w.functions++;
        }
        continue;
      }
      if ((rec as { partial?: boolean }).partial) throw new ClusterError('input', 'splitKeyspace takes whole keys (no partial pieces)');
      if (!parts.take(rec.db, rec.key)) {
        parts.skip(rec.db);
        continue;
      }
      const bytes = encoder.key(rec);
      if (bytes.length === 0) continue;
      const dest = parts.part(rec.key);
      await dest.selectDb(0);
      await dest.write([bytes]);
      dest.keys++;
      if (rec.expireAt != null) dest.expires++;
      parts.keys++;
      if (options.onProgress && (parts.keys & 0xffff) === 0) options.onProgress({ bytes: 0, keys: parts.keys });
    }
    return await parts.finish(target, false, 0);
  } catch (err) {
    await parts.abort();
    throw err;
  }
}
