// Which files a Redis 7 server would load from a data directory at restart, in what order, whether each is
// valid, and the keyspace that results.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAof, type AofCheckReport } from '@redis-persist/aof';
import { isRedisPersistError } from '@redis-persist/bytes';
import { describeIoError, FsioError, pathExists } from '@redis-persist/fsio';
import { checkRdb, type RdbCheckReport } from '@redis-persist/rdb';
import { replayAof, type ReplayResult } from '@redis-persist/replay';

/** The persistence directives of redis.conf that decide what is loaded. */
export interface PersistenceConfig {
  dir: string | null;
  dbfilename: string;
  appendonly: boolean;
  appendfilename: string;
  appenddirname: string;
  aofLoadTruncated: boolean;
  /** TCP port (0: none). */
  port: number;
  /** Unix socket path, if any. */
  unixsocket: string | null;
}

/** Redis' default persistence settings (appendonly no, dump.rdb, appendonlydir). */
export const DEFAULT_PERSISTENCE_CONFIG: PersistenceConfig = {
  dir: null,
  dbfilename: 'dump.rdb',
  appendonly: false,
  appendfilename: 'appendonly.aof',
  appenddirname: 'appendonlydir',
  aofLoadTruncated: true,
  port: 6379,
  unixsocket: null,
};

/** Splits a redis.conf line as sdssplitargs does for the common cases (bare words, "..." and '...'). */
function splitLine(line: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    if (m[1] !== undefined) out.push(m[1].replace(/\\(.)/g, (_s, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c));
    else if (m[2] !== undefined) out.push(m[2].replace(/\\'/g, "'"));
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}

/** Whether a redis.conf sets `name` (with a value), read as {@link parsePersistenceConfig} reads it. */
function setsDirective(text: string, name: string): boolean {
  return text.split(/\r?\n/).some((raw) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return false;
    const [k, v] = splitLine(line);
    return v !== undefined && k.toLowerCase() === name;
  });
}

/** Reads the persistence directives of a redis.conf (later lines win, as in Redis; `include` is not followed). */
export function parsePersistenceConfig(text: string): PersistenceConfig {
  const c = { ...DEFAULT_PERSISTENCE_CONFIG };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [k, v] = splitLine(line);
    if (v === undefined) continue;
    switch (k.toLowerCase()) {
      case 'dir':
        c.dir = v;
        break;
      case 'dbfilename':
        c.dbfilename = v;
        break;
      case 'appendonly':
        c.appendonly = v.toLowerCase() === 'yes';
        break;
      case 'appendfilename':
        c.appendfilename = v;
        break;
      case 'appenddirname':
        c.appenddirname = v;
        break;
      case 'aof-load-truncated':
        c.aofLoadTruncated = v.toLowerCase() === 'yes';
        break;
      case 'port':
        if (/^\d+$/.test(v)) c.port = Number(v);
        break;
      case 'unixsocket':
        c.unixsocket = v;
        break;
    }
  }
  return c;
}

/** One file of a data directory: its role (RDB, AOF base/incr, manifest), format, size and check. */
export interface InspectFile {
  /** Path of the file. */
  path: string;
  role: 'rdb' | 'aof-base' | 'aof-incr' | 'aof-single' | 'manifest';
  format: 'rdb' | 'resp' | 'empty' | 'manifest';
  size: number;
  /** valid / empty / truncated (loaded up to the last complete command) / corrupt / missing ... */
  status: string;
  message: string | null;
}

/** What {@link inspectDataDir} found: the settings, what Redis would load, and each file. */
export interface InspectReport {
  dir: string;
  config: PersistenceConfig;
  /** The redis.conf read (`--config`, else `<dir>/redis.conf` when present), or null (Redis' defaults). */
  configFile: string | null;
  /** Where `appendonly` came from: an explicit override, that redis.conf, or Redis' default (no). */
  appendonlyFrom: AppendonlyFrom;
  /** What Redis loads: the AOF (appendonly yes), the RDB, or nothing (it starts empty). */
  source: 'aof' | 'rdb' | 'none';
  /** The files Redis would read, in load order. */
  files: InspectFile[];
  /** Files present but not loaded (e.g. dump.rdb while appendonly is yes), with the reason. */
  ignored: { path: string; reason: string }[];
  /** Whether Redis would start (false: it would refuse to load and exit). */
  loads: boolean;
  problem: string | null;
  /** Keys per database after the load (keys already expired are not counted), and their total. */
  keys: { db: number; keys: number }[];
  totalKeys: number;
  /** Keys whose expiry has passed (Redis keeps them from an AOF until they are touched; drops them from an RDB). */
  expiredKeys: number;
  functions: number;
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}


/** Options of {@link inspectDataDir}: the config to read and the time expiries are judged at. */
export interface InspectOptions extends DataDirConfigOptions {
  now?: number;
}

/** Where a data directory's persistence settings come from: a redis.conf path and overrides. */
export interface DataDirConfigOptions {
  /**
   * Path of the server's redis.conf (its persistence directives decide what is loaded). Default:
   * `<dir>/redis.conf` when there is one, else Redis' defaults (appendonly no, dump.rdb, appendonlydir).
   */
  config?: string;
  /** Override appendonly (default: from the config, else no, as Redis). */
  appendonly?: boolean;
}

/** Where the `appendonly` setting came from: an explicit option, the config file, or Redis' default. */
export type AppendonlyFrom = 'option' | 'config' | 'default';

/** The persistence directives that apply to a data directory, and where they come from. */
export interface DataDirConfig {
  config: PersistenceConfig;
  /** The redis.conf read, or null when none was given and `<dir>/redis.conf` does not exist. */
  configFile: string | null;
  appendonlyFrom: AppendonlyFrom;
}

/**
 * The persistence directives for the data directory `dir`: from `options.config`, else from `<dir>/redis.conf`
 * when it exists, else Redis' defaults; `options.appendonly` overrides appendonly. An unreadable `--config` is an
 * FsioError naming it.
 */
export async function loadDataDirConfig(dir: string, options: DataDirConfigOptions = {}): Promise<DataDirConfig> {
  let config = { ...DEFAULT_PERSISTENCE_CONFIG };
  let configFile: string | null = null;
  const candidate = options.config ?? join(dir, 'redis.conf');
  let text: string | null = null;
  try {
    text = await readFile(candidate, 'utf8');
  } catch (err) {
    if (options.config !== undefined) throw new FsioError('io', `cannot read the config ${options.config}: ${describeIoError(err)}`, { file: options.config, cause: err });
    // no <dir>/redis.conf: Redis' defaults
  }
  if (text !== null) {
    config = parsePersistenceConfig(text);
    configFile = candidate;
  }
  let appendonlyFrom: AppendonlyFrom = text !== null && setsDirective(text, 'appendonly') ? 'config' : 'default';
  if (options.appendonly !== undefined) {
    config.appendonly = options.appendonly;
    appendonlyFrom = 'option';
  }
  return { config, configFile, appendonlyFrom };
}

/** "appendonly yes in /data/redis.conf", "appendonly no, Redis' default"... */
export function describeAppendonly(c: DataDirConfig): string {
  const v = `appendonly ${c.config.appendonly ? 'yes' : 'no'}`;
  if (c.appendonlyFrom === 'option') return `${v}, as asked`;
  if (c.appendonlyFrom === 'config') return `${v} in ${c.configFile}`;
  return `${v}, Redis' default${c.configFile !== null ? ` (${c.configFile} does not set it)` : ''}`;
}

/** What a command reading a data directory reads: see {@link resolveDataDirSource}. */
export interface DataDirSource {
  /** The data directory. */
  dir: string;
  /** What is read: the RDB file, the AOF, or nothing (Redis would start with an empty keyspace). */
  kind: 'rdb' | 'aof' | 'none';
  /** The kind the rule (or `from`) picked; for `none`, the kind that is missing. */
  wanted: 'rdb' | 'aof';
  /**
   * The file to read: `<dir>/<dbfilename>`, the AOF's manifest `<dir>/<appenddirname>/<appendfilename>.manifest`
   * or the old single `<dir>/<appendfilename>`; for `none`, what is missing.
   */
  path: string;
  /** Why, for people: "what Redis loads: appendonly no, Redis' default". */
  reason: string;
  /** Whether `path` is what Redis itself would load (false when `from` asked for the other file). */
  redisLoads: boolean;
  /** The other persistence file present in the directory that is not read, if any (e.g. dump.rdb beside the AOF). */
  ignored: string | null;
  config: PersistenceConfig;
  configFile: string | null;
  appendonlyFrom: AppendonlyFrom;
}

/** Options of {@link resolveDataDirSource}: the config to read, or which kind to read whatever Redis would load. */
export interface DataDirSourceOptions extends DataDirConfigOptions {
  /** Read this kind whatever Redis would load (e.g. the AOF of a server running with appendonly no). */
  from?: 'rdb' | 'aof';
}

const isFile = async (path: string) => (await sizeOf(path)) !== null;

/** True for a directory that is not itself an AOF directory (one holding a `*.manifest`): a Redis data directory. */
export async function isDataDir(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  if (!s?.isDirectory()) return false;
  let names: string[];
  try {
    names = await readdir(path);
  } catch (err) {
    throw new FsioError('io', `cannot read the directory ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
  return !names.some((n) => n.endsWith('.manifest') && !n.startsWith('temp-'));
}

/**
 * The rule every command that takes a data directory follows, that of {@link inspectDataDir}: with `appendonly yes`
 * (from `options.config`, else `<dir>/redis.conf`, else Redis' default `no`) Redis loads the AOF (the manifest in
 * `appenddirname`, else the old single `appendfilename`), otherwise `dbfilename`. `from` picks a kind regardless
 * (the reason then says what Redis itself would load).
 */
export async function resolveDataDirSource(dir: string, options: DataDirSourceOptions = {}): Promise<DataDirSource> {
  const s = await stat(dir).catch((err: unknown) => {
    throw new FsioError('io', `cannot open ${dir}: ${describeIoError(err)}`, { file: dir, cause: err });
  });
  if (!s.isDirectory()) throw new FsioError('not-regular', `${dir} is not a directory`, { file: dir });
  const cfg = await loadDataDirConfig(dir, options);
  const { config } = cfg;
  const rdbPath = join(dir, config.dbfilename);
  const manifestPath = join(dir, config.appenddirname, `${config.appendfilename}.manifest`);
  const oldAof = join(dir, config.appendfilename);
  const aofPath = (await isFile(manifestPath)) ? manifestPath : (await isFile(oldAof)) ? oldAof : null;
  const rdbThere = await isFile(rdbPath);
  const redisKind: 'rdb' | 'aof' = config.appendonly ? 'aof' : 'rdb';
  const kind = options.from ?? redisKind;
  const redisLoads = kind === redisKind;
  const loads = describeAppendonly(cfg);
  const reason = redisLoads
    ? `what Redis loads: ${loads}`
    : `asked for the ${kind === 'aof' ? 'AOF' : 'RDB'}; Redis itself loads the ${redisKind === 'aof' ? 'AOF' : config.dbfilename} (${loads})`;
  const base = { dir, wanted: kind, redisLoads, config, configFile: cfg.configFile, appendonlyFrom: cfg.appendonlyFrom };
  if (kind === 'aof') {
    if (aofPath === null) {
      const noAof = `no AOF in ${dir} (neither ${join(config.appenddirname, `${config.appendfilename}.manifest`)} nor ${config.appendfilename})`;
      return { ...base, kind: 'none', path: manifestPath, reason: redisLoads ? `${noAof}: Redis starts with an empty keyspace (${loads})` : noAof, ignored: rdbThere ? rdbPath : null };
    }
    return { ...base, kind: 'aof', path: aofPath, reason, ignored: rdbThere ? rdbPath : null };
  }
  const ignored = aofPath === null ? null : aofPath === manifestPath ? join(dir, config.appenddirname) : aofPath;
  if (!rdbThere) {
    const noRdb = `no ${config.dbfilename} in ${dir}`;
    return { ...base, kind: 'none', path: rdbPath, reason: redisLoads ? `${noRdb}: Redis starts with an empty keyspace (${loads})` : noRdb, ignored };
  }
  return { ...base, kind: 'rdb', path: rdbPath, reason, ignored };
}

function countKeys(report: InspectReport, replay: ReplayResult, now: number): void {
  const per = new Map<number, number>();
  for (const r of replay.keyspace.records()) {
    if (r.kind === 'function') report.functions++;
    else if (r.expireAt !== null && r.expireAt <= now) report.expiredKeys++;
    else per.set(r.db, (per.get(r.db) ?? 0) + 1);
  }
  report.keys = [...per].sort((a, b) => a[0] - b[0]).map(([db, keys]) => ({ db, keys }));
  report.totalKeys = report.keys.reduce((s, x) => s + x.keys, 0);
}

/** Inspects a Redis data directory: what a restart would load (see {@link InspectReport}). */
export async function inspectDataDir(dir: string, options: InspectOptions = {}): Promise<InspectReport> {
  if (!(await pathExists(dir))) throw new FsioError('io', `cannot open ${dir}: no such directory`, { file: dir });
  const { config, configFile, appendonlyFrom } = await loadDataDirConfig(dir, options);
  const now = options.now ?? Date.now();
  const report: InspectReport = { dir, config, configFile, appendonlyFrom, source: 'none', files: [], ignored: [], loads: true, problem: null, keys: [], totalKeys: 0, expiredKeys: 0, functions: 0 };
  const rdbPath = join(dir, config.dbfilename);
  const aofDir = join(dir, config.appenddirname);
  const manifestPath = join(aofDir, `${config.appendfilename}.manifest`);
  const oldAof = join(dir, config.appendfilename);
  const hasManifest = (await sizeOf(manifestPath)) !== null;
  const hasOld = (await sizeOf(oldAof)) !== null;

  if (config.appendonly) {
    if (await pathExists(rdbPath)) report.ignored.push({ path: rdbPath, reason: 'appendonly yes: Redis loads the AOF and never reads the RDB' });
    let input: string | null = null;
    if (hasManifest) {
      input = manifestPath;
      if (hasOld) report.ignored.push({ path: oldAof, reason: `a manifest exists in ${config.appenddirname}/: the old-style file is not loaded` });
    } else if (hasOld) input = oldAof; // Redis 7 moves it into the AOF directory as the base, then loads it
    if (input === null) {
      report.problem = 'no AOF: Redis starts with an empty keyspace (and writes a new AOF)';
      return report;
    }
    report.source = 'aof';
    const check: AofCheckReport = await checkAof(input);
    if (check.manifest) report.files.push({ path: manifestPath, role: 'manifest', format: 'manifest', size: (await sizeOf(manifestPath)) ?? 0, status: check.manifestError ? 'invalid' : 'valid', message: check.manifestError });
    for (const f of check.files) {
      report.files.push({
        path: f.path,
        role: f.role === 'single' ? 'aof-single' : f.role === 'base' ? 'aof-base' : 'aof-incr',
        format: f.format,
        size: f.size,
        status: f.status,
        message: f.error ? `offset ${f.error.offset}: ${f.error.explanation}` : null,
      });
    }
    if (check.manifestError) {
      report.loads = false;
      report.problem = `Redis refuses the manifest: ${check.manifestError}`;
      return report;
    }
    try {
      const replay = await replayAof(input, { loadTruncated: config.aofLoadTruncated, skipUnknown: true, now });
      countKeys(report, replay, now);
      if (replay.truncated) report.problem = `the last file ends early: Redis loads it up to offset ${replay.truncated.offset} and truncates it there (aof-load-truncated yes)`;
      if (replay.skipped > 0) report.problem = `${replay.skipped} command(s) this tool cannot replay (${Object.keys(replay.skippedByCommand).join(', ')}): key counts are approximate`;
    } catch (err) {
      if (isRedisPersistError(err) && err.kind === 'data') {
        report.loads = false;
        report.problem = `Redis would refuse to start: ${err.message}`;
        return report;
      }
      throw err;
    }
    return report;
  }

  if (hasManifest || hasOld) report.ignored.push({ path: hasManifest ? aofDir : oldAof, reason: 'appendonly no: Redis loads the RDB and never reads the AOF' });
  const size = await sizeOf(rdbPath);
  if (size === null) {
    report.problem = `no ${config.dbfilename}: Redis starts with an empty keyspace`;
    return report;
  }
  report.source = 'rdb';
  const rdb: RdbCheckReport = await checkRdb(rdbPath, { now });
  report.files.push({ path: rdbPath, role: 'rdb', format: 'rdb', size, status: rdb.ok ? 'valid' : rdb.error?.truncated ? 'truncated' : 'corrupt', message: rdb.error?.message ?? null });
  if (!rdb.ok) {
    report.loads = false;
    report.problem = `Redis would refuse to start: ${rdb.error?.message ?? 'invalid RDB'}`;
    return report;
  }
  report.keys = rdb.dbs.filter((d) => d.keys - d.alreadyExpired > 0).map((d) => ({ db: d.db, keys: d.keys - d.alreadyExpired }));
  report.totalKeys = report.keys.reduce((s, x) => s + x.keys, 0);
  report.expiredKeys = rdb.dbs.reduce((s, d) => s + d.alreadyExpired, 0);
  report.functions = rdb.functions.length;
  return report;
}

