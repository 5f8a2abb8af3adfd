// `aof-tool strip`: remove every occurrence of the named commands (a stray FLUSHALL...) and nothing else. The
// surviving bytes are copied verbatim; inside MULTI/EXEC only the command goes, and a transaction left empty
// goes entirely. Only files that change are rewritten (temp + fsync + rename, original kept as a backup).
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AtomicDir, AtomicFile, checkOutput, readFileChunks, requireRegularFile, writeFileAtomic } from '@redis-persist/fsio';
import { checkAof, type AofCheckReport } from './check.js';
import { AofError } from './errors.js';
import { isRdbHead, readHead, readManifest, resolveAofInput } from './input.js';
import { duplicateManifestEntry, formatManifest, loadedFiles } from './manifest.js';
import { copyRanges, rewriteWithRanges, type ByteRange } from './ranges.js';
import { AofScanner, type AofScanEvent } from './scanner.js';
import { checkRdbPart } from './rdb-part.js';
import { parseCanonicalSafeInt } from '@redis-persist/bytes';

export interface StrippedCommand {
  file: string;
  offset: number;
  length: number;
  db: number;
  timestamp: number | null;
  args: Uint8Array[];
  /** A MULTI or EXEC removed because its transaction became empty. */
  emptiedTransaction: boolean;
}

export interface StripOptions {
  /** Command names to remove (case-insensitive). */
  commands: string[];
  /** Write the result here instead of editing in place (a file for a single AOF, a new directory for a multi-part one). */
  output?: string;
  /** Report what would be removed; change nothing. */
  dryRun?: boolean;
  /** Keep the originals as `<name>.bak` when editing in place (default true). */
  backup?: boolean;
  /** Replace an existing `output` (kept as `<output>.bak` first). */
  force?: boolean;
  onRemoved?: (cmd: StrippedCommand) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface StripFileResult {
  file: string;
  path: string;
  removed: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Where the file was written (in place, or in the output). */
  writtenTo: string | null;
  backup: string | null;
}

export interface StripResult {
  removed: number;
  files: StripFileResult[];
  dryRun: boolean;
  output: string | null;
  /** Where an output that `force` replaced now lives. */
  replacedBackup: string | null;
}

const FORBIDDEN = new Set(['multi', 'exec', 'select']);

interface FilePlan {
  file: string;
  path: string;
  size: number;
  role: 'single' | 'base' | 'incr';
  remove: ByteRange[];
  removed: number;
}

function lowerName(name: Uint8Array): string {
  return Buffer.from(name).toString('latin1').toLowerCase();
}

/** Finds the byte ranges to drop in one file. */
async function planFile(job: { file: string; path: string; role: 'single' | 'base' | 'incr' }, names: Set<string>, options: StripOptions, timestampIn: { ts: number | null }, progress: { done: number; total: number }): Promise<FilePlan> {
  const size = (await stat(job.path)).size;
  const plan: FilePlan = { ...job, size, remove: [], removed: 0 };
  if (size === 0) return plan;
  let start = 0;
  if (job.role !== 'incr' && isRdbHead(await readHead(job.path, 8), size)) start = (await checkRdbPart(job.path, job.file)).endOffset;
  // arguments are needed for SELECT (the db) and for the commands removed (the report); the rest is only copied
  const scanner = new AofScanner({ collectArgs: (n) => { const l = lowerName(n); return l === 'select' || names.has(l); }, startOffset: start, path: job.path });
  const events: AofScanEvent[] = [];
  let db = 0;
  // an open transaction: its MULTI, the commands removed inside it, and whether anything inside survives
  let tx: { multi: ByteRange; multiTs: number | null; multiDb: number; multiArgs: Uint8Array[]; kept: number } | null = null;
  const report = (args: Uint8Array[], range: ByteRange, ts: number | null, atDb: number, emptied: boolean) => {
    plan.remove.push(range);
    plan.removed++;
    options.onRemoved?.({ file: job.file, offset: range[0], length: range[1] - range[0], db: atDb, timestamp: ts, args, emptiedTransaction: emptied });
  };
  const handle = (ev: AofScanEvent) => {
    if (ev.type === 'annotation') {
      const m = /^#TS:(\d+)/.exec(Buffer.from(ev.text.subarray(0, 32)).toString('latin1'));
      if (m) timestampIn.ts = Number(m[1]);
      return;
    }
    const args = ev.args ?? (ev.name.length > 0 ? [ev.name] : []);
    const name = lowerName(ev.name);
    if (name === 'select' && args.length >= 2) db = parseCanonicalSafeInt(args[1]) ?? db;
    if (name === 'multi') {
      tx = { multi: [ev.offset, ev.end], multiTs: timestampIn.ts, multiDb: db, multiArgs: args, kept: 0 };
      return;
    }
    if (name === 'exec' && tx) {
      if (tx.kept === 0) {
        report(tx.multiArgs, tx.multi, tx.multiTs, tx.multiDb, true);
        report(args, [ev.offset, ev.end], timestampIn.ts, db, true);
      }
      tx = null;
      return;
    }
    if (names.has(name)) report(args, [ev.offset, ev.end], timestampIn.ts, db, false);
    else if (tx) tx.kept++;
  };
  for await (const chunk of readFileChunks(job.path, { start })) {
    events.length = 0;
    scanner.push(chunk, events);
    for (const ev of events) handle(ev);
    progress.done += chunk.length;
    options.onProgress?.(progress.done, progress.total);
    if (scanner.done) break;
  }
  events.length = 0;
  if (!scanner.done) scanner.finish(events);
  for (const ev of events) handle(ev);
  if (scanner.failure) throw new AofError(scanner.failure.kind, `${scanner.failure.explanation} (run 'aof-tool fix' first)`, job.file, scanner.failure.errorOffset);
  plan.remove.sort((a, b) => a[0] - b[0]);
  return plan;
}

function keptRanges(size: number, remove: ByteRange[]): ByteRange[] {
  const keep: ByteRange[] = [];
  let cur = 0;
  for (const [a, b] of remove) {
    if (a > cur) keep.push([cur, a]);
    cur = Math.max(cur, b);
  }
  if (cur < size) keep.push([cur, size]);
  return keep;
}

function describeDamage(report: AofCheckReport): string {
  if (report.manifestError) return report.manifestError;
  const bad = report.files.find((f) => f.error);
  if (!bad?.error) return 'the AOF is damaged';
  return `${bad.file}: offset ${bad.error.offset}: ${bad.error.explanation}`;
}

/**
 * Removes every occurrence of the named commands. The AOF must be valid (repair it first); MULTI, EXEC and
 * SELECT cannot be stripped (the result would change meaning).
 */
export async function stripAof(input: string, options: StripOptions): Promise<StripResult> {
  const names = new Set(options.commands.map((c) => c.toLowerCase()));
  for (const n of names) {
    if (FORBIDDEN.has(n)) throw new AofError('unsupported', `stripping ${n.toUpperCase()} would change what the other commands mean; it is not allowed`);
  }
  if (names.size === 0) throw new AofError('unsupported', 'no command to strip was given');
  // an output is checked before any work: never the input, never an existing file without force
  if (options.output !== undefined && !options.dryRun) await checkOutput(options.output, { force: options.force, inputs: [input] }, 'dir');
  const check = await checkAof(input);
  if (!check.ok) throw new AofError('unsupported', `the AOF is damaged, refusing to edit it: ${describeDamage(check)}. Run 'aof-tool fix' first`, input);
  const target = await resolveAofInput(input);
  const jobs: { file: string; path: string; role: 'single' | 'base' | 'incr' }[] = [];
  let manifest = null;
  if (target.layout === 'single') jobs.push({ file: input, path: target.path, role: 'single' });
  else {
    manifest = await readManifest(target.manifestPath);
    const twice = duplicateManifestEntry(manifest);
    if (twice !== null) throw new AofError('manifest', `the manifest lists ${twice} twice; refusing to edit (fix the manifest first)`, target.manifestPath);
    for (const e of loadedFiles(manifest)) jobs.push({ file: e.name, path: join(target.dir, e.name), role: e.type === 'base' ? 'base' : 'incr' });
  }
  const progress = { done: 0, total: check.totals.bytes };
  const ts = { ts: null as number | null };
  const plans: FilePlan[] = [];
  for (const job of jobs) {
    await requireRegularFile(job.path, 'strip');
    plans.push(await planFile(job, names, options, ts, progress));
  }
  const result: StripResult = {
    removed: plans.reduce((n, p) => n + p.removed, 0),
    files: [],
    dryRun: Boolean(options.dryRun),
    output: options.output ?? null,
    replacedBackup: null,
  };
  const fileResult = (p: FilePlan, writtenTo: string | null, backup: string | null): StripFileResult => ({
    file: p.file,
    path: p.path,
    removed: p.removed,
    bytesBefore: p.size,
    bytesAfter: p.size - p.remove.reduce((n, [a, b]) => n + (b - a), 0),
    writtenTo,
    backup,
  });
  if (options.dryRun) {
    result.files = plans.map((p) => fileResult(p, null, null));
    return result;
  }
  if (options.output === undefined) {
    for (const p of plans) {
      if (p.removed === 0) {
        result.files.push(fileResult(p, null, null));
        continue;
      }
      const res = await rewriteWithRanges(p.path, keptRanges(p.size, p.remove), options.backup ?? true);
      result.files.push(fileResult(p, p.path, res.backup));
    }
    return result;
  }
  const policy = { force: options.force, inputs: [input, ...jobs.map((j) => j.path)] };
  if (target.layout === 'single') {
    const file = await AtomicFile.create(options.output, policy);
    try {
      await copyRanges(target.path, keptRanges(plans[0].size, plans[0].remove), file);
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
    result.files.push(fileResult(plans[0], options.output, null));
    result.replacedBackup = file.replacedBackup;
    return result;
  }
  // multi-part: a new directory holding the manifest (history entries dropped: Redis never loads them) and every
  // loaded file, built under a temp name and renamed into place whole (a killed run leaves nothing to trip on)
  const out = await AtomicDir.create(options.output, policy);
  try {
    for (const p of plans) {
      const dest = out.path(basename(p.path));
      const file = await AtomicFile.create(dest, { lock: false });
      try {
        await copyRanges(p.path, keptRanges(p.size, p.remove), file);
        await file.commit();
      } catch (err) {
        await file.abort();
        throw err;
      }
      result.files.push(fileResult(p, join(options.output, basename(p.path)), null));
    }
    await writeFileAtomic(out.path(basename(target.manifestPath)), formatManifest({ ...manifest!, history: [] }), { lock: false });
    await out.commit();
  } catch (err) {
    await out.abort();
    throw err;
  }
  result.replacedBackup = out.replacedBackup;
  return result;
}
