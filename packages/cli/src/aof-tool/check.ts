import { readdir, stat } from 'node:fs/promises';
import { checkAof, type AofCheckReport, type AofFileReport } from '@redis-persist/aof';
import { describeIoError } from '@redis-persist/fsio';
import type { Command } from 'commander';
// the modules themselves, not ../common/index.js (which loads the converters and live for every command)
import { formatBytes } from '@redis-persist/bytes';
import { createOutput, type Output } from '../common/output.js';
import { Progress } from '../common/progress.js';
import { interruptSignal } from '../common/run.js';
import {
  captureOutput,
  expandInputs,
  listDirectory,
  runBatch,
  runSingle,
  shellWord,
  type BatchOptions,
  type BatchTool,
  type Checked,
  type DirectoryPlan,
} from '../common/batch.js';

function describeFile(o: Output, f: AofFileReport): string[] {
  const role = f.role === 'single' ? 'AOF ' : f.role === 'base' ? 'BASE' : 'INCR';
  const what =
    f.format === 'empty'
      ? 'empty'
      : `${formatBytes(f.size)}, ${f.rdb ? `RDB v${f.rdb.version ?? '?'} with ${f.rdb.keys} keys${f.rdb.ok ? ` + ${f.commands} commands` : ''}` : `${f.commands} commands`}` +
        (f.annotations ? `, ${f.annotations} annotations` : '');
  const verdict: Record<string, string> = {
    valid: o.c.green('valid'),
    empty: o.c.green('empty'),
    truncated: o.c.red('TRUNCATED'),
    corrupt: o.c.red('CORRUPT'),
    'rdb-invalid': o.c.red('RDB DAMAGED'),
    missing: o.c.red('MISSING'),
    'timestamp-invalid': o.c.red('BAD TIMESTAMP'),
  };
  const lines = [`  ${role} ${f.file}  (${what})  ${verdict[f.status]}`];
  if (f.error) {
    lines.push(`       at offset ${f.error.offset}: ${f.error.explanation}`);
    if (f.error.message) lines.push(`       redis-check-aof: ${f.error.message}`);
    if (f.status === 'truncated' || f.status === 'corrupt') {
      lines.push(`       last valid record ends at offset ${f.okUpTo} (line ${f.okUpToLine}); ${f.diff} bytes after it${f.commandsCut ? `, including ${f.commandsCut} complete commands of an unfinished MULTI` : ''}`);
    }
  }
  for (const w of f.warnings) lines.push(`       ${o.c.yellow('warning')}: ${w}`);
  return lines;
}

export function printCheckReport(o: Output, report: AofCheckReport): void {
  const kind = report.layout === 'multi-part' ? `multi-part AOF (manifest ${report.manifest?.path})` : 'single-file AOF';
  o.out(`${report.input}: ${kind}`);
  if (report.manifestError) o.out(`  ${o.c.red('MANIFEST INVALID')}: ${report.manifestError}`);
  for (const f of report.files) for (const l of describeFile(o, f)) o.out(l);
  if (report.ok) {
    o.out(o.c.green(`valid: ${report.totals.commands} commands in ${report.totals.files} file(s), ${formatBytes(report.totals.bytes)}`));
    return;
  }
  if (report.repair) {
    const r = report.repair;
    o.out(o.c.red(`damaged: repairable by cutting ${r.cutBytes} bytes from ${r.file} (keep ${r.truncateTo} of ${r.size} bytes): aof-tool fix ${report.input}`));
  } else {
    o.out(o.c.red(`damaged: ${report.unrepairable ?? 'not repairable by cutting'}`));
  }
}

/**
 * When a fix would cut a damaged region in the middle of the file and more than a tenth of it with it: the line
 * that suggests `aof-tool fix --salvage` (which skips only the damaged region), else null.
 */
export function salvageHint(report: AofCheckReport): string | null {
  const r = report.repair;
  if (!r || r.reason !== 'damaged-tail' || r.size === 0 || r.cutBytes * 10 <= r.size) return null;
  const f = report.files.find((x) => x.path === r.path);
  if (!f || f.status !== 'corrupt' || !f.error) return null;
  const pct = Math.round((100 * r.cutBytes) / r.size);
  return `hint: the damage at offset ${f.error.offset} is in the middle of ${r.file}, and cutting there drops ${r.cutBytes} bytes (${pct}% of the file); to keep the commands after the damaged region instead: aof-tool fix --salvage ${shellWord(report.input)}`;
}

const EMPTY_NOTE = 'the file is empty (0 bytes): Redis would start from an empty dataset; as a backup it holds nothing';

/** A manifest, an appendonlydir/ or an appendonly.aof: an AOF (directory) or a Redis data directory, checked as one input. */
export function isAofDirectory(names: readonly string[]): boolean {
  return names.some((n) => n.endsWith('.manifest') && !n.startsWith('temp-')) || names.includes('appendonlydir') || names.includes('appendonly.aof');
}

/**
 * What `aof-tool check <dir>` checks: the directory itself when it is an AOF or a Redis data directory (as
 * always); else the `*.aof` files in it and its subdirectories that are AOF or data directories (one level).
 */
export async function planAofDirectory(dir: string): Promise<DirectoryPlan> {
  const names = await readdir(dir);
  if (isAofDirectory(names)) return { kind: 'self' };
  const paths: string[] = [];
  const unreadable: { path: string; message: string }[] = [];
  for (const e of await listDirectory(dir)) {
    if (!e.dir) {
      if (e.name.endsWith('.aof') && !e.name.startsWith('temp-')) paths.push(e.path);
      continue;
    }
    try {
      if (isAofDirectory(await readdir(e.path))) paths.push(e.path);
    } catch (err) {
      unreadable.push({ path: e.path, message: `cannot read the directory: ${describeIoError(err)}` });
    }
  }
  return {
    kind: 'list',
    paths,
    unreadable,
    nothing: 'nothing to check: not an AOF directory (no manifest, appendonlydir/ or appendonly.aof) and no *.aof file or AOF directory in it',
  };
}

/** One AOF input checked, for the batch report. A 0-byte file named as an input is `empty`, which is damage. */
export function aofChecked(report: AofCheckReport, emptyFile: boolean): Checked<AofCheckReport> {
  if (emptyFile && report.ok && report.layout === 'single' && report.files[0]?.format === 'empty') {
    report.ok = false;
    report.unrepairable = EMPTY_NOTE;
  }
  const { o, lines } = captureOutput();
  printCheckReport(o, report);
  if (report.ok) {
    const t = report.totals;
    const note = `${report.layout === 'multi-part' ? 'multi-part, ' : ''}${t.commands} commands in ${t.files} file(s), ${formatBytes(t.bytes)}`;
    return { ok: true, verdict: 'valid', error: null, report, note, details: lines };
  }
  const base = { ok: false, report, note: '', details: lines } as const;
  if (report.unrepairable === EMPTY_NOTE) return { ...base, verdict: 'empty', error: { message: 'the file is empty (0 bytes)', offset: 0 } };
  if (report.manifestError) return { ...base, verdict: 'manifest-invalid', error: { message: report.manifestError } };
  const f = report.files.find((x) => x.status !== 'valid' && x.status !== 'empty');
  if (f?.error) {
    const error: Checked<AofCheckReport>['error'] = { message: f.error.explanation };
    if (f.status !== 'missing') error.offset = f.error.offset;
    if (report.layout === 'multi-part') error.file = f.file;
    return { ...base, verdict: f.status, error };
  }
  return { ...base, verdict: f?.status ?? 'damaged', error: { message: report.unrepairable ?? 'damaged' } };
}

export const aofCheckTool: BatchTool<AofCheckReport> = {
  name: 'aof-tool check',
  planDirectory: planAofDirectory,
  async check(path) {
    const st = await stat(path).catch(() => null); // checkAof reports an unreadable input itself
    const progress = new Progress(`checking ${path}`, 0);
    try {
      const report = await checkAof(path, { signal: interruptSignal(), onProgress: (p) => progress.update(p.bytes, p.totalBytes) });
      return aofChecked(report, (st?.isFile() ?? false) && st?.size === 0);
    } finally {
      progress.done();
    }
  },
};

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('verify AOFs (files, manifests or directories) as redis-check-aof does; exit 0 all valid, 1 damaged, 3 unreadable')
    .argument(
      '<paths...>',
      'appendonly.aof, an appendonlydir/, its manifest, a Redis data directory, a directory of backups (its *.aof files and AOF directories) or a quoted glob',
    )
    .option('--json', 'one JSON document: the report of the AOF for one path, else { ok, summary, results }')
    .option('-q, --quiet', 'print only the problems (nothing when every AOF is valid)')
    .option('--junit <file>', 'also write a JUnit XML report to <file> (replaced on every run; the previous one kept as <file>.bak)')
    .action(async (paths: string[], opts: BatchOptions) => {
      const o = createOutput();
      const { inputs, batch } = await expandInputs(paths, planAofDirectory);
      if (batch) await runBatch(o, aofCheckTool, inputs, opts);
      else
        await runSingle(o, aofCheckTool, paths[0], opts, (c) => {
          printCheckReport(o, c.report);
          const hint = salvageHint(c.report);
          if (hint) o.out(hint);
        });
    });
}
