import { stripAof, type StrippedCommand } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, Progress, createOutput, jsonReplacer, usageError } from '../common/index.js';
import { isoSeconds, quoteArg } from './shared.js';

interface StripCliOptions {
  output?: string;
  dryRun?: boolean;
  backup: boolean;
  json?: boolean;
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
      const onRemoved = (c: StrippedCommand) => {
        if (opts.json) {
          o.out(JSON.stringify({ removed: { file: c.file, offset: c.offset, length: c.length, db: c.db, timestamp: c.timestamp, args: c.args, emptiedTransaction: c.emptiedTransaction } }, jsonReplacer));
        } else if (opts.dryRun || process.stdout.isTTY) {
          const when = c.timestamp !== null ? ` ${isoSeconds(c.timestamp)}` : '';
          o.out(`${verb} ${c.file}:${c.offset} db=${c.db}${when} ${preview(c.args)}${c.emptiedTransaction ? ' (transaction left empty)' : ''}`);
        }
      };
      const result = await stripAof(path, { commands, output: opts.output, dryRun: opts.dryRun, backup: opts.backup, onRemoved, onProgress: (d, t) => progress.update(d, t) });
      progress.done();
      if (opts.json) {
        o.out(JSON.stringify({ summary: result }, jsonReplacer));
      } else {
        const changed = result.files.filter((f) => f.removed > 0);
        o.out(`${opts.dryRun ? 'dry run: would remove' : 'removed'} ${result.removed} command(s) in ${changed.length} file(s)`);
        for (const f of changed) {
          o.out(`  ${f.file}: ${f.removed} removed, ${f.bytesBefore} -> ${f.bytesAfter} bytes${f.writtenTo ? `, written to ${f.writtenTo}` : ''}${f.backup ? `, original kept as ${f.backup}` : ''}`);
        }
        if (result.output && !opts.dryRun) o.out(`output: ${result.output}`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
