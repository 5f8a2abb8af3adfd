// Conversions built on the replay: AOF -> RDB, RDB -> AOF, an offline BGREWRITEAOF.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { aofManifestFileName, appendFilenameOf, formatManifest, nextAofFileNames, readManifest, resolveAofInput, type AofManifest } from '@redis-persist/aof';
import { AtomicDir, AtomicFile, FsioError, abortableChunks, backupFile, checkOutput, describeIoError, fsyncDirectory, resolvePath, writeFileAtomic, type OutputPolicy } from '@redis-persist/fsio';
import type { Bytes, KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { compileRdbFilter, rdbKeyspaceRecordBatches, type RdbError, type RdbKeyBeingRead } from '@redis-persist/rdb';
import { writeRdb, writeRdbFile, type DropInfo, type RdbWriteSummary } from '@redis-persist/rdb-writer';
import { ReplayError, replayAof, type ReplayOptions, type ReplayResult } from '@redis-persist/replay';
import type { PieceOutput } from './pieces.js';
import { STRING_PIECE, keyspaceBytes, type KeyFilter } from './pipelines.js';
import { RecordBatches } from './batches.js';
import { respChunks } from './resp-chunks.js';
import { RespKeyVisitor } from './transcode-resp.js';

/** Options of {@link aofToRdb} (`aof-tool to-rdb`): the replay's options and the RDB to write. */
export interface AofToRdbOptions extends ReplayOptions {
  /** Replace an existing output (kept as `<output>.bak` first). The input is never an output. */
  force?: boolean;
  rdbVersion?: number;
  valkey?: boolean;
  dropUnsupported?: boolean;
  /** Called for each key or function left out (or written without metadata) for the target version. */
  onDrop?: (d: DropInfo) => void;
}

/**
 * Replays an AOF and writes the keyspace Redis would load as an RDB file (atomically). Default RDB version: the
 * writer's (10, Redis 7.0), or 12 when a hash field has its own TTL. An aborted `options.signal` (checked once per
 * chunk read or written) rejects with `signal.reason`: the files are closed, the temp file removed, no output.
 */
export async function aofToRdb(input: string, output: string, options: AofToRdbOptions = {}): Promise<{ replay: ReplayResult; rdb: RdbWriteSummary }> {
  const file: OutputPolicy = { force: options.force, inputs: await aofInputPaths(input) };
  await checkOutput(output, file);
  const replay = await replayAof(input, options);
  const rdb = await writeRdbFile(output, replay.keyspace.records(), {
    file,
    rdbVersion: options.rdbVersion ?? (replay.keyspace.hasHashFieldTtls() ? 12 : undefined),
    valkey: options.valkey,
    dropUnsupported: options.dropUnsupported,
    onDrop: options.onDrop,
    signal: options.signal,
  });
  return { replay, rdb };
}


/** The paths an AOF input reads: what was named, and the directory or file it resolves to. */
export async function aofInputPaths(input: string): Promise<string[]> {
  const t = await resolveAofInput(input);
  return [input, t.layout === 'single' ? t.path : t.dir];
}

/** Options of {@link rdbToAof} (`rdb-tool to-aof`): a single file or a multi-part directory, rewrite options. */
export interface RdbToAofOptions {
  /** Replace an existing output (kept as `<output>.bak` first, a directory whole). The input is never an output. */
  force?: boolean;
  /** `file`: one RESP AOF; `dir`: a Redis 7 multi-part directory (manifest, RESP base, empty incr). */
  layout: 'file' | 'dir';
  /** The appendfilename the directory's files are named after (default `appendonly.aof`). */
  appendFilename?: string;
  /** Keys whose expiry is at or before this Unix ms time are left out, as a loading master drops them (default now). */
  now?: number;
  /** Only the keys this filter keeps (a filter on keys also leaves the functions out; see `dumpRdb`). */
  filter?: KeyFilter;
  /**
   * A damaged RDB: the records before the damage are written (and the output committed) and the error is passed
   * here instead of being thrown (see `onDamage` of `@redis-persist/rdb`). Default: thrown, nothing written.
   */
  onDamage?: (error: RdbError, reading: RdbKeyBeingRead | null) => void;
  /**
   * Stops the conversion: checked once per chunk read or written. When aborted the call rejects with
   * `signal.reason` (an `AbortError` DOMException by default): files closed, temp file or directory removed, no
   * output.
   */
  signal?: AbortSignal;
}

/** What {@link rdbToAof} wrote: layout, files, keys and functions. */
export interface RdbToAofResult {
  layout: 'file' | 'dir';
  /** The files written (paths). */
  files: string[];
  keys: number;
  functions: number;
  bytes: number;
  /** Where an output replaced with `force` now lives. */
  replacedBackup: string | null;
}

/** The parser's batches, passed on as they are, their keys (a key in pieces once) and functions counted in `n`. */
async function* countingBatches(src: AsyncIterable<KeyspacePiece[]>, n: { keys: number; functions: number }): AsyncGenerator<KeyspacePiece[]> {
  for await (const batch of src) {
    for (const r of batch) {
      // a key in pieces is counted once, with its last piece
      if (r.kind === 'key') {
        if (r.partial !== true) n.keys++;
      } else n.functions++;
    }
    yield batch;
  }
}

/** {@link countingBatches} of a synchronous source of records (a replayed keyspace: no promise per record). */
function* countingSync(src: Iterable<KeyspaceRecord>, n: { keys: number; functions: number }): Generator<KeyspaceRecord> {
  for (const r of src) {
    // a key in pieces is counted once, with its last piece
    if (r.kind === 'key') {
      if ((r as KeyspacePiece).partial !== true) n.keys++;
    } else n.functions++;
    yield r;
  }
}

/**
 * A RESP base for a rewritten AOF. When the AOF carried `#TS:` annotations (aof-timestamp-enabled), the base
 * starts with one, as a Redis rewrite's RESP base does: the time of the last annotation replayed (the base holds the
 * keyspace as of then, so a later point-in-time cut keeps it whole). An RDB base cannot carry one (its magic comes
 * first), as in Redis.
 */
async function* respBase(records: AsyncIterable<KeyspaceRecord>, lastTimestamp: number | null): AsyncGenerator<Uint8Array> {
  if (lastTimestamp !== null) yield Buffer.from(`#TS:${lastTimestamp}\r\n`, 'latin1');
  yield* keyspaceBytes(records, { format: 'resp', order: 'file' });
}

/**
 * Writes a fresh multi-part AOF directory, built under a temp name and renamed into place (fsio's AtomicDir: an
 * existing non-empty directory is refused unless `force`, which keeps it whole as `<dir>.bak`).
 */
async function writeNewAofDir(output: string, appendFilename: string, writeBase: (file: AtomicFile) => Promise<void>, baseExt: 'aof' | 'rdb', policy: OutputPolicy): Promise<{ files: string[]; bytes: number; replacedBackup: string | null }> {
  const dir = await AtomicDir.create(output, policy);
  try {
    const { baseName, baseSeq, incrName, incrSeq } = nextAofFileNames(appendFilename, null, baseExt, new Set());
    const manifestName = aofManifestFileName(appendFilename);
    const baseFile = await AtomicFile.create(dir.path(baseName), { lock: false });
    try {
      await writeBase(baseFile);
      await baseFile.commit();
    } catch (err) {
      await baseFile.abort();
      throw err;
    }
    const bytes = baseFile.bytesWritten;
    await writeFileAtomic(dir.path(incrName), new Uint8Array(0), { lock: false });
    const manifest: AofManifest = { base: { name: baseName, seq: baseSeq, type: 'base', line: 1 }, history: [], incr: [{ name: incrName, seq: incrSeq, type: 'incr', line: 2 }] };
    await writeFileAtomic(dir.path(manifestName), formatManifest(manifest), { lock: false });
    await dir.commit();
    return { files: [baseName, incrName, manifestName].map((n) => join(output, n)), bytes, replacedBackup: dir.replacedBackup };
  } catch (err) {
    await dir.abort();
    throw err;
  }
}

/**
 * Converts an RDB file to an AOF in the RESP form BGREWRITEAOF writes (a single file, or a multi-part dir), keys in
 * the RDB's own order.
 */
export async function rdbToAof(input: string, output: string, options: RdbToAofOptions): Promise<RdbToAofResult> {
  const policy: OutputPolicy = { force: options.force, inputs: [input] };
  await checkOutput(output, policy, options.layout === 'dir' ? 'dir' : 'file');
  const n = { keys: 0, functions: 0 };
  const filter = compileRdbFilter(options.filter);
  // the direct transcoder (as `rdb-tool dump --format resp --order file`): the common keys are written straight
  // from the RDB's bytes, the others come as records in their place (the parser takes no visitor with a filter)
  const visitor = new RespKeyVisitor();
  const records = countingBatches(
    rdbKeyspaceRecordBatches(input, {
      dropExpiredBefore: filter.expired === true ? undefined : (options.now ?? Date.now()),
      onDamage: options.onDamage,
      // A big collection or stream comes in pieces and its commands go out piece by piece, batched as the whole
      // value's (respChunks): memory stays bounded by a piece whatever the size of a key. A stream's pending
      // entries come consumer by consumer, the order its XCLAIMs go in.
      chunkElements: TO_AOF_PIECE,
      // a big string too: its SET goes out piece by piece (the length is known up front)
      stringPieceBytes: STRING_PIECE,
      streamPendingOrder: 'consumer',
      signal: options.signal,
      keyVisitor: visitor,
      ...(filter.passesAll ? {} : { filter, functions: false }),
    }),
    n,
  );
  // the output never holds part of a key: one whose pieces stop at a damage is cut back out of the file
  const writeBase = async (file: AtomicFile): Promise<void> => {
    const cut = new CutBack(file);
    for await (const c of abortableChunks(respChunks(new RecordBatches(records), { pieces: cut, visitor }), options.signal)) await cut.write(c);
    await cut.finish();
    n.keys += visitor.keys;
  };
  if (options.layout === 'file') {
    const file = await AtomicFile.create(output, policy);
    try {
      await writeBase(file);
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
    return { layout: 'file', files: [output], ...n, bytes: file.bytesWritten, replacedBackup: file.replacedBackup };
  }
  const { files, bytes, replacedBackup } = await writeNewAofDir(output, options.appendFilename ?? 'appendonly.aof', writeBase, 'aof', policy);
  return { layout: 'dir', files, ...n, bytes, replacedBackup };
}

/** Elements per piece of a big key that rdbToAof reads (as `rdb-tool dump` does). */
const TO_AOF_PIECE = 1_000;

/**
 * The file behind respChunks' {@link PieceOutput}: the bytes of a key whose pieces stop before its last one (a
 * damaged RDB read up to the damage) are cut back out of the file (they may already be written: the file is
 * truncated), so the output ends on the last whole key.
 */
class CutBack implements PieceOutput {
  private dropTo = -1;
  constructor(private readonly file: AtomicFile) {}

  drop(_db: number, _key: Bytes, at: number | null): void {
    if (at !== null) this.dropTo = this.dropTo < 0 ? at : Math.min(this.dropTo, at);
  }

  async write(chunk: Uint8Array): Promise<void> {
    await this.finish();
    await this.file.write(chunk);
  }

  /** A pending cut is applied (after the last chunk too). */
  async finish(): Promise<void> {
    if (this.dropTo < 0) return;
    const to = this.dropTo;
    this.dropTo = -1;
    await this.file.truncate(to);
  }
}

/** Options of {@link rewriteAof} (`aof-tool rewrite`): the new base's format and RDB version, backups. */
export interface RewriteAofOptions extends ReplayOptions {
  /** The new base: an RDB (default, as `aof-use-rdb-preamble yes`) or RESP commands (`aof`). */
  base?: 'rdb' | 'aof';
  /**
   * RDB version of an RDB base. Default: the version of the base being replaced when it is an RDB, else 10
   * (Redis 7.0); at least 12 when a hash field has its own TTL.
   */
  rdbVersion?: number;
  /** Keep the replaced files (default true): a sibling `<dir>.bak-<time>` directory, or `<file>.bak` for a single file. */
  backup?: boolean;
}

/** What {@link rewriteAof} did: the replay, the files written and where the old ones went. */
export interface RewriteAofResult {
  layout: 'single' | 'multi-part';
  replay: ReplayResult;
  /** The new files (paths). */
  written: string[];
  /** Where the old files went (null with backup: false). */
  backup: string | null;
  /** The old files that were replaced (paths at their old place). */
  replaced: string[];
  keys: number;
  functions: number;
  baseBytes: number;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * BGREWRITEAOF, offline: replays the AOF, writes a new base holding the whole keyspace (RDB with `aof-base 1`,
 * or RESP commands in batches of 64), a new empty incr file and a new manifest (the commit point: written to a
 * temp file, fsynced and renamed). The old files then move to a backup directory (or are removed with
 * `backup: false`). A single-file AOF is rewritten in place (RDB preamble or RESP), after a `.bak` hard link.
 * An aborted `options.signal` (checked once per chunk read or written, up to the commit point) rejects with
 * `signal.reason`: the AOF is left as it was, the new files, temp files and the fresh `.bak` link removed.
 */
export async function rewriteAof(input: string, options: RewriteAofOptions = {}): Promise<RewriteAofResult> {
  const target = await resolveAofInput(input);
  const replay = await replayAof(input, options);
  const baseKind = options.base ?? 'rdb';
  const backup = options.backup ?? true;
  const n = { keys: 0, functions: 0 };
  // synchronous: the writer takes an Iterable, and an async generator per key costs a promise per record
  const records = (): Generator<KeyspaceRecord> => countingSync(replay.keyspace.records(), n);
  let rdbVersion = options.rdbVersion;
  if (rdbVersion === undefined) {
    const v = replay.rdbParts[0]?.version;
    if (v !== undefined && v !== null && v >= 1 && v <= 12) rdbVersion = v;
    if (replay.keyspace.hasHashFieldTtls() && (rdbVersion ?? 10) < 12) rdbVersion = 12;
  }

  if (target.layout === 'single') {
    // a symbolic link is followed: the real file is rewritten, its backup beside it
    const path = await resolvePath(target.path);
    const saved = backup ? await backupFile(path) : null;
    const file = await AtomicFile.create(path, { inPlace: true });
    try {
      const chunks =
        baseKind === 'rdb' ? writeRdb(records(), { rdbVersion, aux: { 'aof-preamble': '1' } }) : respBase(toAsync(records()), replay.lastTimestamp);
      for await (const c of abortableChunks(chunks, options.signal)) await file.write(c);
      await file.commit();
    } catch (err) {
      await file.abort();
      // an abort leaves nothing behind: the AOF is as it was, so its fresh backup link goes too
      if (options.signal?.aborted && saved !== null) await rm(saved, { force: true }).catch(() => undefined);
      throw err;
    }
    return { layout: 'single', replay, written: [path], backup: saved, replaced: [path], ...n, baseBytes: file.bytesWritten };
  }

  const dir = target.dir;
  const manifestName = basename(target.manifestPath);
  const old = await readManifest(target.manifestPath);
  const existing = new Set(await fsStep(`read the directory ${dir}`, dir, () => readdir(dir)));
  const { baseName, baseSeq, incrName, incrSeq } = nextAofFileNames(appendFilenameOf(manifestName), old, baseKind === 'rdb' ? 'rdb' : 'aof', existing);
  const basePath = join(dir, baseName);
  const incrPath = join(dir, incrName);
  let baseBytes: number;
  try {
    if (baseKind === 'rdb') baseBytes = (await writeRdbFile(basePath, records(), { rdbVersion, aux: { 'aof-base': '1' }, signal: options.signal })).bytes;
    else baseBytes = await writeFileAtomic(basePath, abortableChunks(respBase(toAsync(records()), replay.lastTimestamp), options.signal));
    await writeFileAtomic(incrPath, new Uint8Array(0));
    options.signal?.throwIfAborted();
  } catch (err) {
    await rm(basePath, { force: true }).catch(() => undefined);
    await rm(incrPath, { force: true }).catch(() => undefined);
    throw err;
  }
  // Commit point: the manifest now names only the new base and incr.
  const manifest: AofManifest = { base: { name: baseName, seq: baseSeq, type: 'base', line: 1 }, history: [], incr: [{ name: incrName, seq: incrSeq, type: 'incr', line: 2 }] };
  const oldNames = [...(old.base ? [old.base.name] : []), ...old.history.map((e) => e.name), ...old.incr.map((e) => e.name)].filter((x) => existing.has(x));
  let backupDir: string | null = null;
  if (backup) {
    backupDir = join(dirname(dir), `${basename(dir)}.bak-${stamp()}`);
    const bak = backupDir;
    const notYet = '; the AOF is unchanged';
    try {
      await fsStep(`create the backup directory ${bak}`, bak, () => mkdir(bak, { recursive: false }), notYet);
      // The old manifest is copied (hard link) before it is replaced.
      const copy = await backupFile(target.manifestPath);
      await fsStep(`move the copy of the old manifest to ${bak}`, bak, () => rename(copy, join(bak, manifestName)), notYet);
    } catch (err) {
      // not committed: the new base and incr go (the manifest still names the old files)
      await rm(basePath, { force: true }).catch(() => undefined);
      await rm(incrPath, { force: true }).catch(() => undefined);
      throw err;
    }
  }
  await writeFileAtomic(target.manifestPath, formatManifest(manifest), { inPlace: true });
  const committed = `; the rewrite itself is committed (the manifest names the new files): ${backupDir !== null ? `move the remaining old files to ${backupDir}` : 'remove the remaining old files'} by hand`;
  for (const name of oldNames) {
    const from = join(dir, name);
    if (backupDir !== null) await fsStep(`move the old ${from} to ${backupDir}`, from, () => rename(from, join(backupDir!, name)), committed);
    else await fsStep(`remove the old ${from}`, from, () => rm(from, { force: true }), committed);
  }
  if (backupDir !== null) await fsyncDirectory(backupDir);
  await fsyncDirectory(dir);
  return {
    layout: 'multi-part',
    replay,
    written: [basePath, incrPath, target.manifestPath],
    backup: backupDir,
    replaced: oldNames.map((x) => join(dir, x)),
    ...n,
    baseBytes,
  };
}

/** One file-system step of a rewrite: a failure names the file, what was being done and where that leaves things. */
async function fsStep<T>(what: string, path: string, fn: () => Promise<T>, after = ''): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new FsioError('io', `cannot ${what}: ${describeIoError(err)}${after}`, { file: path, cause: err });
  }
}

async function* toAsync<T>(it: Iterable<T>): AsyncGenerator<T> {
  for (const x of it) yield x;
}
