// rdb-tool restore <inputs...> (--cluster <seed> | <redis://host:port>): RDB files, AOFs (replayed offline) or
// keyspace JSON Lines into a live server or cluster, each key with RESTORE ... ABSTTL at the node owning its slot.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/keyspace';
import { parseRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { replayAof } from '@redis-persist/replay';
import { LiveError, RestoreError, RestoreTarget, formatAddress, rdbVersionForServer, restoreKeys, type ConnectOptions, type RestoreSummary } from '@redis-persist/live';
import { CliExit, ExitCode, createOutput, dataDirSource, sourceJson, usageError, type Output } from '../common/index.js';
import { detectInput, type InputFormat } from '../common/input.js';
import { addLiveTargetOptions, liveTarget, resolveLiveTarget, type LiveTargetCliOptions } from '../common/live-target.js';

interface RestoreOpts extends LiveTargetCliOptions {
  cluster?: string;
  replace?: boolean;
  flush?: boolean;
  targetVersion?: string;
  dbMap?: string[];
  cacert?: string;
  cert?: string;
  key?: string;
  timeout?: string;
  config?: string;
  from?: string;
  json?: boolean;
}

/** One input, detected, with what a first read found in it. */
interface Input {
  arg: string;
  path: string;
  format: InputFormat;
  source: Record<string, unknown> | null;
  /** A FIFO: read once, while restoring (no first read). */
  chunks?: AsyncIterable<Uint8Array>;
  /** An AOF replayed once, its records read twice. */
  replayed?: Awaited<ReturnType<typeof replayAof>>;
  /** Keys per database and functions (unknown for a FIFO). */
  dbs: Map<number, number> | null;
  functions: number;
}

function parseDbMap(items: string[] | undefined): Map<number, number> | undefined {
  if (items === undefined || items.length === 0) return undefined;
  const map = new Map<number, number>();
  for (const item of items.flatMap((s) => s.split(','))) {
    const m = /^\s*(\d+):(\d+)\s*$/.exec(item);
    if (!m) throw usageError(`--db-map wants FROM:TO pairs (0:3 or 0:3,1:4), got ${JSON.stringify(item)}`);
    const [from, to] = [Number(m[1]), Number(m[2])];
    if (map.has(from) && map.get(from) !== to) throw usageError(`--db-map maps database ${from} twice`);
    map.set(from, to);
  }
  return map;
}

/** `--target-version`: a server version (`6.2`, `7.4.1`, `valkey-8.0`) or an RDB version (`9`, `12`, `80`). */
function parseTargetVersion(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const valkey = /^valkey[-:]?(\d+\.\d+)/i.exec(text);
  if (valkey) return rdbVersionForServer(valkey[1], true) ?? undefined;
  if (/^\d+\.\d+/.test(text)) {
    const v = rdbVersionForServer(text);
    if (v === null) throw usageError(`--target-version ${text}: Redis before 2.6 has no RESTORE`);
    return v;
  }
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if ((n >= 6 && n <= 12) || n === 80) return n;
    throw usageError(`--target-version ${text}: RESTORE payloads exist for RDB 6-12 (Redis 2.6-7.4+) and 80 (Valkey 9)`);
  }
  throw usageError(`--target-version wants a server version (7.0, 6.2.14, valkey-8.0) or an RDB version (6-12, 80), got ${JSON.stringify(text)}`);
}

/** Exit code of a LiveError: address → 2; the network → 3; what the server refused or cannot hold → 1. */
function exitCodeOf(e: LiveError): (typeof ExitCode)[keyof typeof ExitCode] {
  if (e.code === 'url') return ExitCode.Usage;
  if (e.code === 'connect' || e.code === 'closed' || e.code === 'timeout' || e.code === 'protocol') return ExitCode.Io;
  return ExitCode.Problem;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A first read of an input: keys per database and functions (damage found here leaves the target untouched). */
async function survey(input: Input): Promise<void> {
  const dbs = new Map<number, number>();
  let functions = 0;
  if (input.chunks !== undefined) {
    input.dbs = null;
    return;
  }
  if (input.format === 'rdb') {
    for await (const r of parseRdb(input.path, { values: false, file: input.path })) {
      if (r.kind === 'key') dbs.set(r.db, (dbs.get(r.db) ?? 0) + 1);
      else if (r.kind === 'function') functions++;
    }
  } else {
    for await (const r of records(input)) {
      if (r.kind === 'key') dbs.set(r.db, (dbs.get(r.db) ?? 0) + 1);
      else functions++;
    }
  }
  input.dbs = dbs;
  input.functions = functions;
}

/** The records of an input, read from its start. */
function records(input: Input): AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord> {
  if (input.format === 'aof') return input.replayed!.keyspace.records();
  const bytes = input.chunks ?? input.path;
  input.chunks = undefined; // a FIFO is read once
  if (input.format === 'rdb') return rdbKeyspaceRecords(bytes, { file: input.path });
  return readKeyspaceJsonl(bytes, { file: input.path });
}

async function* allRecords(inputs: Input[]): AsyncGenerator<KeyspaceRecord> {
  for (const input of inputs) yield* records(input);
}

/** `12,345 keys, 8,400 keys/s` on one redrawn stderr line, only on a TTY, at most every 200 ms. */
class KeyProgress {
  private last = 0;
  private shown = false;
  constructor(
    private readonly total: number | null,
    private readonly enabled = Boolean(process.stderr.isTTY),
  ) {}
  update(keys: number, elapsedMs: number): void {
    if (!this.enabled || Date.now() - this.last < 200) return;
    this.last = Date.now();
    const rate = elapsedMs > 0 ? Math.round((keys * 1000) / elapsedMs) : 0;
    const pct = this.total ? ` (${((100 * keys) / this.total).toFixed(1)}%)` : '';
    process.stderr.write(`\rrestoring: ${keys.toLocaleString('en-US')}${this.total ? `/${this.total.toLocaleString('en-US')}` : ''} keys${pct}, ${rate.toLocaleString('en-US')} keys/s\x1b[K`);
    this.shown = true;
  }
  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

function summaryJson(s: RestoreSummary) {
  return {
    keys: s.keys,
    expired: s.expired,
    functions: s.functions,
    bytes: s.bytes,
    elapsedMs: s.elapsedMs,
    keysPerSecond: s.elapsedMs > 0 ? Math.round((s.keys * 1000) / s.elapsedMs) : s.keys,
    rdbVersion: s.rdbVersion,
    flushed: s.flushed,
    perServer: s.perServer,
    ...(s.cluster ? { moved: s.moved, ask: s.ask } : {}),
  };
}

export function registerRestore(program: Command): void {
  const cmd = program
    .command('restore')
    .description('restore RDB files, AOFs (replayed offline) or keyspace JSON Lines into a live server, or into a cluster with each key at the master owning its slot (RESTORE ... ABSTTL)')
    .argument('<args...>', 'inputs (RDB files, AOF files or directories, keyspace JSON Lines, data directories), then the target redis://[user:pass@]host:port (rediss:// for TLS) unless --cluster or --sentinel is given')
    .option('--cluster <seed>', 'restore into the cluster this node (redis://host:port) belongs to: every key to the master owning its slot, functions to every master')
    .option('--replace', 'overwrite keys (and function libraries) of the same name already there (RESTORE ... REPLACE); other keys stay')
    .option('--flush', 'empty the target first: FLUSHALL and FUNCTION FLUSH on every master')
    .option('--target-version <v>', "payloads for this server version (7.0, 6.2, valkey-8.0) or RDB version (6-12, 80) instead of what INFO server says")
    .option('--db-map <from:to>', 'restore database FROM into database TO (repeat or comma-separate: 0:3,1:4); in a cluster only to 0 (--db-map 3:0)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--cacert <file>', 'TLS: the CA certificate(s) that signed the server certificate (PEM)')
    .option('--cert <file>', 'TLS: client certificate (PEM), with --key')
    .option('--key <file>', 'TLS: client private key (PEM)')
    .option('--timeout <ms>', 'connecting, and the longest silence while a reply is awaited (default 10000)')
    .option('--config <redis.conf>', "for a data directory given as input: the server's redis.conf, whose appendonly decides what Redis loads")
    .option('--from <rdb|aof>', 'for a data directory given as input: read its RDB file or its AOF, whatever Redis would load')
    .option('--json', 'print one JSON document describing the result');
  addLiveTargetOptions(cmd).action(async (args: string[], opts: RestoreOpts) => {
      const o = createOutput();
      let url: string | undefined;
      let paths: string[];
      if (opts.cluster !== undefined && opts.sentinel !== undefined) throw usageError('--cluster and --sentinel: a cluster has no sentinels, choose one');
      if (opts.sentinel !== undefined) {
        paths = args;
        const stray = paths.find((p) => /^rediss?:\/\//i.test(p));
        if (stray !== undefined) throw usageError(`${stray}: with --sentinel the target is the master the sentinels name; the other arguments are inputs`);
      } else if (opts.cluster !== undefined) {
        url = opts.cluster;
        paths = args;
        const stray = paths.find((p) => /^rediss?:\/\//i.test(p));
        if (stray !== undefined) throw usageError(`${stray}: with --cluster the target is the seed given to --cluster; the other arguments are inputs`);
      } else {
        url = args[args.length - 1];
        paths = args.slice(0, -1);
        if (!/^rediss?:\/\//i.test(url)) throw usageError(`the last argument must be the target server (redis://host:port, rediss:// for TLS) or give --cluster redis://seed; got ${JSON.stringify(url)}`);
      }
      if (paths.length === 0) throw usageError('no input: name RDB files, AOFs or keyspace JSON Lines before the target');
      const tlsFiles = opts.cacert !== undefined || opts.cert !== undefined || opts.key !== undefined;
      const live = liveTarget(url, opts, { tls: tlsFiles, ...(opts.timeout !== undefined && /^\d+$/.test(opts.timeout) ? { timeoutMs: Number(opts.timeout) } : {}) });
      // with --sentinel: asked now (an unknown name fails before the inputs are read) and again before connecting
      let address = await resolveLiveTarget(live, o);
      let target = formatAddress(address);
      const cluster = opts.cluster !== undefined;
      if (address.db !== 0) {
        throw usageError(cluster ? `a cluster has only database 0: drop /${address.db} from ${target}` : `keys keep their database: instead of /${address.db} in the URL use --db-map (--db-map 0:${address.db})`);
      }
      if (opts.replace && opts.flush) throw usageError('--replace and --flush: choose one (--flush empties the target, nothing is left to replace)');
      const dbMap = parseDbMap(opts.dbMap);
      if (cluster && dbMap) for (const [from, to] of dbMap) if (to !== 0) throw usageError(`--db-map ${from}:${to}: a cluster has only database 0 (map to 0, --db-map ${from}:0)`);
      const rdbVersion = parseTargetVersion(opts.targetVersion);
      let timeoutMs: number | undefined;
      if (opts.timeout !== undefined) {
        if (!/^\d+$/.test(opts.timeout)) throw usageError(`--timeout wants milliseconds, got ${JSON.stringify(opts.timeout)}`);
        timeoutMs = Number(opts.timeout);
      }
      if ((opts.cert === undefined) !== (opts.key === undefined)) throw usageError('--cert and --key go together');
      const connect: ConnectOptions = {};
      if (timeoutMs !== undefined) connect.timeoutMs = timeoutMs;
      if (opts.cacert !== undefined || opts.cert !== undefined) {
        connect.tls = {};
        if (opts.cacert !== undefined) connect.tls.ca = await readFile(opts.cacert);
        if (opts.cert !== undefined) connect.tls.cert = await readFile(opts.cert);
        if (opts.key !== undefined) connect.tls.key = await readFile(opts.key);
      }

      // 1. the inputs: detected and read once (damage and databases a cluster cannot hold refused before any write)
      const inputs: Input[] = [];
      for (const arg of paths) {
        const src = await dataDirSource('rdb-tool', arg, opts, o);
        const path = src?.path ?? arg;
        const detected = src?.kind === 'aof' ? { format: 'aof' as const } : src?.kind === 'rdb' ? { ...(await detectInput(path, 'restore')), format: 'rdb' as const } : await detectInput(path, 'restore');
        const input: Input = { arg, path, format: detected.format === 'resp' ? 'aof' : detected.format, source: sourceJson(src), dbs: null, functions: 0 };
        if (detected.chunks !== undefined) input.chunks = detected.chunks;
        if (input.format === 'aof') {
          input.replayed = await replayAof(path);
          const r = input.replayed;
          if (r.truncated) o.err(o.e.yellow(`warning: ${r.truncated.file} ends early; commands from offset ${r.truncated.offset} on were not replayed (${r.truncated.message})`));
          if (r.failed > 0) o.err(o.e.yellow(`warning: ${r.failed} command(s) of the AOF fail in Redis too and changed nothing`));
        }
        await survey(input);
        inputs.push(input);
      }
      let total: number | null = 0;
      for (const input of inputs) {
        if (input.dbs === null) {
          total = null;
          continue;
        }
        for (const [db, n] of input.dbs) {
          if (total !== null) total += n;
          const to = dbMap?.get(db) ?? db;
          if (cluster && to !== 0) {
            throw new CliExit(ExitCode.Problem, `${input.arg} holds ${plural(n, 'key')} in database ${db} and a cluster has only database 0: map them with --db-map ${db}:0 (nothing was written)`);
          }
        }
      }

      // 2. the target, then the keys
      if (live.kind === 'sentinel') {
        address = await resolveLiveTarget(live, o, address);
        target = formatAddress(address);
      }
      let opened: RestoreTarget;
      try {
        opened = await RestoreTarget.open(address, { cluster, connect });
      } catch (e) {
        if (e instanceof LiveError) {
          if (e.code === 'cluster' && !cluster) throw new CliExit(ExitCode.Usage, `${e.message} (rdb-tool restore ... --cluster redis://${target})`);
          throw new CliExit(exitCodeOf(e), e.message);
        }
        throw e;
      }
      const progress = new KeyProgress(total);
      const inputsJson = inputs.map((i) => ({ input: i.arg, source: i.source, format: i.format, ...(i.dbs ? { keys: [...i.dbs.values()].reduce((a, b) => a + b, 0), functions: i.functions } : {}) }));
      const servers = opened.servers.map((s) => ({ server: s.server, version: s.version, valkey: s.valkey, rdbVersion: s.rdbVersion, keysBefore: s.keys }));
      let summary: RestoreSummary;
      try {
        summary = await restoreKeys(allRecords(inputs), opened, {
          replace: opts.replace ?? false,
          flush: opts.flush ?? false,
          ...(rdbVersion !== undefined ? { rdbVersion } : {}),
          ...(dbMap ? { dbMap } : {}),
          onProgress: (p) => progress.update(p.keys, p.elapsedMs),
        });
      } catch (e) {
        progress.done();
        if (e instanceof LiveError) {
          const s = e instanceof RestoreError ? e.summary : undefined;
          if (opts.json) {
            o.json({ target, cluster, inputs: inputsJson, servers, ...(s ? summaryJson(s) : {}), error: { code: e.code, message: e.message, ...(e.reply !== undefined ? { reply: e.reply } : {}) } });
          }
          const done = s !== undefined && (s.keys > 0 || s.functions > 0) ? ` (${plural(s.keys, 'key')} and ${plural(s.functions, 'function library', 'function libraries')} had been restored)` : s !== undefined && e.code !== 'not-empty' ? ' (nothing had been restored)' : '';
          throw new CliExit(exitCodeOf(e), `${e.message}${done}`);
        }
        throw e;
      } finally {
        await opened.close();
      }
      progress.done();
      if (opts.json) {
        o.json({ target, cluster, inputs: inputsJson, servers, ...summaryJson(summary) });
        return;
      }
      const rate = summary.elapsedMs > 0 ? Math.round((summary.keys * 1000) / summary.elapsedMs) : summary.keys;
      const where = cluster ? `the cluster of ${target} (${plural(opened.servers.length, 'master')})` : target;
      o.out(
        `${o.c.green('restored')} ${plural(summary.keys, 'key')} and ${plural(summary.functions, 'function library', 'function libraries')} into ${where} in ${(summary.elapsedMs / 1000).toFixed(1)} s (${rate.toLocaleString('en-US')} keys/s, RDB ${summary.rdbVersion} payloads)` +
          (summary.expired > 0 ? `; ${plural(summary.expired, 'expired key')} skipped` : '') +
          (summary.flushed ? '; the target was flushed first' : ''),
      );
      if (cluster) for (const [server, n] of Object.entries(summary.perServer)) o.out(`  ${server}: ${plural(n, 'key')}`);
    });
}
