// What a command reads when it is given a Redis data directory: what Redis would load from it (the rule of
// `rdb-tool inspect-dir`, `resolveDataDirSource` of @redis-persist/replay), said in one line on stderr.
import { stat } from 'node:fs/promises';
import { describeIoError, FsioError, requireRegularFile } from '@redis-persist/fsio';
import { describeAppendonly, isDataDir, resolveDataDirSource, type DataDirSource } from '@redis-persist/converters';
import { CliExit, ExitCode, usageError } from './exit.js';
import type { Output } from './output.js';

export interface SourceCliOptions {
  /** `--config <redis.conf>` (default: `<dir>/redis.conf` when present). */
  config?: string;
  /** `--from rdb|aof`: read that file of the data directory whatever Redis would load. */
  from?: string;
}

/** Checks a `--from` value. */
export function parseFrom(from: string | undefined): 'rdb' | 'aof' | undefined {
  if (from === undefined) return undefined;
  if (from !== 'rdb' && from !== 'aof') throw usageError(`--from must be rdb or aof, got ${JSON.stringify(from)}`);
  return from;
}

/** The `source` member of --json reports: the file read in a data directory and why (null for any other input). */
export function sourceJson(src: DataDirSource | null): Record<string, unknown> | null {
  if (src === null) return null;
  return {
    dataDir: src.dir,
    kind: src.kind,
    path: src.path,
    redisLoads: src.redisLoads,
    reason: src.reason,
    appendonly: src.config.appendonly,
    config: src.configFile,
    ignored: src.ignored,
  };
}

/** The error for a data directory that holds nothing of the kind the rule picked (exit 1). */
function nothingToRead(src: DataDirSource, fromOption: boolean): CliExit {
  let hint = '';
  if (src.ignored !== null) hint = fromOption ? `; ${src.ignored} is there: pass --from ${src.wanted === 'aof' ? 'rdb' : 'aof'} to read it` : `; ${src.ignored} is there`;
  return new CliExit(ExitCode.Problem, `${src.reason}; nothing to read${hint}`);
}

/**
 * A directory given as the input of an rdb-tool command: a data directory resolves to what Redis would load from
 * it (or to `--from`'s kind) and the command says so on stderr (`rdb-tool: using /data/dump.rdb (what Redis
 * loads: appendonly no, Redis' default)`). A directory that is itself an AOF directory (it holds a manifest) is
 * an AOF. Returns null for anything else (a file), which the command reads as before. A data directory from which
 * Redis would load nothing fails with exit 1, naming the other file when there is one.
 */
export async function dataDirSource(tool: string, input: string, opts: SourceCliOptions, o: Output, accepts?: DataDirAccepts): Promise<DataDirSource | null> {
  const from = parseFrom(opts.from);
  if (!(await isDataDir(input))) {
    if (from !== undefined && (await stat(input).catch(() => null))?.isDirectory() !== true) {
      throw usageError(`--from picks a file of a data directory; ${input} is not one`);
    }
    return null;
  }
  const src = await resolveDataDirSource(input, { config: opts.config, from });
  if (src.kind === 'none') throw nothingToRead(src, true);
  if (accepts && src.kind !== accepts.kind) {
    const what = src.kind === 'aof' ? `the AOF ${src.path}` : src.path;
    const loads = src.redisLoads ? `Redis loads ${what} (${describeAppendonly(src)})` : `--from ${src.kind} picks ${what}`;
    throw usageError(`${input} is a data directory and ${loads}, but ${accepts.why}: ${accepts.instead(src)}`);
  }
  noteSource(o, tool, src, from !== undefined ? `--from ${from}` : null);
  return src;
}

/** "pass --from rdb to read /data/dump.rdb", or that there is no such file, for the file the rule did not pick. */
export function otherFileHint(src: DataDirSource): string {
  const other = src.kind === 'aof' ? 'rdb' : 'aof';
  if (src.ignored !== null) return `pass --from ${other} to read ${src.ignored}`;
  return `there is no ${other === 'rdb' ? src.config.dbfilename : 'AOF'} in ${src.dir} to read instead`;
}

/** A command that reads one kind only: why, and what to run instead when the rule picks the other (exit 2). */
export interface DataDirAccepts {
  kind: 'rdb' | 'aof';
  /** "info describes an RDB file" */
  why: string;
  /** "pass --from rdb to read dump.rdb, or ..." */
  instead: (src: DataDirSource) => string;
}

/**
 * Prints which file of a data directory is read, and why: one line on stderr. `asked` says what chose it when it
 * is not what Redis loads ("--from rdb"; null for a tool that reads one kind only).
 */
export function noteSource(o: Output, tool: string, src: DataDirSource, asked: string | null = null): void {
  const what = `${src.kind === 'aof' ? 'the AOF' : src.config.dbfilename} of ${src.dir}`;
  const redis = `Redis itself loads ${src.config.appendonly ? 'the AOF' : src.config.dbfilename}, not this: ${describeAppendonly(src)}`;
  const why = src.redisLoads ? src.reason : `${what}${asked !== null ? `, as ${asked} asks` : ''}; ${redis}`;
  o.err(`${tool}: using ${src.path} (${why})`);
}

/**
 * The AOF an aof-tool command reads: `input` itself, or for a data directory its AOF as the server's config names
 * it (appenddirname/appendfilename; the manifest, else the old single file), said on stderr with whether Redis
 * would load it (`aof-tool: using /data/appendonlydir/appendonly.aof.manifest (the AOF of /data; Redis itself loads
 * dump.rdb: appendonly no, Redis' default)`). `source` is null when `input` is not a data directory.
 */
export async function aofSource(tool: string, input: string, opts: { config?: string }, o: Output): Promise<{ path: string; source: DataDirSource | null }> {
  if (!(await isDataDir(input))) return { path: input, source: null };
  const src = await resolveDataDirSource(input, { config: opts.config, from: 'aof' });
  if (src.kind === 'none') throw nothingToRead(src, false);
  noteSource(o, tool, src, null);
  return { path: src.path, source: src };
}

/**
 * Refuses a FIFO, a device or a socket (FsioError `not-regular`, exit 2) for work that reads its input twice or
 * in place; a directory (an AOF directory, a data directory) is left to the command.
 */
export async function requireRegularInput(path: string, forWhat: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
  if (!s.isDirectory()) await requireRegularFile(path, forWhat);
}
