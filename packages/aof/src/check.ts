// `aof-tool check`: the verdict of redis-check-aof (7.2.5+ / 8.0 rules) for single files, RDB-preamble files and
// multi-part directories, plus what a repair would cut. Reads every file once, with bounded memory.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { abortableChunks, byteSourceChunks, readFileChunks, requireRegularFile } from '@redis-persist/fsio';
import { AofError } from './errors.js';
import { isRdbHead, openAofFile, openAofStream, readManifest, resolveAofInput, type AofFilePass, type AofInput } from './input.js';
import { loadedFiles, type AofManifest } from './manifest.js';
import { type RdbPartResult } from './rdb-part.js';
import { AofScanner } from './scanner.js';
import { STREAM_NAME, type AofSource } from './reader.js';

/** The verdict on one AOF file, as `redis-check-aof` would give it. */
export type AofFileStatus =
  | 'valid'
  | 'empty'
  | 'truncated' // ends inside a record (or inside a MULTI): a crash, repairable by cutting the tail
  | 'corrupt' // malformed bytes
  | 'rdb-invalid' // the RDB base / preamble fails the RDB check (never repaired)
  | 'missing' // listed in the manifest, absent on disk
  | 'timestamp-invalid'; // --truncate-to-timestamp met a malformed #TS annotation

/** The check of one AOF file: status, where the valid part ends (`okUpTo`), counts and timestamps. */
export interface AofFileReport {
  /** The name redis-check-aof prints: the manifest entry, or the path as given for a single file. */
  file: string;
  path: string;
  role: 'single' | 'base' | 'incr';
  format: 'resp' | 'rdb' | 'empty';
  size: number;
  status: AofFileStatus;
  /** End of the last complete record outside a MULTI: what a repair keeps. */
  okUpTo: number;
  /** redis-check-aof's ok_up_to_line (counted across the files of a manifest). */
  okUpToLine: number;
  /** Bytes after okUpTo (what a repair would cut). */
  diff: number;
  commands: number;
  /** Complete commands after okUpTo (inside an unfinished MULTI) that a repair would cut too. */
  commandsCut: number;
  annotations: number;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  /** Where the RESP part starts (after an RDB preamble). */
  respStart: number;
  rdb: RdbPartResult | null;
  /** The problem, with redis-check-aof's message where it prints one. */
  error: { offset: number; message: string | null; explanation: string; kind: 'truncated' | 'corrupt' | 'rdb' | 'missing' | 'timestamp' } | null;
  /** With truncateToTimestamp: the offset of the first annotation past the timestamp. */
  timestampCut: number | null;
  warnings: string[];
}

/** The cut `aof-tool fix` would make: which file, and the size it would be truncated to. */
export interface AofRepairPlan {
  /** The file to cut (always the last file Redis loads). */
  file: string;
  path: string;
  size: number;
  truncateTo: number;
  cutBytes: number;
  /** Complete commands removed (those of an unfinished MULTI), plus the partial record. */
  cutCommands: number;
  reason: 'damaged-tail' | 'timestamp';
}

/** The result of {@link checkAof}: the verdict, one report per file, the repair a fix would make and totals. */
export interface AofCheckReport {
  ok: boolean;
  input: string;
  layout: 'single' | 'multi-part';
  manifest: { path: string; entries: { file: string; seq: number; type: string }[] } | null;
  manifestError: string | null;
  files: AofFileReport[];
  /** What `fix` would do, when the damage can be repaired by cutting the last file's tail. */
  repair: AofRepairPlan | null;
  /** Why the damage cannot be repaired by cutting, when it cannot. */
  unrepairable: string | null;
  /** With truncateToTimestamp: "nothing to cut", or why it cannot cut. */
  timestampNote: string | null;
  totals: { commands: number; annotations: number; bytes: number; files: number };
}

/** Options of {@link checkAof}: `--truncate-to-timestamp` and progress. */
export interface CheckAofOptions {
  /** Like `redis-check-aof --truncate-to-timestamp`: plan a cut at the first `#TS:` later than this. */
  truncateToTimestamp?: number;
  /** Called with bytes processed so far (progress display). */
  onProgress?: (progress: { bytes: number; totalBytes: number }) => void;
  /**
   * Stops the check: checked once per chunk read. Damaged data never makes `checkAof` throw, but an abort does:
   * the promise rejects with `signal.reason` (an `AbortError` DOMException by default) and the file is closed.
   */
  signal?: AbortSignal;
  /** The name of a stream input in the report (`input`, `file`, `path`), default `<stream>`. */
  file?: string;
}

function parseTimestamp(text: Uint8Array): number | null {
  const s = Buffer.from(text).toString('latin1');
  const m = /^#TS:(\d+)\r?\n?$/.exec(s);
  return m ? Number(m[1]) : null;
}

interface FileJob {
  file: string;
  path: string;
  role: 'single' | 'base' | 'incr';
  last: boolean;
  /** A stream input's chunks (read once), instead of the file at `path`. */
  stream?: AsyncIterable<Uint8Array>;
}

async function checkOneFile(job: FileJob, startLine: number, options: CheckAofOptions, progress: { done: number; total: number }): Promise<AofFileReport> {
  const report: AofFileReport = {
    file: job.file,
    path: job.path,
    role: job.role,
    format: 'resp',
    size: 0,
    status: 'valid',
    okUpTo: 0,
    okUpToLine: startLine,
    diff: 0,
    commands: 0,
    commandsCut: 0,
    annotations: 0,
    firstTimestamp: null,
    lastTimestamp: null,
    respStart: 0,
    rdb: null,
    error: null,
    timestampCut: null,
    warnings: [],
  };
  // a cut at a timestamp counts the commands it drops in a second pass
  if (options.truncateToTimestamp) {
    if (job.stream) throw new AofError('unsupported', 'a cut at a timestamp reads the file twice: it needs a path to a regular file, not a stream', { file: job.file });
    await requireRegularFile(job.path, 'a cut at a timestamp');
  }
  // one pass: a FIFO, a device or a stream input is read once (its size is known at the end)
  const src = job.stream ? await openAofStream(job.stream, job.file) : await openAofFile(job.path);
  if (src === null) {
    report.status = 'missing';
    report.error = { offset: 0, message: null, explanation: `${job.file} is listed in the manifest but does not exist`, kind: 'missing' };
    return report;
  }
  try {
    return await checkOpenFile(job, src, report, startLine, options, progress);
  } finally {
    await src.close();
  }
}

async function checkOpenFile(job: FileJob, src: AofFilePass, report: AofFileReport, startLine: number, options: CheckAofOptions, progress: { done: number; total: number }): Promise<AofFileReport> {
  const head = src.head;
  report.size = src.size ?? head.length;
  if (head.length === 0) {
    report.format = 'empty';
    report.status = 'empty';
    return report;
  }
  let start = 0;
  if (job.role !== 'incr' && isRdbHead(head, src.size ?? head.length)) {
    report.format = 'rdb';
    const rdb = await src.checkRdbPart(job.file, options.signal);
    report.rdb = rdb;
    if (!rdb.ok) {
      report.size = await src.totalSize();
      report.status = 'rdb-invalid';
      report.error = {
        offset: rdb.error?.offset ?? 0,
        message: 'RDB preamble of AOF file is not sane, aborting.',
        explanation: `the RDB ${job.role === 'base' ? 'base' : 'preamble'} is damaged: ${rdb.error?.message ?? 'unknown error'}`,
        kind: 'rdb',
      };
      return report;
    }
    start = rdb.endOffset;
  }
  report.respStart = start;
  const scanner = new AofScanner({
    path: job.path,
    startOffset: start,
    startLine,
    truncateToTimestamp: options.truncateToTimestamp,
    commandEvents: false,
  });
  // The scanner keeps no reference to a chunk in check mode (annotations are copied), so buffers are recycled.
  for await (const chunk of abortableChunks(src.chunks(start, { reuseBuffers: true }), options.signal)) {
    if (scanner.done) {
      // a stream is read to its end all the same: its size says what a repair would cut
      progress.done += chunk.length;
      continue;
    }
    scanner.push(chunk);
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) {
      if (ev.type === 'annotation') {
        const ts = parseTimestamp(ev.text);
        if (ts !== null) {
          report.firstTimestamp ??= ts;
          report.lastTimestamp = ts;
        }
      }
    }
    progress.done += chunk.length;
    options.onProgress?.({ bytes: progress.done, totalBytes: progress.total });
    if (scanner.done && src.size !== null) break;
  }
  if (!scanner.done) scanner.end();
  const size = await src.totalSize();
  report.size = size;
  report.commands = scanner.commands;
  report.annotations = scanner.annotations;
  report.okUpTo = scanner.okUpTo;
  report.okUpToLine = scanner.line;
  report.diff = size - scanner.okUpTo;
  report.commandsCut = scanner.commands - scanner.commandsAtOk;
  for (const off of scanner.emptyCommands) {
    report.warnings.push(`offset ${off}: a record with no arguments; redis-check-aof accepts it but redis-server refuses to load it ("Bad file format")`);
  }
  if (scanner.invalidTimestamp) {
    report.status = 'timestamp-invalid';
    report.error = { offset: scanner.invalidTimestamp.offset, message: 'Invalid timestamp annotation', explanation: 'a #TS: annotation is not "#TS:<unix seconds>"', kind: 'timestamp' };
    return report;
  }
  if (scanner.timestampCut !== null) {
    report.timestampCut = scanner.timestampCut;
    report.okUpTo = scanner.timestampCut;
    report.diff = size - scanner.timestampCut;
    report.commandsCut = await countCommands(job.path, scanner.timestampCut, options.signal);
    return report;
  }
  const failure = scanner.failure;
  if (failure) {
    report.status = failure.kind;
    report.error = {
      offset: failure.errorOffset,
      message: failure.message,
      explanation: failure.explanation,
      kind: failure.kind,
    };
  }
  return report;
}

/** Complete commands from `start` to the end of a file (what a timestamp cut drops). */
async function countCommands(path: string, start: number, signal?: AbortSignal): Promise<number> {
  const scanner = new AofScanner({ startOffset: start, commandEvents: false });
  for await (const chunk of readFileChunks(path, { start, signal })) {
    scanner.push(chunk);
    if (scanner.done) break;
  }
  return scanner.commands;
}

/** Cutting `file` at its okUpTo (which is the timestamp cut when truncating to a timestamp). */
function cutPlan(file: AofFileReport, reason: AofRepairPlan['reason']): AofRepairPlan {
  return { file: file.file, path: file.path, size: file.size, truncateTo: file.okUpTo, cutBytes: file.diff, cutCommands: file.commandsCut, reason };
}

function jobsFor(input: string, target: AofInput, manifest: AofManifest | null): FileJob[] {
  if (target.layout === 'single') return [{ file: input, path: target.path, role: 'single', last: true }];
  const files = loadedFiles(manifest!);
  return files.map((e, i) => ({
    file: e.name,
    path: join(target.dir, e.name),
    role: e.type === 'base' ? 'base' : 'incr',
    last: i === files.length - 1,
  }));
}

/**
 * Checks an AOF the way redis-check-aof does, and says more: where each file stops being valid, why, and
 * what a repair would cut. `input` is a path (a file, a manifest, an AOF directory or a Redis data directory) or
 * a single-file AOF as a stream or bytes (any {@link AofSource}, named `options.file` in the report; a manifest
 * cannot come by stream, nor can `truncateToTimestamp` work on one: AofError `unsupported`). Never throws for
 * damaged data (that is in the report); throws FsioError when the input cannot be read at all, and rejects with `signal.reason` when `options.signal` is aborted (checked once
 * per chunk read; the file is closed).
 *
 * @example
 * ```ts
 * const report = await checkAof('/var/lib/redis/appendonlydir');
 * if (!report.ok) console.error(report.files.find((f) => f.status !== 'valid'), report.repair ?? report.unrepairable);
 * ```
 */
export async function checkAof(input: AofSource, options: CheckAofOptions = {}): Promise<AofCheckReport> {
  options.signal?.throwIfAborted();
  const name = typeof input === 'string' ? input : (options.file ?? STREAM_NAME);
  const target: AofInput = typeof input === 'string' ? await resolveAofInput(input) : { layout: 'single', path: name };
  const report: AofCheckReport = {
    ok: true,
    input: name,
    layout: target.layout,
    manifest: null,
    manifestError: null,
    files: [],
    repair: null,
    unrepairable: null,
    timestampNote: null,
    totals: { commands: 0, annotations: 0, bytes: 0, files: 0 },
  };
  let manifest: AofManifest | null = null;
  if (target.layout === 'multi-part') {
    try {
      manifest = await readManifest(target.manifestPath);
    } catch (err) {
      if (!(err instanceof AofError)) throw err;
      report.ok = false;
      report.manifest = { path: target.manifestPath, entries: [] };
      report.manifestError = err.message;
      report.unrepairable = 'the manifest is invalid; a repair cannot cut it (edit it by hand, keeping a copy)';
      return report;
    }
    report.manifest = {
      path: target.manifestPath,
      entries: [...(manifest.base ? [manifest.base] : []), ...manifest.history, ...manifest.incr].map((e) => ({ file: e.name, seq: e.seq, type: e.type })),
    };
  }
  const jobs = jobsFor(name, target, manifest);
  if (typeof input !== 'string') jobs[0].stream = byteSourceChunks(input);
  const progress = { done: 0, total: 0 };
  for (const job of jobs) {
    if (job.stream) continue; // a stream's size is known at its end
    try {
      progress.total += (await stat(job.path)).size;
    } catch {
      // reported as missing below
    }
  }
  let line = 1;
  for (const job of jobs) {
    const file = await checkOneFile(job, line, options, progress);
    report.files.push(file);
    line = file.okUpToLine;
    report.totals.commands += file.commands;
    report.totals.annotations += file.annotations;
    report.totals.bytes += file.size;
    report.totals.files++;
    const ts = options.truncateToTimestamp;
    if (file.status === 'valid' && file.timestampCut !== null && ts) {
      // redis-check-aof --truncate-to-timestamp stops at the first file with a later annotation
      if (file.timestampCut === 0) {
        report.ok = false;
        report.unrepairable = `AOF ${file.file} has nothing before timestamp ${ts}`;
      } else if (!job.last) {
        report.ok = false;
        report.unrepairable = `cannot truncate ${file.file} to timestamp ${ts} at offset ${file.timestampCut}: it is not the last file (delete the later files and their manifest lines by hand first)`;
      } else {
        report.repair = cutPlan(file, 'timestamp');
      }
      return report;
    }
    if (file.status === 'valid' || file.status === 'empty') continue;
    report.ok = false;
    if (file.status === 'missing') {
      report.unrepairable = `${file.file} is missing: restore it from a backup, or remove its line from the manifest by hand`;
    } else if (file.status === 'rdb-invalid') {
      report.unrepairable = `the RDB ${file.role === 'base' ? 'base file' : 'preamble'} ${file.file} is damaged; cutting the AOF cannot repair it`;
    } else if (file.status === 'timestamp-invalid') {
      report.unrepairable = 'a #TS: annotation is malformed; cannot truncate to a timestamp';
    } else if (!job.last) {
      report.unrepairable = `${file.file} is damaged but it is not the last file: cutting it would drop the later files' commands (redis-check-aof refuses too)`;
    } else {
      report.repair = cutPlan(file, 'damaged-tail');
    }
    return report;
  }
  if (options.truncateToTimestamp) {
    const last = report.files[report.files.length - 1];
    report.timestampNote = `nothing to truncate in ${last ? last.file : name} to timestamp ${options.truncateToTimestamp}`;
  }
  return report;
}

