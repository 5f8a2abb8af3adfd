// Reading the commands of an AOF (a single file or a Redis 7 multi-part directory, in the order Redis loads
// them), with the SELECT context and `#TS:` annotations tracked. An async iterator for files, and a synchronous
// parser for callers that hold the bytes.
import { join } from 'node:path';
import { abortableChunks, byteSourceChunks, type ByteSource } from '@redis-persist/fsio';
import { parseCanonicalSafeInt } from '@redis-persist/bytes';
import { AofError } from './errors.js';
import { isRdbHead, openAofFile, openAofStream, readManifest, resolveAofInput, type AofFilePass } from './input.js';
import { loadedFiles } from './manifest.js';
import { AofScanner, type AofScanEvent } from './scanner.js';
import { KeyFilter, type KeyFilterSpec } from '@redis-persist/keyspace';
import { AofCommandFilter, type AofFilterOptions } from './filter.js';

/** One command of an AOF. */
export interface AofCommand {
  /** The database the command applies to (for SELECT: the database it selects). */
  db: number;
  args: Uint8Array[];
  /** Byte offset of the command's first byte in its file. */
  offset: number;
  /** Offset just past the command. */
  end: number;
  /** The file it comes from (manifest entry name, or the path given). */
  file: string;
  /** Unix seconds of the last `#TS:` annotation before it, if the AOF has annotations. */
  timestamp?: number;
  /**
   * Set on the commands of a transaction that damage cut off (its MULTI and what followed, no EXEC): they come
   * just before the error, and Redis would discard them.
   */
  inUnfinishedMulti?: true;
  /** With a filter: a DEL/UNLINK/TOUCH/MSET/MSETNX cut down to the keys that pass (`args` are the cut ones). */
  cut?: true;
  /** With a filter and `partial: 'keep'`: kept whole although only some of its keys pass. */
  partialKeys?: true;
}

/** An RDB part met while reading (a multi-part base, or the preamble of a single file). */
export interface AofRdbPart {
  file: string;
  path: string;
  /** The RDB occupies [0, end) of the file. */
  end: number;
  keys: number;
  /** Its RDB format version. */
  version: number | null;
}

/** Options of {@link readAof} / {@link readAofBatches}: callbacks for RDB parts and annotations, limits, chunk size. */
export interface ReadAofOptions {
  /** Called for every RDB part (its keys are not commands; `@redis-persist/rdb` reads them). */
  onRdbPart?: (part: AofRdbPart) => void;
  /** Called for every annotation line (with its raw bytes). */
  onAnnotation?: (file: string, offset: number, text: Uint8Array) => void;
  /** Longest argument accepted (default 512 MiB). */
  maxArgLength?: number;
  /**
   * Which commands need their arguments (default: all). Others come with `args` holding the name only, which
   * saves copying them (statistics, filters on names). SELECT always has its arguments.
   */
  argsFor?: (name: Uint8Array) => boolean;
  /** Bytes read at a time (default 1 MiB): also about how many bytes of commands a batch holds. */
  chunkSize?: number;
  /** Called once a file has been read to its end, with its size (a FIFO's is only known then). */
  onFileRead?: (file: { file: string; path: string; bytes: number }) => void;
  /**
   * Only the commands a key filter keeps (names and databases), cut down or decided as {@link AofFilterOptions}
   * says (for the reader `partial` defaults to `keep`: a mixed command comes whole, marked `partialKeys`). SELECTs
   * are left out (each command carries its db).
   */
  filter?: KeyFilter | KeyFilterSpec | AofFilterOptions;
  /**
   * Stops the read: checked once per chunk read (not per command). When aborted, before the call or while it
   * runs, the iterator rejects with `signal.reason` (an `AbortError` DOMException by default; no further
   * commands are handed out) and the file is closed.
   */
  signal?: AbortSignal;
  /**
   * The name of a stream input in commands and errors (`file`), default `<stream>`. A path input is named by the
   * path (or the manifest entries).
   */
  file?: string;
}

/**
 * Where an AOF can come from: the project's one {@link ByteSource}. A path may name a single file, a manifest, an
 * AOF directory or a Redis data directory; any other source (bytes, a Node Readable, a web ReadableStream, an
 * (async) iterable of chunks) is one single-file AOF (RESP, possibly after an RDB preamble), read once, front to
 * back. A stream cannot hold a multi-part AOF: a manifest arriving by stream is refused (AofError `unsupported`).
 */
export type AofSource = ByteSource;

/** The name a stream input goes by when the caller gives none. */
export const STREAM_NAME = '<stream>';

const SELECT = 'select';

function isSelect(name: Uint8Array): boolean {
  if (name.length !== 6) return false;
  for (let i = 0; i < 6; i++) if ((name[i] | 0x20) !== SELECT.charCodeAt(i)) return false;
  return true;
}

/**
 * Whether a command name is MULTI or EXEC by the scanner's (redis-check-aof's) rule: the name's first 8 bytes
 * read as a C string (up to a NUL), compared without case.
 */
function isWord(name: Uint8Array, word: string): boolean {
  const lim = Math.min(name.length, 8);
  let n = 0;
  while (n < lim && name[n] !== 0) n++;
  if (n !== word.length) return false;
  for (let i = 0; i < n; i++) {
    let b = name[i];
    if (b >= 0x41 && b <= 0x5a) b += 0x20;
    if (b !== word.charCodeAt(i)) return false;
  }
  return true;
}

/** Tracks the SELECTed database and the latest timestamp across events. */
class Context {
  db = 0;
  timestamp: number | undefined;

  constructor(
    private readonly file: string,
    private readonly onAnnotation?: ReadAofOptions['onAnnotation'],
  ) {}

  toCommand(ev: AofScanEvent & { type: 'command' }): AofCommand {
    const args = ev.args ?? (ev.name.length > 0 ? [ev.name] : []);
    if (args.length > 0 && isSelect(args[0]) && args.length >= 2) {
      const db = parseCanonicalSafeInt(args[1]);
      if (db === null || db < 0) throw new AofError('corrupt', `SELECT with an invalid database index '${Buffer.from(args[1]).toString('latin1')}'`, { file: this.file, offset: ev.offset });
      this.db = db;
    }
    const cmd: AofCommand = { db: this.db, args, offset: ev.offset, end: ev.end, file: this.file };
    if (this.timestamp !== undefined) cmd.timestamp = this.timestamp;
    return cmd;
  }

  annotation(ev: AofScanEvent & { type: 'annotation' }): void {
    const m = /^#TS:(\d+)/.exec(Buffer.from(ev.text.subarray(0, 32)).toString('latin1'));
    if (m) this.timestamp = Number(m[1]);
    this.onAnnotation?.(this.file, ev.offset, ev.text);
  }
}

function failureError(scanner: AofScanner, file: string): AofError {
  const f = scanner.failure!;
  return new AofError(f.kind, `${f.explanation}; the last complete command ends at offset ${scanner.okUpTo} (run 'aof-tool fix')`, { file, offset: f.errorOffset });
}

/**
 * The commands of an AOF in load order. `input` is a path (a file, a manifest, an AOF directory or a Redis data
 * directory) or a single-file AOF as a stream or bytes (any {@link AofSource}; named `options.file` in commands
 * and errors; a manifest cannot come by stream: AofError `unsupported`).
 *
 * Damage never hides what came before it: every command complete before the damage is yielded, and only then
 * the iteration stops with an {@link AofError} (file, offset, what was expected). A command is yielded once it
 * is complete, except inside MULTI/EXEC: the commands of a transaction are held until its EXEC is read (Redis
 * queues them the same way, so this holds no more than Redis itself does) and handed out together. When the
 * damage cuts a transaction off (a MULTI without its EXEC before the damage), its commands are still yielded
 * before the error, marked `inUnfinishedMulti` (Redis would discard them). Nothing else is buffered: memory
 * stays about one read chunk plus the open transaction. An aborted `options.signal` rejects with its reason at
 * the next chunk read (commands not yet handed out are dropped) and closes the file.
 *
 * @example
 * ```ts
 * for await (const cmd of readAof('/var/lib/redis/appendonlydir')) {
 *   const [name] = cmd.args;
 *   if (name && Buffer.from(name).toString().toUpperCase() === 'FLUSHALL') console.log(cmd.file, cmd.offset, cmd.db);
 * }
 * ```
 */
export async function* readAof(input: AofSource, options: ReadAofOptions = {}): AsyncGenerator<AofCommand> {
  for await (const batch of readAofBatches(input, options)) yield* batch;
}

/**
 * The commands of an AOF in load order, in batches (the commands of one read chunk): the same commands as
 * {@link readAof} with one promise per batch instead of one per command. A batch is only handed out once; the
 * array is not reused. A transaction comes whole in the batch of the chunk that holds its EXEC.
 */
export async function* readAofBatches(input: AofSource, options: ReadAofOptions = {}): AsyncGenerator<AofCommand[]> {
  if (options.filter === undefined) {
    yield* readBatches(input, options);
    return;
  }
  const f = options.filter;
  const cf = new AofCommandFilter(f instanceof KeyFilter || !('filter' in f) ? { filter: f, partial: 'keep' } : { partial: 'keep', ...f });
  try {
    for await (const batch of readBatches(input, options)) {
      const kept = cf.push(batch);
      if (kept.length > 0) yield kept;
    }
  } catch (err) {
    if (options.signal?.aborted) throw err;
    // damage: the kept commands of a transaction it cut off still go out first
    const rest = cf.end();
    if (rest.length > 0) yield rest;
    throw err;
  }
}

async function* readBatches(input: AofSource, options: ReadAofOptions): AsyncGenerator<AofCommand[]> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const jobs: { file: string; path: string; rdbAllowed: boolean; stream?: AsyncIterable<Uint8Array> }[] = [];
  if (typeof input !== 'string') {
    const name = options.file ?? STREAM_NAME;
    jobs.push({ file: name, path: name, rdbAllowed: true, stream: abortableChunks(byteSourceChunks(input), signal) });
  } else {
    const target = await resolveAofInput(input);
    if (target.layout === 'single') jobs.push({ file: input, path: target.path, rdbAllowed: true });
    else {
      const manifest = await readManifest(target.manifestPath);
      for (const e of loadedFiles(manifest)) jobs.push({ file: e.name, path: join(target.dir, e.name), rdbAllowed: e.type === 'base' });
    }
  }
  let timestamp: number | undefined;
  for (const job of jobs) {
    // one pass per file: a FIFO, a device or a stream input is read once (closed when its reading ends)
    const src: AofFilePass | null = job.stream ? await openAofStream(job.stream, job.file) : await openAofFile(job.path);
    if (src === null) throw new AofError('missing', 'listed in the manifest but missing', { file: job.file });
    let start = 0;
    if (job.rdbAllowed && isRdbHead(src.head, src.size ?? src.head.length)) {
      const rdb = await src.checkRdbPart(job.file, signal);
      if (!rdb.ok) throw new AofError('rdb', `damaged RDB ${job.rdbAllowed ? 'part' : ''}: ${rdb.error?.message ?? 'unknown error'}`, { file: job.file, offset: rdb.error?.offset });
      options.onRdbPart?.({ file: job.file, path: job.path, end: rdb.endOffset, keys: rdb.keys, version: rdb.version });
      start = rdb.endOffset;
    }
    const ctx = new Context(job.file, options.onAnnotation);
    ctx.timestamp = timestamp;
    const argsFor = options.argsFor;
    const collectArgs = argsFor ? (name: Uint8Array) => isSelect(name) || argsFor(name) : true;
    const scanner = new AofScanner({ collectArgs, startOffset: start, path: job.path, maxArgLength: options.maxArgLength });
    // the commands ready to hand out, and those of the open transaction (from its MULTI), held until its EXEC
    let out: AofCommand[] = [];
    const open: { tx: AofCommand[] | null } = { tx: null };
    const handle = (ev: AofScanEvent) => {
      if (ev.type === 'annotation') {
        ctx.annotation(ev);
        return;
      }
      const cmd = ctx.toCommand(ev);
      if (open.tx !== null) {
        open.tx.push(cmd);
        if (isWord(ev.name, 'exec')) {
          for (const c of open.tx) out.push(c);
          open.tx = null;
        }
      } else if (isWord(ev.name, 'multi')) open.tx = [cmd];
      else out.push(cmd);
    };
    let failure: unknown = null;
    try {
      for await (const chunk of abortableChunks(src.chunks(start, { chunkSize: options.chunkSize }), signal)) {
        scanner.push(chunk);
        for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) handle(ev);
        if (out.length > 0) {
          const batch = out;
          out = [];
          yield batch;
        }
        if (scanner.done) break;
      }
      if (!scanner.done) {
        scanner.end();
        for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) handle(ev);
      }
      if (scanner.failure) failure = failureError(scanner, job.file);
    } catch (err) {
      if (signal?.aborted) throw err;
      // a bad SELECT, or a read that failed: the commands complete before it still go out first
      failure = err;
    }
    if (failure !== null) {
      if (open.tx !== null) {
        for (const c of open.tx) {
          c.inUnfinishedMulti = true;
          out.push(c);
        }
      }
      if (out.length > 0) yield out;
      throw failure;
    }
    if (out.length > 0) yield out;
    options.onFileRead?.({ file: job.file, path: job.path, bytes: await src.totalSize() });
    timestamp = ctx.timestamp;
  }
}

/**
 * Parses the RESP commands of an AOF held in memory (no RDB preamble). Synchronous; throws an
 * {@link AofError} at the first damaged record.
 */
export function parseAof(bytes: Uint8Array, options: { file?: string; db?: number } = {}): AofCommand[] {
  const file = options.file ?? 'appendonly.aof';
  const ctx = new Context(file);
  ctx.db = options.db ?? 0;
  const scanner = new AofScanner({ collectArgs: true, path: file });
  const events: AofScanEvent[] = [];
  scanner.push(bytes);
  for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) events.push(ev);
  if (!scanner.done) {
    scanner.end();
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) events.push(ev);
  }
  const out: AofCommand[] = [];
  for (const ev of events) {
    if (ev.type === 'annotation') ctx.annotation(ev);
    else {
      out.push(ctx.toCommand(ev));
    }
  }
  if (scanner.failure) throw failureError(scanner, file);
  return out;
}
