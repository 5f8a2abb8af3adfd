// Restore a keyspace (records of @redis-persist/keyspace) into a live server or cluster: each key with
// `RESTORE key <abs-ms> <payload> ABSTTL [REPLACE] [IDLETIME s | FREQ n]` at the node owning its slot, the payload
// encoded for the server's RDB version; a key whose payload is longer than the target's proto-max-bulk-len built
// with commands under a temporary name in its slot and renamed into place; function libraries with FUNCTION
// RESTORE on every master. Filters, a rate limit, and a checkpoint to resume from.
import { Crc64, matchGlob, bytesEqual } from '@redis-persist/bytes';
import type { KeyRecord, KeyspaceRecord, KeyType } from '@redis-persist/keyspace';
import { encodeDumpPayload, RdbWriterError } from '@redis-persist/rdb-writer';
import type { RespValue } from '@redis-persist/resp';
import { commandName, connectRedis, parseInfo, replyError, replyText, type Command, type ConnectOptions, type RedisConnection } from './connection.js';
import { LiveError } from './errors.js';
import { ClusterRouter } from './router.js';
import { formatAddress, parseRedisUrl, type RedisAddress } from './url.js';
import { DEFAULT_MAX_BULK_LENGTH, longestElement, pieceCommands, pieceSize, sizeCommand, tempKeyName, type PieceOptions } from './restore-pieces.js';
import { RateLimiter } from './restore-rate.js';
import type { RestoreRecord } from './restore-input.js';

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
  /** Its proto-max-bulk-len (`CONFIG GET`), or null when CONFIG was refused (then 512 MB is assumed). */
  maxBulkLength: number | null;
  /** Why `CONFIG GET proto-max-bulk-len` gave nothing (the server's reply), when it did not. */
  configRefused?: string;
  /** Null when it runs scripts (`EVAL "return 1" 0` answered), else its refusal. */
  scriptingRefused: string | null;
}

/** Options of {@link RestoreTarget}: a cluster or not, and connection options. */
export interface RestoreTargetOptions {
  /** The URL names a seed node of a cluster: keys go to the masters owning their slots. */
  cluster?: boolean;
  /** Connection options (TLS material, timeouts) for every node. */
  connect?: ConnectOptions;
  /** Most RESTOREs unanswered per node. Default 64. */
  maxInFlight?: number;
}

/** Options of {@link restoreKeys}: replace or flush, filters, db map, rate, checkpoints, progress, cancelling. */
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
  /** Only keys matching these (of the input, before `dbMap`); function libraries always go. */
  filter?: RestoreFilter;
  /** Most commands sent per second (RESTORE, each command of a key in pieces, SELECT...), with a burst of a tenth of it. */
  maxOpsPerSecond?: number;
  /** `RESTORE ... IDLETIME` / `FREQ` from the records' `idle` / `freq` (RDB inputs; Redis 5.0+). Default true. */
  hints?: boolean;
  /** The proto-max-bulk-len to respect instead of the servers' (the smallest of them; 512 MB where CONFIG is refused). */
  maxBulkLength?: number;
  /** How keys in pieces are cut (bytes and elements per command, bytes per EVAL step). */
  pieces?: Pick<PieceOptions, 'batchBytes' | 'batchItems' | 'evalBytes'>;
  /** Progress saved as it goes, and a resume. */
  checkpoint?: RestoreCheckpointing;
  /**
   * Stops the restore: nothing more is sent, the replies under way are awaited, a key being built in pieces is
   * removed (its temporary key deleted), the checkpoint is saved (`save`) with what is done, and the call rejects
   * with `signal.reason`.
   */
  signal?: AbortSignal;
}

/** Which keys of the input are restored (all that are given must match). */
export interface RestoreFilter {
  /** Redis globs (`user:*`, `[a-c]?`), matched on the raw key bytes: the key matches one of them. */
  keys?: (string | Uint8Array)[];
  types?: KeyType[];
  /** Databases of the input. */
  dbs?: number[];
}

/**
 * Records are numbered from 0 in the order given, each function library and each key once (a key handed out in
 * pieces once), those filtered out or expired too. `save(done)` is called with how many records from the start
 * are restored (every one of them answered OK, or skipped) whenever that count moved on by `every` (default 1000)
 * or a second has passed, and once at the end (also after a failure); record `done + window` is never sent before
 * a save saying `done` has resolved, so an interrupted run sent nothing from `saved + window` on. A resume passes
 * `resumeFrom: saved` (those records are read and skipped; the target is neither checked for emptiness nor
 * flushed) and `replaceBefore: saved + window`: those records are restored with REPLACE semantics (a key restored
 * in pieces is RENAMEd over the old one), so a key the interrupted run wrote is written again exactly.
 */
export interface RestoreCheckpointing {
  /**
   * Called once the target was found fit (empty, or `replace`/`flush`/resuming), before it is flushed or anything
   * is written: where a first checkpoint is saved (a run killed after the flush must not leave an older one).
   */
  begin?: () => Promise<void>;
  resumeFrom?: number;
  replaceBefore?: number;
  /** Saves the checkpoint: `done` records of the input are restored, with the summary so far. */
  save?: (done: number, summary: RestoreSummary) => Promise<void>;
  every?: number;
  /** Default 10000 (at least `every`). */
  window?: number;
}

/** Counts of a restore so far: keys restored, expired, skipped, functions, bytes. */
export interface RestoreProgress {
  /** Keys restored (answered OK). */
  keys: number;
  /** Keys skipped because their expiry had passed. */
  expired: number;
  functions: number;
  /** Payload bytes sent (RESTORE payloads, and the arguments of keys sent in pieces). */
  bytes: number;
  elapsedMs: number;
  /** Commands sent. */
  commands: number;
}

/** What a restore did: the progress counts plus the target, the payload version and whether it was flushed. */
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
  /** Keys restored in pieces (their payload was longer than `maxBulkLength`, or they came in pieces). */
  inPieces: number;
  /** Keys left out by the filter. */
  filtered: number;
  /** Keys whose pieces stopped before their last one (a damaged input): nothing of them was kept. */
  dropped: number;
  /** Records skipped because a checkpoint said they were restored (`resumeFrom`). */
  resumed: number;
  /** The proto-max-bulk-len respected. */
  maxBulkLength: number;
  /** Servers whose proto-max-bulk-len could not be read (CONFIG refused): 512 MB was assumed. */
  maxBulkLengthAssumed: string[];
  /** Records from the start known to be restored (what the last checkpoint save said, or would say). */
  done: number;
}

/** A restore that stopped part way: `summary` says what was restored before. */
export class RestoreError extends LiveError {
  override readonly name = 'RestoreError';
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
  if (rdbVersion === null) throw new LiveError('unsupported', `Redis ${version || '(version unknown)'} has no RESTORE (2.6+ needed)`, { server: conn.server });
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
  // proto-max-bulk-len: longer payloads go in pieces
  let maxBulkLength: number | null = null;
  let configRefused: string | undefined;
  const cfg = await conn.request(['CONFIG', 'GET', 'proto-max-bulk-len']);
  if (cfg.type === 'array' && cfg.value !== null && cfg.value.length >= 2) {
    const n = Number(replyText(cfg.value[1]!) ?? '');
    if (Number.isSafeInteger(n) && n > 0) maxBulkLength = n;
    else configRefused = `CONFIG GET proto-max-bulk-len answered ${JSON.stringify(replyText(cfg.value[1]!))}`;
  } else configRefused = cfg.type === 'error' ? cfg.value : 'CONFIG GET proto-max-bulk-len answered nothing';
  const probe = await conn.request(['EVAL', 'return 1', 0]);
  const scriptingRefused = probe.type === 'error' ? probe.value : null;
  const server: RestoreServer = { server: conn.server, version, valkey, rdbVersion, keys, dbs, libraries, maxBulkLength, scriptingRefused };
  if (configRefused !== undefined) server.configRefused = configRefused;
  return server;
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
      if (address.db !== 0) throw new LiveError('url', `a cluster has only database 0: drop /${address.db} from the URL`, { server: formatAddress(address) });
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
        throw new LiveError('cluster', 'this server is a cluster node: restore into the cluster (`cluster`) so that each key goes to the node owning its slot', { server: conn.server });
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

  /** Closes the connections. */
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
  records: AsyncIterable<RestoreRecord | KeyspaceRecord> | Iterable<RestoreRecord | KeyspaceRecord>,
  target: string | RestoreTarget,
  options: RestoreOptions & RestoreTargetOptions = {},
): Promise<RestoreSummary> {
  options.signal?.throwIfAborted();
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
    const e = new LiveError('cluster', `key ${showKey(key)} is in database ${db} and a cluster has only database 0: map it with \`dbMap\` ${db}:0 (or leave that database out)`);
    throw e;
  }
  return to;
}

/** `host:port` (or `[v6]:port`) back to an address. */
function nodeOfServer(server: string): { host: string; port: number } {
  const at = server.lastIndexOf(':');
  return { host: server.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(server.slice(at + 1)) };
}

/** Thrown by a key in pieces whose commands were redirected (cluster, pipelined on one node): redo it. */
class Redirected extends Error {}

/** What the restore of one key in pieces needs from the run. */
interface PieceContext {
  t: RestoreTarget;
  summary: RestoreSummary;
  limiter: RateLimiter | null;
  pieceOptions: PieceOptions;
  scriptingRefused: { server: string; reply: string } | null;
  /** The single server's selected database (outside a cluster). */
  selected: { db: number };
  signal: AbortSignal | undefined;
}

/**
 * One key built in pieces under its temporary name: `DEL tmp` first (what an interrupted run left goes), the
 * commands of each piece, then (once every reply was OK) a size check, `PEXPIREAT` for a TTL and `RENAME` (or
 * `RENAMENX` without replace) into place. Outside a cluster the commands are pipelined on the connection; in a
 * cluster pipelined on the connection of the node that answered the first one (a redirection then redoes the key),
 * or (`sequential`) each routed alone and awaited, following MOVED/ASK.
 */
class PieceSession {
  private pending = 0;
  private readonly idle = new Gate();
  private error: LiveError | null = null;
  private redirected = false;
  private expected = 0;
  private checkSize = true;
  private conn: RedisConnection | null = null;
  server = '';
  readonly tmp: Uint8Array;

  constructor(
    private readonly cx: PieceContext,
    private readonly rec: KeyRecord,
    private readonly db: number,
    private readonly sequential: boolean,
  ) {
    this.tmp = tempKeyName(db, rec.key);
  }

  private describe(): string {
    return `key ${showKey(this.rec.key)}${this.cx.t.cluster ? '' : ` (db ${this.db})`}`;
  }

  async start(): Promise<void> {
    const { t } = this.cx;
    if (t.connection !== null) {
      const c = t.connection;
      this.server = c.server;
      if (this.cx.selected.db !== this.db) {
        await this.cx.limiter?.take();
        this.cx.summary.commands++;
        this.cx.selected.db = this.db;
        await c.call('SELECT', this.db);
      }
      this.conn = c;
      await this.call(['DEL', this.tmp]);
      return;
    }
    const router = t.router!;
    await this.cx.limiter?.take();
    this.cx.summary.commands++;
    const { reply, server } = await router.route({ key: this.tmp, args: ['DEL', this.tmp] });
    if (reply.type === 'error') throw this.fail('DEL', reply.value, server);
    this.server = server;
    if (!this.sequential) this.conn = await router.connectionFor(nodeOfServer(server));
  }

  private fail(cmd: string, reply: string, server: string): LiveError {
    const e = replyError(reply, server, cmd);
    const err = new RestoreError(e.code, `restoring ${this.describe()} in pieces: ${cmd} failed: ${reply}`, { server });
    err.reply = reply;
    return err;
  }

  /** The reply of `cmd`, error replies as values, after the commands sent before it. */
  private async call(cmd: Command): Promise<RespValue> {
    this.cx.signal?.throwIfAborted();
    await this.cx.limiter?.take();
    this.cx.summary.commands++;
    if (this.conn !== null) {
      await this.conn.ready();
      return this.conn.send(cmd);
    }
    const { reply, server } = await this.cx.t.router!.route({ key: this.tmp, args: cmd });
    this.server = server;
    return reply;
  }

  private check(cmd: Command, v: RespValue): void {
    if (v.type !== 'error' || this.error !== null) return;
    if (this.cx.t.cluster && !this.sequential && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(v.value)) {
      this.redirected = true;
      this.error = new LiveError('cluster', v.value, { server: this.server });
      return;
    }
    this.error = this.fail(commandName(cmd), v.value, this.server);
  }

  /** Sends the commands of one piece (the whole key, or the next piece of it). */
  async add(piece: KeyRecord): Promise<void> {
    const refused = this.cx.scriptingRefused;
    if (refused !== null) {
      const longest = longestElement(piece);
      if (longest > this.cx.pieceOptions.maxBulkLength) {
        throw new RestoreError('unsupported', `${this.describe()} holds a ${piece.type === 'string' ? 'string' : 'member or value'} of ${longest} bytes, longer than the target's proto-max-bulk-len (${this.cx.pieceOptions.maxBulkLength}): only EVAL can build it there, and ${refused.server} refuses EVAL (${refused.reply})`, { server: refused.server });
      }
    }
    if (piece.type === 'hash' && piece.value.some((h) => h.expireAt !== null && h.expireAt !== undefined)) this.checkSize = false;
    this.expected += pieceSize(piece);
    for (const cmd of pieceCommands(piece, this.tmp, this.cx.pieceOptions)) {
      if (this.error !== null) return;
      let bytes = 0;
      for (let i = 2; i < cmd.length; i++) bytes += cmd[i]!.length;
      this.cx.summary.bytes += bytes;
      if (this.conn === null) {
        this.check(cmd, await this.call(cmd));
        continue;
      }
      // the rate limiter and the connection's room awaited here, in the loop, then sent in the same tick: the
      // commands go out in their order (XADDs out of order fail; an RPUSH out of order builds another list)
      await this.cx.limiter?.take();
      this.cx.summary.commands++;
      await this.conn.ready();
      const sent = this.conn.send(cmd);
      this.pending++;
      sent.then(
        (v) => {
          this.pending--;
          this.check(cmd, v);
          this.idle.kick();
        },
        (e: unknown) => {
          this.pending--;
          this.error ??= e instanceof LiveError ? e : new LiveError('closed', String(e), { server: this.server });
          this.idle.kick();
        },
      );
      // keep the loop from running far ahead of the replies (the connection bounds what is unanswered too)
      if (this.pending >= 64) await this.idle.until(() => this.pending < 32);
    }
  }

  /**
   * Once every piece is there: checks the replies and the size, sets the TTL and renames into place. 'expired'
   * when the key's TTL passed meanwhile (nothing is left). A failure deletes the temporary key and throws.
   */
  async finish(expireAt: number | null, replace: boolean): Promise<'ok' | 'expired'> {
    await this.idle.until(() => this.pending === 0);
    try {
      if (this.redirected) throw new Redirected(this.error!.message);
      if (this.error !== null) throw this.error;
      const size = sizeCommand(this.rec.type, this.tmp);
      if (size !== null && this.checkSize) {
        const v = await this.call(size);
        if (v.type === 'error') throw this.fail(commandName(size), v.value, this.server);
        if (Number(v.value) !== this.expected) {
          throw new RestoreError('reply', `restoring ${this.describe()} in pieces: the temporary key ${showKey(this.tmp)} holds ${String(v.value)} where ${this.expected} were sent (was it evicted or written by someone else?)`, { server: this.server });
        }
      }
      if (expireAt !== null) {
        const v = await this.call(['PEXPIREAT', this.tmp, expireAt]);
        if (v.type === 'error') throw this.fail('PEXPIREAT', v.value, this.server);
      }
      const rename: Command = replace ? ['RENAME', this.tmp, this.rec.key] : ['RENAMENX', this.tmp, this.rec.key];
      const v = await this.call(rename);
      if (v.type === 'error') {
        if (expireAt !== null && /no such key/i.test(v.value)) return 'expired';
        throw this.fail(commandName(rename), v.value, this.server);
      }
      if (!replace && v.type === 'integer' && Number(v.value) === 0) {
        const err = new RestoreError('reply', `restoring ${this.describe()} in pieces: BUSYKEY the key exists already (RENAMENX refused; pass replace to overwrite it)`, { server: this.server });
        err.reply = 'BUSYKEY Target key name already exists.';
        throw err;
      }
      return 'ok';
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Deletes the temporary key (best effort: a lost connection leaves it for a resume to delete). */
  async abort(): Promise<void> {
    await this.idle.until(() => this.pending === 0);
    try {
      const router = this.cx.t.router;
      if (router !== null) await router.route({ key: this.tmp, args: ['DEL', this.tmp] });
      else await this.cx.t.connection!.request(['DEL', this.tmp]);
      this.cx.summary.commands++;
    } catch {
      // the connection is gone: nothing more to do here
    }
  }
}

/** A key handed out in pieces whose next records continue it. */
interface OpenItem {
  index: number;
  db: number;
  key: Uint8Array;
  type: KeyRecord['type'];
  expireAt: number | null;
  replace: boolean;
  /** Null: its pieces are read and ignored (skipped, filtered out, expired). */
  session: PieceSession | null;
}

async function restoreInto(records: AsyncIterable<RestoreRecord> | Iterable<RestoreRecord>, t: RestoreTarget, options: RestoreOptions): Promise<RestoreSummary> {
  options.signal?.throwIfAborted();
  const started = Date.now();
  const now = options.now ?? Date.now;
  const servers = t.servers;
  const oldest = servers.reduce((a, b) => (a.rdbVersion === 80 && b.rdbVersion !== 80 ? b : b.rdbVersion === 80 ? a : a.rdbVersion <= b.rdbVersion ? a : b));
  const rdbVersion = options.rdbVersion ?? oldest.rdbVersion;
  const valkey = rdbVersion === 80;
  if (options.dbMap && t.cluster) {
    for (const [from, to] of options.dbMap) if (to !== 0) throw new LiveError('cluster', `\`dbMap\` ${from}:${to}: a cluster has only database 0`);
  }
  const atLeast = (major: number, minor: number) => servers.every((s) => s.valkey || versionAtLeast(s.version, major, minor));
  const absTtl = atLeast(5, 0);
  const canReplace = atLeast(3, 0);
  const hints = (options.hints ?? true) && atLeast(5, 0);
  if (options.replace && !canReplace) throw new LiveError('unsupported', `RESTORE ... REPLACE needs Redis 3.0+ (${oldest.server} runs ${oldest.version})`, { server: oldest.server });
  const maxBulkLength = options.maxBulkLength ?? Math.min(...servers.map((s) => s.maxBulkLength ?? DEFAULT_MAX_BULK_LENGTH));
  const refusing = servers.find((s) => s.scriptingRefused !== null);
  const cp = options.checkpoint;
  const resuming = cp?.resumeFrom !== undefined;
  const resumeFrom = cp?.resumeFrom ?? 0;
  const replaceBefore = cp?.replaceBefore ?? resumeFrom;
  const every = Math.max(1, cp?.every ?? 1000);
  const window = Math.max(every, cp?.window ?? 10000);
  const limiter = options.maxOpsPerSecond !== undefined ? new RateLimiter(options.maxOpsPerSecond) : null;
  const patterns = options.filter?.keys?.map((k) => (typeof k === 'string' ? new TextEncoder().encode(k) : k));
  const types = options.filter?.types ? new Set<string>(options.filter.types) : null;
  const dbs = options.filter?.dbs ? new Set(options.filter.dbs) : null;
  const wanted = (rec: KeyRecord) => (dbs === null || dbs.has(rec.db)) && (types === null || types.has(rec.type)) && (patterns === undefined || patterns.length === 0 || patterns.some((p) => matchGlob(p, rec.key)));

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
    commands: 0,
    perServer: {},
    moved: 0,
    ask: 0,
    inPieces: 0,
    filtered: 0,
    dropped: 0,
    resumed: 0,
    maxBulkLength,
    maxBulkLengthAssumed: options.maxBulkLength !== undefined ? [] : servers.filter((s) => s.maxBulkLength === null).map((s) => s.server),
    done: resumeFrom,
  };
  const fail = (e: unknown): never => {
    summary.elapsedMs = Date.now() - started;
    if (t.router) Object.assign(summary, { moved: t.router.stats.moved, ask: t.router.stats.ask });
    if (e instanceof RestoreError) {
      e.summary ??= summary;
      throw e;
    }
    const err = e instanceof LiveError ? Object.assign(new RestoreError(e.code, e.message.startsWith(`${e.server}: `) ? e.message.slice(e.server!.length + 2) : e.message, { server: e.server, cause: e.cause }), { reply: e.reply }) : e;
    if (err instanceof RestoreError) err.summary = summary;
    throw err;
  };

  // refuse a target that holds data, or empty it first (a resume does neither: the target holds what was restored)
  const busy = servers.filter((s) => s.keys > 0 || s.libraries > 0);
  if (!resuming && !options.flush && busy.length > 0 && !options.replace) {
    const what = busy.map((s) => `${s.server} holds ${s.keys} key(s)${s.dbs.length > 0 ? ` (db ${s.dbs.join(', ')})` : ''}${s.libraries > 0 ? ` and ${s.libraries} function librar${s.libraries === 1 ? 'y' : 'ies'}` : ''}`);
    fail(new LiveError('not-empty', `the target is not empty: ${what.join('; ')}; nothing was written. Pass \`replace\` to overwrite keys of the same name (others stay), or \`flush\` to empty it first`));
  }
  try {
    await cp?.begin?.();
  } catch (e) {
    fail(e);
  }
  if (options.flush && !resuming) {
    options.signal?.throwIfAborted();
    const masters = await t.masters();
    await Promise.all(
      masters.map(async (m, i) => {
        await m.call('FLUSHALL');
        if (servers[i].libraries > 0) await m.call('FUNCTION', 'FLUSH');
      }),
    );
    summary.flushed = true;
  }

  const maxBytes = options.maxInFlightBytes ?? 64 * 1024 * 1024;
  const maxCount = 1024;
  let inFlight = 0;
  let inFlightBytes = 0;
  let failure: unknown = null;
  const gate = new Gate();
  const signal = options.signal;
  const onAbort = () => {
    failure ??= signal!.reason;
    gate.kick();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let lastProgress = 0;
  const progress = () => {
    const at = Date.now();
    if (options.onProgress && at - lastProgress >= 100) {
      lastProgress = at;
      options.onProgress({ keys: summary.keys, expired: summary.expired, functions: summary.functions, bytes: summary.bytes, commands: summary.commands, elapsedMs: at - started });
    }
  };
  const single = t.connection;
  const selected = { db: t.address.db };
  const cx: PieceContext = {
    t,
    summary,
    limiter,
    pieceOptions: { ...options.pieces, maxBulkLength, streams7: atLeast(7, 0), trimMinId: atLeast(6, 2) },
    scriptingRefused: refusing ? { server: refusing.server, reply: refusing.scriptingRefused! } : null,
    selected,
    signal: options.signal,
  };

  // records done: `done` counts them from the start without a gap, `ahead` holds those done past a gap
  let done = resumeFrom;
  const ahead = new Set<number>();
  let saved = resumeFrom;
  let saving: Promise<void> | null = null;
  let lastSave = Date.now();
  const maybeSave = () => {
    if (cp?.save === undefined || saving !== null || failure !== null) return;
    if (done > saved && (done - saved >= every || Date.now() - lastSave >= 1000)) {
      const at = done;
      summary.done = at;
      saving = cp.save(at, summary).then(
        () => {
          saved = at;
          lastSave = Date.now();
          saving = null;
          gate.kick();
          maybeSave();
        },
        (e: unknown) => {
          saving = null;
          failure ??= e;
          gate.kick();
        },
      );
    }
  };
  const markDone = (i: number) => {
    if (i !== done) {
      ahead.add(i);
      return;
    }
    done++;
    while (ahead.delete(done)) done++;
    maybeSave();
  };

  const settle = (rec: KeyRecord, db: number, size: number, index: number) => (v: RespValue, server: string) => {
    inFlight--;
    inFlightBytes -= size;
    if (v.type === 'error') {
      const e = replyError(v.value, server, 'RESTORE');
      const err = new RestoreError(e.code, `RESTORE of key ${showKey(rec.key)}${t.cluster ? '' : ` (db ${db})`} failed: ${v.value}`, { server });
      err.reply = v.value;
      failure ??= err;
    } else {
      summary.keys++;
      summary.perServer[server] = (summary.perServer[server] ?? 0) + 1;
      markDone(index);
    }
    gate.kick();
  };
  const broken = (e: unknown) => {
    inFlight--;
    failure ??= e;
    gate.kick();
  };

  /** A whole key in pieces; in a cluster redone (each command routed alone) when its node redirected it. */
  const restoreInPieces = async (rec: KeyRecord, db: number, replace: boolean): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const session = new PieceSession(cx, rec, db, attempt > 0);
      try {
        await session.start();
        await session.add(rec);
        const r = await session.finish(rec.expireAt, replace);
        if (r === 'expired') summary.expired++;
        else {
          summary.keys++;
          summary.inPieces++;
          summary.perServer[session.server] = (summary.perServer[session.server] ?? 0) + 1;
        }
        return;
      } catch (e) {
        if (e instanceof Redirected && attempt < 2 && t.router !== null) {
          await t.router.refresh().catch(() => undefined);
          continue;
        }
        if (e instanceof Redirected) throw new RestoreError('cluster', `restoring key ${showKey(rec.key)} in pieces: redirected again and again (${e.message})`);
        throw e;
      }
    }
  };

  let next = 0;
  let open: OpenItem | null = null;
  /** The pieces of `open` stopped before its last one: nothing of it stays. */
  const dropOpen = async (item: OpenItem) => {
    if (item.session !== null) {
      await item.session.abort();
      summary.dropped++;
    }
    markDone(item.index);
  };

  try {
    for await (const rec of records as AsyncIterable<RestoreRecord>) {
      if (failure !== null) break;
      if (open !== null) {
        const item: OpenItem = open;
        if (rec.kind === 'key' && rec.db === item.db && rec.type === item.type && bytesEqual(rec.key, item.key)) {
          if (item.session !== null) await item.session.add(rec);
          if (!rec.partial) {
            open = null;
            if (item.session !== null) {
              const r = await item.session.finish(item.expireAt, item.replace);
              if (r === 'expired') summary.expired++;
              else {
                summary.keys++;
                summary.inPieces++;
                summary.perServer[item.session.server] = (summary.perServer[item.session.server] ?? 0) + 1;
              }
            }
            markDone(item.index);
          }
          progress();
          continue;
        }
        open = null;
        await dropOpen(item);
      }
      const i = next++;
      const partial = rec.partial === true;
      if (i < resumeFrom) {
        summary.resumed++;
        if (partial && rec.kind === 'key') open = { index: i, db: rec.db, key: rec.key, type: rec.type, expireAt: rec.expireAt, replace: false, session: null };
        else markDone(i);
        continue;
      }
      // an interrupted run never sent past its last checkpoint + window: neither do we
      if (cp?.save !== undefined) await gate.until(() => failure !== null || i < saved + window);
      if (failure !== null) break;
      const replace = options.replace === true || i < replaceBefore;
      if (rec.kind === 'function') {
        // libraries before the keys that may call them: wait for nothing, FUNCTION RESTORE is independent of keys
        if (!atLeast(7, 0)) {
          fail(new LiveError('unsupported', `function library ${JSON.stringify(rec.library)}: functions need Redis 7.0+ (${oldest.server} runs ${oldest.version})`, { server: oldest.server }));
        }
        const payload = encodeFunctionPayload(rec.code, Math.max(10, rdbVersion === 80 ? 11 : rdbVersion));
        if (payload.length > maxBulkLength) {
          fail(new LiveError('unsupported', `function library ${JSON.stringify(rec.library)}: its FUNCTION RESTORE payload of ${payload.length} bytes is longer than the target's proto-max-bulk-len (${maxBulkLength})`));
        }
        const args: Command = replace ? ['FUNCTION', 'RESTORE', payload, 'REPLACE'] : ['FUNCTION', 'RESTORE', payload];
        try {
          const masters = await t.masters();
          await limiter?.take(masters.length);
          summary.commands += masters.length;
          await Promise.all(masters.map((m) => m.call(...args)));
        } catch (e) {
          fail(e instanceof LiveError ? new LiveError(e.code, `FUNCTION RESTORE of library ${JSON.stringify(rec.library)} failed: ${e.reply ?? e.message}`, { server: e.server }) : e);
        }
        summary.functions++;
        markDone(i);
        continue;
      }
      const ignore = (): void => {
        if (partial) open = { index: i, db: rec.db, key: rec.key, type: rec.type, expireAt: rec.expireAt, replace, session: null };
        else markDone(i);
      };
      if (!wanted(rec)) {
        summary.filtered++;
        ignore();
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
        ignore();
        continue;
      }
      if (rec.key.length > maxBulkLength) {
        failure = new RestoreError('unsupported', `key ${showKey(rec.key)} (db ${rec.db}) is a name of ${rec.key.length} bytes, longer than the target's proto-max-bulk-len (${maxBulkLength}): it cannot be sent`);
        break;
      }
      if (partial && rec.type !== 'list' && rec.type !== 'set' && rec.type !== 'zset' && rec.type !== 'hash') {
        failure = new RestoreError('unsupported', `key ${showKey(rec.key)} (db ${rec.db}): a ${rec.type} handed out in pieces cannot be restored (read it whole)`);
        break;
      }
      if (partial) {
        // a key handed out in pieces: built under its temporary name as they come
        const session = new PieceSession(cx, rec, db, false);
        open = { index: i, db: rec.db, key: rec.key, type: rec.type, expireAt: rec.expireAt, replace, session };
        await session.start();
        await session.add(rec);
        progress();
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
      if (payload.length > maxBulkLength) {
        // wait for what is under way: the key's commands then go alone (and a failure before stops us first)
        await gate.until(() => failure !== null || inFlight === 0);
        if (failure !== null) break;
        await restoreInPieces(rec, db, replace);
        markDone(i);
        progress();
        continue;
      }
      const ttl = rec.expireAt === null ? 0 : absTtl ? rec.expireAt : Math.max(1, rec.expireAt - at);
      const args: (string | number | Uint8Array)[] = ['RESTORE', rec.key, ttl, payload];
      if (absTtl && rec.expireAt !== null) args.push('ABSTTL');
      if (replace) args.push('REPLACE');
      if (hints) {
        if (rec.freq !== undefined) args.push('FREQ', rec.freq);
        else if (rec.idle !== undefined) args.push('IDLETIME', rec.idle);
      }
      // bounded: count and payload bytes of unanswered RESTOREs (one oversized payload still goes alone)
      await gate.until(() => failure !== null || (inFlight < maxCount && (inFlight === 0 || inFlightBytes + payload.length <= maxBytes)));
      if (failure !== null) break;
      const switching = single !== null && db !== selected.db;
      await limiter?.take(switching ? 2 : 1);
      inFlight++;
      inFlightBytes += payload.length;
      summary.bytes += payload.length;
      summary.commands += switching ? 2 : 1;
      const settled = settle(rec, db, payload.length, i);
      if (single !== null) {
        await single.ready(db !== selected.db ? 2 : 1);
        if (db !== selected.db) {
          // SELECT and the RESTORE go out back to back; its reply is checked with the next replies
          selected.db = db;
          inFlight++;
          single.send(['SELECT', db]).then((v) => {
            inFlight--;
            if (v.type === 'error') failure ??= replyError(v.value, single.server, `SELECT ${db}`);
            gate.kick();
          }, broken);
        }
        single.send(args).then((v) => settled(v, single.server), broken);
      } else {
        const router = t.router!;
        router.route({ key: rec.key, args }).then(({ reply, server }) => settled(reply, server), broken);
      }
      progress();
    }
    if (open !== null && failure === null) {
      // the records ended inside a key (a damaged input): nothing of it stays
      const item: OpenItem = open;
      open = null;
      await dropOpen(item);
    }
  } catch (e) {
    failure ??= e;
  }
  signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) failure ??= signal.reason;
  if (open !== null) await (open as OpenItem).session?.abort();
  await gate.until(() => inFlight === 0);
  // the last checkpoint: what is done now (also after a failure)
  while (saving !== null) await saving;
  summary.done = done;
  if (cp?.save !== undefined && done > saved) {
    try {
      await cp.save(done, summary);
      saved = done;
    } catch (e) {
      failure ??= e;
    }
  }
  summary.elapsedMs = Date.now() - started;
  if (t.router) Object.assign(summary, { moved: t.router.stats.moved, ask: t.router.stats.ask });
  if (failure !== null) fail(failure);
  options.onProgress?.({ keys: summary.keys, expired: summary.expired, functions: summary.functions, bytes: summary.bytes, commands: summary.commands, elapsedMs: summary.elapsedMs });
  return summary;
}
