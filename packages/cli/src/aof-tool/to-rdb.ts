import { RdbWriterError, type DropInfo } from '@redis-persist/rdb-writer';
import { type ReplayResult } from '@redis-persist/replay';
import { aofToRdb } from '@redis-persist/converters';
import type { Command } from 'commander';
import { CliExit, ExitCode, Progress, describeError, aofSource, createOutput, requireRegularInput, sourceJson, type Output, usageError, interruptSignal } from '../common/index.js';

/** `--until`: Unix seconds, or an ISO-8601 date. */
export function parseUntil(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw usageError(`--until wants Unix seconds or an ISO date, got ${JSON.stringify(text)}`);
  return Math.floor(ms / 1000);
}

export function parseRdbVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw usageError(`--rdb-version wants a number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** Warnings about a replay (stderr), shared by to-rdb and rewrite. */
export function replayNotes(o: Output, r: ReplayResult): void {
  if (r.truncated) o.err(o.e.yellow(`note: ${r.truncated.file} ends early; loaded up to offset ${r.truncated.offset} as Redis does (aof-load-truncated yes)`));
  if (r.discardedInMulti > 0) o.err(o.e.yellow(`note: ${r.discardedInMulti} command(s) of an unfinished MULTI discarded, as Redis does`));
  if (r.failed > 0) o.err(o.e.yellow(`note: ${r.failed} command(s) would fail in Redis too (e.g. ${r.failures[0].file}:${r.failures[0].offset} ${r.failures[0].command}: ${r.failures[0].reason}); they change nothing`));
  if (r.skipped > 0) o.err(o.e.yellow(`warning: ${r.skipped} command(s) skipped (${Object.entries(r.skippedByCommand).map(([k, v]) => `${k} x${v}`).join(', ')}): the result differs from what Redis would load`));
}

export function replaySummary(r: ReplayResult) {
  return {
    files: r.files,
    commands: r.commands,
    rdbParts: r.rdbParts.map((p) => ({ file: p.file, keys: p.keys, version: p.version })),
    failed: r.failed,
    failures: r.failures,
    skipped: r.skipped,
    skippedByCommand: r.skippedByCommand,
    discardedInMulti: r.discardedInMulti,
    truncated: r.truncated,
    lastTimestamp: r.lastTimestamp,
    stoppedAt: r.stoppedAt,
  };
}

interface ToRdbOpts {
  rdbVersion?: string;
  valkey?: boolean;
  until?: string;
  skipUnknown?: boolean;
  dropUnsupported?: boolean;
  json?: boolean;
  force?: boolean;
  config?: string;
}

export function registerToRdb(program: Command): void {
  program
    .command('to-rdb')
    .description('replay an AOF offline and write the keyspace Redis would load from it as an RDB file')
    .argument('<aof>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory')
    .argument('<out.rdb>', 'the RDB file to write (atomically: temp file, fsync, rename)')
    .option('--rdb-version <n>', 'target RDB version (default 10 = Redis 7.0; 12 when hash fields carry TTLs)')
    .option('--valkey', 'write for Valkey')
    .option('--until <time>', 'point in time: replay only up to the first #TS: annotation later than this (Unix seconds or ISO date)')
    .option('--skip-unknown', 'go on past commands this tool cannot replay, counting them (the result is then not what Redis would load)')
    .option('--drop-unsupported', 'leave out keys the target RDB version cannot hold (each is reported)')
    .option('--force', 'replace an existing output (the old one is kept as <out>.bak)')
    .option('--config <redis.conf>', "when <aof> is a data directory: the server's redis.conf (appenddirname, appendfilename; default: <aof>/redis.conf when present)")
    .option('--json', 'print one JSON report')
    .action(async (given: string, output: string, opts: ToRdbOpts) => {
      const o = createOutput();
      const rdbVersion = parseRdbVersion(opts.rdbVersion);
      const until = parseUntil(opts.until);
      // a data directory: its AOF (said on stderr); a FIFO or a device cannot be replayed (read twice)
      const { path: input, source } = await aofSource('aof-tool', given, opts, o);
      await requireRegularInput(input, 'to-rdb (the replay reads the AOF twice: its RDB part, then its commands)');
      const progress = new Progress('replaying', 0);
      const dropped: DropInfo[] = [];
      let res;
      try {
        res = await aofToRdb(input, output, {
          signal: interruptSignal(),
          rdbVersion,
          valkey: opts.valkey,
          truncateToTimestamp: until,
          skipUnknown: opts.skipUnknown,
          dropUnsupported: opts.dropUnsupported,
          force: opts.force,
          onDrop: (d) => dropped.push(d),
          onProgress: (p) => progress.update(p.commands),
        });
      } catch (err) {
        if (err instanceof RdbWriterError && (err.code === 'unsupported' || err.code === 'options')) {
          throw new CliExit(err.code === 'options' ? ExitCode.Usage : ExitCode.Problem, `${describeError(err)}\nnothing was written; choose another --rdb-version or pass --drop-unsupported`);
        }
        // a ReplayError goes to the common runner: exit 1, or 2 for `input` (its kind says which)
        throw err;
      } finally {
        progress.done();
      }
      const { replay, rdb } = res;
      if (opts.json) {
        o.json({ input, source: sourceJson(source), output, replacedBackup: rdb.replacedBackup ?? null, rdbVersion: rdb.rdbVersion, keys: rdb.keys, functions: rdb.functions, bytes: rdb.bytes, dropped: dropped.map((d) => d.message), replay: replaySummary(replay) });
      } else {
        replayNotes(o, replay);
        for (const d of dropped) o.err(o.e.yellow(`dropped: ${d.message}`));
        if (replay.stoppedAt) o.out(`point in time: stopped before ${replay.stoppedAt.file}:${replay.stoppedAt.offset} (#TS:${replay.stoppedAt.timestamp})`);
        o.out(`replayed ${replay.commands} commands from ${replay.files.length} file(s)`);
        o.out(`${o.c.green('wrote')} ${output}: RDB ${rdb.rdbVersion}, ${rdb.keys} keys, ${rdb.functions} functions, ${rdb.bytes} bytes`);
        if (rdb.replacedBackup) o.out(`previous ${output} kept as ${rdb.replacedBackup}`);
      }
      process.exitCode = replay.skipped > 0 ? ExitCode.Problem : ExitCode.Ok;
    });
}
