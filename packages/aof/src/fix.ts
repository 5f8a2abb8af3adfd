// `aof-tool fix`: the repair of redis-check-aof --fix (cut the last file at ok_up_to, byte-identical result),
// `--truncate-to-timestamp`, and `--salvage`, which skips a damaged region and keeps the well-formed commands
// after it instead of cutting everything that follows.
import { truncateFile } from '@redis-persist/fsio';
import { checkAof, type AofCheckReport, type AofFileReport } from './check.js';
import { RandomReader, rewriteWithRanges, type ByteRange } from './ranges.js';
import { AofScanner } from './scanner.js';

/** A damaged byte range a salvage repair leaves out, and why. */
export interface SkippedRegion {
  start: number;
  end: number;
  /** Why the scan stopped at `start`. */
  reason: string;
}

/** A planned repair: the file and the byte ranges kept (`truncate`: a prefix; `salvage`: around damage). */
export interface AofFixPlan {
  kind: 'truncate' | 'salvage';
  file: string;
  path: string;
  size: number;
  /** The bytes kept, in order. For `truncate`, one range [0, truncateTo). */
  keep: ByteRange[];
  /** The bytes dropped. */
  skipped: SkippedRegion[];
  /** Size after the repair. */
  newSize: number;
  /** Complete commands dropped (inside unfinished transactions or after the cut), where known. */
  commandsDropped: number;
  reason: 'damaged-tail' | 'timestamp' | 'salvage';
}

/** Options of {@link planFix}: cut at a timestamp, salvage past damage, progress. */
export interface PlanFixOptions {
  truncateToTimestamp?: number;
  salvage?: boolean;
  /** Called with bytes processed so far and the total (progress display). */
  onProgress?: (progress: { bytes: number; totalBytes: number }) => void;
  /** Stops the check (as `checkAof`'s): the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What {@link planFix} returns: the check report and the plan (null when there is nothing a repair can do). */
export interface FixPlanResult {
  report: AofCheckReport;
  /** null when there is nothing to do, or nothing a repair can do (see report.unrepairable). */
  plan: AofFixPlan | null;
}

/** Checks the AOF and works out the repair, without changing anything. */
export async function planFix(input: string, options: PlanFixOptions = {}): Promise<FixPlanResult> {
  const report = await checkAof(input, { truncateToTimestamp: options.truncateToTimestamp, onProgress: options.onProgress, signal: options.signal });
  if (options.salvage && !options.truncateToTimestamp) {
    options.signal?.throwIfAborted();
    const damaged = report.files.find((f) => f.status === 'truncated' || f.status === 'corrupt');
    if (damaged) return { report, plan: await planSalvage(damaged) };
  }
  const r = report.repair;
  if (!r) return { report, plan: null };
  const why = report.files.find((f) => f.path === r.path)?.error?.explanation ?? 'cut requested';
  return {
    report,
    plan: {
      kind: 'truncate',
      file: r.file,
      path: r.path,
      size: r.size,
      keep: [[0, r.truncateTo]],
      skipped: [{ start: r.truncateTo, end: r.size, reason: r.reason === 'timestamp' ? 'after the timestamp' : why }],
      newSize: r.truncateTo,
      commandsDropped: r.cutCommands,
      reason: r.reason,
    },
  };
}

/** What {@link applyFix} did: the file, its backup and its size before and after. */
export interface FixResult {
  file: string;
  path: string;
  backup: string | null;
  before: number;
  after: number;
}

/**
 * Carries out a plan. With `backup` (the default) the original is kept under `<file>.bak` (never
 * overwriting an older backup) and the repaired file is written to a temp file, fsynced and renamed; with
 * `backup: false` a plain truncation is done in place, as redis-check-aof does.
 */
export async function applyFix(plan: AofFixPlan, options: { backup?: boolean } = {}): Promise<FixResult> {
  const backup = options.backup ?? true;
  if (!backup && plan.kind === 'truncate') {
    await truncateFile(plan.path, plan.newSize);
    return { file: plan.file, path: plan.path, backup: null, before: plan.size, after: plan.newSize };
  }
  const res = await rewriteWithRanges(plan.path, plan.keep, backup);
  return { file: plan.file, path: plan.path, backup: res.backup, before: plan.size, after: res.bytesWritten };
}

const SCAN_WINDOW = 1 << 20;
const VALIDATE_LIMIT = 64 << 20;

/** Scans `reader` from `start` until the scan stops or the file ends. */
async function scanFrom(reader: RandomReader, start: number, limit = Infinity): Promise<AofScanner> {
  const scanner = new AofScanner({ startOffset: start, collectArgs: false, commandEvents: false });
  let pos = start;
  while (!scanner.done && pos < reader.size && pos - start < limit) {
    const chunk = await reader.read(pos, SCAN_WINDOW);
    if (chunk.length === 0) break;
    scanner.push(chunk);
    pos += chunk.length;
  }
  if (!scanner.done && pos >= reader.size) scanner.end();
  return scanner;
}

/**
 * The first offset after `from` where well-formed commands start again: a '*' from which at least two complete
 * commands parse (or one, then a clean end of file).
 */
async function findResync(reader: RandomReader, from: number): Promise<number | null> {
  let pos = from;
  while (pos < reader.size) {
    const window = await reader.read(pos, SCAN_WINDOW);
    if (window.length === 0) return null;
    for (let i = 0; i < window.length; i++) {
      if (window[i] !== 0x2a) continue;
      const at = pos + i;
      const probe = await scanFrom(reader, at, VALIDATE_LIMIT);
      const clean = probe.done && probe.failure === null && probe.okUpTo === reader.size;
      if ((probe.commands >= 2 || (probe.commands >= 1 && clean))) return at;
    }
    pos += window.length;
  }
  return null;
}

/** Keeps every well-formed command of a damaged RESP file, dropping only the damaged regions. */
async function planSalvage(file: AofFileReport): Promise<AofFixPlan> {
  const reader = await RandomReader.open(file.path);
  try {
    const keep: ByteRange[] = [];
    const skipped: SkippedRegion[] = [];
    if (file.respStart > 0) keep.push([0, file.respStart]);
    let cur = file.respStart;
    let dropped = 0;
    for (;;) {
      const scan = await scanFrom(reader, cur);
      if (scan.okUpTo > cur) keep.push([cur, scan.okUpTo]);
      if (!scan.failure) break;
      dropped += scan.commands - scan.commandsAtOk;
      const reason = scan.failure.explanation;
      const inMulti = scan.multi > 0;
      let next = await findResync(reader, Math.max(scan.okUpTo + 1, inMulti ? scan.failure.errorOffset + 1 : 0));
      if (next !== null && inMulti) {
        // The damage hit an open transaction: its surviving commands up to the EXEC are not applied on their own.
        const tail = await scanFrom(reader, next);
        if (tail.failure?.message?.startsWith('Unexpected EXEC')) {
          dropped += tail.commandsAtOk;
          next = await findResync(reader, tail.okUpTo + 1);
        }
      }
      if (next === null) {
        skipped.push({ start: scan.okUpTo, end: reader.size, reason });
        break;
      }
      skipped.push({ start: scan.okUpTo, end: next, reason });
      cur = next;
    }
    const newSize = keep.reduce((n, [a, b]) => n + (b - a), 0);
    return { kind: 'salvage', file: file.file, path: file.path, size: file.size, keep, skipped, newSize, commandsDropped: dropped, reason: 'salvage' };
  } finally {
    await reader.close();
  }
}

