// Fetching a snapshot the way a replica does: the replication handshake (PING, AUTH, REPLCONF, PSYNC or SYNC)
// written as RESP on a raw socket, the replies read with the RESP decoder until the payload starts, then the payload
// as raw bytes: `$<len>\r\n<len bytes>` (disk-based sync) or `$EOF:<40-byte mark>\r\n<bytes><mark>` (diskless),
// with the newline keep-alives a master sends while it prepares the RDB. Nothing is buffered beyond the chunk being
// handed out: the socket is read only as fast as the consumer takes the chunks.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SlotMap } from '@redis-persist/cluster';
import { AtomicDir, AtomicFile, checkOutput, writeFileAtomic, type OutputPolicy } from '@redis-persist/fsio';
import { DONE, NEED_MORE, RdbError, RdbParser, type RdbMagic } from '@redis-persist/rdb';
import { RespDecoder, encodeCommand, type CommandArg, type RespValue } from '@redis-persist/resp';
import { connectRedis, type TlsOptions } from './connection.js';
import { LiveError } from './errors.js';
import { fetchSlotMapFrom } from './slotmap.js';
import { formatAddress, parseRedisUrl, type RedisAddress } from './url.js';

/** Length of the diskless transfer's end mark (`$EOF:<mark>`), as Redis' CONFIG_RUN_ID_SIZE. */
export const EOF_MARK_LENGTH = 40;
const MAX_LINE = 64 * 1024;

/** How the sync is going, for {@link FetchSnapshotOptions.onProgress}. */
export interface SnapshotProgress {
  /**
   * `handshake`: connected, commands being sent; `waiting`: the master is preparing the RDB (a keep-alive newline
   * came); `transfer`: payload bytes are arriving; `done`: the whole payload arrived.
   */
  phase: 'handshake' | 'waiting' | 'transfer' | 'done';
  /** Payload bytes received so far (the diskless end mark not counted). */
  bytes: number;
  /** The payload's size when the master announced it (`$<len>`), else null (diskless: known only at the end). */
  totalBytes: number | null;
  /** Keep-alive newlines received so far. */
  keepalives: number;
  /** Milliseconds since the connection was opened. */
  elapsedMs: number;
}

/** Options of {@link fetchSnapshot}: TLS, timeouts, functions only, progress. */
export interface FetchSnapshotOptions {
  /**
   * TLS: `true`, or Node TLS options (`ca`, `cert`, `key`, `servername`, `rejectUnauthorized`...). A `rediss://`
   * address uses TLS in any case.
   */
  tls?: boolean | TlsConnectionOptions;
  /** Ask for the functions only (`REPLCONF rdb-filter-only functions`, Redis 7.0+): an RDB without keys. */
  functionsOnly?: boolean;
  /** Called at each step and for each chunk received. */
  onProgress?: (progress: SnapshotProgress) => void;
  /** Aborts the fetch: the connection is closed and the iteration throws the signal's reason. */
  signal?: AbortSignal;
  /** How long to wait for the TCP (and TLS) connection. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * How long the server may send nothing at all (not even a keep-alive newline, which masters send every second
   * while they prepare the RDB) before the fetch fails. Default 60 s (Redis' repl-timeout).
   */
  timeoutMs?: number;
  /** The port sent as `REPLCONF listening-port` (what INFO replication and the master's log show). Default: the local port of the connection. */
  listeningPort?: number;
  /**
   * Stay a replica after the snapshot (continuation mode): no `REPLCONF rdb-only`, and once the payload has been
   * iterated (or right away after `+CONTINUE`) {@link SnapshotStream.link} holds the connection, which carries the
   * master's command stream ({@link ReplicationLink}). Needs PSYNC (Redis 2.8+).
   */
  stream?: boolean;
  /**
   * With `stream`: ask to continue a replication history rather than for a snapshot, `PSYNC <replid> <offset + 1>`,
   * where `offset` is the replication offset just past the last command kept (a replica's `master_repl_offset`).
   * The master answers `+CONTINUE [<replid>]` ({@link SnapshotStream.continued} is set, the iteration yields no
   * chunk) or `+FULLRESYNC` and a snapshot, as for a first sync.
   */
  continueFrom?: { replid: string; offset: number };
}

/** What the master said about the sync, known once the payload starts. */
export interface SnapshotInfo {
  /** `host:port` of the server. */
  server: string;
  /** `psync` (Redis 2.8+: `+FULLRESYNC <replid> <offset>`) or `sync` (older servers: no replid or offset). */
  command: 'psync' | 'sync';
  /** The master's replication id, for PSYNC. */
  replid: string | null;
  /** The replication offset the snapshot corresponds to, for PSYNC. */
  offset: number | null;
  /** `bulk`: `$<len>` (disk-based sync); `eof`: `$EOF:<mark>` (diskless sync, or a functions-only RDB). */
  format: 'bulk' | 'eof';
  /** The announced payload size (`bulk`), else null. */
  size: number | null;
  /** The server accepted `REPLCONF rdb-only 1` (Redis 6.2+): it closes the link after the RDB, no command stream. */
  rdbOnly: boolean;
  /** A functions-only RDB was asked for (and accepted). */
  functionsOnly: boolean;
  /** Keep-alive newlines received before the payload. */
  keepalives: number;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('the fetch was aborted', 'AbortError');
}

/** An error reply's text, classified the way the handshake needs it. */
function replyError(server: string, what: string, text: string, address: RedisAddress): LiveError {
  let err: LiveError;
  if (/^NOAUTH\b/.test(text)) {
    err = new LiveError('auth', `the server needs a password (${text}): put it in the address, redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port`, { server });
  } else if (/^WRONGPASS\b/.test(text) || /^ERR (invalid password|invalid username-password pair)/i.test(text) || (what === 'AUTH' && /^ERR\b/.test(text))) {
    const who = address.username !== undefined ? `user ${JSON.stringify(address.username)}` : 'the password';
    err = new LiveError('auth', `authentication failed for ${who}: ${text}`, { server });
  } else if (/^NOPERM\b/.test(text)) {
    const who = address.username !== undefined ? `user ${JSON.stringify(address.username)}` : 'the default user';
    err = new LiveError(
      'noperm',
      `${who} may not run ${what}: ${text}. Fetching a snapshot needs the replication commands; grant them with ` +
        `ACL SETUSER ${address.username ?? 'default'} +psync +sync +replconf +ping`,
      { server },
    );
  } else {
    err = new LiveError('reply', `${what}: ${text}`, { server });
  }
  err.reply = text;
  return err;
}

/** Reads a socket as lines (the handshake) and then as raw chunks (the payload). */
class SocketReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;

  constructor(
    socket: Socket,
    private readonly wrap: (err: unknown) => unknown,
  ) {
    this.it = socket[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The next chunk from the socket, or null at its end. */
  private async read(): Promise<Buffer | null> {
    let r: IteratorResult<Buffer>;
    try {
      r = await this.it.next();
    } catch (err) {
      throw this.wrap(err);
    }
    return r.done ? null : r.value;
  }

  /** One line without its CR LF (an empty string for a keep-alive newline); null when the connection ended first. */
  async line(): Promise<string | null> {
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf >= 0) {
        const end = lf > 0 && this.buf[lf - 1] === 0x0d ? lf - 1 : lf;
        const text = this.buf.toString('latin1', 0, end);
        this.buf = this.buf.subarray(lf + 1);
        return text;
      }
      if (this.buf.length > MAX_LINE) throw new LiveError('protocol', `a reply line longer than ${MAX_LINE} bytes`);
      const chunk = await this.read();
      if (chunk === null) return null;
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
  }

  /** The bytes read past the last line first, then the socket's next chunk; null at its end. */
  async chunk(): Promise<Buffer | null> {
    if (this.buf.length > 0) {
      const b = this.buf;
      this.buf = Buffer.alloc(0);
      return b;
    }
    return this.read();
  }

  /** Bytes read past the last line. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Puts bytes back in front of what is read next (what followed the payload in the same chunk). */
  unshift(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([bytes, this.buf]);
  }

  async close(): Promise<void> {
    await this.it.return?.().catch(() => undefined);
  }
}

/**
 * A snapshot being fetched: iterate it once for the payload's chunks (the RDB file's bytes, in order; the
 * diskless end mark is not among them). {@link info} is set once the payload starts; {@link bytes} counts what was
 * handed out. Memory stays bounded: the socket is read only when the next chunk is asked for.
 */
export class SnapshotStream implements AsyncIterable<Uint8Array> {
  readonly address: RedisAddress;
  /** `host:port` of the server. */
  readonly server: string;
  /** Set once the payload starts. */
  info: SnapshotInfo | null = null;
  /** Payload bytes handed out so far. */
  bytes = 0;
  /** Whether the whole payload arrived. */
  complete = false;
  /**
   * Continuation mode: set when the master answered `PSYNC <replid> <offset+1>` with `+CONTINUE`. `replid` is the
   * history the stream now belongs to (the master's own id, which differs from the one asked for after a failover:
   * the promoted replica keeps the old history as its second id); `offset` is the offset asked to continue from.
   */
  continued: { replid: string; offset: number; replidChanged: boolean } | null = null;
  /**
   * Continuation mode (`stream: true`): the connection, handed over once the payload has been iterated to its end
   * (or at once after `+CONTINUE`): read the command stream from it. Null before that, and when the sync failed.
   */
  link: ReplicationLink | null = null;
  private started = false;

  constructor(
    address: string | RedisAddress,
    private readonly options: FetchSnapshotOptions = {},
  ) {
    this.address = typeof address === 'string' ? parseRedisUrl(address) : address;
    this.server = formatAddress(this.address);
  }

  /** The RDB payload's chunks as they arrive. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.started) throw new LiveError('protocol', 'a snapshot stream can be iterated only once', { server: this.server });
    this.started = true;
    return this.run();
  }

  private async connect(): Promise<Socket> {
    const { address: a, options, server } = this;
    const useTls = a.tls || options.tls === true || (typeof options.tls === 'object' && options.tls !== null);
    const tlsOptions: TlsConnectionOptions = typeof options.tls === 'object' && options.tls !== null ? { ...options.tls } : {};
    if (useTls && tlsOptions.servername === undefined && isIP(a.host) === 0) tlsOptions.servername = a.host;
    const socket: Socket = useTls ? tlsConnect({ ...tlsOptions, host: a.host, port: a.port }) : netConnect({ host: a.host, port: a.port });
    const connectTimeout = options.connectTimeoutMs ?? 10_000;
    const signal = options.signal;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new LiveError('connect', `no connection after ${connectTimeout} ms`, { server })), connectTimeout);
        const onAbort = () => {
          done();
          reject(abortReason(signal!));
        };
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          socket.off('error', onError);
        };
        const onError = (err: Error) => {
          done();
          reject(new LiveError('connect', `cannot connect${useTls ? ' (TLS)' : ''}: ${err.message}`, { server, cause: err }));
        };
        socket.once(useTls ? 'secureConnect' : 'connect', () => {
          done();
          resolve();
        });
        socket.once('error', onError);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } catch (err) {
      socket.destroy();
      throw err;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    return socket;
  }

  private async *run(): AsyncGenerator<Uint8Array, void, undefined> {
    const { options, server, address } = this;
    const signal = options.signal;
    if (signal?.aborted) throw abortReason(signal);
    const startedAt = Date.now();
    const socket = await this.connect();
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timedOut = false;
    socket.setTimeout(timeoutMs, () => {
      timedOut = true;
      socket.destroy(new LiveError('timeout', `the server sent nothing for ${timeoutMs} ms`, { server }));
    });
    const onAbort = () => socket.destroy(abortReason(signal!) as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    const wrap = (err: unknown): unknown => {
      if (err instanceof LiveError) return err;
      if (signal?.aborted) return abortReason(signal);
      if (timedOut) return new LiveError('timeout', `the server sent nothing for ${timeoutMs} ms`, { server });
      return new LiveError('closed', `the connection failed: ${err instanceof Error ? err.message : String(err)}`, { server, cause: err });
    };
    const reader = new SocketReader(socket, wrap);
    let keepalives = 0;
    let bytes = 0;
    let total: number | null = null;
    const progress = (phase: SnapshotProgress['phase']) =>
      options.onProgress?.({ phase, bytes, totalBytes: total, keepalives, elapsedMs: Date.now() - startedAt });
    const decoder = new RespDecoder();

    const send = (args: readonly CommandArg[]) => {
      socket.write(encodeCommand(args));
    };
    /** The reply to a handshake command: a one-line reply, decoded. */
    const reply = async (what: string): Promise<RespValue> => {
      for (;;) {
        const line = await reader.line();
        if (line === null) throw new LiveError('closed', `the server closed the connection; ${what} got no reply`, { server });
        if (line === '') continue; // a newline is no reply (servers send them as keep-alives)
        decoder.push(Buffer.from(`${line}\r\n`, 'latin1'));
        let v: RespValue | undefined;
        try {
          v = decoder.next();
        } catch (err) {
          throw new LiveError('protocol', `${what}: unreadable reply ${JSON.stringify(line.slice(0, 200))}`, { server, cause: err });
        }
        if (v === undefined || v.type === 'bulk' || v.type === 'array') {
          throw new LiveError('protocol', `${what}: unexpected reply ${JSON.stringify(line.slice(0, 200))}`, { server });
        }
        return v;
      }
    };
    const errorText = (v: RespValue): string | null => (v.type === 'error' ? v.value : null);

    try {
      progress('handshake');
      // PING: a server that needs a password says NOAUTH (that is fine when we have one to give).
      send(['PING']);
      const ping = errorText(await reply('PING'));
      const hasCredentials = address.password !== undefined || address.username !== undefined;
      if (ping !== null && !(hasCredentials && /^(NOAUTH|NOPERM)\b|^ERR operation not permitted/.test(ping))) {
        throw replyError(server, 'PING', ping, address);
      }
      if (hasCredentials) {
        send(address.username !== undefined ? ['AUTH', address.username, address.password ?? ''] : ['AUTH', address.password ?? '']);
        const auth = errorText(await reply('AUTH'));
        if (auth !== null) {
          if (address.username !== undefined && /wrong number of arguments/i.test(auth)) {
            throw new LiveError('auth', `the server has no ACL users (Redis before 6.0): give only a password, redis://:PASSWORD@host:port (${auth})`, { server });
          }
          throw replyError(server, 'AUTH', auth, address);
        }
        if (ping !== null) {
          // the PING refused before AUTH: make sure the user may run it now
          send(['PING']);
          const again = errorText(await reply('PING'));
          if (again !== null) throw replyError(server, 'PING', again, address);
        }
      }
      /** A REPLCONF whose error reply older servers give: fatal only for credentials and permissions. */
      const replconf = async (args: string[]): Promise<string | null> => {
        send(['REPLCONF', ...args]);
        const err = errorText(await reply(`REPLCONF ${args[0]}`));
        if (err !== null && /^(NOAUTH|NOPERM|WRONGPASS)\b/.test(err)) throw replyError(server, `REPLCONF ${args[0]}`, err, address);
        return err;
      };
      const streaming = options.stream === true;
      if (streaming && options.functionsOnly) throw new LiveError('protocol', 'a functions-only snapshot cannot be followed by a command stream', { server });
      if (!streaming && options.continueFrom) throw new LiveError('protocol', 'continueFrom needs stream: true', { server });
      await replconf(['listening-port', String(options.listeningPort ?? socket.localPort ?? 0)]);
      const capaErr = await replconf(['capa', 'eof', 'capa', 'psync2']);
      // a follower stays for the command stream: no rdb-only
      const rdbOnly = streaming ? false : (await replconf(['rdb-only', '1'])) === null;
      if (options.functionsOnly) {
        const err = await replconf(['rdb-filter-only', 'functions']);
        if (err !== null || capaErr !== null) {
          throw new LiveError('reply', `the server cannot send the functions alone (REPLCONF rdb-filter-only needs Redis 7.0 or later): ${err ?? capaErr}`, { server });
        }
      }

      // PSYNC ? -1 asks for a full resynchronization (PSYNC <replid> <offset+1> to continue a history); servers
      // before 2.8 only know SYNC.
      let command: SnapshotInfo['command'] = 'psync';
      let replid: string | null = null;
      let offset: number | null = null;
      const from = options.continueFrom;
      if (from !== undefined && (!/^[0-9a-zA-Z]{40}$/.test(from.replid) || !Number.isSafeInteger(from.offset) || from.offset < 0)) {
        throw new LiveError('protocol', `cannot continue from replid ${JSON.stringify(from.replid)} offset ${from.offset}`, { server });
      }
      send(from !== undefined ? ['PSYNC', from.replid, String(from.offset + 1)] : ['PSYNC', '?', '-1']);
      let header: string | null = null;
      for (;;) {
        const line = await reader.line();
        if (line === null) throw new LiveError('closed', 'the server closed the connection before the snapshot started (see its log: a failed BGSAVE closes the replicas waiting for it)', { server });
        if (line === '') {
          keepalives++;
          progress('waiting');
          continue;
        }
        if (line.startsWith('-')) {
          const text = line.slice(1);
          if (command === 'psync' && /^ERR unknown command/i.test(text)) {
            if (streaming) throw new LiveError('unsupported', `the server has no PSYNC (Redis before 2.8): its stream cannot be followed (${text})`, { server });
            command = 'sync';
            send(['SYNC']);
            continue;
          }
          throw replyError(server, command.toUpperCase(), text, address);
        }
        if (command === 'psync' && replid === null && from !== undefined && /^\+CONTINUE( |$)/.test(line)) {
          const m = /^\+CONTINUE(?: ([0-9a-zA-Z]{40}))?$/.exec(line);
          if (!m) throw new LiveError('protocol', `PSYNC: unexpected reply ${JSON.stringify(line.slice(0, 200))}`, { server });
          const id = m[1] ?? from.replid;
          this.continued = { replid: id, offset: from.offset, replidChanged: id !== from.replid };
          break;
        }
        if (command === 'psync' && replid === null && line.startsWith('+')) {
          const m = /^\+FULLRESYNC ([0-9a-zA-Z]{40}) (\d+)$/.exec(line);
          if (!m) {
            if (line.startsWith('+CONTINUE')) throw new LiveError('protocol', `PSYNC ? -1 answered ${JSON.stringify(line)}: a partial resync was not asked for`, { server });
            throw new LiveError('protocol', `PSYNC: unexpected reply ${JSON.stringify(line.slice(0, 200))} (expected +FULLRESYNC <replid> <offset>)`, { server });
          }
          replid = m[1];
          offset = Number(m[2]);
          progress('waiting');
          continue;
        }
        if (line.startsWith('$')) {
          header = line;
          break;
        }
        throw new LiveError('protocol', `${command.toUpperCase()}: unexpected reply ${JSON.stringify(line.slice(0, 200))}`, { server });
      }
      if (this.continued !== null) {
        // +CONTINUE: no payload; the command stream follows at once (the finally block hands the link over)
        progress('done');
        return;
      }
      if (header === null) throw new LiveError('protocol', 'PSYNC: no payload header', { server });
      if (command === 'psync' && replid === null) throw new LiveError('protocol', 'PSYNC: the payload came without +FULLRESYNC', { server });

      let mark: Buffer | null = null;
      if (header.startsWith('$EOF:')) {
        if (header.length !== 5 + EOF_MARK_LENGTH) throw new LiveError('protocol', `a diskless payload header with a mark of ${header.length - 5} bytes (expected ${EOF_MARK_LENGTH})`, { server });
        mark = Buffer.from(header.slice(5), 'latin1');
      } else {
        if (!/^\$\d{1,15}$/.test(header)) throw new LiveError('protocol', `unreadable payload header ${JSON.stringify(header.slice(0, 200))}`, { server });
        total = Number(header.slice(1));
      }
      if (options.functionsOnly && mark === null) {
        throw new LiveError('protocol', 'the server sent a disk-based payload although a functions-only (diskless) one was asked for', { server });
      }
      this.info = {
        server,
        command,
        replid,
        offset,
        format: mark === null ? 'bulk' : 'eof',
        size: total,
        rdbOnly,
        functionsOnly: options.functionsOnly === true,
        keepalives,
      };
      progress('transfer');

      const out = (c: Buffer) => {
        bytes += c.length;
        this.bytes = bytes;
        progress('transfer');
        return c;
      };
      if (mark === null) {
        let remaining = total!;
        while (remaining > 0) {
          const c = await reader.chunk();
          if (c === null) throw new LiveError('closed', `the server closed the connection after ${bytes} of ${total} payload bytes`, { server });
          const take = c.length <= remaining ? c : c.subarray(0, remaining);
          // a disk-based payload is followed at once by the command stream (continuation mode): keep those bytes
          if (c.length > remaining) reader.unshift(c.subarray(remaining));
          remaining -= take.length;
          yield out(take);
        }
      } else {
        // Everything but the last 40 bytes seen is payload; the transfer ends when the last 40 bytes are the mark.
        let held: Buffer = Buffer.alloc(0);
        for (;;) {
          const c = await reader.chunk();
          if (c === null) throw new LiveError('closed', `the server closed the connection after ${bytes} payload bytes, before the end mark`, { server });
          if (c.length === 0) continue;
          const all = held.length + c.length;
          if (all >= EOF_MARK_LENGTH) {
            const last = c.length >= EOF_MARK_LENGTH ? c.subarray(c.length - EOF_MARK_LENGTH) : Buffer.concat([held.subarray(held.length - (EOF_MARK_LENGTH - c.length)), c]);
            if (last.equals(mark)) {
              const payloadEnd = all - EOF_MARK_LENGTH;
              if (payloadEnd > 0) {
                if (payloadEnd <= held.length) yield out(held.subarray(0, payloadEnd));
                else {
                  if (held.length > 0) yield out(held);
                  yield out(c.subarray(0, payloadEnd - held.length));
                }
              }
              break;
            }
          }
          if (c.length >= EOF_MARK_LENGTH) {
            if (held.length > 0) yield out(held);
            if (c.length > EOF_MARK_LENGTH) yield out(c.subarray(0, c.length - EOF_MARK_LENGTH));
            held = Buffer.from(c.subarray(c.length - EOF_MARK_LENGTH));
          } else {
            const joined = Buffer.concat([held, c]);
            const keep = Math.min(EOF_MARK_LENGTH, joined.length);
            if (joined.length > keep) yield out(joined.subarray(0, joined.length - keep));
            held = joined.subarray(joined.length - keep);
          }
        }
      }
      this.complete = true;
      progress('done');
    } finally {
      signal?.removeEventListener('abort', onAbort);
      socket.setTimeout(0);
      const handOver = options.stream === true && (this.complete || this.continued !== null) && !signal?.aborted && !socket.destroyed;
      if (handOver) {
        socket.removeAllListeners('timeout');
        const startOffset = this.continued !== null ? this.continued.offset : this.info!.offset!;
        const id = this.continued !== null ? this.continued.replid : this.info!.replid!;
        this.link = new ReplicationLink(socket, reader, server, id, startOffset, { timeoutMs, signal });
      } else {
        await reader.close();
        socket.destroy();
      }
    }
  }
}

/** One command of a master's replication stream. */
export interface ReplicationCommand {
  /** The command's name and arguments, as bytes. */
  args: Uint8Array[];
  /** The command exactly as the master sent it (RESP), to be written to an AOF as it is. */
  raw: Uint8Array;
  /** The replication offset just past this command (what a replica's `master_repl_offset` is once it applied it). */
  end: number;
}

const ACK_PREFIX = Buffer.from('*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n');

/**
 * The command stream of a master, after a full sync or a `+CONTINUE` (see {@link FetchSnapshotOptions.stream}):
 * {@link read} hands out the complete commands received, each with the replication offset just past it, and
 * {@link ack} reports the offset processed (`REPLCONF ACK <offset>`). The socket is read only as fast as
 * {@link read} is called. Note: after a diskless full sync the master sends nothing until the first ACK.
 */
export class ReplicationLink {
  private readonly decoder = new RespDecoder();
  private pending: ReplicationCommand[] = [];
  private closed = false;
  /** Replication offset of the first byte this link received (the decoder counts from 0). */
  private readonly base: number;

  constructor(
    private readonly socket: Socket,
    /** The socket's bytes after the handshake: the next chunk (null at its end), and a close. */
    private readonly reader: { chunk(): Promise<Buffer | null>; close(): Promise<void> },
    /** `host:port` of the master. */
    readonly server: string,
    /** The replication id the stream belongs to. */
    readonly replid: string,
    /** The replication offset the stream starts after. */
    readonly startOffset: number,
    private readonly options: { timeoutMs: number; signal?: AbortSignal },
  ) {
    this.base = startOffset;
    // a write after the master closed the link must not become an unhandled 'error' event
    socket.on('error', () => undefined);
    if (options.timeoutMs > 0) {
      socket.setTimeout(options.timeoutMs, () => {
        socket.destroy(new LiveError('timeout', `the master sent nothing for ${options.timeoutMs} ms (not even a PING)`, { server }));
      });
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = () => socket.destroy(abortReason(signal) as Error);
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('close', () => signal.removeEventListener('abort', onAbort));
      }
    }
  }

  /** Replication offset just past the last complete command handed out (or the start offset). */
  get offset(): number {
    return this.base + this.decodedEnd;
  }
  private decodedEnd = 0;

  /**
   * The next complete commands (at least one), in order. Throws LiveError `closed` when the master ends the link,
   * `timeout` when it is silent for `timeoutMs`, `protocol` for anything but arrays of bulk strings, or the
   * signal's reason once aborted.
   */
  async read(): Promise<ReplicationCommand[]> {
    for (;;) {
      if (this.pending.length > 0) {
        const out = this.pending;
        this.pending = [];
        return out;
      }
      if (this.closed) throw new LiveError('closed', 'the replication link was closed', { server: this.server });
      this.drain();
      if (this.pending.length > 0) continue;
      const chunk = await this.reader.chunk();
      if (chunk === null) throw new LiveError('closed', 'the master closed the replication link', { server: this.server });
      this.decoder.push(chunk);
      this.drain();
    }
  }

  private drain(): void {
    for (;;) {
      let v: RespValue | undefined;
      try {
        v = this.decoder.next();
      } catch (err) {
        throw new LiveError('protocol', `unreadable replication stream at offset ${this.base + this.decoder.valueOffset}: ${err instanceof Error ? err.message : String(err)}`, { server: this.server, cause: err });
      }
      if (v === undefined) return;
      const start = this.decoder.valueOffset;
      const end = this.decoder.offset;
      if (v.type !== 'array' || v.value === null || v.value.length === 0 || v.value.some((x) => x.type !== 'bulk' || x.value === null)) {
        throw new LiveError('protocol', `the replication stream holds something other than a command at offset ${this.base + start} (${v.type})`, { server: this.server });
      }
      const args = v.value.map((x) => (x as { value: Uint8Array }).value);
      const raw = encodeCommand(args);
      if (raw.length !== end - start) {
        // the master writes every command as *<n> $<len> ...: anything else would make our offsets wrong
        throw new LiveError('protocol', `a command at offset ${this.base + start} is not in the canonical form (${end - start} bytes, ${raw.length} re-encoded)`, { server: this.server });
      }
      this.decodedEnd = end;
      this.pending.push({ args, raw, end: this.base + end });
    }
  }

  /** Sends `REPLCONF ACK <offset>` (ignored once the link is down). */
  ack(offset: number): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(Buffer.concat([ACK_PREFIX, encodeBulk(String(offset))]));
  }

  /** Closes the connection (a pending read rejects). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.setTimeout(0);
    this.socket.destroy();
    void this.reader.close();
  }
}

function encodeBulk(text: string): Buffer {
  return Buffer.from(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
}

/**
 * Fetches a snapshot from a live server the way a replica does (`redis-cli --rdb`): iterate the result for the RDB
 * file's bytes. Works with disk-based and diskless sync, Redis 2.6 (SYNC) to 7.x; asks for `rdb-only` where the
 * server has it (6.2+), so no command stream follows the RDB. Errors are {@link LiveError}s: `connect`, `auth`,
 * `noperm` (an ACL user without the replication commands), `reply`, `protocol`, `closed`, `timeout`.
 */
export function fetchSnapshot(url: string | RedisAddress, options: FetchSnapshotOptions = {}): SnapshotStream {
  return new SnapshotStream(url, options);
}

/** What {@link SnapshotVerifier} found in a complete snapshot. */
export interface SnapshotCheck {
  bytes: number;
  rdbVersion: number;
  magic: RdbMagic;
  keys: number;
  /** Keys per database, in database order. */
  dbs: { db: number; keys: number }[];
  functions: number;
  /** `ok`, or `disabled` (rdbchecksum no: stored as 0), or `absent` (RDB before version 5). */
  checksum: 'ok' | 'disabled' | 'absent';
  aux: Record<string, string>;
}

/**
 * Verifies an RDB while it streams: fed the same chunks as the file (they are copied), it checks the structure,
 * every encoding and the CRC64 as it goes, and throws {@link RdbError} at the first problem. {@link finish} at the
 * end says whether the RDB ended exactly where the bytes did.
 */
export class SnapshotVerifier {
  private readonly parser: RdbParser;
  private bytes = 0;
  private keys = 0;
  private readonly perDb = new Map<number, number>();
  private functions = 0;
  private readonly aux: Record<string, string> = {};
  private endOffset = -1;
  private checksum: SnapshotCheck['checksum'] | null = null;

  constructor(private readonly name = 'snapshot') {
    this.parser = new RdbParser({ values: false, skipEmpty: false, file: name });
    this.parser.setKeySink((db) => this.count(db));
  }

  private count(db: number): void {
    this.keys++;
    this.perDb.set(db, (this.perDb.get(db) ?? 0) + 1);
  }

  /** Checks the next chunk of the snapshot (throws at the first damage). */
  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (this.endOffset >= 0) return; // past the end: counted as trailing bytes in finish()
    this.parser.push(chunk);
    this.drain();
  }

  private drain(): void {
    for (;;) {
      const r = this.parser.next();
      if (r === NEED_MORE || r === DONE) return;
      switch (r.kind) {
        case 'aux':
          this.aux[Buffer.from(r.key).toString('utf8')] = Buffer.from(r.value).toString('utf8');
          break;
        case 'key':
          this.count(r.db);
          break;
        case 'function':
          this.functions++;
          break;
        case 'end':
          // the parser throws a CRC64 mismatch itself (verifyChecksum is on); this is belt and braces
          if (r.checksum === 'mismatch') throw new RdbError('checksum', `CRC64 mismatch: the file says ${r.stored}, the content gives ${r.computed}`, { offset: r.offset, file: this.name });
          this.checksum = r.checksum;
          this.endOffset = r.endOffset;
          return;
        default:
          break;
      }
    }
  }

  /** Call once every chunk was pushed: the summary, or RdbError when the RDB is cut short or followed by bytes. */
  finish(): SnapshotCheck {
    if (this.endOffset < 0) {
      this.parser.end();
      this.drain();
      if (this.endOffset < 0) throw new RdbError('truncated', `the RDB has no end (${this.bytes} bytes)`, { offset: this.parser.offset, file: this.name });
    }
    if (this.bytes !== this.endOffset) {
      throw new RdbError('corrupt', `${this.bytes - this.endOffset} bytes follow the end of the RDB`, { offset: this.endOffset, file: this.name });
    }
    return {
      bytes: this.bytes,
      rdbVersion: this.parser.version,
      magic: this.parser.magic,
      keys: this.keys,
      dbs: [...this.perDb.entries()].sort((a, b) => a[0] - b[0]).map(([db, keys]) => ({ db, keys })),
      functions: this.functions,
      checksum: this.checksum!,
      aux: this.aux,
    };
  }
}

/** Options of {@link fetchSnapshotToFile}: the snapshot options, the output policy, verification. */
export interface FetchToFileOptions extends FetchSnapshotOptions, OutputPolicy {
  /** Verify the RDB while it streams (default true); a snapshot that fails leaves no file. */
  verify?: boolean;
  /** Take the lock on the output (default true; false inside a directory already locked). */
  lock?: boolean;
}

/** What {@link fetchSnapshotToFile} wrote. */
export interface FetchResult {
  path: string;
  server: string;
  bytes: number;
  /** From the verification (null with `verify: false`). */
  check: SnapshotCheck | null;
  info: SnapshotInfo;
  seconds: number;
  /** Where the output that was replaced now lives (`force`), else null. */
  backup: string | null;
}

/**
 * Fetches a snapshot into `path` under the output policy: written as `.<name>.tmp`, verified while it streams
 * (structure and CRC64), fsynced and renamed into place; an existing `path` is refused unless `force` (then kept as
 * `.bak`). On any failure nothing is left at `path`: the error is a {@link LiveError} (the server or the link), an
 * RdbError (the snapshot failed verification) or an FsioError (the file system).
 */
export async function fetchSnapshotToFile(url: string | RedisAddress, path: string, options: FetchToFileOptions = {}): Promise<FetchResult> {
  const started = Date.now();
  const stream = fetchSnapshot(url, options);
  const file = await AtomicFile.create(path, { force: options.force, inputs: options.inputs, lock: options.lock });
  const verifier = options.verify === false ? null : new SnapshotVerifier(`snapshot from ${stream.server}`);
  try {
    for await (const chunk of stream) {
      verifier?.push(chunk);
      await file.write(chunk);
    }
    const check = verifier?.finish() ?? null;
    await file.commit();
    return { path, server: stream.server, bytes: stream.bytes, check, info: stream.info!, seconds: (Date.now() - started) / 1000, backup: file.replacedBackup };
  } catch (err) {
    await file.abort();
    throw err;
  }
}

// ---- a whole cluster ----------------------------------------------------------------------------------------------

/** One entry of `nodes.json`, in the shape `redis-cli --cluster backup` writes. */
export interface ClusterBackupNode {
  /** The node id. */
  name: string;
  host: string;
  port: number;
  /** The master's id for a replica, else null. */
  replicate: string | null;
  /** Slot ranges as `[first, last]`, or `[slot]` for a single slot. */
  slots: number[][];
  slots_count: number;
  /** The flags of CLUSTER NODES without `myself` (`master`, `slave`...), comma-separated. */
  flags: string;
  /** The node's config epoch. */
  current_epoch: number;
  /** Slots being migrated away: slot → destination node id. */
  migrating?: Record<string, string>;
  /** Slots being imported: slot → source node id. */
  importing?: Record<string, string>;
}

/**
 * The nodes of a `CLUSTER NODES` reply as `redis-cli --cluster backup` lists them in `nodes.json`: the node asked
 * first, then the others in the reply's order, leaving out those that are failed, disconnected or without an
 * address (as redis-cli does).
 */
export function clusterBackupNodes(clusterNodes: string): ClusterBackupNode[] {
  const out: ClusterBackupNode[] = [];
  for (const line of clusterNodes.split('\n')) {
    const f = line.trim().split(' ');
    if (f.length < 8) continue;
    const [id, addr, flagText, master, , , epoch] = f;
    const flags = flagText.split(',');
    if (flags.some((x) => x === 'noaddr' || x === 'fail' || x === 'handshake') || f[7] === 'disconnected') continue;
    const at = addr.split(',')[0].split('@')[0];
    const colon = at.lastIndexOf(':');
    const host = at.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(at.slice(colon + 1));
    if (host === '' || !port) continue;
    const node: ClusterBackupNode = {
      name: id,
      host,
      port,
      replicate: master !== '-' && flags.includes('slave') ? master : null,
      slots: [],
      slots_count: 0,
      flags: flags.filter((x) => x !== 'myself').join(','),
      current_epoch: Number(epoch) || 0,
    };
    for (const def of f.slice(8)) {
      const mig = /^\[(\d+)->-([0-9a-f]+)\]$/.exec(def);
      const imp = /^\[(\d+)-<-([0-9a-f]+)\]$/.exec(def);
      if (mig) (node.migrating ??= {})[mig[1]] = mig[2];
      else if (imp) (node.importing ??= {})[imp[1]] = imp[2];
      else {
        const m = /^(\d+)(?:-(\d+))?$/.exec(def);
        if (!m) continue;
        const first = Number(m[1]);
        const last = m[2] === undefined ? first : Number(m[2]);
        node.slots.push(first === last ? [first] : [first, last]);
        node.slots_count += last - first + 1;
      }
    }
    if (flags.includes('myself')) out.unshift(node);
    else out.push(node);
  }
  return out;
}

/** `nodes.json` as redis-cli lays it out (a slot list on one line), with a final newline. */
export function formatNodesJson(nodes: readonly ClusterBackupNode[]): string {
  const q = (s: string) => JSON.stringify(s);
  const map = (m: Record<string, string>) => `{${Object.entries(m).map(([k, v]) => `${q(k)}: ${q(v)}`).join(',')}}`;
  const one = (n: ClusterBackupNode) => {
    const fields = [
      `"name": ${q(n.name)}`,
      `"host": ${q(n.host)}`,
      `"port": ${n.port}`,
      `"replicate": ${n.replicate === null ? 'null' : q(n.replicate)}`,
      `"slots": [${n.slots.map((r) => `[${r.join(',')}]`).join(',')}]`,
      `"slots_count": ${n.slots_count}`,
      `"flags": ${q(n.flags)}`,
      `"current_epoch": ${n.current_epoch}`,
    ];
    if (n.migrating) fields.push(`"migrating": ${map(n.migrating)}`);
    if (n.importing) fields.push(`"importing": ${map(n.importing)}`);
    return `  {\n${fields.map((f) => `    ${f}`).join(',\n')}\n  }`;
  };
  return `[\n${nodes.map(one).join(',\n')}\n]\n`;
}

/** The masters and their slots, as text, to see whether the map moved. */
function ownersText(nodes: readonly ClusterBackupNode[]): string {
  return nodes
    .filter((n) => n.slots_count > 0)
    .map((n) => `${n.name}:${n.slots.map((r) => r.join('-')).join(',')}`)
    .sort()
    .join(' ');
}

/** Options of {@link fetchClusterSnapshots}: the snapshot options, the output policy, a callback per master. */
export interface ClusterFetchOptions extends FetchSnapshotOptions, OutputPolicy {
  /** Called before each master's fetch (no `result`) and after it (with it). */
  onNode?: (event: { node: ClusterBackupNode; index: number; count: number; result?: FetchResult }) => void;
}

/** What {@link fetchClusterSnapshots} wrote. */
export interface ClusterFetchResult {
  dir: string;
  /** One per master, in slot order: its snapshot `<dir>/<node id>.rdb`. */
  masters: { node: ClusterBackupNode; file: string; result: FetchResult }[];
  /** `nodes.json` as written. */
  nodes: ClusterBackupNode[];
  seconds: number;
  /** Where the directory that was replaced now lives (`force`), else null. */
  backup: string | null;
}

/**
 * Fetches every master's snapshot of the cluster that `seed` belongs to into `dir` (`<node id>.rdb` each, verified
 * as {@link fetchSnapshotToFile} does) plus `nodes.json`, the slot map as `redis-cli --cluster backup` writes it.
 * The directory is built beside its target and renamed into place only when every snapshot is complete and the slot
 * map is the same after the fetches as before (else LiveError('cluster'): a failover or resharding happened; fetch
 * again). The masters are fetched one after another, so each file is a consistent point of its own master, not of
 * the cluster as a whole (as with redis-cli). The seed's credentials and TLS settings are used for every node.
 */
export async function fetchClusterSnapshots(seed: string | RedisAddress, dir: string, options: ClusterFetchOptions = {}): Promise<ClusterFetchResult> {
  options.signal?.throwIfAborted();
  const started = Date.now();
  const seedAddress = typeof seed === 'string' ? parseRedisUrl(seed) : seed;
  // the output rules first: an existing directory is refused before any server is asked anything
  await checkOutput(dir, { force: options.force, inputs: options.inputs }, 'dir');
  const connectTls = options.tls === true ? {} : typeof options.tls === 'object' && options.tls !== null ? (options.tls as TlsOptions) : undefined;
  const readMap = async (): Promise<{ map: SlotMap; nodes: ClusterBackupNode[] }> => {
    const conn = await connectRedis(seedAddress, { tls: connectTls, db: 0, timeoutMs: options.timeoutMs ?? 10_000 });
    try {
      const map = await fetchSlotMapFrom(conn);
      const text = await conn.callText('CLUSTER', 'NODES');
      return { map, nodes: clusterBackupNodes(text ?? '') };
    } finally {
      await conn.close();
    }
  };
  const before = await readMap();
  const server = formatAddress(seedAddress);
  // the masters as the slot map names them, each with its line of CLUSTER NODES
  const byId = new Map(before.nodes.map((n) => [n.name, n]));
  const masters = before.map.nodes.map((n) => {
    const entry = byId.get(n.id);
    if (!entry) throw new LiveError('cluster', `the slot map names ${n.id} (${n.host}:${n.port}) but CLUSTER NODES does not list it: the cluster is changing; try again`, { server });
    return { slotNode: n, entry };
  });
  const fromMap = ownersText(
    before.map.nodes.map((n) => {
      const ranges = before.map.ranges.filter((r) => r.node.id === n.id).map((r) => (r.first === r.last ? [r.first] : [r.first, r.last]));
      return { name: n.id, host: n.host, port: n.port, replicate: null, slots: ranges, slots_count: 1, flags: '', current_epoch: 0 };
    }),
  );
  if (fromMap !== ownersText(before.nodes)) {
    throw new LiveError('cluster', 'the slot map and CLUSTER NODES disagree on the slot owners: the cluster is changing; try again', { server });
  }

  const out = await AtomicDir.create(dir, { force: options.force, inputs: options.inputs });
  try {
    const results: ClusterFetchResult['masters'] = [];
    for (let i = 0; i < masters.length; i++) {
      const { slotNode, entry } = masters[i];
      options.onNode?.({ node: entry, index: i, count: masters.length });
      const address: RedisAddress = { ...seedAddress, host: slotNode.host, port: slotNode.port };
      const file = `${slotNode.id}.rdb`;
      const result = await fetchSnapshotToFile(address, out.path(file), { ...options, force: false, inputs: undefined, lock: false });
      results.push({ node: entry, file, result });
      options.onNode?.({ node: entry, index: i, count: masters.length, result });
    }
    const after = await readMap();
    if (ownersText(after.nodes) !== ownersText(before.nodes)) {
      throw new LiveError('cluster', 'the slot map changed while the snapshots were fetched (a failover or a resharding): nothing was written; fetch again', { server });
    }
    await writeFileAtomic(out.path('nodes.json'), Buffer.from(formatNodesJson(before.nodes)), { lock: false });
    await out.commit();
    return { dir, masters: results, nodes: before.nodes, seconds: (Date.now() - started) / 1000, backup: out.replacedBackup };
  } catch (err) {
    await out.abort();
    throw err;
  }
}
