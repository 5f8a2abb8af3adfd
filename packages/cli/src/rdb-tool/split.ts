// rdb-tool split: one RDB per cluster node (by the slot map of a live cluster, a nodes.conf or slot ranges), from an
// RDB or an AOF (replayed as Redis would load it), built in a temporary directory renamed into place.
import { readFile, stat } from 'node:fs/promises';
import { ClusterError, formatSlotRanges, slotMapFromNodesConf, slotMapFromRanges, splitKeyspace, splitRdb, type SlotMap, type SplitOptions, type SplitResult } from '@redis-persist/cluster';
import { isRedisPersistError } from '@redis-persist/bytes';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import { LiveError, fetchSlotMap, type ConnectOptions } from '@redis-persist/live';
import { RdbWriterError, resolveTarget, type DropInfo } from '@redis-persist/rdb-writer';
import { replayAof } from '@redis-persist/replay';
import { aofInputPaths } from '@redis-persist/converters';
import type { Command } from 'commander';
import { CliExit, ExitCode, Progress, createOutput, dataDirSource, describeError, dropJson, errorJson, exitCodeOf, formatBytes, requireRegularInput, sourceJson, usageError, type Output, interruptSignal } from '../common/index.js';
import { detectInput } from '../common/input.js';

interface SplitOpts {
  output: string;
  cluster?: string;
  nodesConf?: string;
  slots?: string;
  rdbVersion?: string;
  valkey?: boolean;
  db?: string;
  compress: boolean;
  dropUnsupported?: boolean;
  lossy?: boolean;
  cacert?: string;
  insecure?: boolean;
  force?: boolean;
  json?: boolean;
  config?: string;
  from?: string;
}

/** A non-negative integer option. */
export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usageError(`${name} wants a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** --rdb-version/--valkey checked as rdb-writer would (a usage error otherwise). */
export function rdbTargetOptions(opts: { rdbVersion?: string; valkey?: boolean }): { rdbVersion?: number; valkey?: boolean } {
  const rdbVersion = intOption('--rdb-version', opts.rdbVersion);
  if (opts.valkey && rdbVersion === undefined) throw usageError('--valkey needs --rdb-version (the version to write for Valkey)');
  if (rdbVersion !== undefined) {
    try {
      resolveTarget(rdbVersion, opts.valkey ?? false);
    } catch (err) {
      if (err instanceof RdbWriterError) throw usageError(describeError(err));
      throw err;
    }
  }
  return { rdbVersion, valkey: opts.valkey };
}

/** An RdbWriterError `unsupported` (a key the target version cannot hold) as exit 1 with what to do. */
export function unsupportedExit(err: RdbWriterError): CliExit {
  return new CliExit(
    ExitCode.Problem,
    `${err.message}\nnothing was written; choose a newer --rdb-version, pass --lossy to write such keys without the newer metadata, or --drop-unsupported to leave them out`,
  );
}


interface MapSource {
  map: SlotMap;
  kind: 'cluster' | 'nodes-conf' | 'slots';
  from: string;
}

async function slotMapOf(opts: SplitOpts): Promise<MapSource> {
  const given = [opts.cluster !== undefined, opts.nodesConf !== undefined, opts.slots !== undefined].filter(Boolean).length;
  if (given !== 1) throw usageError('give the slot map with exactly one of --cluster redis://host:port, --nodes-conf <nodes.conf> or --slots <ranges>');
  if ((opts.cacert || opts.insecure) && opts.cluster === undefined) throw usageError('--cacert and --insecure go with --cluster');
  if (opts.slots !== undefined) {
    try {
      return { map: slotMapFromRanges(opts.slots), kind: 'slots', from: opts.slots };
    } catch (err) {
      if (err instanceof ClusterError) throw usageError(`--slots: ${err.message}`);
      throw err;
    }
  }
  if (opts.nodesConf !== undefined) {
    let text: string;
    try {
      text = await readFile(opts.nodesConf, 'utf8');
    } catch (err) {
      throw new FsioError('io', `cannot read ${opts.nodesConf}: ${describeIoError(err)}`, { file: opts.nodesConf, cause: err });
    }
    try {
      return { map: slotMapFromNodesConf(text, opts.nodesConf), kind: 'nodes-conf', from: opts.nodesConf };
    } catch (err) {
      if (err instanceof ClusterError) throw new CliExit(ExitCode.Problem, err.message);
      throw err;
    }
  }
  const conn: ConnectOptions = {};
  if (opts.cacert || opts.insecure) {
    conn.tls = { rejectUnauthorized: !opts.insecure };
    if (opts.cacert) {
      try {
        conn.tls.ca = await readFile(opts.cacert);
      } catch (err) {
        throw new FsioError('io', `cannot read the CA certificate ${opts.cacert}: ${describeIoError(err)}`, { file: opts.cacert, cause: err });
      }
    }
  }
  try {
    return { map: await fetchSlotMap(opts.cluster!, conn), kind: 'cluster', from: opts.cluster! };
  } catch (err) {
    if (err instanceof LiveError) throw new CliExit(exitCodeOf(err), `--cluster ${opts.cluster}: ${describeError(err)}`);
    throw err;
  }
}

/** RDB or AOF: by what the file holds (a directory or a multi-part manifest is an AOF; an empty file is refused). */
async function detect(path: string): Promise<'rdb' | 'aof'> {
  await requireRegularInput(path, 'split (the input is sniffed, then read)');
  const { format } = await detectInput(path, 'split');
  if (format === 'rdb' || format === 'aof') return format;
  throw usageError(`${path} is neither an RDB (REDIS/VALKEY magic) nor an AOF`);
}

function nodeLabel(p: SplitResult['parts'][number]): string {
  const n = p.node;
  if (!n.host && !n.port) return '';
  return `  ${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}${n.name ? ` (${n.name})` : ''}`;
}

function printResult(o: Output, r: SplitResult, shownOut: string): void {
  const how = r.verbatim ? 'keys copied verbatim' : 're-encoded';
  const fns = r.functions > 0 ? `, ${r.functions} function librar${r.functions === 1 ? 'y' : 'ies'} in each` : '';
  o.out(`${o.c.green('wrote')} ${shownOut}: ${r.parts.length} parts, RDB ${r.rdbVersion}${r.magic === 'VALKEY' ? ' (Valkey)' : ''} (${how}), ${r.keys} keys${fns}`);
  for (const p of r.parts) {
    o.out(`  ${p.file}  slots ${formatSlotRanges(p.slots)}  ${p.keys} keys (${p.expires} with expiry)  ${formatBytes(p.bytes)}${nodeLabel(p)}`);
  }
  for (const s of r.skipped) o.out(o.c.yellow(`  left out: ${s.keys} keys of db ${s.db}`));
  if (r.replacedBackup) o.out(`  the directory that was there is now ${r.replacedBackup}`);
}

export function registerSplit(program: Command): void {
  program
    .command('split')
    .description('split a snapshot (an RDB, or an AOF replayed as Redis would load it) into one RDB per cluster node, by the slot map of a live cluster, a nodes.conf or slot ranges; one pass, keys copied verbatim when the RDB version is kept')
    .argument('<in>', 'an RDB file, or an AOF (file, appendonlydir/ or manifest), or a data directory (what Redis would load from it)')
    .requiredOption('-o, --output <dir>', 'the directory to create (or an empty one): <node id>.rdb per master (with --slots: <first>-<last>.rdb per item)')
    .option('--cluster <url>', 'take the slot map from a live cluster: a seed node redis://[user:pass@]host:port (rediss:// for TLS); CLUSTER SHARDS, else CLUSTER SLOTS')
    .option('--nodes-conf <file>', "take the slot map from a node's nodes.conf (or saved CLUSTER NODES output): masters only, migrating/importing markers ignored")
    .option('--slots <ranges>', 'slot ranges, one item per output: 0-5460,5461-10922,10923-16383; several ranges of one output joined by + (0-99+200-5460)')
    .option('--db <n>', 'split the keys of this db (written to db 0, the only one a cluster has) and leave the other dbs out (default: db 0, a key in another db is refused)')
    .option('--rdb-version <n>', "write this RDB version (keys re-encoded); default: the input's (keys copied verbatim), 10 for an AOF")
    .option('--valkey', 'with --rdb-version: write for Valkey (1-11, or 80 = Valkey 9)')
    .option('--no-compress', 'when re-encoding: do not LZF-compress strings')
    .option('--drop-unsupported', 'when re-encoding: leave out keys/functions the target version cannot hold (each is reported) instead of refusing')
    .option('--lossy', 'when re-encoding: keep keys whose only problem is metadata the target lacks, written without it (each is reported)')
    .option('--cacert <file>', '--cluster over TLS: the CA certificate(s) to verify the server with (PEM)')
    .option('--insecure', '--cluster over TLS: do not verify the server certificate')
    .option('--force', 'replace an existing non-empty output directory (the old one is kept as <dir>.bak)')
    .option('--config <redis.conf>', "when <in> is a data directory: the server's redis.conf, whose appendonly decides what Redis loads")
    .option('--from <rdb|aof>', 'when <in> is a data directory: read its RDB file or its AOF, whatever Redis would load')
    .option('--json', 'print one JSON document describing the result')
    .action(async (input: string, opts: SplitOpts) => {
      const o = createOutput();
      const target = rdbTargetOptions(opts);
      const db = intOption('--db', opts.db);
      const ms = await slotMapOf(opts);
      const src = await dataDirSource('rdb-tool', input, opts, o);
      const path = src?.path ?? input;
      const kind = src?.kind === 'aof' ? 'aof' : await detect(path);
      const base = { input, source: sourceJson(src), inputFormat: kind, output: opts.output, slotMap: { from: ms.kind, value: ms.from } };
      const dropped: DropInfo[] = [];
      const options: SplitOptions = {
        map: ms.map,
        signal: interruptSignal(),
        output: opts.output,
        force: opts.force,
        inputs: kind === 'aof' ? await aofInputPaths(path) : [path],
        ...target,
        db,
        compress: opts.compress,
        dropUnsupported: opts.dropUnsupported ?? false,
        lossy: opts.lossy ?? false,
        file: path,
        onDrop: (d) => {
          dropped.push(d);
          if (!opts.json) o.err(o.e.yellow(`${d.kind === 'data' ? 'lost' : 'dropped'}: ${d.message}`));
        },
      };
      let total = 0;
      if (kind === 'rdb') total = (await stat(path)).size;
      const progress = new Progress('splitting', total);
      options.onProgress = (p) => progress.update(p.bytes);
      let result: SplitResult;
      try {
        if (kind === 'aof') {
          const replayed = await replayAof(path, { signal: interruptSignal() });
          if (replayed.truncated) o.err(o.e.yellow(`warning: ${replayed.truncated.file} ends early; commands from offset ${replayed.truncated.offset} on were not replayed (${replayed.truncated.message})`));
          if (replayed.failed > 0) o.err(o.e.yellow(`warning: ${replayed.failed} command(s) of the AOF fail in Redis too and changed nothing`));
          result = await splitKeyspace(replayed.keyspace.records(), options);
        } else {
          result = await splitRdb(path, options);
        }
      } catch (err) {
        progress.done();
        if (err instanceof RdbWriterError && err.code === 'options') throw usageError(err.message);
        const known = err instanceof ClusterError || (isRedisPersistError(err) && err.kind === 'data');
        if (opts.json && known) o.json({ ...base, written: false, error: errorJson(err) });
        if (err instanceof RdbWriterError && err.code === 'unsupported') throw unsupportedExit(err);
        if (err instanceof ClusterError) {
          if (err.code === 'other-db') {
            throw new CliExit(ExitCode.Problem, `${err.message}\nnothing was written; pass --db ${err.db} to split the keys of db ${err.db} (the other dbs are then left out), or --db 0 to leave out every db but 0`);
          }
          throw new CliExit(ExitCode.Problem, `${err.message}\nnothing was written`);
        }
        throw err;
      }
      progress.done();
      if (result.trailingBytes > 0) o.err(o.e.yellow(`warning: ${result.trailingBytes} bytes follow the end of the RDB in ${path}; they were ignored (as Redis does): if it is an AOF with an RDB preamble, name it .aof`));
      if (opts.json) {
        o.json({
          ...base,
          written: true,
          rdbVersion: result.rdbVersion,
          magic: result.magic,
          verbatim: result.verbatim,
          keys: result.keys,
          functions: result.functions,
          aux: result.aux,
          parts: result.parts.map((p) => ({
            node: p.node,
            file: p.file,
            slots: formatSlotRanges(p.slots),
            keys: p.keys,
            expires: p.expires,
            functions: p.functions,
            bytes: p.bytes,
          })),
          skipped: result.skipped,
          trailingBytes: result.trailingBytes,
          replacedBackup: result.replacedBackup,
          dropped: dropped.map(dropJson),
        });
      } else printResult(o, result, opts.output);
    });
}
