import { stripAof, type StrippedCommand } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, Progress, confirm, createOutput, guardInPlaceEdit, jsonReplacer, usageError } from '../common/index.js';
import { isoSeconds, quoteArg } from './shared.js';

interface StripCliOptions {
  output?: string;
  dryRun?: boolean;
  backup: boolean;
  json?: boolean;
  force?: boolean;
  yes?: boolean;
  config?: string;
}

function preview(args: Uint8Array[]): string {
  const shown = args.slice(0, 4).map(quoteArg).join(' ');
  return args.length > 4 ? `${shown} ... (${args.length} args)` : shown;
}

export function registerStrip(program: Command): void {
  program
    .command('strip')
    .description('remove every occurrence of the named commands (e.g. FLUSHALL) from an AOF, nothing else')
    .argument('<command-and-path...>', 'one or more command names, then the AOF (file, directory or manifest)')
    .option('-o, --output <path>', 'write the result here (a file, or a new directory for a multi-part AOF) and leave the input untouched')
    .option('--dry-run', 'list what would be removed; change nothing')
    .option('--no-backup', 'when editing in place, do not keep the originals as .bak files')
    .option('-y, --yes', 'edit in place without asking (a terminal is asked first)')
    .option('--force', 'with -o: replace an existing output (kept as <out>.bak); in place: edit although a Redis server seems to use the files')
    .option('--config <redis.conf>', "the server's redis.conf: refuse while a server answers on its port (default: <data dir>/redis.conf when present)")
    .option('--json', 'machine-readable output (one JSON object per removed command, then a summary)')
    .action(async (words: string[], opts: StripCliOptions) => {
      if (words.length < 2) throw usageError('strip needs at least one command name and a path, e.g. aof-tool strip FLUSHALL appendonly.aof');
      const path = words[words.length - 1];
      const commands = words.slice(0, -1);
      const structural = commands.find((c) => ['multi', 'exec', 'select'].includes(c.toLowerCase()));
      if (structural) throw usageError(`${structural.toUpperCase()} cannot be stripped: the commands around it would change meaning`);
      const o = createOutput();
      const progress = new Progress('stripping', 0);
      const verb = opts.dryRun ? 'would remove' : 'removed';
      const onRemoved = (c: StrippedCommand, how = verb) => {
        if (opts.json) {
          o.out(JSON.stringify({ removed: { file: c.file, offset: c.offset, length: c.length, db: c.db, timestamp: c.timestamp, args: c.args, emptiedTransaction: c.emptiedTransaction } }, jsonReplacer));
        } else if (opts.dryRun || how !== verb || process.stdout.isTTY) {
          const when = c.timestamp !== null ? ` ${isoSeconds(c.timestamp)}` : '';
          o.out(`${how} ${c.file}:${c.offset} db=${c.db}${when} ${preview(c.args)}${c.emptiedTransaction ? ' (transaction left empty)' : ''}`);
        }
      };
      const inPlace = !opts.output && !opts.dryRun;
      // in place: no server may hold the files, no other run may be at work on them
      const lock = inPlace ? await guardInPlaceEdit(path, { force: opts.force, config: opts.config, purpose: 'aof-tool strip', note: (m) => o.err(`aof-tool: note: ${m}`) }) : null;
      let result;
      try {
        if (inPlace && !opts.yes && !opts.json && process.stdin.isTTY) {
          // a terminal sees the plan first, as with fix
          const plan = await stripAof(path, { commands, dryRun: true, onRemoved: (c) => onRemoved(c, 'would remove') });
          if (plan.removed === 0) {
            o.out('nothing to remove');
            process.exitCode = ExitCode.Ok;
            return;
          }
          if (!(await confirm(`Remove ${plan.removed} command(s) from ${path} in place${opts.backup ? ' (originals kept as .bak)' : ' WITHOUT a backup'}?`))) {
            o.err('not applied: re-run with --yes, or -o <out> to write a copy');
            process.exitCode = ExitCode.Problem;
            return;
          }
        }
        result = await stripAof(path, { commands, output: opts.output, dryRun: opts.dryRun, backup: opts.backup, force: opts.force, onRemoved, onProgress: (d, t) => progress.update(d, t) });
      } finally {
        progress.done();
        await lock?.release();
      }
      if (opts.json) {
        o.out(JSON.stringify({ summary: result }, jsonReplacer));
      } else {
        const changed = result.files.filter((f) => f.removed > 0);
        o.out(`${opts.dryRun ? 'dry run: would remove' : 'removed'} ${result.removed} command(s) in ${changed.length} file(s)`);
        for (const f of changed) {
          o.out(`  ${f.file}: ${f.removed} removed, ${f.bytesBefore} -> ${f.bytesAfter} bytes${f.writtenTo ? `, written to ${f.writtenTo}` : ''}${f.backup ? `, original kept as ${f.backup}` : ''}`);
        }
        if (result.output && !opts.dryRun) o.out(`output: ${result.output}`);
        if (result.replacedBackup) o.out(`previous ${result.output} kept as ${result.replacedBackup}`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
