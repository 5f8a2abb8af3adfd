import { checkAof, type AofCheckReport, type AofFileReport } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, Progress, createOutput, formatBytes, type Output } from '../common/index.js';

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

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('verify an AOF (file, manifest or directory) as redis-check-aof does; exit 0 valid, 1 damaged')
    .argument('<path>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory')
    .option('--json', 'print one JSON report')
    .action(async (path: string, opts: { json?: boolean }) => {
      const o = createOutput();
      const progress = new Progress('checking', 0);
      const report = await checkAof(path, { onProgress: (done, total) => progress.update(done, total) });
      progress.done();
      if (opts.json) o.json(report);
      else printCheckReport(o, report);
      process.exitCode = report.ok ? ExitCode.Ok : ExitCode.Problem;
    });
}
