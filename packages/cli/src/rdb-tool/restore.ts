// rdb-tool restore <inputs...> (--cluster <seed> | <redis://host:port>): RDB files, AOFs (replayed offline) or
// keyspace JSON Lines into a live server or cluster, each key with RESTORE ... ABSTTL at the node owning its slot.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { KeyType, KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { matchGlob } from '@redis-persist/bytes';
import { readRdb } from '@redis-persist/rdb';
import { replayAof } from '@redis-persist/replay';
import { LiveError, RestoreError, RestoreTarget, formatAddress, rdbVersionForServer, restoreKeys, type ConnectOptions, type RestoreSummary } from '@redis-persist/live';
import {
  DEFAULT_MAX_BULK_LENGTH,
  checkpointMismatch,
  defaultCheckpointPath,
  findOversizedElement,
  inputIdentity,
  rdbRestoreRecords,
  readCheckpoint,
  removeCheckpoint,
  writeCheckpoint,
  type RestoreCheckpoint,
  type RestoreFilter,
  type RestoreRecord,
} from '@redis-persist/live';
import { CliExit, ExitCode, createOutput, dataDirSource, describeError, interruptSignal, sourceJson, usageError, type Output } from '../common/index.js';
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
  keyPattern?: string[];
  type?: string[];
  db?: string[];
  maxOps?: string;
  resume?: boolean;
  checkpoint?: string | false;
  hints?: boolean;
}

const TYPES: KeyType[] = ['string', 'list', 'set', 'zset', 'hash', 'stream', 'module'];
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `--key-pattern`, `--type`, `--db` as a filter (undefined without any). */
function parseFilter(opts: RestoreOpts): RestoreFilter | undefined {
  const filter: RestoreFilter = {};
  if (opts.keyPattern !== undefined && opts.keyPattern.length > 0) filter.keys = opts.keyPattern;
  if (opts.type !== undefined && opts.type.length > 0) {
    for (const t of opts.type) if (!TYPES.includes(t as KeyType)) throw usageError(`--type must be one of ${TYPES.join(', ')}, got ${JSON.stringify(t)}`);
    filter.types = opts.type as KeyType[];
  }
  if (opts.db !== undefined && opts.db.length > 0) {
    filter.dbs = opts.db.map((d) => {
      if (!/^\d+$/.test(d)) throw usageError(`--db wants a database number, got ${JSON.stringify(d)}`);
      return Number(d);
    });
  }
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** Whether a key passes the filter. */
function wanted(filter: RestoreFilter | undefined, db: number, key: Uint8Array, type: string): boolean {
  if (filter === undefined) return true;
  if (filter.dbs !== undefined && !filter.dbs.includes(db)) return false;
  if (filter.types !== undefined && !filter.types.includes(type as KeyType)) return false;
  const enc = new TextEncoder();
  return filter.keys === undefined || filter.keys.some((p) => matchGlob(typeof p === 'string' ? enc.encode(p) : p, key));
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
  /** Keys per database (those the filter keeps) and functions (unknown for a FIFO). */
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
async function survey(input: Input, filter?: RestoreFilter): Promise<void> {
  const dbs = new Map<number, number>();
  let functions = 0;
  if (input.chunks !== undefined) {
    input.dbs = null;
    return;
  }
  if (input.format === 'rdb') {
    for await (const r of readRdb(input.path, { values: false, file: input.path })) {
      if (r.kind === 'key' && wanted(filter, r.db, r.key, r.type)) dbs.set(r.db, (dbs.get(r.db) ?? 0) + 1);
      else if (r.kind === 'function') functions++;
    }
  } else {
    for await (const r of records(input)) {
      if (r.kind === 'key' && wanted(filter, r.db, r.key, r.type)) dbs.set(r.db, (dbs.get(r.db) ?? 0) + 1);
      else if (r.kind === 'function') functions++;
    }
  }
  input.dbs = dbs;
  input.functions = functions;
}

/** The records of an input, read from its start. */
function records(input: Input): AsyncIterable<RestoreRecord | KeyspaceRecord> | Iterable<RestoreRecord | KeyspaceRecord> {
  if (input.format === 'aof') return input.replayed!.keyspace.records();
  const bytes = input.chunks ?? input.path;
  input.chunks = undefined; // a FIFO is read once
  // an RDB's keys come with their LRU/LFU hints (RESTORE ... IDLETIME / FREQ)
  if (input.format === 'rdb') return rdbRestoreRecords(bytes, { file: input.path });
  return readKeyspaceJsonl(bytes, { file: input.path });
}

async function* allRecords(inputs: Input[]): AsyncGenerator<RestoreRecord | KeyspaceRecord> {
  for (const input of inputs) yield* records(input);
}

/** The records the filter keeps (and function libraries). */
async function* keptRecords(inputs: Input[], filter: RestoreFilter | undefined): AsyncGenerator<KeyspaceRecord> {
  for await (const r of allRecords(inputs)) if (r.kind !== 'key' || wanted(filter, r.db, r.key, r.type)) yield r;
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
    commands: s.commands,
    inPieces: s.inPieces,
    filtered: s.filtered,
    dropped: s.dropped,
    resumed: s.resumed,
    done: s.done,
    maxBulkLength: s.maxBulkLength,
    maxBulkLengthAssumed: s.maxBulkLengthAssumed,
  };
}

/**
 * The library's checkpointing for a checkpoint file: written (atomically) before anything is sent, then as the
 * restore goes on; a resume starts from what it says, redoing the window the interrupted run may have sent.
 */
function checkpointing(
  path: string,
  resumed: RestoreCheckpoint | null,
  run: Pick<RestoreCheckpoint, 'inputs' | 'target' | 'settings' | 'flushed'>,
) {
  const window = 10_000;
  const base = resumed ?? { keys: 0, functions: 0 };
  const cp: RestoreCheckpoint = {
    format: 'redis-persist restore checkpoint',
    version: 1,
    ...run,
    flushed: resumed?.flushed ?? run.flushed,
    done: resumed?.done ?? 0,
    window,
    keys: base.keys,
    functions: base.functions,
    startedAt: resumed?.startedAt ?? new Date().toISOString(),
    updatedAt: '',
  };
  return {
    every: 1000,
    window,
    ...(resumed !== null ? { resumeFrom: resumed.done, replaceBefore: resumed.done + resumed.window } : {}),
    begin: () => writeCheckpoint(path, cp),
    save: async (done: number, s: RestoreSummary) => {
      cp.done = done;
      cp.keys = base.keys + s.keys;
      cp.functions = base.functions + s.functions;
      await writeCheckpoint(path, cp);
    },
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
    .option('--json', 'print one JSON document describing the result')
    .option('--key-pattern <glob>', 'only keys matching this Redis glob (raw key bytes; repeat for several: any of them)', collect)
    .option('--type <t>', `only keys of this type (${TYPES.join(', ')}; repeat for several)`, collect)
    .option('--db <n>', 'only keys of this database of the input (repeat for several; before --db-map)', collect)
    .option('--max-ops <n>', 'send at most n commands per second, 500 or 500/s (RESTOREs, the commands of keys sent in pieces...), bursts of at most n/10')
    .option('--checkpoint <file>', 'where progress is saved while restoring (default <first input>.restore-checkpoint.json; removed once done)')
    .option('--no-checkpoint', 'save no progress (a stopped restore then cannot be resumed)')
    .option('--resume', "go on after an interrupted restore: skip what its checkpoint says was restored, redo what may have been in flight (REPLACE); the inputs, target and filters must be the same")
    .option('--no-hints', "no IDLETIME/FREQ from the RDB's LRU/LFU records");
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
      const filter = parseFilter(opts);
      let maxOps: number | undefined;
      if (opts.maxOps !== undefined) {
        const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(opts.maxOps);
        if (m === null || !(Number(m[1]) > 0)) throw usageError(`--max-ops wants a number of commands per second above 0 (500 or 500/s), got ${JSON.stringify(opts.maxOps)}`);
        maxOps = Number(m[1]);
      }
      if (opts.resume && opts.checkpoint === false) throw usageError('--resume reads the checkpoint: drop --no-checkpoint');
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
          input.replayed = await replayAof(path, { signal: interruptSignal() });
          const r = input.replayed;
          if (r.truncated) o.err(o.e.yellow(`warning: ${r.truncated.file} ends early; commands from offset ${r.truncated.offset} on were not replayed (${r.truncated.message})`));
          if (r.failed > 0) o.err(o.e.yellow(`warning: ${r.failed} command(s) of the AOF fail in Redis too and changed nothing`));
        }
        await survey(input, filter);
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

      // the checkpoint: where it goes, and (--resume) what it says was restored
      let checkpointPath: string | null = null;
      if (opts.checkpoint !== false) {
        if (inputs.some((i) => i.chunks !== undefined)) {
          if (opts.resume || typeof opts.checkpoint === 'string') throw usageError('an input is a pipe (read once): a restore from it cannot be resumed; drop --resume/--checkpoint');
        } else checkpointPath = typeof opts.checkpoint === 'string' ? opts.checkpoint : defaultCheckpointPath(inputs[0].path);
      }
      const cpTarget = { address: opts.sentinel !== undefined ? `sentinel master ${opts.master}` : target, cluster };
      const settings = { dbMap: dbMap ? [...dbMap] : null, filter: filter ?? null, rdbVersion: rdbVersion ?? null };
      let identities: Awaited<ReturnType<typeof inputIdentity>>[] = [];
      let checkpoint: RestoreCheckpoint | null = null;
      try {
        if (checkpointPath !== null) identities = await Promise.all(inputs.map((i) => inputIdentity(i.path)));
        if (opts.resume) {
          checkpoint = await readCheckpoint(checkpointPath!);
          if (checkpoint === null) throw new CliExit(ExitCode.Problem, `--resume: there is no checkpoint ${checkpointPath} (a restore that finished removes it; --checkpoint names another)`);
          const why = checkpointMismatch(checkpoint, identities, cpTarget, settings);
          if (why !== null) throw new CliExit(ExitCode.Problem, `--resume: the checkpoint ${checkpointPath} is not this restore's: ${why}`);
          if (opts.flush) o.err(o.e.yellow('note: --resume does not flush the target again'));
        }
      } catch (e) {
        if (e instanceof LiveError) throw new CliExit(ExitCode.Problem, describeError(e));
        throw e;
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
          if (e.code === 'cluster' && !cluster) throw new CliExit(ExitCode.Usage, `${describeError(e)} (rdb-tool restore ... --cluster redis://${target})`);
          throw new CliExit(exitCodeOf(e), describeError(e));
        }
        throw e;
      }
      for (const s of opened.servers) {
        if (s.maxBulkLength === null) o.err(o.e.yellow(`warning: ${s.server} did not tell its proto-max-bulk-len (${s.configRefused}): assuming ${DEFAULT_MAX_BULK_LENGTH / 1024 / 1024} MB; a longer payload it would refuse`));
      }
      // an element no command can carry unless the target runs EVAL: found before anything is sent
      const refusing = opened.servers.find((s) => s.scriptingRefused !== null);
      if (refusing !== undefined && inputs.every((i) => i.chunks === undefined)) {
        const limit = Math.min(...opened.servers.map((s) => s.maxBulkLength ?? DEFAULT_MAX_BULK_LENGTH));
        const big = await findOversizedElement(keptRecords(inputs, filter), limit);
        if (big !== null) {
          await opened.close();
          throw new CliExit(
            ExitCode.Problem,
            `key ${JSON.stringify(Buffer.from(big.key.subarray(0, 200)).toString('utf8'))} (db ${big.db}) holds a ${big.type === 'string' ? 'string' : 'member or value'} of ${big.length} bytes, longer than the target's proto-max-bulk-len (${limit}): only EVAL can build it there and ${refusing.server} refuses EVAL (${refusing.scriptingRefused}); nothing was written`,
          );
        }
      }
      const progress = new KeyProgress(total);
      const inputsJson = inputs.map((i) => ({ input: i.arg, source: i.source, format: i.format, ...(i.dbs ? { keys: [...i.dbs.values()].reduce((a, b) => a + b, 0), functions: i.functions } : {}) }));
      const servers = opened.servers.map((s) => ({ server: s.server, version: s.version, valkey: s.valkey, rdbVersion: s.rdbVersion, keysBefore: s.keys }));
      let summary: RestoreSummary;
      const signal = interruptSignal();
      try {
        summary = await restoreKeys(allRecords(inputs), opened, {
          signal,
          replace: opts.replace ?? false,
          flush: opts.flush ?? false,
          ...(rdbVersion !== undefined ? { rdbVersion } : {}),
          ...(dbMap ? { dbMap } : {}),
          ...(filter ? { filter } : {}),
          ...(maxOps !== undefined ? { maxOpsPerSecond: maxOps } : {}),
          hints: opts.hints !== false,
          onProgress: (p) => progress.update(p.keys, p.elapsedMs),
          ...(checkpointPath !== null ? { checkpoint: checkpointing(checkpointPath, checkpoint, { inputs: identities, target: cpTarget, settings, flushed: opts.flush === true }) } : {}),
        });
      } catch (e) {
        progress.done();
        if (e instanceof LiveError) {
          const s = e instanceof RestoreError ? e.summary : undefined;
          if (opts.json) {
            o.json({ target, cluster, inputs: inputsJson, servers, ...(s ? summaryJson(s) : {}), error: { code: e.code, message: describeError(e), ...(e.reply !== undefined ? { reply: e.reply } : {}) } });
          }
          const done = s !== undefined && (s.keys > 0 || s.functions > 0) ? ` (${plural(s.keys, 'key')} and ${plural(s.functions, 'function library', 'function libraries')} had been restored)` : s !== undefined && e.code !== 'not-empty' ? ' (nothing had been restored)' : '';
          let next = '';
          if (checkpointPath !== null && e.code !== 'not-empty' && s !== undefined) next = `; ${checkpointPath} says ${plural(s.done, 'record')} from the start are restored: rerun with --resume to go on`;
          else if (checkpointPath !== null && e.code === 'not-empty' && !opts.resume && (await readCheckpoint(checkpointPath).catch(() => null)) !== null) next = `; ${checkpointPath} is the checkpoint of an interrupted restore: --resume goes on with it`;
          throw new CliExit(exitCodeOf(e), `${describeError(e)}${done}${next}`);
        }
        if (signal.aborted && checkpointPath !== null) {
          // Ctrl-C: the restore stopped after its replies and saved its checkpoint (the runner exits 130)
          const saved = await readCheckpoint(checkpointPath).catch(() => null);
          if (saved !== null) o.err(`${checkpointPath} says ${plural(saved.done, 'record')} from the start are restored: rerun with --resume to go on`);
        }
        throw e;
      } finally {
        await opened.close();
      }
      progress.done();
      if (checkpointPath !== null) await removeCheckpoint(checkpointPath);
      if (opts.json) {
        o.json({ target, cluster, inputs: inputsJson, servers, ...summaryJson(summary) });
        return;
      }
      const rate = summary.elapsedMs > 0 ? Math.round((summary.keys * 1000) / summary.elapsedMs) : summary.keys;
      const where = cluster ? `the cluster of ${target} (${plural(opened.servers.length, 'master')})` : target;
      o.out(
        `${o.c.green('restored')} ${plural(summary.keys, 'key')} and ${plural(summary.functions, 'function library', 'function libraries')} into ${where} in ${(summary.elapsedMs / 1000).toFixed(1)} s (${rate.toLocaleString('en-US')} keys/s, RDB ${summary.rdbVersion} payloads)` +
          (summary.expired > 0 ? `; ${plural(summary.expired, 'expired key')} skipped` : '') +
          (summary.flushed ? '; the target was flushed first' : '') +
          (summary.inPieces > 0 ? `; ${plural(summary.inPieces, 'key')} sent in pieces (longer than proto-max-bulk-len ${summary.maxBulkLength})` : '') +
          (summary.filtered > 0 ? `; ${plural(summary.filtered, 'key')} left out by the filter` : '') +
          (summary.resumed > 0 ? `; resumed after ${plural(summary.resumed, 'record')} restored before` : ''),
      );
      if (cluster) for (const [server, n] of Object.entries(summary.perServer)) o.out(`  ${server}: ${plural(n, 'key')}`);
    });
}
