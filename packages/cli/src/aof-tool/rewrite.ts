import { RdbWriterError } from '@redis-persist/rdb-writer';
import { rewriteAof } from '@redis-persist/converters';
import type { Command } from 'commander';
import { CliExit, ExitCode, Progress, aofSource, createOutput, formatBytes, guardInPlaceEdit, requireRegularInput, sourceJson, usageError, interruptSignal } from '../common/index.js';
import { parseRdbVersion, replayNotes, replaySummary } from './to-rdb.js';

interface RewriteOpts {
  base: string;
  rdbVersion?: string;
  backup: boolean;
  skipUnknown?: boolean;
  json?: boolean;
  force?: boolean;
  config?: string;
}

export function registerRewrite(program: Command): void {
  program
    .command('rewrite')
    .description('BGREWRITEAOF offline: replace an AOF by a new base holding the whole keyspace, a new empty incr file and a new manifest (stop Redis first)')
    .argument('<aof>', 'an appendonlydir/ (or its manifest, or the data directory), or a single appendonly.aof')
    .option('--base <kind>', 'the new base: rdb (RDB preamble, as aof-use-rdb-preamble yes) or aof (RESP commands, 64 items per command)', 'rdb')
    .option('--rdb-version <n>', 'RDB version of an rdb base (default: that of the base being replaced, else 10; 12 with hash-field TTLs)')
    .option('--no-backup', 'remove the replaced files instead of moving them to <dir>.bak-<time>/ (or <file>.bak)')
    .option('--skip-unknown', 'go on past commands this tool cannot replay (they are LOST from the rewritten AOF)')
    .option('--force', 'rewrite although a Redis server seems to use the files (it would keep writing to the old files)')
    .option('--config <redis.conf>', "the server's redis.conf: refuse while a server answers on its port (default: <data dir>/redis.conf when present)")
    .option('--json', 'print one JSON report')
    .action(async (given: string, opts: RewriteOpts) => {
      const o = createOutput();
      if (opts.base !== 'rdb' && opts.base !== 'aof') throw usageError(`--base must be rdb or aof, got ${JSON.stringify(opts.base)}`);
      const rdbVersion = parseRdbVersion(opts.rdbVersion);
      if (rdbVersion !== undefined && opts.base !== 'rdb') throw usageError('--rdb-version only applies to --base rdb');
      // a data directory: its AOF (said on stderr); a FIFO or a device cannot be rewritten
      const { path: input, source } = await aofSource('aof-tool', given, opts, o);
      await requireRegularInput(input, 'a rewrite (it replays the AOF, then replaces it in place)');
      const lock = await guardInPlaceEdit(input, { force: opts.force, config: opts.config, purpose: 'aof-tool rewrite', note: (m) => o.err(`aof-tool: note: ${m}`) });
      const progress = new Progress('replaying', 0);
      let r;
      try {
        r = await rewriteAof(input, { signal: interruptSignal(), base: opts.base, rdbVersion, backup: opts.backup, skipUnknown: opts.skipUnknown, onProgress: (p) => progress.update(p.commands) });
      } catch (err) {
        if (err instanceof RdbWriterError && err.code === 'unsupported') throw new CliExit(ExitCode.Problem, `${err.message}\nnothing was changed; choose a newer --rdb-version or --base aof`);
        throw err;
      } finally {
        progress.done();
        await lock.release();
      }
      if (opts.json) {
        o.json({ input, source: sourceJson(source), layout: r.layout, base: opts.base, written: r.written, replaced: r.replaced, backup: r.backup, keys: r.keys, functions: r.functions, baseBytes: r.baseBytes, replay: replaySummary(r.replay) });
      } else {
        replayNotes(o, r.replay);
        o.out(`replayed ${r.replay.commands} commands from ${r.replay.files.length} file(s): ${r.keys} keys, ${r.functions} functions`);
        if (r.layout === 'multi-part') {
          o.out(`${o.c.green('rewrote')} ${input}: new base ${r.written[0]} (${formatBytes(r.baseBytes)}), new empty incr ${r.written[1]}, manifest ${r.written[2]} committed`);
        } else {
          o.out(`${o.c.green('rewrote')} ${r.written[0]} (${opts.base === 'rdb' ? 'RDB preamble' : 'RESP'}, ${formatBytes(r.baseBytes)})`);
        }
        if (r.backup) o.out(`old files kept in ${r.backup}`);
        else o.out(`old files removed: ${r.replaced.length}`);
      }
      process.exitCode = r.replay.skipped > 0 ? ExitCode.Problem : ExitCode.Ok;
    });
}
