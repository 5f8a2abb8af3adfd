import { extname } from 'node:path';
import { ReplayError } from '@redis-persist/replay';
import { rdbToAof } from '@redis-persist/converters';
import type { Command } from 'commander';
import { CliExit, ExitCode, addKeyFilterOptions, keyFilterFrom, type KeyFilterCliOptions, createOutput, dataDirSource, describeError, otherFileHint, sourceJson, usageError, interruptSignal } from '../common/index.js';
import { damageMessage, type Damage } from './damage.js';
import { keepHeapSmall } from './memory.js';

interface ToAofOpts {
  layout?: string;
  appendFilename: string;
  json?: boolean;
  force?: boolean;
  config?: string;
  from?: string;
}

export function registerToAof(program: Command): void {
  addKeyFilterOptions(
    program
      .command('to-aof')
    .description('convert an RDB file to an AOF in the form BGREWRITEAOF writes (a single file, or a Redis 7 multi-part directory)')
    .argument('<in.rdb>', 'the RDB file (keys already expired are left out, as a loading master drops them), or a data directory (its dbfilename, when that is what Redis loads)')
    .argument('<out>', 'a file (appendonly.aof) or a new directory (appendonlydir) to create')
    .option('--layout <kind>', 'file or dir (default: file when <out> ends in .aof, else dir)')
    .option('--append-filename <name>', 'appendfilename the directory files are named after', 'appendonly.aof')
    .option('--force', 'replace an existing output (the old file or directory is kept as <out>.bak)')
    .option('--config <redis.conf>', "when <in.rdb> is a data directory: the server's redis.conf, whose appendonly decides what Redis loads (default: <in>/redis.conf when present, else appendonly no)")
    .option('--from <rdb>', "when <in.rdb> is a data directory: convert its RDB file even when Redis would load the AOF ('rdb')")
    .option('--json', 'print one JSON report'),
  ).action(async (given: string, output: string, opts: ToAofOpts & KeyFilterCliOptions) => {
      const filter = keyFilterFrom(opts);
      const o = createOutput();
      if (opts.from === 'aof') throw usageError('--from aof: to-aof converts an RDB file; an AOF is one already (rdb-tool convert <dir> out.aof writes it compacted, aof-tool rewrite in place)');
      // a data directory: its RDB file when that is what Redis loads (said on stderr); the AOF is refused
      const src = await dataDirSource('rdb-tool', given, opts, o, {
        kind: 'rdb',
        why: 'to-aof converts an RDB file',
        instead: (s) => `${otherFileHint(s)}; for a compacted copy of the AOF run rdb-tool convert ${given} out.aof, or aof-tool rewrite ${s.path} to compact it in place`,
      });
      const input = src?.path ?? given;
      const layout = opts.layout ?? (extname(output).toLowerCase() === '.aof' ? 'file' : 'dir');
      if (layout !== 'file' && layout !== 'dir') throw usageError(`--layout must be file or dir, got ${JSON.stringify(opts.layout)}`);
      let r;
      // a big key comes in pieces: the garbage of the pieces is collected as it goes (peak RSS bounded, see bench)
      keepHeapSmall();
      // a damaged RDB: the records before the damage are written (and committed), then it is reported: exit 1
      let damage: Damage | null = null;
      try {
        r = await rdbToAof(input, output, {
          signal: interruptSignal(),
          layout,
          appendFilename: opts.appendFilename,
          force: opts.force,
          filter,
          onDamage: (error, reading) => {
            damage = { error, reading };
          },
        });
      } catch (err) {
        if (err instanceof ReplayError) throw new CliExit(ExitCode.Usage, describeError(err));
        throw err;
      }
      const d = damage as Damage | null;
      const error = d && { code: d.error.code, offset: d.error.offset, message: d.error.message, complete: d.error.code === 'checksum' };
      if (opts.json) o.json({ input: given, source: sourceJson(src), output, ...(error ? { error } : {}), ...r });
      else {
        o.out(`${o.c.green('wrote')} ${layout === 'file' ? output : `${output}/`}: ${r.keys} keys, ${r.functions} functions, ${r.bytes} bytes of RESP`);
        if (layout === 'dir') for (const f of r.files) o.out(`  ${f}`);
        if (r.replacedBackup) o.out(`previous ${output} kept as ${r.replacedBackup}`);
      }
      if (d) throw new CliExit(ExitCode.Problem, damageMessage(d, layout === 'file' ? output : `${output}/`, true));
      process.exitCode = ExitCode.Ok;
    });
}
