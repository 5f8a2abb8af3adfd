import { stripAof, type StripOptions, type StrippedCommand } from '@redis-persist/aof';
import type { Command } from 'commander';
import { CliExit, ExitCode, Progress, aofSource, confirm, createOutput, guardInPlaceEdit, jsonReplacer, usageError, interruptSignal } from '../common/index.js';
import { isoSeconds, quoteArg } from './shared.js';

interface StripCliOptions {
  output?: string;
  dryRun?: boolean;
  backup: boolean;
  json?: boolean;
  force?: boolean;
  yes?: boolean;
  config?: string;
  at: string[];
  last?: boolean;
  since?: string;
  until?: string;
  key: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `--since`/`--until`: Unix seconds, or an ISO-8601 date (as to-rdb --until). */
function parseTime(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw usageError(`${option} wants Unix seconds or an ISO date, got ${JSON.stringify(text)}`);
  return Math.floor(ms / 1000);
}

function preview(args: Uint8Array[]): string {
  const shown = args.slice(0, 4).map(quoteArg).join(' ');
  return args.length > 4 ? `${shown} ... (${args.length} args)` : shown;
}

export function registerStrip(program: Command): void {
  program
    .command('strip')
    .description('remove the named commands (e.g. FLUSHALL) from an AOF, nothing else: every occurrence, or those --at/--last/--since/--until/--key select (all must hold)')
    .argument('<command-and-path...>', 'one or more command names, then the AOF (file, directory or manifest)')
    .option('-o, --output <path>', 'write the result here (a file, or a new directory for a multi-part AOF) and leave the input untouched')
    .option('--at <file:offset>', 'only the occurrence at this place, as cat and --dry-run print it, e.g. appendonly.aof.2.incr.aof:153 (repeatable)', collect, [])
    .option('--last', 'only the last occurrence (in load order across all files) of those the other options select')
    .option('--since <time>', 'only occurrences whose #TS: time is at or after this (Unix seconds or ISO date; needs aof-timestamp-enabled)')
    .option('--until <time>', 'only occurrences whose #TS: time is at or before this (Unix seconds or ISO date)')
    .option('--key <glob>', "only writes to keys matching this Redis glob (repeatable); DEL/UNLINK/MSET with some keys matching lose just those", collect, [])
    .option('--dry-run', 'list what would be removed; change nothing')
    .option('--no-backup', 'when editing in place, do not keep the originals as .bak files')
    .option('-y, --yes', 'edit in place without asking (a terminal is asked first)')
    .option('--force', 'with -o: replace an existing output (kept as <out>.bak); in place: edit although a Redis server seems to use the files')
    .option('--config <redis.conf>', "the server's redis.conf: refuse while a server answers on its port (default: <data dir>/redis.conf when present)")
    .option('--json', 'machine-readable output (one JSON object per removed command, then a summary)')
    .action(async (words: string[], opts: StripCliOptions) => {
      if (words.length < 2) throw usageError('strip needs at least one command name and a path, e.g. aof-tool strip FLUSHALL appendonly.aof');
      const commands = words.slice(0, -1);
      const structural = commands.find((c) => ['multi', 'exec', 'select'].includes(c.toLowerCase()));
      if (structural) throw usageError(`${structural.toUpperCase()} cannot be stripped: the commands around it would change meaning`);
      const o = createOutput();
      // a data directory means its AOF as the server's config names it (said on stderr)
      const { path } = await aofSource('aof-tool', words[words.length - 1], opts, o);
      const progress = new Progress('stripping', 0);
      const verb = opts.dryRun ? 'would remove' : 'removed';
      const since = parseTime('--since', opts.since);
      const until = parseTime('--until', opts.until);
      if (since !== undefined && until !== undefined && since > until) throw usageError(`--since ${opts.since} is later than --until ${opts.until}: nothing can be in between`);
      const selection: Pick<StripOptions, 'at' | 'last' | 'since' | 'until' | 'keys'> = {
        at: opts.at.length > 0 ? opts.at : undefined,
        last: opts.last,
        since,
        until,
        keys: opts.key.length > 0 ? opts.key : undefined,
      };
      const onRemoved = (c: StrippedCommand, how = verb) => {
        if (opts.json) {
          o.out(JSON.stringify({ removed: { file: c.file, offset: c.offset, length: c.length, db: c.db, timestamp: c.timestamp, args: c.args, emptiedTransaction: c.emptiedTransaction, rewrittenTo: c.rewrittenTo } }, jsonReplacer));
        } else if (opts.dryRun || how !== verb || process.stdout.isTTY) {
          const when = c.timestamp !== null ? ` ${isoSeconds(c.timestamp)}` : '';
          const verbHere = c.rewrittenTo ? (how === 'removed' ? 'rewrote' : 'would rewrite') : how;
          const rewrite = c.rewrittenTo ? ` -> ${preview(c.rewrittenTo)} (the keys matching --key dropped)` : '';
          o.out(`${verbHere} ${c.file}:${c.offset} db=${c.db}${when} ${preview(c.args)}${rewrite}${c.emptiedTransaction ? ' (transaction left empty)' : ''}`);
        }
      };
      const inPlace = !opts.output && !opts.dryRun;
      // in place: no server may hold the files, no other run may be at work on them
      const lock = inPlace ? await guardInPlaceEdit(path, { force: opts.force, config: opts.config, purpose: 'aof-tool strip', note: (m) => o.err(`aof-tool: note: ${m}`) }) : null;
      let result;
      try {
        if (inPlace && !opts.yes && !opts.json && process.stdin.isTTY) {
          // a terminal sees the plan first, as with fix
          const plan = await stripAof(path, { commands, ...selection, signal: interruptSignal(), dryRun: true, onRemoved: (c) => onRemoved(c, 'would remove') });
          if (plan.removed + plan.rewritten === 0) {
            o.out('nothing to remove');
            process.exitCode = ExitCode.Ok;
            return;
          }
          if (!(await confirm(`Remove ${plan.removed} command(s)${plan.rewritten ? ` and rewrite ${plan.rewritten}` : ''} from ${path} in place${opts.backup ? ' (originals kept as .bak)' : ' WITHOUT a backup'}?`))) {
            o.err('not applied: re-run with --yes, or -o <out> to write a copy');
            process.exitCode = ExitCode.Problem;
            return;
          }
        }
        result = await stripAof(path, { commands, ...selection, signal: interruptSignal(), output: opts.output, dryRun: opts.dryRun, backup: opts.backup, force: opts.force, onRemoved, onProgress: (p) => progress.update(p.bytes, p.totalBytes) });
        // A StripSelectionError goes to the common runner: usage (2) for a place or window that selects nothing,
        // data (1) for a command that cannot lose only some of its keys; it names the flags.
      } finally {
        progress.done();
        await lock?.release();
      }
      if (opts.json) {
        o.out(JSON.stringify({ summary: result }, jsonReplacer));
      } else {
        const changed = result.files.filter((f) => f.removed + f.rewritten > 0);
        const rewrote = result.rewritten > 0 ? ` and ${opts.dryRun ? 'rewrite' : 'rewrote'} ${result.rewritten}` : '';
        o.out(`${opts.dryRun ? 'dry run: would remove' : 'removed'} ${result.removed} command(s)${rewrote} in ${changed.length} file(s)`);
        for (const f of changed) {
          o.out(`  ${f.file}: ${f.removed} removed${f.rewritten ? `, ${f.rewritten} rewritten` : ''}, ${f.bytesBefore} -> ${f.bytesAfter} bytes${f.writtenTo ? `, written to ${f.writtenTo}` : ''}${f.backup ? `, original kept as ${f.backup}` : ''}`);
        }
        if (result.output && !opts.dryRun) o.out(`output: ${result.output}`);
        if (result.replacedBackup) o.out(`previous ${result.output} kept as ${result.replacedBackup}`);
      }
      if (result.untimed > 0) o.err(`aof-tool: note: ${result.untimed} occurrence(s) before the first #TS: annotation have no time: --since/--until left them alone`);
      process.exitCode = ExitCode.Ok;
    });
}
