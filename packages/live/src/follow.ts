// Continuous backup of a live server, as a replica with `appendonly yes` keeps its AOF: the snapshot of a full sync
// becomes the base of a Redis 7 multi-part AOF directory, and the master's command stream is appended to incr files
// (SELECT and MULTI/EXEC kept; PING, PUBLISH and REPLCONF never written), with #TS: annotations, an fsync policy,
// REPLCONF ACKs every second and rotation by size. It resumes after a disconnect, a restart or a kill with
// `PSYNC <replid> <R+1>`, R being the offset just past the last command written.
//
// Where R comes from (the state file may lag the data after a kill, so R is derived from the files themselves):
// every incr file this writes starts with an annotation `#REPL:<replid>:<offset>`, and one is written again before
// a command whenever the bytes written stop matching the stream byte for byte (commands skipped since: PING,
// PUBLISH, REPLCONF; a held transaction that turned out empty) or the replication id changes (`+CONTINUE <new id>`
// after a failover). Every command is written exactly as the master sent it, so at any record boundary of the file
//   R = <offset of the last #REPL annotation before it> + <bytes of the command records between the two>
// (other annotations and the SELECT written at the top of a new file, before its #REPL line, do not count). On a
// restart the last incr file is scanned: the last boundary outside a MULTI is the cut point (a command or a
// transaction torn by a kill is cut off there), and R and the replication id are read there. Redis and
// redis-check-aof skip any line starting with '#', so the annotations cost nothing when the directory is loaded.
// Transactions are held until their EXEC and written in one write, so a kill never leaves half of one behind
// R; a SELECT is held until a command runs in its database (a replica's AOF writes SELECT the same way). So
// trailing PINGs, PUBLISHes and the SELECT before them (a failed-over master goes on sending those for a few
// seconds, and its successor never saw them) are past R: the offset asked for is R + 1, not the raw offset of the
// last byte received, and the promoted replica can serve it.
import { EventEmitter } from 'node:events';
import { open, mkdir, readdir, rename, stat, readFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { AofError, AofScanner, aofIncrFileName, aofManifestFileName, formatManifest, nextAofFileNames, parseManifest, type AofManifest, type AofScanEvent } from '@redis-persist/aof';
import {
  AtomicFile,
  FsioError,
  acquireLock,
  describeIoError,
  fsyncDirectory,
  nextBackupPath,
  readFileChunks,
  resolvePath,
  truncateFile,
  writeFileAtomic,
  type FileLock,
} from '@redis-persist/fsio';
import { SentinelError } from './sentinel.js';
import { LiveError } from './errors.js';
import { SnapshotVerifier, fetchSnapshot, type ReplicationCommand, type ReplicationLink, type SnapshotCheck, type SnapshotProgress } from './replication.js';
import { formatAddress, parseRedisUrl, type RedisAddress } from './url.js';

/** When the incr file is fsynced: after every write, once a second (Redis' default), or when the OS decides. */
export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** The name of the state file kept in the directory (Redis ignores files its manifest does not list). */
export const FOLLOW_STATE_FILE = 'follow.state.json';
const STATE_FORMAT = 'redis-persist follow 1';
/** Prefix of the offset annotations: `#REPL:<replid>:<offset>`. */
export const REPL_ANNOTATION = '#REPL:';

/** Options of {@link followReplication}: the master, the output directory, fsync and rotation policy. */
export interface FollowOptions {
  /**
   * The master: a URL (`redis://[user:pass@]host:port`, `rediss://...`), an address, or a resolver called at each
   * (re)connect, e.g. one asking Sentinel for the current master (`SENTINEL get-master-addr-by-name`).
   */
  master: string | RedisAddress | (() => Promise<RedisAddress>);
  /** The AOF directory: created (a new or empty directory), or resumed (one this wrote before). */
  dir: string;
  /** Base name of the files, as Redis' `appendfilename` (default `appendonly.aof`; a resumed directory keeps its own). */
  appendFilename?: string;
  /** Default `everysec`. */
  fsync?: FsyncPolicy;
  /** Start a new incr file once the current one holds this many bytes (default: never). */
  rotateBytes?: number;
  /** How often `REPLCONF ACK <offset>` is sent (default 1000 ms, as a replica does). */
  ackIntervalMs?: number;
  /** TLS for a `rediss://` master, as for fetchSnapshot. */
  tls?: boolean | TlsConnectionOptions;
  /** How long the master may send nothing (it PINGs every 10 s by default) before the link counts as lost. Default 60 s. */
  timeoutMs?: number;
  /** How long connecting may take. Default 10 s. */
  connectTimeoutMs?: number;
  /** Reconnection: the first wait (default 200 ms), doubling up to `maxDelayMs` (default 10 s); `maxAttempts` in a row (default unlimited). */
  retry?: { minDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** A non-empty directory this did not write is moved aside to `<dir>.bak` (else it is refused). */
  force?: boolean;
  /** Stops following (as {@link Follower.stop}): the files are flushed and fsynced, and `done` resolves. */
  signal?: AbortSignal;
  /** Called for every event, as it happens (the same objects as the `event` event). */
  onEvent?: (event: FollowEvent) => void;
  /** Progress of a full sync's snapshot (as fetchSnapshot reports it). */
  onProgress?: (progress: SnapshotProgress) => void;
}

/** What happened, in order. Offsets are replication offsets (a replica's `master_repl_offset`). */
export type FollowEvent =
  | {
      type: 'start';
      dir: string;
      /** A directory this wrote before, whose history it will try to continue. */
      resumed: boolean;
      replid: string | null;
      /** R: the offset just past the last command in the directory. */
      offset: number | null;
      /** The incr file continued, and how many bytes of a torn tail were cut from it. */
      file: string | null;
      cutBytes: number;
      /** Why a resumed directory cannot be continued (a full sync follows), or null. */
      notContinuable: string | null;
    }
  | { type: 'connect'; server: string; attempt: number; continueFrom: { replid: string; offset: number } | null }
  | { type: 'continue'; server: string; replid: string; offset: number; replidChanged: boolean; previousReplid: string }
  | { type: 'resync'; server: string; previous: { replid: string; offset: number } | null; replid: string; offset: number }
  | {
      type: 'snapshot';
      server: string;
      /** The new base (`appendonly.aof.<n>.base.rdb`) and the first incr file of its generation. */
      file: string;
      incr: string;
      bytes: number;
      keys: number;
      functions: number;
      rdbVersion: number;
      replid: string;
      offset: number;
      format: 'disk' | 'diskless';
      seconds: number;
      /** The manifest of the replaced generation, kept as `<appendfilename>.manifest.gen<n>` with its files, or null. */
      previousManifest: string | null;
    }
  | {
      type: 'commands';
      file: string;
      /** Commands written (a transaction counts its MULTI, commands and EXEC). */
      count: number;
      bytes: number;
      /** Commands received and not written (PING, PUBLISH, REPLCONF...). */
      skipped: number;
      /** R before and after this write. */
      from: number;
      offset: number;
    }
  | { type: 'rotate'; file: string; previous: string; offset: number; bytes: number }
  | { type: 'replid'; replid: string; previous: string; offset: number }
  | { type: 'disconnect'; server: string | null; error: Error; attempt: number; retryInMs: number }
  | { type: 'stop'; replid: string | null; offset: number | null; file: string | null };

/** What {@link Follower.done} resolves with. */
export interface FollowSummary {
  dir: string;
  replid: string | null;
  /** R at the stop: the offset just past the last command written. */
  offset: number | null;
  /** Incr file being written at the stop. */
  file: string | null;
  commands: number;
  bytes: number;
  fullSyncs: number;
  partialSyncs: number;
  disconnects: number;
  rotations: number;
}

/** The state file's content: a summary for people and tools; replid and offset are authoritative only in the files. */
export interface FollowState {
  format: string;
  appendFilename: string;
  server: string | null;
  replid: string | null;
  offset: number | null;
  base: string | null;
  incr: string | null;
  updated: string;
}

const CRLF = Buffer.from('\r\n');
const lowerAscii = (b: Uint8Array, max = 16): string => {
  let s = '';
  for (let i = 0; i < b.length && i < max; i++) {
    const c = b[i];
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return s;
};
const SKIPPED = new Set(['ping', 'publish', 'spublish', 'replconf']);

function selectCommand(db: number): Buffer {
  const d = String(db);
  return Buffer.from(`*2\r\n$6\r\nSELECT\r\n$${d.length}\r\n${d}\r\n`);
}

function replAnnotation(replid: string, offset: number): Buffer {
  return Buffer.from(`${REPL_ANNOTATION}${replid}:${offset}\r\n`);
}

function dbOf(arg: Uint8Array | undefined): number {
  if (arg === undefined) return -1;
  const t = Buffer.from(arg).toString('latin1');
  return /^\d{1,9}$/.test(t) ? Number(t) : -1;
}

/** What a scan of an incr file found at its last record boundary outside a transaction. */
export interface IncrScan {
  /** File size. */
  size: number;
  /** The boundary: what follows it (a torn command or transaction, a torn annotation) is to be cut. */
  cut: number;
  /** From the last `#REPL:` annotation before the cut (null: the file has none). */
  replid: string | null;
  /** R at the cut (null without a `#REPL:` annotation). */
  offset: number | null;
  /** The database selected at the cut (-1: no SELECT in the file). */
  db: number;
  /** Commands before the cut. */
  commands: number;
}

/**
 * Scans an incr file written by the follower: where its last complete record outside a MULTI ends, and the
 * replication id and offset R there (see the comment at the top of this file). Damage other than a torn tail
 * (bytes that are no record) throws an AofError: the file needs a look (`aof-tool check`) before it is continued.
 */
export async function scanIncrFile(path: string): Promise<IncrScan> {
  const size = (await stat(path)).size;
  const scanner = new AofScanner({ collectArgs: (name) => lowerAscii(name) === 'select', path });
  let replid: string | null = null;
  let annOffset: number | null = null;
  let since = 0;
  let db = -1;
  let depth = 0;
  let commands = 0;
  let committed: Omit<IncrScan, 'size'> = { cut: 0, replid: null, offset: null, db: -1, commands: 0 };
  const commit = (pos: number) => {
    committed = { cut: pos, replid, offset: annOffset === null ? null : annOffset + since, db, commands };
  };
  const handle = (ev: AofScanEvent) => {
    if (ev.type === 'annotation') {
      const text = ev.text;
      if (text.length === 0 || text[text.length - 1] !== 0x0a) return; // torn: only ever the last record
      const line = Buffer.from(text).toString('latin1').replace(/\r?\n$/, '');
      if (line.startsWith(REPL_ANNOTATION)) {
        const m = /^#REPL:([0-9a-zA-Z]{40}):(\d{1,16})$/.exec(line);
        if (!m) throw new AofError('corrupt', `unreadable replication annotation ${JSON.stringify(line.slice(0, 80))}`, { file: path, offset: ev.offset });
        replid = m[1];
        annOffset = Number(m[2]);
        since = 0;
      }
      if (depth === 0) commit(ev.end);
      return;
    }
    since += ev.end - ev.offset;
    commands++;
    const name = lowerAscii(ev.name);
    if (name === 'select') db = dbOf(ev.args?.[1]);
    else if (name === 'multi') depth = 1;
    else if (name === 'exec') depth = 0;
    if (depth === 0) commit(ev.end);
  };
  for await (const chunk of readFileChunks(path)) {
    scanner.push(chunk);
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) handle(ev);
    if (scanner.done) break;
  }
  if (!scanner.done) {
    scanner.end();
    for (let ev = scanner.next(); ev !== undefined; ev = scanner.next()) handle(ev);
  }
  if (scanner.failure !== null && scanner.failure.kind === 'corrupt') {
    throw new AofError(
      'corrupt',
      `${scanner.failure.explanation}: this is not a torn tail that a kill could leave; check the file (aof-tool check) before following into this directory again`,
      { file: path, offset: scanner.failure.errorOffset },
    );
  }
  return { size, ...committed };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** An incr file being appended to: positioned writes, fsync on demand, size kept. */
class IncrWriter {
  dirty = false;
  private syncing: Promise<void> | null = null;

  private constructor(
    readonly path: string,
    readonly name: string,
    private readonly fh: FileHandle,
    public size: number,
  ) {}

  /** A new file holding `header`, fsynced with its directory (before any manifest lists it). */
  static async create(dir: string, name: string, header: Buffer): Promise<IncrWriter> {
    const path = join(dir, name);
    let fh: FileHandle;
    try {
      fh = await open(path, 'wx', 0o644);
    } catch (err) {
      throw new FsioError('io', `cannot create ${path}: ${describeIoError(err)}`, { file: path, cause: err });
    }
    const w = new IncrWriter(path, name, fh, 0);
    await w.write(header);
    await w.sync();
    await fsyncDirectory(dir);
    return w;
  }

  static async openAt(dir: string, name: string, size: number): Promise<IncrWriter> {
    const path = join(dir, name);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r+');
    } catch (err) {
      throw new FsioError('io', `cannot open ${path} to append to it: ${describeIoError(err)}`, { file: path, cause: err });
    }
    return new IncrWriter(path, name, fh, size);
  }

  async write(data: Buffer): Promise<void> {
    let off = 0;
    try {
      while (off < data.length) {
        const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.size + off);
        off += bytesWritten;
      }
    } catch (err) {
      // what did reach the file is cut off on the next start (a torn tail)
      throw new FsioError('io', `cannot write ${this.path}: ${describeIoError(err)}`, { file: this.path, cause: err });
    }
    this.size += data.length;
    this.dirty = true;
  }

  /** fsync, unless nothing was written since the last one; concurrent calls share one. */
  async sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    if (!this.dirty) return;
    this.dirty = false;
    this.syncing = this.fh
      .sync()
      .catch((err: unknown) => {
        this.dirty = true;
        throw new FsioError('io', `cannot fsync ${this.path}: ${describeIoError(err)}`, { file: this.path, cause: err });
      })
      .finally(() => {
        this.syncing = null;
      });
    return this.syncing;
  }

  async close(): Promise<void> {
    if (this.syncing) await this.syncing.catch(() => undefined);
    await this.sync();
    await this.fh.close();
  }
}

/** The files of a new generation. */
interface GenerationNames {
  base: string;
  baseSeq: number;
  incr: string;
  incrSeq: number;
  /** Where the replaced manifest is copied (null for the first generation). */
  previousManifest: string | null;
}

/** A held transaction: its MULTI and what came until EXEC. */
interface HeldTx {
  commands: ReplicationCommand[];
}

/** The directories followed in this process (the lock file is re-entrant within a process). */
const activeDirs = new Set<string>();

function isFatal(err: unknown): boolean {
  // a master name no sentinel that answered knows is a configuration error, not a failover under way
  if (err instanceof SentinelError) {
    const answered = err.answers.filter((a) => a.outcome !== 'unreachable');
    if (answered.length > 0 && answered.every((a) => a.outcome === 'unknown-master')) return true;
  }
  if (err instanceof LiveError) return !['connect', 'closed', 'timeout', 'reply'].includes(err.code);
  return true; // file system, verification, anything unexpected
}

/**
 * A follower started by {@link followReplication}. Emits `event` with every {@link FollowEvent} (and each under its
 * own type name: `snapshot`, `commands`, `rotate`, ...). {@link done} resolves with a summary once it stopped
 * ({@link stop}, or the signal), or rejects with what stopped it (a refusal, an authentication error, a file
 * system error); lost connections are retried, not reported there.
 */
export class Follower extends EventEmitter {
  /** Resolves once stopped, with what was written; rejects on a fatal error. */
  readonly done: Promise<FollowSummary>;
  private readonly stopper = new AbortController();
  private readonly dir: string;
  private appendFilename: string;
  private lock: FileLock | null = null;
  private manifest: AofManifest | null = null;
  private writer: IncrWriter | null = null;
  /** The replication history the files belong to, and R (the offset just past the last command written). */
  private replid: string | null = null;
  private fileOffset: number | null = null;
  /** The database the file's commands run in at its end (-1: not known yet). */
  private db = -1;
  private lastTs = 0;
  /** Offset processed (written, or skipped) outside a transaction: what the ACKs report. */
  private acked = 0;
  private held: HeldTx | null = null;
  private server: string | null = null;
  private lastStateWrite = 0;
  private readonly summary: FollowSummary;

  constructor(private readonly options: FollowOptions) {
    super();
    this.dir = options.dir;
    this.appendFilename = options.appendFilename ?? 'appendonly.aof';
    this.summary = { dir: options.dir, replid: null, offset: null, file: null, commands: 0, bytes: 0, fullSyncs: 0, partialSyncs: 0, disconnects: 0, rotations: 0 };
    const external = options.signal;
    if (external) {
      if (external.aborted) this.stopper.abort();
      else external.addEventListener('abort', () => this.stopper.abort(), { once: true });
    }
    this.done = this.run();
    this.done.catch(() => undefined); // a caller that never looks at done must not crash the process
  }

  /** Stops following: what was received whole is written and fsynced, the link closed; resolves as {@link done}. */
  stop(): Promise<FollowSummary> {
    this.stopper.abort();
    return this.done;
  }

  /**
   * Drops the current link and connects again (the master is resolved again): for a failover seen elsewhere, e.g. a
   * Sentinel `+switch-master`. The history is continued with `PSYNC <replid> <R+1>` as after any lost link.
   */
  reconnect(reason = 'reconnect requested'): void {
    this.reconnectReason = reason;
    this.link?.close();
  }
  private reconnectReason: string | null = null;
  private link: ReplicationLink | null = null;

  /** R: the offset just past the last command written (null before the first sync). */
  get offset(): number | null {
    return this.fileOffset;
  }

  /** The offset processed (written, or skipped: PING, PUBLISH...) outside a transaction: what the ACKs report. */
  get processed(): number | null {
    return this.replid === null ? null : this.acked;
  }

  private emitEvent(e: FollowEvent): void {
    this.options.onEvent?.(e);
    this.emit('event', e);
    this.emit(e.type, e);
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private manifestName(): string {
    return aofManifestFileName(this.appendFilename);
  }

  private async run(): Promise<FollowSummary> {
    const dir = this.dir;
    let real: string | null = null;
    try {
      const resolved = await resolvePath(dir);
      await mkdir(dirname(resolved), { recursive: true }).catch(() => undefined);
      // the lock file keeps other processes out; it is re-entrant within this one, hence the set
      if (activeDirs.has(resolved)) throw new FsioError('locked', `${dir} is being followed already (in this process)`, { file: dir });
      this.lock = await acquireLock(resolved, { purpose: 'aof-tool follow' });
      activeDirs.add(resolved);
      real = resolved;
      await this.prepare();
      await this.loop();
      return this.summary;
    } finally {
      await this.finish().catch(() => undefined);
      if (real !== null) activeDirs.delete(real);
      await this.lock?.release();
    }
  }

  /** Looks at the directory: new, one of ours (resume: the last incr file scanned, a torn tail cut), or refused. */
  private async prepare(): Promise<void> {
    const dir = this.dir;
    let names: string[] | null;
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw new FsioError('io', `cannot read the directory ${dir}: ${describeIoError(err)}`, { file: dir, cause: err });
      names = null;
    }
    let state: FollowState | null = null;
    if (names !== null && names.includes(FOLLOW_STATE_FILE)) {
      try {
        state = JSON.parse(await readFile(join(dir, FOLLOW_STATE_FILE), 'utf8')) as FollowState;
      } catch (err) {
        throw new FsioError('io', `cannot read ${join(dir, FOLLOW_STATE_FILE)}: ${describeIoError(err)}`, { file: dir, cause: err });
      }
      if (state.format !== STATE_FORMAT) throw new FsioError('output-exists', `${join(dir, FOLLOW_STATE_FILE)} is not a state file of this follower (format ${JSON.stringify(state.format)})`, { file: dir });
      if (this.options.appendFilename !== undefined && this.options.appendFilename !== state.appendFilename) {
        throw new FsioError('output-exists', `${dir} holds files named ${state.appendFilename}.*: follow it with that appendfilename (or into another directory)`, { file: dir });
      }
      this.appendFilename = state.appendFilename;
    } else if (names !== null && names.some((n) => !/^\..*\.tmp$/.test(n))) {
      if (!this.options.force) {
        throw new FsioError(
          'output-exists',
          `${dir} is not empty and was not written by aof-tool follow (no ${FOLLOW_STATE_FILE}): choose a new or empty directory, or pass \`force\` to move it aside (kept as ${basename(dir)}.bak)`,
          { file: dir },
        );
      }
      const backup = await nextBackupPath(dir);
      await rename(dir, backup).catch((err: unknown) => {
        throw new FsioError('io', `cannot move ${dir} aside to ${backup}: ${describeIoError(err)}`, { file: dir, cause: err });
      });
      names = null;
    }
    if (names === null) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        throw new FsioError('io', `cannot create the directory ${dir}: ${describeIoError(err)}`, { file: dir, cause: err });
      }
    }
    if (state === null) {
      // mark the directory as ours before anything else goes in
      await this.writeState();
      this.emitEvent({ type: 'start', dir, resumed: false, replid: null, offset: null, file: null, cutBytes: 0, notContinuable: null });
      return;
    }
    // resume
    const manifestPath = join(dir, this.manifestName());
    let manifest: AofManifest | null = null;
    try {
      manifest = parseManifest(await readFile(manifestPath), manifestPath);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
    let notContinuable: string | null = null;
    let cutBytes = 0;
    const last = manifest?.incr[manifest.incr.length - 1] ?? null;
    if (manifest === null) notContinuable = 'no manifest yet (the first sync did not finish)';
    else if (last === null) notContinuable = `the manifest lists no incr file`;
    else if (!(await stat(join(dir, last.name)).then((st) => st.isFile(), () => false))) notContinuable = `${last.name} is listed in the manifest but missing`;
    else {
      const scan = await scanIncrFile(join(dir, last.name));
      if (scan.offset === null || scan.replid === null) notContinuable = `${last.name} has no ${REPL_ANNOTATION} annotation (not written by aof-tool follow)`;
      else {
        if (scan.cut < scan.size) {
          cutBytes = scan.size - scan.cut;
          await truncateFile(join(dir, last.name), scan.cut);
        }
        this.replid = scan.replid;
        this.fileOffset = scan.offset;
        this.acked = scan.offset;
        this.db = scan.db;
        this.writer = await IncrWriter.openAt(dir, last.name, scan.cut);
      }
    }
    this.manifest = manifest;
    this.summary.replid = this.replid;
    this.summary.offset = this.fileOffset;
    this.summary.file = this.writer?.name ?? null;
    this.emitEvent({ type: 'start', dir, resumed: true, replid: this.replid, offset: this.fileOffset, file: this.writer?.name ?? null, cutBytes, notContinuable });
  }

  private async resolveMaster(): Promise<RedisAddress> {
    const m = this.options.master;
    if (typeof m === 'function') return m();
    return typeof m === 'string' ? parseRedisUrl(m) : m;
  }

  private async loop(): Promise<void> {
    const retry = this.options.retry ?? {};
    const minDelay = retry.minDelayMs ?? 200;
    const maxDelay = retry.maxDelayMs ?? 10_000;
    let failures = 0;
    let attempt = 0;
    while (!this.stopped) {
      attempt++;
      let link: ReplicationLink | null = null;
      try {
        const address = await this.resolveMaster();
        this.server = formatAddress(address);
        this.reconnectReason = null;
        link = await this.sync(address, attempt);
        failures = 0;
        this.link = link;
        if (this.reconnectReason !== null) link.close(); // asked for while the sync was under way
        await this.follow(link);
      } catch (err) {
        link?.close();
        this.link = null;
        await this.dropHeld();
        if (this.stopped) break;
        const asked = this.reconnectReason;
        this.reconnectReason = null;
        if (asked === null && isFatal(err)) throw err;
        failures = asked !== null ? 0 : failures + 1;
        this.summary.disconnects++;
        if (retry.maxAttempts !== undefined && failures >= retry.maxAttempts) throw err;
        const wait = asked !== null ? 0 : Math.min(maxDelay, minDelay * 2 ** Math.min(failures - 1, 20));
        const error = asked !== null ? new LiveError('closed', asked, { server: this.server ?? undefined }) : (err as Error);
        this.emitEvent({ type: 'disconnect', server: this.server, error, attempt: failures, retryInMs: wait });
        await sleep(wait, this.stopper.signal);
      }
    }
  }

  /** A transaction cut by a lost link is not written: R stays before its MULTI and the master sends it again. */
  private async dropHeld(): Promise<void> {
    this.held = null;
    this.heldSelect = null;
  }

  /** Connects and syncs: +CONTINUE keeps the files, +FULLRESYNC writes a new generation. Returns the link. */
  private async sync(address: RedisAddress, attempt: number): Promise<ReplicationLink> {
    const o = this.options;
    const from = this.replid !== null && this.fileOffset !== null ? { replid: this.replid, offset: this.fileOffset } : null;
    this.emitEvent({ type: 'connect', server: formatAddress(address), attempt, continueFrom: from });
    const stream = fetchSnapshot(address, {
      stream: true,
      continueFrom: from ?? undefined,
      tls: o.tls,
      timeoutMs: o.timeoutMs,
      connectTimeoutMs: o.connectTimeoutMs,
      signal: this.stopper.signal,
      onProgress: o.onProgress,
    });
    const server = stream.server;
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (stream.continued !== null) {
      const c = stream.continued;
      this.summary.partialSyncs++;
      if (c.replidChanged) await this.changeReplid(c.replid);
      this.emitEvent({ type: 'continue', server, replid: c.replid, offset: c.offset, replidChanged: c.replidChanged, previousReplid: from!.replid });
      const link = stream.link!;
      link.ack(this.acked);
      return link;
    }
    // a full sync: a new generation (base, first incr, manifest)
    const info = stream.info!;
    this.emitEvent({ type: 'resync', server, previous: from, replid: info.replid!, offset: info.offset! });
    const started = Date.now();
    const gen = await this.nextNames();
    const basePath = join(this.dir, gen.base);
    const file = await AtomicFile.create(basePath, { lock: false });
    const verifier = new SnapshotVerifier(`snapshot from ${server}`);
    let check: SnapshotCheck;
    try {
      for (let r = first; !r.done; r = await iterator.next()) {
        verifier.push(r.value);
        await file.write(r.value);
      }
      check = verifier.finish();
      await file.commit();
    } catch (err) {
      await file.abort();
      await iterator.return?.(undefined);
      throw err;
    }
    const link = stream.link!;
    try {
      await this.newGeneration(gen, info.replid!, info.offset!);
    } catch (err) {
      link.close();
      throw err;
    }
    this.summary.fullSyncs++;
    this.emitEvent({
      type: 'snapshot',
      server,
      file: gen.base,
      incr: gen.incr,
      bytes: check.bytes,
      keys: check.keys,
      functions: check.functions,
      rdbVersion: check.rdbVersion,
      replid: info.replid!,
      offset: info.offset!,
      format: info.format === 'eof' ? 'diskless' : 'disk',
      seconds: (Date.now() - started) / 1000,
      previousManifest: gen.previousManifest,
    });
    // after a diskless sync the master sends nothing until this first ACK
    link.ack(this.acked);
    return link;
  }

  /** Names for a new generation that no file has yet (an interrupted attempt may have left a base behind). */
  private async nextNames(): Promise<GenerationNames> {
    const m = this.manifest;
    const af = this.appendFilename;
    const exists = async (name: string) => stat(join(this.dir, name)).then(() => true, () => false);
    const names = nextAofFileNames(af, m, 'rdb', new Set(await readdir(this.dir)));
    const baseSeq = names.baseSeq;
    let previousManifest: string | null = null;
    if (m !== null) {
      const first = `${aofManifestFileName(af)}.gen${m.base?.seq ?? baseSeq - 1}`;
      previousManifest = first;
      for (let k = 1; await exists(previousManifest); k++) previousManifest = `${first}.${k}`;
    }
    return { base: names.baseName, baseSeq, incr: names.incrName, incrSeq: names.incrSeq, previousManifest };
  }

  /**
   * Commits a new generation: the first incr file (its #REPL header fsynced), a copy of the replaced manifest, then
   * the new manifest (the commit point: temp file, fsync, rename), then the state file. The old files stay.
   */
  private async newGeneration(gen: GenerationNames, replid: string, offset: number): Promise<void> {
    if (this.writer) {
      await this.writer.close();
      this.writer = null;
    }
    this.replid = replid;
    this.fileOffset = offset;
    this.acked = offset;
    this.db = -1; // the master SELECTs before its first command after a full sync
    this.held = null;
    this.heldSelect = null;
    const writer = await IncrWriter.create(this.dir, gen.incr, this.fileHeader());
    if (this.manifest !== null && gen.previousManifest !== null) {
      await writeFileAtomic(join(this.dir, gen.previousManifest), formatManifest(this.manifest), { lock: false });
    }
    const manifest: AofManifest = {
      base: { name: gen.base, seq: gen.baseSeq, type: 'base', line: 0 },
      history: [],
      incr: [{ name: gen.incr, seq: gen.incrSeq, type: 'incr', line: 0 }],
    };
    await writeFileAtomic(join(this.dir, this.manifestName()), formatManifest(manifest), { inPlace: true, lock: false });
    this.manifest = manifest;
    this.writer = writer;
    await this.writeState();
  }

  /** The top of a new incr file: #TS, the SELECT of the current database (not counted), then #REPL. */
  private fileHeader(): Buffer {
    const parts: Buffer[] = [];
    this.lastTs = Math.floor(Date.now() / 1000);
    parts.push(Buffer.from(`#TS:${this.lastTs}\r\n`));
    if (this.db >= 0) parts.push(selectCommand(this.db));
    parts.push(replAnnotation(this.replid!, this.fileOffset!));
    return Buffer.concat(parts);
  }

  /** A new incr file after the current one (rotation), listed in the manifest atomically. */
  private async rotate(): Promise<void> {
    const m = this.manifest!;
    const af = this.appendFilename;
    const exists = async (name: string) => stat(join(this.dir, name)).then(() => true, () => false);
    let seq = Math.max(0, ...m.incr.map((e) => e.seq)) + 1;
    while (await exists(aofIncrFileName(af, seq))) seq++;
    const name = aofIncrFileName(af, seq);
    const previous = this.writer;
    if (previous) await previous.close();
    this.writer = null;
    const writer = await IncrWriter.create(this.dir, name, this.fileHeader());
    const manifest: AofManifest = { base: m.base, history: m.history, incr: [...m.incr, { name, seq, type: 'incr', line: 0 }] };
    await writeFileAtomic(join(this.dir, this.manifestName()), formatManifest(manifest), { inPlace: true, lock: false });
    this.manifest = manifest;
    this.writer = writer;
    this.summary.rotations++;
    await this.writeState();
    this.emitEvent({ type: 'rotate', file: name, previous: previous?.name ?? '', offset: this.fileOffset!, bytes: previous?.size ?? 0 });
  }

  /** `+CONTINUE <new id>` (a failover): the id goes into the file at once, before anything of the new history. */
  private async changeReplid(replid: string): Promise<void> {
    const previous = this.replid!;
    this.replid = replid;
    await this.writer!.write(replAnnotation(replid, this.fileOffset!));
    await this.writer!.sync();
    await this.writeState();
    this.emitEvent({ type: 'replid', replid, previous, offset: this.fileOffset! });
  }

  /** Writes the state file (temp file, fsync, rename); calls are queued, never concurrent (one temp name). */
  private writeState(): Promise<void> {
    const next = this.stateWrites.then(() => this.writeStateNow());
    this.stateWrites = next.catch(() => undefined);
    return next;
  }
  private stateWrites: Promise<void> = Promise.resolve();

  private async writeStateNow(): Promise<void> {
    const state: FollowState = {
      format: STATE_FORMAT,
      appendFilename: this.appendFilename,
      server: this.server,
      replid: this.replid,
      offset: this.fileOffset,
      base: this.manifest?.base?.name ?? null,
      incr: this.writer?.name ?? null,
      updated: new Date().toISOString(),
    };
    this.lastStateWrite = Date.now();
    await writeFileAtomic(join(this.dir, FOLLOW_STATE_FILE), Buffer.from(JSON.stringify(state, null, 2) + '\n'), { inPlace: true, lock: false });
  }

  /** Reads the command stream until the link fails or the follower stops. */
  private async follow(link: ReplicationLink): Promise<void> {
    const fsync = this.options.fsync ?? 'everysec';
    const ackEvery = this.options.ackIntervalMs ?? 1000;
    const ackTimer = setInterval(() => link.ack(this.acked), ackEvery);
    let syncError: unknown = null;
    let ticking = false;
    const tick = async () => {
      if (ticking) return;
      ticking = true;
      try {
        if (fsync === 'everysec') await this.writer?.sync();
        if (Date.now() - this.lastStateWrite >= 5000 && this.fileOffset !== null) await this.writeState();
      } catch (err) {
        syncError = err;
        link.close();
      } finally {
        ticking = false;
      }
    };
    const syncTimer = setInterval(() => void tick(), 1000);
    try {
      for (;;) {
        if (syncError) throw syncError;
        const batch = await link.read();
        await this.handle(batch, link, fsync);
      }
    } catch (err) {
      throw syncError ?? err;
    } finally {
      clearInterval(ackTimer);
      clearInterval(syncTimer);
      while (ticking) await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Writes a batch: data commands as they came (transactions whole at their EXEC), the rest skipped. */
  private async handle(batch: ReplicationCommand[], link: ReplicationLink, fsync: FsyncPolicy): Promise<void> {
    const out: Buffer[] = [];
    const from = this.fileOffset!;
    let count = 0;
    let bytes = 0;
    let skipped = 0;
    let processed = this.acked;
    let pos = this.fileOffset!; // R as the file will read once `out` is written
    const annotateIfNeeded = (start: number) => {
      const now = Math.floor(Date.now() / 1000);
      if (now > this.lastTs) {
        this.lastTs = now;
        out.push(Buffer.from(`#TS:${now}\r\n`));
      }
      if (start !== pos) {
        out.push(replAnnotation(this.replid!, start));
        pos = start;
      }
    };
    const put = (c: ReplicationCommand) => {
      out.push(Buffer.from(c.raw.buffer, c.raw.byteOffset, c.raw.length));
      pos = c.end;
      count++;
      bytes += c.raw.length;
      const name = lowerAscii(c.args[0]);
      if (name === 'select') this.db = dbOf(c.args[1]);
    };
    // A SELECT is written only before a command that runs in that database (as a replica's AOF does): one followed
    // by nothing but PINGs or PUBLISHes (a sentinel's hello after a failover, say) must not count in R either.
    const flushSelect = () => {
      const sel = this.heldSelect;
      this.heldSelect = null;
      if (sel === null) return;
      if (dbOf(sel.args[1]) === this.db) {
        skipped++;
        return;
      }
      annotateIfNeeded(sel.end - sel.raw.length);
      put(sel);
    };
    for (const c of batch) {
      const name = lowerAscii(c.args[0]);
      const start = c.end - c.raw.length;
      if (this.held !== null) {
        if (name === 'exec') {
          const tx = this.held.commands;
          this.held = null;
          const data = tx.slice(1).filter((x) => !SKIPPED.has(lowerAscii(x.args[0])) && lowerAscii(x.args[0]) !== 'select');
          if (data.length === 0) {
            skipped += tx.length + 1; // an empty transaction is no command for an AOF
          } else {
            flushSelect();
            for (const x of tx) {
              if (SKIPPED.has(lowerAscii(x.args[0]))) {
                skipped++;
                continue;
              }
              annotateIfNeeded(x.end - x.raw.length);
              put(x);
            }
            annotateIfNeeded(start);
            put(c);
          }
          processed = c.end;
        } else {
          this.held.commands.push(c);
        }
        continue;
      }
      if (name === 'multi') {
        this.held = { commands: [c] };
        continue;
      }
      if (name === 'select') {
        if (this.heldSelect !== null) skipped++;
        this.heldSelect = c;
        processed = c.end;
        continue;
      }
      if (SKIPPED.has(name)) {
        skipped++;
        if (name === 'replconf' && c.args.length >= 2 && lowerAscii(c.args[1]) === 'getack') {
          // answer with what is written so far (the commands before it in this batch included once written)
          if (out.length === 0) link.ack(processed);
          else this.pendingGetack = true;
        }
        processed = c.end;
        continue;
      }
      flushSelect();
      annotateIfNeeded(start);
      put(c);
      processed = c.end;
    }
    if (out.length > 0) {
      const w = this.writer!;
      await w.write(Buffer.concat(out));
      if (fsync === 'always') await w.sync();
      this.fileOffset = pos;
      this.summary.commands += count;
      this.summary.bytes += bytes;
      this.summary.offset = pos;
      this.summary.file = w.name;
      this.emitEvent({ type: 'commands', file: w.name, count, bytes, skipped, from, offset: pos });
    }
    this.acked = processed;
    if (this.pendingGetack) {
      this.pendingGetack = false;
      link.ack(this.acked);
    }
    if (this.options.rotateBytes !== undefined && this.options.rotateBytes > 0 && this.writer!.size >= this.options.rotateBytes) {
      await this.rotate();
    }
  }
  private pendingGetack = false;
  /** A SELECT received and not written yet (see handle()). */
  private heldSelect: ReplicationCommand | null = null;

  /** At the stop: fsync and close the incr file, write the state file. */
  private async finish(): Promise<void> {
    this.held = null;
    if (this.writer) {
      await this.writer.close();
    }
    this.summary.replid = this.replid;
    this.summary.offset = this.fileOffset;
    this.summary.file = this.writer?.name ?? null;
    if (this.lock !== null && (this.replid !== null || this.manifest !== null)) await this.writeState();
    this.writer = null;
    this.emitEvent({ type: 'stop', replid: this.replid, offset: this.fileOffset, file: this.summary.file });
  }
}

/**
 * Follows a master's replication stream into a Redis 7 multi-part AOF directory (continuous backup), as a replica
 * with `appendonly yes` writes its AOF: a full sync's snapshot becomes the base (`appendonly.aof.<n>.base.rdb`),
 * commands go to incr files listed in `appendonly.aof.manifest`. The directory is locked against a second
 * follower. A directory this wrote before is continued: the last incr file is scanned for R (cut back to its last
 * whole command or transaction) and `PSYNC <replid> <R+1>` asks to go on; `+FULLRESYNC` starts a new generation
 * (new base and incr, new manifest; the old files and a copy of the old manifest stay). Lost links are retried;
 * {@link Follower.stop} (or the signal) ends it cleanly.
 */
export function followReplication(options: FollowOptions): Follower {
  return new Follower(options);
}
