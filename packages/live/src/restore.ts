// Restore a keyspace (records of @redis-persist/keyspace) into a live server or cluster: each key with
// `RESTORE key <abs-ms> <payload> ABSTTL [REPLACE]` at the node owning its slot, the payload encoded for the
// server's RDB version; function libraries with FUNCTION RESTORE on every master.
import { Crc64 } from '@redis-persist/bytes';
import type { KeyRecord, KeyspaceRecord } from '@redis-persist/keyspace';
import { encodeDumpPayload, RdbWriterError } from '@redis-persist/rdb-writer';
import type { RespValue } from '@redis-persist/resp';
import { connectRedis, parseInfo, replyError, replyText, type Command, type ConnectOptions, type RedisConnection } from './connection.js';
import { LiveError } from './errors.js';
import { ClusterRouter } from './router.js';
import { formatAddress, parseRedisUrl, type RedisAddress } from './url.js';

/** One server written to (a master of a cluster, or the one server). */
export interface RestoreServer {
  /** `host:port`. */
  server: string;
  /** `redis_version` of INFO server (Valkey: `valkey_version`). */
  version: string;
  /** True for Valkey (INFO server has `valkey_version` or `server_name:valkey`). */
  valkey: boolean;
  /** The newest RDB version its RESTORE accepts (see {@link rdbVersionForServer}). */
  rdbVersion: number;
  /** Keys it held before the restore (all databases). */
  keys: number;
  /** Databases holding keys before the restore (`db3` → 3). */
  dbs: number[];
  /** Function libraries it held before the restore. */
  libraries: number;
}

export interface RestoreTargetOptions {
  /** The URL names a seed node of a cluster: keys go to the masters owning their slots. */
  cluster?: boolean;
  /** Connection options (TLS material, timeouts) for every node. */
  connect?: ConnectOptions;
  /** Most RESTOREs unanswered per node. Default 64. */
  maxInFlight?: number;
}

export interface RestoreOptions {
  /** RESTORE ... REPLACE and FUNCTION RESTORE ... REPLACE: keys and libraries already there are overwritten. */
  replace?: boolean;
  /** FLUSHALL (and FUNCTION FLUSH) on every master before restoring. */
  flush?: boolean;
  /** Payloads for this RDB version instead of the server's (see {@link rdbVersionForServer}). */
  rdbVersion?: number;
  /** Input database → target database (outside a cluster any; in a cluster every target must be 0). */
  dbMap?: ReadonlyMap<number, number>;
  /** Most payload bytes of unanswered RESTOREs overall. Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Called about every 100 ms while keys are restored, and once at the end. */
  onProgress?: (p: RestoreProgress) => void;
  /** The clock keys' expiry is checked against (default Date.now). */
  now?: () => number;
}

export interface RestoreProgress {
  /** Keys restored (answered OK). */
  keys: number;
  /** Keys skipped because their expiry had passed. */
  expired: number;
  functions: number;
  /** Payload bytes sent. */
  bytes: number;
  elapsedMs: number;
}

export interface RestoreSummary extends RestoreProgress {
  cluster: boolean;
  /** RDB version of the payloads. */
  rdbVersion: number;
  valkey: boolean;
  /** Whether the target was flushed first. */
  flushed: boolean;
  /** Keys restored per server (`host:port`), in a cluster the master that answered. */
  perServer: Record<string, number>;
  /** Redirections followed (cluster). */
  moved: number;
  ask: number;
}

/** A restore that stopped part way: `summary` says what was restored before. */
export class RestoreError extends LiveError {
  summary?: RestoreSummary;
}

/**
 * The newest RDB version whose DUMP payloads a server's RESTORE accepts, from its INFO server version: Redis 2.6-3.0
 * 6, 3.2 7, 4.0 8, 5.0-6.2 9, 7.0 10, 7.2 11, 7.4+ 12; Valkey 7.2-8.x 11, 9.0+ 80 (Valkey's own format). Null
 * before 2.6 (no RESTORE).
 */
export function rdbVersionForServer(version: string, valkey = false): number | null {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return null;
  const v = Number(m[1]) * 100 + Number(m[2]);
  if (valkey) return v >= 900 ? 80 : 11;
  if (v < 206) return null;
  if (v <= 300) return 6;
  if (v < 400) return 7;
  if (v < 500) return 8;
  if (v < 700) return 9;
  if (v < 702) return 10;
  if (v < 704) return 11;
  return 12;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A key for messages: its text as JSON (bytes that are not UTF-8 shown as replacement characters). */
function showKey(key: Uint8Array): string {
  return JSON.stringify(utf8.decode(key.subarray(0, 200))) + (key.length > 200 ? '…' : '');
}

function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m !== null && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}

/** The RDB length encoding (6, 14, 32 or 64 bits). */
function rdbLength(n: number): number[] {
  if (n < 64) return [n];
  if (n < 16384) return [0x40 | (n >> 8), n & 0xff];
  if (n <= 0xffffffff) return [0x80, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const hi = Math.floor(n / 2 ** 32);
  return [0x81, (hi >>> 24) & 0xff, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

/**
 * A FUNCTION DUMP payload holding one library, as FUNCTION RESTORE takes it: the FUNCTION2 opcode (245), the
 * library's code as an RDB string, the RDB version (2 bytes LE) and the CRC64 (LE) of everything before it.
 */
export function encodeFunctionPayload(code: Uint8Array, rdbVersion: number): Uint8Array {
  const len = rdbLength(code.length);
  const out = new Uint8Array(1 + len.length + code.length + 2 + 8);
  out[0] = 0xf5;
  out.set(len, 1);
  out.set(code, 1 + len.length);
  const vAt = 1 + len.length + code.length;
  out[vAt] = rdbVersion & 0xff;
  out[vAt + 1] = (rdbVersion >>> 8) & 0xff;
  new Crc64().update(out, 0, vAt + 2).writeLE(out, vAt + 2);
  return out;
}

async function describeServer(conn: RedisConnection): Promise<RestoreServer> {
  const info = parseInfo((await conn.callText('INFO')) ?? '');
  const valkeyVersion = info.get('valkey_version');
  const valkey = valkeyVersion !== undefined || info.get('server_name') === 'valkey';
  const version = valkeyVersion ?? info.get('redis_version') ?? '';
  const rdbVersion = rdbVersionForServer(version, valkey);
  if (rdbVersion === null) throw new LiveError('unsupported', `Redis ${version || '(version unknown)'} has no RESTORE (2.6+ needed)`, conn.server);
  let keys = 0;
  const dbs: number[] = [];
  for (const [field, value] of info) {
    const m = /^db(\d+)$/.exec(field);
    const k = /(?:^|,)keys=(\d+)/.exec(value);
    if (m && k && Number(k[1]) > 0) {
      keys += Number(k[1]);
      dbs.push(Number(m[1]));
    }
  }
  let libraries = 0;
  if (versionAtLeast(version, 7, 0) || valkey) {
    const v = await conn.request(['FUNCTION', 'LIST']);
    if (v.type === 'array') libraries = v.value?.length ?? 0;
  }
  return { server: conn.server, version, valkey, rdbVersion, keys, dbs, libraries };
}

/**
 * Where a restore writes: one server, or the masters of a cluster (routed by a {@link ClusterRouter}). Open it with
 * {@link RestoreTarget.open}; {@link servers} says what each master holds and which RDB version it reads.
 */
export class RestoreTarget {
  private constructor(
    readonly cluster: boolean,
    readonly servers: RestoreServer[],
    /** The single server's connection (outside a cluster). */
    readonly connection: RedisConnection | null,
    /** The router (cluster). */
    readonly router: ClusterRouter | null,
    readonly address: RedisAddress,
  ) {}

  /**
   * Connects: to the one server, or (`cluster`) to the seed, then every master of its slot map. A server that is a
   * cluster node is refused without `cluster` (its other slots live elsewhere), and a `cluster` URL that is not one.
   */
  static async open(url: string | RedisAddress, options: RestoreTargetOptions = {}): Promise<RestoreTarget> {
    const address = typeof url === 'string' ? parseRedisUrl(url) : url;
    const maxInFlight = options.maxInFlight ?? 64;
    if (options.cluster) {
      if (address.db !== 0) throw new LiveError('url', `a cluster has only database 0: drop /${address.db} from the URL`, formatAddress(address));
      const router = await ClusterRouter.connect(address, { ...options.connect, maxInFlight });
      try {
        const servers: RestoreServer[] = [];
        for (const { connection } of await router.masters()) servers.push(await describeServer(connection));
        return new RestoreTarget(true, servers, null, router, address);
      } catch (e) {
        await router.close();
        throw e;
      }
    }
    const conn = await connectRedis(address, { ...options.connect, maxInFlight });
    try {
      const clusterInfo = await conn.request(['INFO', 'cluster']);
      if (clusterInfo.type !== 'error' && /^cluster_enabled:1/m.test(replyText(clusterInfo) ?? '')) {
        throw new LiveError('cluster', 'this server is a cluster node: restore into the cluster (--cluster) so that each key goes to the node owning its slot', conn.server);
      }
      return new RestoreTarget(false, [await describeServer(conn)], conn, null, address);
    } catch (e) {
      await conn.close();
      throw e;
    }
  }

  /** Every master's connection (the one server outside a cluster). */
  async masters(): Promise<RedisConnection[]> {
    if (this.connection !== null) return [this.connection];
    return (await this.router!.masters()).map((m) => m.connection);
  }

  async close(): Promise<void> {
    await this.connection?.close();
    await this.router?.close();
  }
}

/** Resolves when `pred()` holds; re-checked whenever `kick()` is called. */
class Gate {
  private waiters: (() => void)[] = [];
  async until(pred: () => boolean): Promise<void> {
    while (!pred()) await new Promise<void>((r) => this.waiters.push(r));
  }
  kick(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

/**
 * Restores `records` into `target` (a URL, or a {@link RestoreTarget} left open for the caller). Refuses
 * (LiveError 'not-empty') a target holding keys or functions unless `replace` or `flush`. Keys whose expiry has
 * passed are skipped; the others are restored with their absolute expiry (ABSTTL, Redis 5.0+; before that the
 * remaining time). Each key goes, alone, to the node serving its slot (never a multi-key command). Function
 * libraries go to every master. The first failure stops the restore: a {@link RestoreError} whose `summary` says
 * what had been restored.
 */
export async function restoreKeys(
  records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>,
  target: string | RestoreTarget,
  options: RestoreOptions & RestoreTargetOptions = {},
): Promise<RestoreSummary> {
  const t = typeof target === 'string' ? await RestoreTarget.open(target, options) : target;
  try {
    return await restoreInto(records, t, options);
  } finally {
    if (typeof target === 'string') await t.close();
  }
}

/** The target database of a key of input database `db`, or a LiveError when it cannot go anywhere. */
function mapDb(db: number, dbMap: ReadonlyMap<number, number> | undefined, cluster: boolean, key: Uint8Array): number {
  const to = dbMap?.get(db) ?? db;
  if (cluster && to !== 0) {
    const e = new LiveError('cluster', `key ${showKey(key)} is in database ${db} and a cluster has only database 0: map it with --db-map ${db}:0 (or leave that database out)`);
    throw e;
  }
  return to;
}

async function restoreInto(records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>, t: RestoreTarget, options: RestoreOptions): Promise<RestoreSummary> {
  const started = Date.now();
  const now = options.now ?? Date.now;
  const servers = t.servers;
  const oldest = servers.reduce((a, b) => (a.rdbVersion === 80 && b.rdbVersion !== 80 ? b : b.rdbVersion === 80 ? a : a.rdbVersion <= b.rdbVersion ? a : b));
  const rdbVersion = options.rdbVersion ?? oldest.rdbVersion;
  const valkey = rdbVersion === 80;
  if (options.dbMap && t.cluster) {
    for (const [from, to] of options.dbMap) if (to !== 0) throw new LiveError('cluster', `--db-map ${from}:${to}: a cluster has only database 0`);
  }
  const absTtl = servers.every((s) => s.valkey || versionAtLeast(s.version, 5, 0));
  const canReplace = servers.every((s) => s.valkey || versionAtLeast(s.version, 3, 0));
  if (options.replace && !canReplace) throw new LiveError('unsupported', `RESTORE ... REPLACE needs Redis 3.0+ (${oldest.server} runs ${oldest.version})`, oldest.server);

  const summary: RestoreSummary = {
    cluster: t.cluster,
    rdbVersion,
    valkey,
    flushed: false,
    keys: 0,
    expired: 0,
    functions: 0,
    bytes: 0,
    elapsedMs: 0,
    perServer: {},
    moved: 0,
    ask: 0,
  };
  const fail = (e: unknown): never => {
    summary.elapsedMs = Date.now() - started;
    if (t.router) Object.assign(summary, { moved: t.router.stats.moved, ask: t.router.stats.ask });
    if (e instanceof RestoreError) {
      e.summary ??= summary;
      throw e;
    }
    const err = e instanceof LiveError ? Object.assign(new RestoreError(e.code, e.message.startsWith(`${e.server}: `) ? e.message.slice(e.server!.length + 2) : e.message, e.server, e.cause), { reply: e.reply }) : e;
    if (err instanceof RestoreError) err.summary = summary;
    throw err;
  };

  // refuse a target that holds data, or empty it first
  const busy = servers.filter((s) => s.keys > 0 || s.libraries > 0);
  if (options.flush) {
    const masters = await t.masters();
    await Promise.all(
      masters.map(async (m, i) => {
        await m.call('FLUSHALL');
        if (servers[i].libraries > 0) await m.call('FUNCTION', 'FLUSH');
      }),
    );
    summary.flushed = true;
  } else if (busy.length > 0 && !options.replace) {
    const what = busy.map((s) => `${s.server} holds ${s.keys} key(s)${s.dbs.length > 0 ? ` (db ${s.dbs.join(', ')})` : ''}${s.libraries > 0 ? ` and ${s.libraries} function librar${s.libraries === 1 ? 'y' : 'ies'}` : ''}`);
    fail(new LiveError('not-empty', `the target is not empty: ${what.join('; ')}; nothing was written. Pass --replace to overwrite keys of the same name (others stay), or --flush to empty it first`));
  }

  const maxBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
  const maxCount = 1024;
  let inFlight = 0;
  let inFlightBytes = 0;
  let failure: unknown = null;
  const gate = new Gate();
  let lastProgress = 0;
  const progress = () => {
    const at = Date.now();
    if (options.onProgress && at - lastProgress >= 100) {
      lastProgress = at;
      options.onProgress({ keys: summary.keys, expired: summary.expired, functions: summary.functions, bytes: summary.bytes, elapsedMs: at - started });
    }
  };
  const single = t.connection;
  let currentDb = t.address.db;

  const settle = (rec: KeyRecord, db: number, size: number, server: string) => (v: RespValue) => {
    inFlight--;
    inFlightBytes -= size;
    if (v.type === 'error') {
      const e = replyError(v.value, server, 'RESTORE');
      const err = new RestoreError(e.code, `RESTORE of key ${showKey(rec.key)}${t.cluster ? '' : ` (db ${db})`} failed: ${v.value}`, server);
      err.reply = v.value;
      failure ??= err;
    } else {
      summary.keys++;
      summary.perServer[server] = (summary.perServer[server] ?? 0) + 1;
    }
    gate.kick();
  };
  const broken = (e: unknown) => {
    inFlight--;
    failure ??= e;
    gate.kick();
  };

  for await (const rec of records as AsyncIterable<KeyspaceRecord>) {
    if (failure !== null) break;
    if (rec.kind === 'function') {
      // libraries before the keys that may call them: wait for nothing, FUNCTION RESTORE is independent of keys
      if (!servers.every((s) => s.valkey || versionAtLeast(s.version, 7, 0))) {
        fail(new LiveError('unsupported', `function library ${JSON.stringify(rec.library)}: functions need Redis 7.0+ (${oldest.server} runs ${oldest.version})`, oldest.server));
      }
      const payload = encodeFunctionPayload(rec.code, Math.max(10, rdbVersion === 80 ? 11 : rdbVersion));
      const args: Command = options.replace ? ['FUNCTION', 'RESTORE', payload, 'REPLACE'] : ['FUNCTION', 'RESTORE', payload];
      try {
        await Promise.all((await t.masters()).map((m) => m.call(...args)));
      } catch (e) {
        fail(e instanceof LiveError ? new LiveError(e.code, `FUNCTION RESTORE of library ${JSON.stringify(rec.library)} failed: ${e.reply ?? e.message}`, e.server) : e);
      }
      summary.functions++;
      continue;
    }
    let db: number;
    try {
      db = mapDb(rec.db, options.dbMap, t.cluster, rec.key);
    } catch (e) {
      failure = e;
      break;
    }
    const at = now();
    if (rec.expireAt !== null && rec.expireAt <= at) {
      summary.expired++;
      continue;
    }
    let payload: Uint8Array;
    try {
      payload = encodeDumpPayload(rec, rdbVersion, { valkey });
    } catch (e) {
      if (e instanceof RdbWriterError) {
        failure = new LiveError('unsupported', `key ${showKey(rec.key)} (db ${rec.db}) cannot be restored as RDB ${rdbVersion}: ${e.message}`);
        break;
      }
      throw e;
    }
    const ttl = rec.expireAt === null ? 0 : absTtl ? rec.expireAt : Math.max(1, rec.expireAt - at);
    const args: (string | number | Uint8Array)[] = ['RESTORE', rec.key, ttl, payload];
    if (absTtl && rec.expireAt !== null) args.push('ABSTTL');
    if (options.replace) args.push('REPLACE');
    // bounded: count and payload bytes of unanswered RESTOREs (one oversized payload still goes alone)
    await gate.until(() => failure !== null || (inFlight < maxCount && (inFlight === 0 || inFlightBytes + payload.length <= maxBytes)));
    if (failure !== null) break;
    inFlight++;
    inFlightBytes += payload.length;
    summary.bytes += payload.length;
    if (single !== null) {
      await single.ready(db !== currentDb ? 2 : 1);
      if (db !== currentDb) {
        // SELECT and the RESTORE go out back to back; its reply is checked with the next replies
        currentDb = db;
        inFlight++;
        single.send(['SELECT', db]).then((v) => {
          inFlight--;
          if (v.type === 'error') failure ??= replyError(v.value, single.server, `SELECT ${db}`);
          gate.kick();
        }, broken);
      }
      single.send(args).then(settle(rec, db, payload.length, single.server), broken);
    } else {
      const router = t.router!;
      router.route({ key: rec.key, args }).then(({ reply, server }) => settle(rec, db, payload.length, server)(reply), broken);
    }
    progress();
  }
  await gate.until(() => inFlight === 0);
  summary.elapsedMs = Date.now() - started;
  if (t.router) Object.assign(summary, { moved: t.router.stats.moved, ask: t.router.stats.ask });
  if (failure !== null) fail(failure);
  options.onProgress?.({ keys: summary.keys, expired: summary.expired, functions: summary.functions, bytes: summary.bytes, elapsedMs: summary.elapsedMs });
  return summary;
}
