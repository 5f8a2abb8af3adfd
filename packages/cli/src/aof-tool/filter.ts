import { filterAof, type AofPartialCommand } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, Progress, addKeyFilterOptions, aofSource, createOutput, formatBytes, keyFilterFrom, usageError, type KeyFilterCliOptions, interruptSignal } from '../common/index.js';
import { quoteArg } from './shared.js';

interface FilterCliOptions extends KeyFilterCliOptions {
  output?: string;
  partial?: string;
  force?: boolean;
  json?: boolean;
  config?: string;
}

export function registerFilter(program: Command): void {
  addKeyFilterOptions(
    program
      .command('filter')
      .description(
        'write a new AOF holding only the commands of the keys a filter keeps (DEL/UNLINK/MSET cut down to them, MULTI/EXEC kept well-formed, SELECT where the db changes, #TS: annotations kept); the input is left untouched',
      )
      .argument('<path>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory (an AOF with an RDB part is refused)')
      .requiredOption('-o, --output <file>', 'the filtered AOF, one RESP file (temp file, fsync, rename)'),
    { values: false },
  )
    .option('--partial <decision>', 'a command naming kept and dropped keys that cannot be cut down (RENAME, SMOVE, SUNIONSTORE...): error (default: nothing written), keep (whole) or drop; each is reported')
    .option('--force', 'replace an existing output (the old one is kept as <file>.bak)')
    .option('--config <redis.conf>', "for a data directory: the server's redis.conf naming its AOF (default: <dir>/redis.conf when present)")
    .option('--json', 'print one JSON report')
    .action(async (given: string, opts: FilterCliOptions) => {
      const o = createOutput();
      const partial = opts.partial ?? 'error';
      if (partial !== 'error' && partial !== 'keep' && partial !== 'drop') throw usageError(`--partial must be error, keep or drop, got ${JSON.stringify(opts.partial)}`);
      const filter = keyFilterFrom(opts);
      if (filter === undefined) throw usageError('filter needs a filter: --key, --key-regex, --exclude-key, --exclude-key-regex or --db');
      const { path } = await aofSource('aof-tool', given, opts, o);
      const reported: AofPartialCommand[] = [];
      const progress = new Progress('filtering', 0);
      let r;
      try {
        r = await filterAof(path, opts.output!, {
          signal: interruptSignal(),
          filter,
          partial,
          force: opts.force,
          onPartial: (p) => {
            reported.push(p);
            if (!opts.json) o.err(o.e.yellow(`${p.decision === 'kept' ? 'kept whole' : 'dropped'}: ${p.command.file}:${p.command.offset} ${p.command.args.slice(0, 4).map(quoteArg).join(' ')} (names kept and dropped keys)`));
          },
          onProgress: (p) => progress.update(p.commands),
        });
      } finally {
        progress.done();
      }
      if (opts.json) {
        o.json({ input: given, ...r, partial: reported.map((p) => ({ file: p.command.file, offset: p.command.offset, command: Buffer.from(p.command.args[0]).toString('latin1'), decision: p.decision })) });
      } else {
        o.out(
          `${o.c.green('wrote')} ${r.output} (${formatBytes(r.bytes)}): ${r.kept} of ${r.commandsRead} commands kept` +
            (r.cut ? `, ${r.cut} cut down to the kept keys` : '') +
            (r.partialKept ? `, ${r.partialKept} mixed kept whole` : '') +
            (r.partialDropped ? `, ${r.partialDropped} mixed dropped` : '') +
            (r.timestamps ? `, ${r.timestamps} #TS: annotations` : ''),
        );
        if (r.replacedBackup) o.out(`the old ${r.output} is kept as ${r.replacedBackup}`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
