import { stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { abortableChunks, byteSourceChunks, ScratchFiles, type ByteSource, type ReadChunksOptions } from '@redis-persist/fsio';
import type { DupSpillOptions } from './dup.js';
import type { KeyType, KeyValue } from '@redis-persist/keyspace';
import { RdbError, type RdbErrorCode } from './errors.js';
import { describeRdbType, rdbTypeName } from '@redis-persist/rdb-format';
import { DONE, NEED_MORE, RdbParser } from './parser.js';
import { FileCrcThread, fileCrc, fileCrcThreadAvailable } from './file-crc.js';
import type { ReadRdbOptions, RdbMagic, RdbRecord } from './types.js';

/** Where an RDB can come from: the project's one {@link ByteSource} (a path, bytes, a Node Readable, a web ReadableStream or an (async) iterable of chunks). */
export type RdbSource = ByteSource;

// The parser copies what it keeps of a chunk (ByteQueue.push), so file reads can recycle their buffers. 256 KiB as
// for check (was 2 MiB): the read buffers and the parser's queue take ~1 MiB instead of ~8. Measured 2026-12-08:
// `dump` of the 1M-consumer stream file 98-103 -> 86-94 MiB peak in the four forms, of the 564 MB bench RDB (JSON
// Lines, file order) 125-127 -> 113-114 MiB, the same CPU time (26.7-27.3 vs 26.5-28.4 user s) and the same bytes.
const FILE_READ = { chunkSize: 256 << 10, reuseBuffers: true };
// checkRdb reads 256 KiB at a time: the two read buffers and the parser's queue (which grows to about two reads)
// then take ~1 MiB instead of ~8 (peak RSS of check on the bench RDB 110-114 -> 100-101 MB, with the checksum
// thread's smaller reads and one malloc arena); no change in CPU time measured (2.3k reads instead of 282).
const CHECK_READ = { chunkSize: 256 << 10, reuseBuffers: true };

/**
 * The chunks of any {@link RdbSource} ({@link byteSourceChunks}). A path is read with `fileRead` (default: 2 MiB
 * reads into two recycled buffers, for consumers that copy what they keep, as the parser does).
 */
export function rdbSourceChunks(source: RdbSource, fileRead: ReadChunksOptions = FILE_READ): AsyncIterable<Uint8Array> {
  return byteSourceChunks(source, fileRead);
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'latin1');
  throw new TypeError('RDB source yielded a chunk that is not a Uint8Array');
}

/**
 * Reads an RDB file (a path, the bytes, a Node Readable, a web ReadableStream or any (async) iterable of chunks) as records:
 * header, aux, db, resizedb, slot-info, key, function, module-aux, end. Keys carry decoded values unless
 * `values: false`. Throws {@link RdbError} on bad data (naming the file and offset), FsioError on I/O errors,
 * and `signal.reason` when `options.signal` is aborted (checked once per chunk read; the file is closed).
 *
 * @example
 * ```ts
 * for await (const rec of readRdb('dump.rdb', { filter: { keys: ['user:*'] } })) {
 *   if (rec.kind === 'key') console.log(rec.db, Buffer.from(rec.key).toString(), rec.type, rec.encoding, rec.expireAt);
 * }
 * ```
 */
export function readRdb(source: RdbSource, options: ReadRdbOptions = {}): AsyncGenerator<RdbRecord> {
  return parseRdbMapped(source, options, (r) => r);
}

/**
 * The duplicate check's spill store of a parse ({@link ReadRdbOptions.duplicateSpill}): the caller's, none (`false`),
 * or by default scratch files in the OS temp dir (made only when a collection of more than 1M members comes;
 * unlinked at once, closed by `dispose`, which the drivers call however the parse ends).
 */
function dupSpill(opt: DupSpillOptions | false | undefined): { options: DupSpillOptions | false; dispose(): void } {
  if (opt !== undefined) return { options: opt, dispose: () => {} };
  const files = new ScratchFiles({ prefix: 'rdb-dupcheck-' });
  return { options: { open: () => files.open() }, dispose: () => files.dispose() };
}

/**
 * A parse that failed: with `onDamage`, the parser's error and the key it was reading go to it (the records before
 * were handed out); otherwise, or for any other error, it is thrown. Only the parser's own errors land here: a
 * consumer's never enter the generator.
 */
function handOverDamage(err: unknown, parser: RdbParser, options: ReadRdbOptions): void {
  if (!options.onDamage || !(err instanceof RdbError)) throw err;
  const cur = parser.current;
  options.onDamage(err, cur && { key: cur.key, rdbType: cur.rdbType, typeName: rdbTypeName(cur.rdbType), offset: cur.offset });
}

/**
 * {@link readRdb} with each record mapped (and dropped when `map` gives undefined) inside the same generator:
 * one async step per record handed out instead of two for a consumer that would map them in a generator of its own.
 */
export async function* parseRdbMapped<T>(source: RdbSource, options: ReadRdbOptions, map: (r: RdbRecord) => T | undefined): AsyncGenerator<T> {
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  const spill = dupSpill(options.duplicateSpill);
  const parser = new RdbParser({ ...options, file, duplicateSpill: spill.options });
  const it = abortableChunks(rdbSourceChunks(source), options.signal)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const r = parser.next();
      if (r === DONE) return;
      if (r === NEED_MORE) {
        const next = await it.next();
        if (next.done) parser.end();
        else parser.push(toBytes(next.value));
        continue;
      }
      const m = map(r);
      if (m !== undefined) yield m;
      if (r.kind === 'end') {
        if (options.stopAtEnd) return;
      }
    }
  } catch (err) {
    handOverDamage(err, parser, options);
  } finally {
    spill.dispose();
    await it.return?.();
  }
}

/** Records per batch of {@link parseRdbBatchesMapped}, and elements per batch (a piece of a big key ends one). */
const BATCH_RECORDS = 128;
const BATCH_ELEMENTS = 2048;

/**
 * {@link parseRdbMapped} handing the mapped records out in arrays: what the parser finds in the bytes it holds, up
 * to 128 records or about 2048 elements per array (a piece of a big key ends its array), so that a consumer takes
 * one async step per batch instead of one per record. The arrays are fresh (a consumer may keep them). Errors,
 * `onDamage` and `signal` behave as in {@link parseRdbMapped}: the records read before a damage are handed out
 * first.
 */
export async function* parseRdbBatchesMapped<T>(source: RdbSource, options: ReadRdbOptions, map: (r: RdbRecord) => T | undefined): AsyncGenerator<T[]> {
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  const spill = dupSpill(options.duplicateSpill);
  const parser = new RdbParser({ ...options, file, duplicateSpill: spill.options });
  const it = abortableChunks(rdbSourceChunks(source), options.signal)[Symbol.asyncIterator]();
  let batch: T[] = [];
  let elements = 0;
  // a key visitor writes as the parser goes: each record is handed out at once (in its place between the visited
  // keys), and an empty batch before each read lets the consumer pass on what the visitor wrote
  const visited = options.keyVisitor !== undefined && parser.setKeyVisitor(options.keyVisitor);
  const maxRecords = visited ? 1 : BATCH_RECORDS;
  try {
    for (;;) {
      let r: ReturnType<RdbParser['next']>;
      try {
        r = parser.next();
      } catch (err) {
        // the records read before the damage go out first
        if (batch.length > 0) yield batch;
        throw err;
      }
      if (r === DONE) break;
      if (r === NEED_MORE) {
        if (batch.length > 0 || visited) {
          yield batch;
          batch = [];
          elements = 0;
        }
        const next = await it.next();
        if (next.done) parser.end();
        else parser.push(toBytes(next.value));
        continue;
      }
      const m = map(r);
      if (m !== undefined) {
        batch.push(m);
        // a piece of a big key ends its batch (memory stays bounded by one piece, as one record at a time did)
        if (r.kind === 'key') elements += r.partial ? BATCH_ELEMENTS : r.elements;
        if (batch.length >= maxRecords || elements >= BATCH_ELEMENTS) {
          yield batch;
          batch = [];
          elements = 0;
        }
      }
      if (r.kind === 'end' && options.stopAtEnd) break;
    }
    if (batch.length > 0) yield batch;
  } catch (err) {
    handOverDamage(err, parser, options);
  } finally {
    spill.dispose();
    await it.return?.();
  }
}

/** Decodes one serialized object (the body of a DUMP payload, without its version and CRC footer). */
export function decodeRdbValue(typeByte: number, payload: Uint8Array, rdbVersion: number): KeyValue {
  const parser = new RdbParser({ values: true, file: 'payload', skipEmpty: false }, { type: typeByte, version: rdbVersion });
  parser.push(payload);
  parser.end();
  const r = parser.next();
  if (typeof r === 'string' || r.kind !== 'key' || !r.value) throw new RdbError('corrupt', 'payload holds no value', { offset: 0, file: 'payload' });
  if (parser.offset !== payload.length) {
    throw new RdbError('corrupt', `${payload.length - parser.offset} bytes left after the value`, { offset: parser.offset, file: 'payload' });
  }
  return r.value;
}

/** One database of a checked RDB: keys, expires, already expired keys, by type. */
export interface RdbDbStats {
  db: number;
  keys: number;
  expires: number;
  /** Keys whose expiry was already past when the check ran (a loading master drops them). */
  alreadyExpired: number;
  byType: Partial<Record<KeyType, number>>;
  byEncoding: Record<string, number>;
  /** RESIZEDB hints, when the file has them. */
  resize?: { size: number; expires: number };
}

/** The result of {@link checkRdb}: the verdict, version, AUX fields, per-db counts, checksum and the error if any. */
export interface RdbCheckReport {
  ok: boolean;
  file?: string;
  /** Bytes read. */
  size: number;
  version: number | null;
  magic: RdbMagic | null;
  aux: Record<string, string>;
  dbs: RdbDbStats[];
  keys: number;
  functions: { library: string; engine: string }[];
  modules: { module: string; encver: number; when?: number; kind: 'aux' | 'value' }[];
  checksum: 'ok' | 'disabled' | 'absent' | 'mismatch' | null;
  storedChecksum?: string;
  computedChecksum?: string;
  /** Offset of the end of the last record read successfully. */
  reachedOffset: number;
  /** Offset just past the RDB (after the checksum), when the end was reached. */
  endOffset: number | null;
  /** Bytes after the end of the RDB (not an error: Redis ignores them; an AOF tail with `stopAtEnd`). */
  trailingBytes: number;
  /** The last key read completely. */
  lastKey?: string;
  /** The key being read when the error was found: name, RDB type name, offset of its record. */
  failedKey?: { key: string; type: string; offset: number };
  warnings: string[];
  error?: { code: RdbErrorCode; offset: number; message: string; truncated: boolean; expected?: string };
}

/** Options of {@link checkRdb}: file name, RDB preamble mode, limits, progress, checksum. */
export interface CheckRdbOptions {
  file?: string;
  stopAtEnd?: boolean;
  limits?: ReadRdbOptions['limits'];
  /** The duplicate check of huge collections ({@link ReadRdbOptions.duplicateSpill}): default scratch files in the OS temp dir. */
  duplicateSpill?: ReadRdbOptions['duplicateSpill'];
  /** Called now and then with the number of bytes read. */
  onProgress?: (progress: { bytes: number }) => void;
  /** Time used to count already-expired keys (default now). */
  now?: number;
  /**
   * Compute the CRC64 in a worker thread that reads the file by itself while this thread parses (same report).
   * Only for a path to a regular file. `true`: whenever it can; `'auto'`: when the file is at least 32 MiB and
   * more than one core is available to the process (on one core the thread only adds its start-up and a second
   * read) and the system's load average over the last minute leaves at least half a core idle (on busy cores the
   * thread buys no time and costs CPU, for the second read, and ~9 MiB of RSS); `false` (default): never.
   */
  checksumThread?: boolean | 'auto';
  /**
   * Stops the check: checked once per chunk read. Bad data never makes `checkRdb` throw, but an abort does: the
   * promise rejects with `signal.reason` (an `AbortError` DOMException by default) and the file is closed.
   */
  signal?: AbortSignal;
}

const THREAD_MIN_BYTES = 32 << 20;

// V8 compiles the parser's main loop (a big generator) early in a file; a path of it that has never run by then
// (a read that straddles two chunks: the key, an expire time, a length) makes that code deoptimise the first time
// it runs later, and the function is compiled again (2.5 KB of source inlined into 13 KB of bytecode: the most
// expensive compilation of a check). Feeding the first bytes in small pieces runs those paths while the loop is
// still interpreted. The parser's verdicts do not depend on how its input is cut.
const WARM_BYTES = 1 << 20;
const WARM_PIECE = 64;

/** The checksum thread for this check, or null to compute the CRC in the parser. */
async function startCrcThread(source: RdbSource, mode: CheckRdbOptions['checksumThread']): Promise<FileCrcThread | null> {
  if (!mode || typeof source !== 'string' || !fileCrcThreadAvailable()) return null;
  // 'auto': only with a core to spare. On cores that other processes keep busy the thread buys no wall time and costs
  // CPU (a second read of the file) and ~9 MiB of RSS (its isolate).
  if (mode === 'auto' && (availableParallelism() < 2 || loadavg()[0] > availableParallelism() - 0.5)) return null;
  const st = await stat(source).catch(() => null);
  if (!st?.isFile() || (mode === 'auto' && st.size < THREAD_MIN_BYTES)) return null;
  try {
    return new FileCrcThread(source, Math.max(0, st.size - 8));
  } catch {
    return null;
  }
}

const hex64 = (v: bigint): string => v.toString(16).padStart(16, '0');

function text(b: Uint8Array): string {
  return Buffer.from(b).toString('utf8');
}

/**
 * Verifies a whole RDB file: structure, every encoding's internal consistency (as redis-check-rdb's deep
 * sanitisation does), and the CRC64. Never throws for bad data: the report says what is wrong and where.
 * (I/O errors such as a missing file still throw FsioError, and an aborted `signal` rejects with its reason.)
 *
 * @example
 * ```ts
 * const report = await checkRdb('dump.rdb');
 * console.log(report.ok ? `RDB ${report.version}, ${report.keys} keys` : report.error?.message);
 * ```
 */
export async function checkRdb(source: RdbSource, options: CheckRdbOptions = {}): Promise<RdbCheckReport> {
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  const now = options.now ?? Date.now();
  const report: RdbCheckReport = {
    ok: false, file, size: 0, version: null, magic: null, aux: {}, dbs: [], keys: 0, functions: [], modules: [],
    checksum: null, reachedOffset: 0, endOffset: null, trailingBytes: 0, warnings: [],
  };
  options.signal?.throwIfAborted();
  const crcThread = await startCrcThread(source, options.checksumThread);
  const spill = dupSpill(options.duplicateSpill);
  const duplicateSpill = spill.options;
  const parser = crcThread
    ? new RdbParser({ values: false, skipEmpty: false, file, limits: options.limits, duplicateSpill, computeChecksum: false, verifyChecksum: false })
    : new RdbParser({ values: false, skipEmpty: false, file, limits: options.limits, duplicateSpill });
  const it = abortableChunks(rdbSourceChunks(source, CHECK_READ), options.signal)[Symbol.asyncIterator]();
  // keys are counted per RDB type byte (in order of first appearance); byType/byEncoding are built at the end
  interface DbAcc {
    stats: RdbDbStats;
    perType: Float64Array;
    order: number[];
  }
  const dbMap = new Map<number, DbAcc>();
  let cur: DbAcc | null = null;
  const getDb = (db: number): DbAcc => {
    let s = dbMap.get(db);
    if (!s) {
      s = { stats: { db, keys: 0, expires: 0, alreadyExpired: 0, byType: {}, byEncoding: {} }, perType: new Float64Array(256), order: [] };
      dbMap.set(db, s);
    }
    return s;
  };
  const countKey = (db: number, rdbType: number, expireAt: number | null): void => {
    const a = cur ?? getDb(db);
    const s = a.stats;
    s.keys++;
    report.keys++;
    if (expireAt !== null) {
      s.expires++;
      if (expireAt < now) s.alreadyExpired++;
    }
    if (a.perType[rdbType]++ === 0) a.order.push(rdbType);
  };
  parser.setKeySink(countKey);
  let ended = false;
  let lastProgress = 0;
  // the chunk being fed to the parser (in pieces at first), from pendingAt; bytes fed so far
  let pending: Uint8Array | null = null;
  let pendingAt = 0;
  let fed = 0;
  try {
    for (;;) {
      const r = parser.next();
      if (r === DONE) break;
      if (r === NEED_MORE) {
        if (ended) {
          parser.end();
          continue;
        }
        if (pending === null) {
          const next = await it.next();
          if (next.done) {
            ended = true;
            parser.end();
            continue;
          }
          pending = toBytes(next.value);
          pendingAt = 0;
          report.size += pending.length;
          if (options.onProgress && report.size - lastProgress >= 1 << 24) {
            lastProgress = report.size;
            options.onProgress({ bytes: report.size });
          }
        }
        // the first WARM_BYTES go in small pieces (see WARM_BYTES); the chunk's buffer is not read into again
        // before the next it.next()
        const to = fed < WARM_BYTES ? Math.min(pending.length, pendingAt + WARM_PIECE) : pending.length;
        parser.push(pendingAt === 0 && to === pending.length ? pending : pending.subarray(pendingAt, to));
        fed += to - pendingAt;
        if (to === pending.length) pending = null;
        else pendingAt = to;
        continue;
      }
      switch (r.kind) {
        case 'header':
          report.version = r.version;
          report.magic = r.magic;
          break;
        case 'aux':
          report.aux[text(r.key)] = text(r.value);
          break;
        case 'db':
          cur = getDb(r.db);
          break;
        case 'resizedb':
          getDb(r.db).stats.resize = { size: r.size, expires: r.expires };
          break;
        case 'function':
          report.functions.push({ library: r.function.library, engine: r.function.engine });
          break;
        case 'module-aux':
          report.modules.push({ module: r.module, encver: r.encver, when: r.when, kind: 'aux' });
          break;
        case 'key': {
          // keys the parser's sink did not take: module values and empty collections
          countKey(r.db, r.rdbType, r.expireAt);
          if (r.type === 'module') {
            report.lastKey = text(r.key);
            report.modules.push({ module: 'value', encver: 0, kind: 'value' });
            report.warnings.push(`key ${JSON.stringify(report.lastKey)} holds module data: a server without the module cannot load it`);
          }
          if (r.empty) {
            report.lastKey = text(r.key);
            // Redis 7 loaders skip empty keys, but redis-check-rdb (which shares their code) stops on them
            throw new RdbError('corrupt', `key ${JSON.stringify(report.lastKey)} is an empty ${r.type} (servers since 6.2.6 skip it when loading; redis-check-rdb reports it as an error)`, { offset: r.offset, file });
          }
          break;
        }
        case 'end': {
          let { checksum, computed } = r;
          if (crcThread && checksum !== 'absent') {
            // the parser left the CRC to the thread: the same verdict and message as the parser's own check
            const end = r.offset + 1;
            computed = hex64(await crcThread.crcAt(end).catch(() => fileCrc(source as string, end)));
            if (BigInt(`0x${r.stored}`) === 0n) checksum = 'disabled';
            else if (r.stored !== computed) {
              const init = { offset: end, expected: `CRC64 ${computed}` };
              throw new RdbError('checksum', `wrong RDB checksum: file says ${r.stored}, content gives ${computed}`, file === undefined ? init : { ...init, file });
            } else checksum = 'ok';
          }
          report.checksum = checksum;
          report.storedChecksum = r.stored;
          report.computedChecksum = computed;
          report.endOffset = r.endOffset;
          break;
        }
        default:
          break;
      }
      report.reachedOffset = parser.offset;
      if (r.kind === 'end') break;
    }
    if (report.endOffset !== null && !options.stopAtEnd) {
      // count what follows the RDB without holding it
      report.trailingBytes = report.size - report.endOffset;
      if (!ended) {
        for (;;) {
          const next = await it.next();
          if (next.done) break;
          const n = toBytes(next.value).length;
          report.size += n;
          report.trailingBytes += n;
        }
      }
      if (report.trailingBytes > 0) report.warnings.push(`${report.trailingBytes} bytes follow the end of the RDB (Redis ignores them)`);
    }
    report.ok = true;
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
    report.error = { code: err.code, offset: err.offset, message: err.message, truncated: err.code === 'truncated', expected: err.expected };
    if (parser.current) report.failedKey = { key: text(parser.current.key), type: rdbTypeName(parser.current.rdbType), offset: parser.current.offset };
    if (err.code === 'checksum') {
      report.checksum = 'mismatch';
      const m = /file says ([0-9a-f]+), content gives ([0-9a-f]+)/.exec(err.message);
      if (m) {
        report.storedChecksum = m[1];
        report.computedChecksum = m[2];
      }
    }
  } finally {
    spill.dispose();
    crcThread?.stop();
    await it.return?.();
  }
  const lastKey = parser.lastKey;
  if (lastKey) report.lastKey = text(lastKey);
  if (!report.ok) report.reachedOffset = Math.max(report.reachedOffset, parser.sunkEnd);
  for (const a of dbMap.values()) {
    const s = a.stats;
    for (const t of a.order) {
      const d = describeRdbType(t, report.magic ?? 'REDIS')!;
      s.byType[d.type] = (s.byType[d.type] ?? 0) + a.perType[t];
      s.byEncoding[d.encoding] = (s.byEncoding[d.encoding] ?? 0) + a.perType[t];
    }
  }
  report.dbs = [...dbMap.values()].map((a) => a.stats).sort((a, b) => a.db - b.db);
  if (report.modules.some((m) => m.kind === 'value')) report.modules = report.modules.filter((m) => m.kind === 'aux');
  return report;
}
