import { applyFix, planFix, type AofFixPlan } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, Progress, aofSource, confirm, createOutput, formatBytes, guardInPlaceEdit, requireRegularInput, sourceJson, type Output } from '../common/index.js';
import { printCheckReport } from './check.js';
import { intOption } from './shared.js';

interface FixOptions {
  yes?: boolean;
  backup: boolean;
  salvage?: boolean;
  truncateToTimestamp?: string;
  json?: boolean;
  force?: boolean;
  config?: string;
}

function printPlan(o: Output, plan: AofFixPlan): void {
  o.out('');
  o.out(o.c.bold(`Plan for ${plan.path}:`));
  if (plan.kind === 'truncate') {
    o.out(`  cut at offset ${plan.newSize}: remove ${plan.size - plan.newSize} bytes (${plan.size} -> ${plan.newSize})`);
    if (plan.commandsDropped > 0) o.out(`  ${plan.commandsDropped} complete command(s) go with it (${plan.reason === 'timestamp' ? 'after the timestamp' : 'inside an unfinished MULTI'})`);
  } else {
    o.out(`  keep ${plan.keep.length} region(s), ${plan.newSize} of ${plan.size} bytes; skip:`);
    for (const s of plan.skipped) o.out(`    offsets ${s.start}-${s.end} (${s.end - s.start} bytes): ${s.reason}`);
    if (plan.commandsDropped > 0) o.out(`  ${plan.commandsDropped} complete command(s) of broken transactions are dropped too`);
  }
}

export function registerFix(program: Command): void {
  program
    .command('fix')
    .description('repair a damaged AOF: cut the damaged tail as redis-check-aof --fix does (a backup is kept)')
    .argument('<path>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory')
    .option('-y, --yes', 'apply the plan without asking')
    .option('--no-backup', 'do not keep the original (truncate in place, like redis-check-aof)')
    .option('--salvage', 'skip damaged regions and keep the well-formed commands after them, instead of cutting everything after the damage')
    .option('--truncate-to-timestamp <unix>', 'cut at the first #TS annotation later than this time (point-in-time recovery)')
    .option('--force', 'repair although a Redis server seems to use the files (it would keep writing to the old file)')
    .option('--config <redis.conf>', "the server's redis.conf: refuse while a server answers on its port (default: <data dir>/redis.conf when present)")
    .option('--json', 'print one JSON report (implies no prompt: use --yes to apply)')
    .action(async (input: string, opts: FixOptions) => {
      const o = createOutput();
      // a data directory: its AOF (said on stderr); a FIFO or a device cannot be repaired
      const { path, source } = await aofSource('aof-tool', input, opts, o);
      await requireRegularInput(path, 'a repair (it reads the AOF twice, then changes it in place)');
      const ts = opts.truncateToTimestamp !== undefined ? intOption('--truncate-to-timestamp', opts.truncateToTimestamp) : undefined;
      const progress = new Progress('checking', 0);
      const { report, plan } = await planFix(path, { salvage: opts.salvage, truncateToTimestamp: ts, onProgress: (p) => progress.update(p.bytes, p.totalBytes) });
      progress.done();
      if (!opts.json) printCheckReport(o, report);
      if (!plan) {
        if (opts.json) o.json({ report, plan: null, applied: false, result: null, source: sourceJson(source) });
        if (report.ok) {
          if (!opts.json) o.out(report.timestampNote ?? 'nothing to repair');
          process.exitCode = ExitCode.Ok;
        } else {
          if (!opts.json) o.err(`aof-tool: cannot repair: ${report.unrepairable ?? 'unknown damage'}`);
          process.exitCode = ExitCode.Problem;
        }
        return;
      }
      if (!opts.json) printPlan(o, plan);
      let go = Boolean(opts.yes);
      if (!go && !opts.json && process.stdin.isTTY) go = await confirm(`Apply this repair to ${plan.file}${opts.backup ? ' (a backup is kept)' : ' WITHOUT a backup'}?`);
      if (!go) {
        if (opts.json) o.json({ report, plan, applied: false, result: null, source: sourceJson(source) });
        else o.err('not applied: re-run with --yes to repair');
        process.exitCode = ExitCode.Problem;
        return;
      }
      const lock = await guardInPlaceEdit(path, { force: opts.force, config: opts.config, purpose: 'aof-tool fix', note: (m) => o.err(`aof-tool: note: ${m}`) });
      let result;
      try {
        result = await applyFix(plan, { backup: opts.backup });
      } finally {
        await lock.release();
      }
      if (opts.json) o.json({ report, plan, applied: true, result, source: sourceJson(source) });
      else {
        o.out(o.c.green(`repaired ${result.path}: ${formatBytes(result.before)} -> ${formatBytes(result.after)} (${result.before - result.after} bytes removed)`));
        if (result.backup) o.out(`original kept as ${result.backup}`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
