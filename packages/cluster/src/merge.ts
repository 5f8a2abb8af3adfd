// Merging snapshots (a cluster's per-node RDBs, or any RDBs) into one RDB, streaming: each input is read once and
// copied key by key; a compact table of (db, key) digests finds keys that two inputs share.
import { AtomicFile } from '@redis-persist/fsio';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { readRdb } from '@redis-persist/rdb';
import type { DropInfo, RdbThresholds } from '@redis-persist/rdb-writer';
import { KeyDigestSet } from './digest.js';
import { ClusterError, describeKey } from './errors.js';
import { Encoder, NOT_COPIED_AUX, PartWriter, functionBytes, hasModuleAux, type OutTarget } from './part.js';
import { readRdbRaw } from './raw-reader.js';
import { resolveOutTarget } from './split.js';

/** An input: a path, or bytes with a name for messages. */
export type MergeInput = string | { source: string | Uint8Array; file: string };

/** Options of {@link mergeRdb}: the output, what to do with duplicate keys, the RDB version. */
export interface MergeOptions {
  /** The output file (absent, or replaced with `force`, the old one kept as `<out>.bak`). */
  output: string;
  force?: boolean;
  /**
   * A key (same db, same name) in two inputs: `error` (default: ClusterError `duplicate-key` naming the key and
   * both files, nothing written), `first` keeps the one of the earlier input, `last` the one of the later input.
   * The same applies to function libraries of the same name whose code differs (the same code is kept once).
   */
  onDuplicate?: 'error' | 'first' | 'last';
  /** Output RDB version. Default: the first input's; inputs of that version are copied verbatim, others re-encoded. */
  rdbVersion?: number;
  valkey?: boolean;
  compress?: boolean;
  thresholds?: Partial<RdbThresholds>;
  dropUnsupported?: boolean;
  lossy?: boolean;
  /** Called for each key or function left out (or written without metadata) for the target version. */
  onDrop?: (info: DropInfo) => void;
  /** Called now and then with the bytes read so far (all inputs) and keys written. */
  onProgress?: (progress: { bytes: number; keys: number }) => void;
  /**
   * Stops the work: checked once per chunk read. When aborted the call rejects with `signal.reason` (an
   * `AbortError` DOMException by default): the inputs are closed and the temporary output removed (nothing is left).
   */
  signal?: AbortSignal;
}

/** One input of {@link mergeRdb}: its version, whether its keys were copied verbatim, keys read and kept. */
export interface MergeInputSummary {
  file: string;
  rdbVersion: number;
  /** Its keys were copied byte for byte. */
  verbatim: boolean;
  /** Keys read, and kept in the output. */
  keys: number;
  kept: number;
}

/** What {@link mergeRdb} wrote: the output, its version, and a summary per input. */
export interface MergeResult {
  output: string;
  replacedBackup: string | null;
  rdbVersion: number;
  magic: 'REDIS' | 'VALKEY';
  inputs: MergeInputSummary[];
  keys: number;
  expires: number;
  functions: number;
  /** AUX fields copied (from the head of the first input). */
  aux: number;
  bytes: number;
  /** Keys found in more than one input (`first`/`last`), and up to 20 of them: the file kept and the one left out. */
  duplicates: number;
  duplicateKeys: { db: number; key: Uint8Array; kept: string; dropped: string }[];
  /** Function libraries in more than one input with different code (`first`/`last`). */
  duplicateFunctions: { library: string; kept: string; dropped: string }[];
  /** Memory of the key digest table, in bytes. */
  digestMemory: number;
  dropped: DropInfo[];
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** The header and the AUX fields at the head of an RDB (read up to its first other record). */
async function readHead(source: string | Uint8Array, file: string): Promise<{ target: OutTarget; aux: { key: Uint8Array; value: Uint8Array }[] }> {
  let target: OutTarget | null = null;
  const aux: { key: Uint8Array; value: Uint8Array }[] = [];
  for await (const r of readRdb(source, { values: false, file })) {
    if (r.kind === 'header') target = { version: r.version, magic: r.magic };
    else if (r.kind === 'aux') aux.push({ key: r.key, value: r.value });
    else break;
  }
  if (!target) throw new ClusterError('input', `${file} holds no RDB header`);
  return { target, aux };
}

/**
 * Merges RDBs into `options.output` (written atomically: nothing is left on error). Keys keep their db. The
 * output gets the AUX fields at the head of the first input (not the replication ones: `repl-id`, `repl-offset`,
 * `repl-stream-db`, nor `cluster-asm-task`), every function library once, module AUX records of the first input,
 * every key once and SLOT_INFO hints as the inputs have them. With `onDuplicate: 'last'` the inputs are read
 * last to first (the first key seen wins). Memory: the digest table (about 14 bytes per key) plus one input chunk
 * (plus the largest value of an input that is re-encoded).
 */
export async function mergeRdb(inputs: readonly MergeInput[], options: MergeOptions): Promise<MergeResult> {
  if (inputs.length === 0) throw new ClusterError('input', 'nothing to merge: no inputs');
  options.signal?.throwIfAborted();
  const ins = inputs.map((i) => (typeof i === 'string' ? { source: i, file: i } : i));
  const paths = ins.flatMap((i) => (typeof i.source === 'string' ? [i.source] : []));
  const mode = options.onDuplicate ?? 'error';
  const head = await readHead(ins[0].source, ins[0].file);
  const target = resolveOutTarget(head.target, options);
  const dropped: DropInfo[] = [];
  const onDrop = (d: DropInfo) => {
    dropped.push(d);
    options.onDrop?.(d);
  };
  let encoder: Encoder | null = null;
  const file = await AtomicFile.create(options.output, { force: options.force, inputs: paths });
  const out = new PartWriter(file, target);
  const digests = new KeyDigestSet();
  const fns = new Map<string, { code: Buffer; input: number }>();
  const summaries: MergeInputSummary[] = ins.map((i) => ({ file: i.file, rdbVersion: 0, verbatim: false, keys: 0, kept: 0 }));
  const result = { duplicates: 0, duplicateKeys: [] as MergeResult['duplicateKeys'], duplicateFunctions: [] as MergeResult['duplicateFunctions'], aux: 0 };
  let bytesBefore = 0;
  try {
    await out.header([]);
    for (const a of head.aux) {
      const name = text(a.key);
      if (NOT_COPIED_AUX.has(name) || name === 'slot-info') continue;
      await out.aux(a.key, a.value);
      result.aux++;
    }
    const order = ins.map((_, i) => i);
    if (mode === 'last') order.reverse();
    for (const idx of order) {
      const input = ins[idx];
      const sum = summaries[idx];
      let verbatim = false;
      let db = 0;
      let partKeyAt = -1;
      let partKeep = false;
      let bytesNow = 0;
      /** Whether the key is new (kept); throws for a duplicate with `error`. */
      const decide = (kdb: number, key: Uint8Array): boolean => {
        sum.keys++;
        const prev = digests.add(kdb, key, idx);
        if (prev === -1) return true;
        if (prev === idx) {
          throw new ClusterError('duplicate-key', `${input.file}: db ${kdb} key ${describeKey(key)} is in the file twice (Redis refuses to load it)`, { db: kdb, key, files: [input.file] });
        }
        const earlier = ins[prev].file;
        if (mode === 'error') {
          const [a, b] = prev < idx ? [earlier, input.file] : [input.file, earlier];
          throw new ClusterError('duplicate-key', `db ${kdb} key ${describeKey(key)} is in both ${a} and ${b}; nothing was written (choose which one to keep: first or last)`, {
            db: kdb,
            key,
            files: [a, b],
          });
        }
        result.duplicates++;
        if (result.duplicateKeys.length < 20) result.duplicateKeys.push({ db: kdb, key: Uint8Array.from(key), kept: earlier, dropped: input.file });
        return false;
      };
      const events = readRdbRaw(input.source, {
        file: input.file,
        mode: (h) => {
          sum.rdbVersion = h.version;
          verbatim = h.version === target.version && h.magic === target.magic;
          return { values: !verbatim, rawKeys: verbatim };
        },
        onProgress: ({ bytes: b }) => {
          bytesNow = b;
          options.onProgress?.({ bytes: bytesBefore + b, keys: out.keys });
        },
        signal: options.signal,
      });
      for await (const ev of events) {
        if (ev.kind === 'key-part') {
          if (partKeyAt !== ev.offset) {
            partKeyAt = ev.offset;
            partKeep = decide(ev.db, ev.key);
            if (partKeep) await out.selectDb(ev.db);
          }
          if (partKeep) await out.write(ev.raw);
          continue;
        }
        const r = ev.rec;
        switch (r.kind) {
          case 'header':
            sum.verbatim = verbatim;
            if (!verbatim && !encoder) {
              encoder = new Encoder(target, { compress: options.compress, thresholds: options.thresholds, dropUnsupported: options.dropUnsupported, lossy: options.lossy, onDrop });
            }
            break;
          case 'db':
            db = r.db;
            break;
          case 'slot-info':
            await out.slotInfo(db, r.slot, r.size, r.expires);
            break;
          case 'function': {
            const f = r.function;
            const code = Buffer.from(f.code);
            const prev = fns.get(f.library);
            if (prev) {
              if (prev.code.equals(code)) break;
              const earlier = ins[prev.input].file;
              if (mode === 'error' || prev.input === idx) {
                const [a, b] = prev.input <= idx ? [earlier, input.file] : [input.file, earlier];
                throw new ClusterError('duplicate-function', `function library ${JSON.stringify(f.library)} differs between ${a} and ${b}; nothing was written (choose which one to keep: first or last)`, {
                  files: [a, b],
                });
              }
              result.duplicateFunctions.push({ library: f.library, kept: earlier, dropped: input.file });
              break;
            }
            fns.set(f.library, { code, input: idx });
            const b = functionBytes(target, f, onDrop, options.dropUnsupported ?? false);
            if (!b) break;
            await out.write(b);
            out.functions++;
            break;
          }
          case 'module-aux':
            if (idx !== 0) break;
            if (!hasModuleAux(target)) throw new ClusterError('unsupported', `${input.file}: module AUX data of module ${r.module} needs RDB 9 (Redis 5.0.6+); the target is RDB ${target.version}`);
            await out.write(ev.raw);
            break;
          case 'key': {
            let keep: boolean;
            if (ev.continued) keep = partKeep;
            else keep = decide(r.db, r.key);
            partKeyAt = -1;
            partKeep = false;
            if (!keep) break;
            if (verbatim) {
              await out.selectDb(r.db);
              await out.write(ev.raw);
            } else {
              const bytes = encoder!.key({ kind: 'key', db: r.db, key: r.key, expireAt: r.expireAt, ...r.value! } as KeyspaceRecord & { kind: 'key' });
              if (bytes.length === 0) break;
              await out.selectDb(r.db);
              await out.write([bytes]);
            }
            sum.kept++;
            out.keys++;
            if (r.expireAt !== null) out.expires++;
            break;
          }
          default:
            break;
        }
      }
      bytesBefore += bytesNow;
    }
    await out.end();
    options.signal?.throwIfAborted();
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
  return {
    output: options.output,
    replacedBackup: file.replacedBackup,
    rdbVersion: target.version,
    magic: target.magic,
    inputs: summaries,
    keys: out.keys,
    expires: out.expires,
    functions: out.functions,
    aux: result.aux,
    bytes: out.bytes,
    duplicates: result.duplicates,
    duplicateKeys: result.duplicateKeys,
    duplicateFunctions: result.duplicateFunctions,
    digestMemory: digests.memory,
    dropped,
  };
}
