// Replaying an AOF (single file, or a multi-part directory in manifest order) into a ReplayKeyspace: what a
// Redis 7.x restart would load.
import { AofError, loadedFiles, readAofBatches, readManifest, resolveAofInput, type AofRdbPart } from '@redis-persist/aof';
import { readRdb } from '@redis-persist/rdb';
import { HANDLERS, Unsupported, type CommandContext } from './commands/index.js';
import { ReplayError } from './errors.js';
import { CommandFailed, KeyspaceStore, type ReplayKeyspace, keyspaceStore, keyspaceView, lower } from './keyspace.js';
import { text } from './numbers.js';

/** Options of {@link replayAof}: unknown commands, a point in time to stop at, limits, progress. */
export interface ReplayOptions {
  /** Go on past commands this replayer does not know or refuses, counting each, instead of failing. */
  skipUnknown?: boolean;
  /**
   * Point in time (Unix seconds): stop before the first `#TS:` annotation later than this, as
   * `redis-check-aof --truncate-to-timestamp` would cut (the same option as aof's `checkAof`/`planFix`). The AOF
   * must carry annotations.
   */
  truncateToTimestamp?: number;
  /** Unix ms that relative times (EXPIRE, SETEX, XCLAIM IDLE...) count from. Default: now. */
  now?: number;
  /** hll-sparse-max-bytes of the server (default 3000). */
  hllSparseMaxBytes?: number;
  /**
   * A last file that ends early (inside a command, or inside a MULTI) is loaded up to its last complete command,
   * as Redis does with `aof-load-truncated yes` (its default). Set false to fail instead, as with
   * `aof-load-truncated no`. A truncated file that is not the last one always fails, as in Redis.
   */
  loadTruncated?: boolean;
  /**
   * How many recently used small collections stay unpacked between commands (default 8192). Fewer saves a little
   * memory and costs time; 0 packs every small collection after every command.
   */
  keepUnpacked?: number;
  /**
   * The same limit in bytes: what the small collections kept unpacked take, estimated (default 256 KiB). The commands
   * that only add to a small collection (RPUSH, SADD, HSET, ZADD, XADD) work on its packed form and need none of it.
   */
  keepUnpackedBytes?: number;
  /** Called every 64k commands. */
  onProgress?: (p: { file: string; offset: number; commands: number }) => void;
  /**
   * Stops the replay: checked once per chunk read (of the commands and of an RDB part). When aborted the call
   * rejects with `signal.reason` (an `AbortError` DOMException by default) and the files are closed.
   */
  signal?: AbortSignal;
}

/** A command Redis answered with an error while loading (it changed nothing). */
export interface ReplayFailure {
  file: string;
  offset: number;
  command: string;
  reason: string;
}

/**
 * What {@link replayAof} ends with: the keyspace, the files read, counts of failed and skipped commands, a truncated
 * tail.
 */
export interface ReplayResult {
  keyspace: ReplayKeyspace;
  /** The files read, in load order. */
  files: string[];
  /** RDB parts (base / preamble) loaded, with their key counts. */
  rdbParts: AofRdbPart[];
  /** Commands read (SELECT, MULTI and EXEC included). */
  commands: number;
  /** Commands that an error reply would have answered (the first 20 are in `failures`). */
  failed: number;
  failures: ReplayFailure[];
  /** Commands skipped with `skipUnknown`, by lower-case name. */
  skipped: number;
  skippedByCommand: Record<string, number>;
  /** Commands of a MULTI left open at the end of a file, discarded as Redis does. */
  discardedInMulti: number;
  /** Latest `#TS:` seen among the commands replayed (Unix seconds), or null. */
  lastTimestamp: number | null;
  /** Where the last file ended early: `offset` is where Redis would truncate it (see `loadTruncated`), or null. */
  truncated: { file: string; offset: number; message: string } | null;
  /** With `truncateToTimestamp`: where the replay stopped (the first command after the point in time), if it stopped early. */
  stoppedAt: { file: string; offset: number; timestamp: number } | null;
}

interface Pending {
  db: number;
  args: Uint8Array[];
  file: string;
  offset: number;
}

async function loadRdbPart(ks: KeyspaceStore, part: AofRdbPart, signal?: AbortSignal): Promise<void> {
  for await (const r of readRdb(part.path, { values: true, stopAtEnd: true, signal })) {
    if (r.kind === 'key') {
      if (r.value !== undefined) {
        ks.loadKey(r.db, r.key, r.value, r.expireAt);
        ks.settle();
      }
    } else if (r.kind === 'function') ks.functions.set(r.function.library, r.function);
  }
}

function commandLabel(args: Uint8Array[]): string {
  const name = text(args[0] ?? new Uint8Array(0));
  const sub = /^(xgroup|function|object|config)$/i.test(name) && args.length > 1 ? ` ${text(args[1]).toUpperCase()}` : '';
  return (name.toUpperCase() + sub).slice(0, 64);
}

/** Replays one command into the keyspace, without MULTI/SELECT handling (for callers building keyspaces). */
export class Replayer {
  /** The keyspace the commands applied so far built. */
  readonly ks: ReplayKeyspace;
  private readonly store: KeyspaceStore;
  private readonly ctx: CommandContext;
  failed = 0;
  readonly failures: ReplayFailure[] = [];
  skipped = 0;
  readonly skippedByCommand: Record<string, number> = {};

  constructor(private readonly options: ReplayOptions = {}) {
    this.store = new KeyspaceStore({ keepUnpacked: options.keepUnpacked, keepUnpackedBytes: options.keepUnpackedBytes });
    this.ks = keyspaceView(this.store);
    this.ctx = { ks: this.store, db: 0, now: options.now ?? Date.now(), hllSparseMaxBytes: options.hllSparseMaxBytes ?? 3000 };
  }

  /** Throws ReplayError for an unknown command (unless skipUnknown). */
  check(args: Uint8Array[], file: string, offset: number): boolean {
    const name = lower(args[0]);
    if (HANDLERS.has(name)) return true;
    return this.unknown(args, file, offset, `unknown command '${commandLabel(args)}'`, 'unknown-command');
  }

  private unknown(args: Uint8Array[], file: string, offset: number, message: string, code: 'unknown-command' | 'unsupported'): false {
    if (!this.options.skipUnknown) {
      throw new ReplayError(code, `${message} (use \`skipUnknown\` to go on without it)`, { file, offset });
    }
    this.skipped++;
    const label = commandLabel(args).toLowerCase();
    this.skippedByCommand[label] = (this.skippedByCommand[label] ?? 0) + 1;
    return false;
  }

  /** Applies one command in `db` as Redis would when loading the AOF (`file`/`offset` for messages). */
  apply(db: number, args: Uint8Array[], file: string, offset: number): void {
    const h = HANDLERS.get(lower(args[0]));
    if (h === undefined) {
      this.check(args, file, offset);
      return;
    }
    this.ctx.db = db;
    // The arguments may be views into the reader's buffers: the keyspace copies what it keeps into its own storage.
    try {
      h(this.ctx, args);
    } catch (err) {
      if (err instanceof CommandFailed) {
        this.failed++;
        if (this.failures.length < 20) this.failures.push({ file, offset, command: commandLabel(args), reason: err.message });
      } else if (err instanceof Unsupported) {
        this.unknown(args, file, offset, `cannot replay ${commandLabel(args)}: ${err.message}`, 'unsupported');
      } else throw err;
    }
    this.store.settle();
  }
}

async function lastLoadedFile(input: string): Promise<string> {
  const target = await resolveAofInput(input);
  if (target.layout === 'single') return input;
  const files = loadedFiles(await readManifest(target.manifestPath));
  return files.length > 0 ? files[files.length - 1].name : '';
}

/**
 * Replays an AOF (`input`: a file, a manifest, an AOF directory or a Redis data directory) and returns the
 * keyspace Redis would hold after loading it. RDB parts go through `@redis-persist/rdb`. Keys whose expiry has
 * passed are kept with their expiry, as Redis holds them right after a load (see `records({ dropExpiredBefore })`).
 *
 * @example
 * ```ts
 * const r = await replayAof('/var/lib/redis/appendonlydir');
 * console.log(r.keyspace.keyCounts(), r.failed, r.truncated);
 * await writeRdbFile('replayed.rdb', r.keyspace.records({ dropExpiredBefore: Date.now() }));
 * ```
 */
export async function replayAof(input: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const rp = new Replayer(options);
  const ks = keyspaceStore(rp.ks);
  const parts: AofRdbPart[] = [];
  const queued: AofRdbPart[] = [];
  const files: string[] = [];
  let commands = 0;
  let discarded = 0;
  let multi: Pending[] | null = null;
  let multiFile = '';
  let lastTimestamp: number | null = null;
  let sawTimestamp = false;
  let stoppedAt: ReplayResult['stoppedAt'] = null;
  const until = options.truncateToTimestamp;

  const closeFile = () => {
    if (multi !== null) discarded += multi.length;
    multi = null;
  };

  // Small batches: a batch's commands stay alive until replayed, and big ones would survive into V8's old space.
  const iter = readAofBatches(input, {
    chunkSize: 1 << 16,
    signal: options.signal,
    onRdbPart: (p) => {
      parts.push(p);
      queued.push(p);
    },
    onAnnotation: (_f, _o, t) => {
      if (t.length > 4 && t[1] === 0x54 && t[2] === 0x53 && t[3] === 0x3a) sawTimestamp = true;
    },
  });
  let truncated: ReplayResult['truncated'] = null;
  let lastEnd = 0;
  let multiOffset = 0;
  const lastFile = await lastLoadedFile(input);
  try {
  reading: for await (const batch of iter) for (const cmd of batch) {
    while (queued.length > 0) await loadRdbPart(ks, queued.shift()!, options.signal);
    if (files[files.length - 1] !== cmd.file) {
      closeFile();
      files.push(cmd.file);
    }
    if (until !== undefined && cmd.timestamp !== undefined && cmd.timestamp > until) {
      stoppedAt = { file: cmd.file, offset: cmd.offset, timestamp: cmd.timestamp };
      break reading;
    }
    if (cmd.timestamp !== undefined) lastTimestamp = cmd.timestamp;
    commands++;
    lastEnd = cmd.end;
    if (options.onProgress && (commands & 0xffff) === 0) options.onProgress({ file: cmd.file, offset: cmd.offset, commands });
    const args = cmd.args;
    if (args.length === 0) continue;
    const name = lower(args[0]);
    if (name === 'select') continue; // readAof tracks the database
    if (name === 'multi') {
      if (multi !== null) throw new ReplayError('syntax', 'MULTI inside MULTI', { file: cmd.file, offset: cmd.offset });
      multi = [];
      multiFile = cmd.file;
      multiOffset = cmd.offset;
      continue;
    }
    if (name === 'exec') {
      if (multi === null) throw new ReplayError('syntax', 'EXEC without MULTI', { file: cmd.file, offset: cmd.offset });
      const q: Pending[] = multi;
      multi = null;
      for (const p of q) rp.apply(p.db, p.args, p.file, p.offset);
      continue;
    }
    if (!rp.check(args, cmd.file, cmd.offset)) continue;
    if (multi !== null && multiFile === cmd.file) multi.push({ db: cmd.db, args, file: cmd.file, offset: cmd.offset });
    else rp.apply(cmd.db, args, cmd.file, cmd.offset);
  }
  } catch (err) {
    const tolerated = err instanceof AofError && err.code === 'truncated' && options.loadTruncated !== false && err.file === lastFile;
    if (!tolerated) throw err;
    // Redis keeps everything up to the last complete command, minus a MULTI left open.
    const cut = multi !== null ? multiOffset : lastEnd;
    truncated = { file: err.file!, offset: cut, message: `${err.message}` };
  }
  while (queued.length > 0) await loadRdbPart(ks, queued.shift()!, options.signal);
  closeFile();
  ks.settle(true);
  for (const p of parts) if (!files.includes(p.file)) files.splice(parts.indexOf(p), 0, p.file);
  if (until !== undefined && !sawTimestamp && lastTimestamp === null) {
    throw new ReplayError('input', 'the AOF has no #TS: annotations, so `truncateToTimestamp` has nothing to go by (enable aof-timestamp-enabled)', { file: input });
  }
  return {
    keyspace: rp.ks,
    files,
    rdbParts: parts,
    commands,
    failed: rp.failed,
    failures: rp.failures,
    skipped: rp.skipped,
    skippedByCommand: rp.skippedByCommand,
    discardedInMulti: discarded,
    truncated,
    lastTimestamp,
    stoppedAt,
  };
}
