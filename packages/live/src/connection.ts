// One connection to one Redis server: net or TLS, AUTH and SELECT from the URL, commands with bounded
// in-flight replies, timeouts, typed errors naming host:port.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { RespDecoder, encodeCommand, type RespLimits, type RespValue } from '@redis-persist/resp';
import { LiveError } from './errors.js';
import { formatAddress, parseRedisUrl, type RedisAddress } from './url.js';

/** One argument of a command: bytes as they are, strings as UTF-8, numbers in decimal. */
export type CommandArg = string | Uint8Array | number;
/** A command: its name then its arguments. */
export type Command = readonly CommandArg[];

/** TLS material for `rediss://` (PEM text or buffers, as node:tls takes them). */
export interface TlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  /** SNI name and the name the certificate must carry (default: the host, unless it is an IP address). */
  servername?: string;
  /** Default true: the server's certificate must verify against `ca` (or the system CAs). */
  rejectUnauthorized?: boolean;
}

/** Options of {@link connectRedis}: TLS, timeouts, how many commands may be unanswered. */
export interface ConnectOptions {
  /** TLS options for a `rediss://` address; giving them for a `redis://` address turns TLS on too. */
  tls?: TlsOptions;
  /**
   * How long connecting (TCP, TLS, AUTH, SELECT) may take, and how long the server may stay silent while a reply
   * is awaited. Default 10 000 ms; 0 for no reply timeout (connecting is still bounded by 10 s then).
   */
  timeoutMs?: number;
  /** Most commands sent and not yet answered (call() waits for a slot beyond it). Default 1000. */
  maxInFlight?: number;
  /** Overrides the URL's credentials and database. */
  username?: string;
  password?: string;
  db?: number;
  /** Bounds on the replies accepted (default: those of `@redis-persist/resp`, bulks up to 512 MiB). */
  limits?: RespLimits;
}

/** Options of a connection's `pipeline()`: the most commands sent and not yet answered. */
export interface PipelineOptions {
  /** Most commands of this pipeline sent and not yet answered. Default 100. */
  maxInFlight?: number;
}

interface Pending {
  resolve(v: RespValue): void;
  reject(e: Error): void;
  name: string;
}

const utf8 = new TextDecoder();
const DEFAULT_TIMEOUT = 10_000;

/** The name of a command (its first argument) for messages. */
export function commandName(args: Command): string {
  const a = args[0];
  if (a === undefined) return '';
  return (a instanceof Uint8Array ? utf8.decode(a.subarray(0, 64)) : String(a)).toUpperCase();
}

/** A LiveError for an error reply: NOPERM → noperm, WRONGPASS/NOAUTH → auth, anything else → reply. */
export function replyError(text: string, server: string, command?: string): LiveError {
  const word = /^\S+/.exec(text)?.[0] ?? '';
  const code = word === 'NOPERM' ? 'noperm' : word === 'WRONGPASS' || word === 'NOAUTH' ? 'auth' : 'reply';
  const err = new LiveError(code, command !== undefined && command !== '' ? `${command}: ${text}` : text, { server });
  err.reply = text;
  return err;
}

/** Text of a bulk or simple-string reply (null for a null reply); throws LiveError('protocol') for anything else. */
export function replyText(v: RespValue, server?: string): string | null {
  if (v.type === 'simple') return v.value;
  if (v.type === 'bulk') return v.value === null ? null : utf8.decode(v.value);
  throw new LiveError('protocol', `expected a string reply, got ${v.type}`, { server });
}

/** `INFO` text as `field → value` (section headers and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/** Options of {@link connectRedis} with the address spelled out. */
function resolveAddress(target: string | RedisAddress, options: ConnectOptions): RedisAddress {
  const a: RedisAddress = typeof target === 'string' ? parseRedisUrl(target) : { ...target };
  if (options.username !== undefined) a.username = options.username;
  if (options.password !== undefined) a.password = options.password;
  if (options.db !== undefined) a.db = options.db;
  if (options.tls !== undefined) a.tls = true;
  return a;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/**
 * A connection to one server. Replies come back in order; an error reply rejects {@link call} with a
 * LiveError('reply' | 'noperm' | 'auth') carrying the server's text, and comes back as a value from
 * {@link request} and {@link pipeline}. A lost connection rejects everything awaited with LiveError('closed'),
 * a silent server with LiveError('timeout'); after that every command rejects.
 */
export class RedisConnection {
  /** `host:port` of the server, as messages name it. */
  readonly server: string;
  private readonly decoder: RespDecoder;
  /** Awaited replies, oldest first (`head` is the oldest). Bounded by maxInFlight. */
  private pending: Pending[] = [];
  private head = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private failure: LiveError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  /** The most recent chunks fed to the decoder, covering at least what it holds unread (for detach()). */
  private recent: Uint8Array[] = [];
  private recentBytes = 0;
  private detached = false;
  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);
  private readonly onErrorBound = (err: Error) => this.fail(new LiveError('closed', `connection failed: ${err.message}`, { server: this.server, cause: err }));
  private readonly onCloseBound = () => this.fail(new LiveError('closed', 'the server closed the connection', { server: this.server }));
  private readonly onDrainBound = () => {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  };

  /** @internal use {@link connectRedis}. */
  constructor(
    private readonly socket: Socket,
    readonly address: RedisAddress,
    private timeoutMs: number,
    private readonly maxInFlight: number,
    limits?: RespLimits,
  ) {
    this.server = formatAddress(address);
    this.decoder = new RespDecoder(limits);
    socket.setNoDelay(true);
    socket.on('data', this.onDataBound);
    socket.on('error', this.onErrorBound);
    socket.on('close', this.onCloseBound);
    socket.on('drain', this.onDrainBound);
  }

  /** True once the connection failed or was closed. */
  get closed(): boolean {
    return this.failure !== null;
  }

  /** Changes the reply timeout (0: none), e.g. around a command known to take long. */
  setReplyTimeout(ms: number): void {
    this.timeoutMs = ms;
    this.stopTimer();
    if (this.inFlight > 0) this.startTimer();
  }

  /** Commands sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /** Sends one command; resolves with its reply, rejects with a LiveError for an error reply. */
  async call(...args: CommandArg[]): Promise<RespValue> {
    const v = await this.request(args);
    if (v.type === 'error') throw replyError(v.value, this.server, commandName(args));
    return v;
  }

  /** Like {@link call}, for string replies: the text, or null for a null reply. */
  async callText(...args: CommandArg[]): Promise<string | null> {
    return replyText(await this.call(...args), this.server);
  }

  /** Like {@link call}, for integer replies. */
  async callInteger(...args: CommandArg[]): Promise<number> {
    const v = await this.call(...args);
    if (v.type !== 'integer') throw new LiveError('protocol', `${commandName(args)}: expected an integer reply, got ${v.type}`, { server: this.server });
    return Number(v.value);
  }

  /** `INFO [section]` as `field → value`. */
  async info(section?: string): Promise<Map<string, string>> {
    return parseInfo((await this.callText(...(section === undefined ? ['INFO'] : ['INFO', section]))) ?? '');
  }

  /**
   * Sends one command and resolves with its reply, an error reply included (as `{ type: 'error' }`); rejects only
   * when the connection fails. Waits while {@link inFlight} is at maxInFlight, and while the socket's write buffer
   * is full.
   */
  async request(args: Command): Promise<RespValue> {
    await this.ready();
    return this.send(args);
  }

  /**
   * Resolves once `n` more commands may be sent: fewer than maxInFlight - n + 1 are awaited and the socket's write
   * buffer is not full (resolves at once after a failure: {@link send} then rejects). Sending right after it, in the
   * same tick, keeps commands in the order of the calls (`await c.ready(2); c.send(['ASKING']); c.send(cmd)`).
   */
  async ready(n = 1): Promise<void> {
    const room = Math.max(0, this.maxInFlight - Math.min(n, this.maxInFlight));
    while (this.failure === null && this.inFlight > room) await new Promise<void>((r) => this.slotWaiters.push(r));
    if (this.failure === null && this.socket.writableNeedDrain) await this.drained();
  }

  /**
   * Sends `commands` keeping at most `maxInFlight` unanswered, and resolves with every reply in order, error
   * replies as values. Rejects only when the connection fails.
   */
  async pipeline(commands: Iterable<Command>, options: PipelineOptions = {}): Promise<RespValue[]> {
    const window = Math.max(1, Math.min(options.maxInFlight ?? 100, this.maxInFlight));
    const replies: RespValue[] = [];
    const inFlight: Promise<void>[] = [];
    let failed: unknown = null;
    let sent = 0;
    let done = 0;
    let wake: (() => void) | null = null;
    for (const cmd of commands) {
      if (failed !== null) break;
      while (sent - done >= window && failed === null) await new Promise<void>((r) => (wake = r));
      if (failed !== null) break;
      if (this.socket.writableNeedDrain && this.failure === null) await this.drained();
      const i = sent++;
      inFlight.push(
        this.send(cmd).then(
          (v) => {
            replies[i] = v;
            done++;
          },
          (e: unknown) => {
            failed ??= e;
            done++;
          },
        ).finally(() => {
          const w = wake;
          wake = null;
          w?.();
        }),
      );
      if (inFlight.length >= 4 * window) {
        // keep the list of promises bounded too: the oldest ones have settled (replies come in order)
        await Promise.all(inFlight.splice(0, inFlight.length - window));
      }
    }
    await Promise.all(inFlight);
    if (failed !== null) throw failed;
    return replies;
  }

  /** Closes the connection: QUIT is not sent, the socket just ends; awaited replies reject with LiveError('closed'). */
  async close(): Promise<void> {
    if (this.detached) return;
    this.fail(new LiveError('closed', 'the connection was closed', { server: this.server }));
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000);
      t.unref();
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.socket.end();
    });
  }

  /**
   * Hands the socket over (for protocols that stop speaking RESP, like a replica's RDB transfer): this connection
   * stops reading it, and `head` holds the bytes already received past the last reply. Refused while replies are
   * awaited.
   */
  detach(): { socket: Socket; head: Uint8Array } {
    if (this.failure !== null) throw this.failure;
    if (this.inFlight > 0) throw new LiveError('protocol', `cannot detach with ${this.inFlight} replies awaited`, { server: this.server });
    const unread = this.decoder.buffered;
    let all: Uint8Array;
    if (this.recent.length === 1) all = this.recent[0];
    else all = Buffer.concat(this.recent);
    const head = all.subarray(all.length - unread);
    this.detached = true;
    this.stopTimer();
    this.socket.off('data', this.onDataBound);
    this.socket.off('error', this.onErrorBound);
    this.socket.off('close', this.onCloseBound);
    this.socket.off('drain', this.onDrainBound);
    this.failure = new LiveError('closed', 'the connection was detached', { server: this.server });
    this.recent = [];
    return { socket: this.socket, head: Uint8Array.from(head) };
  }

  private drained(): Promise<void> {
    return new Promise<void>((r) => this.drainWaiters.push(r));
  }

  /**
   * Sends one command at once (no waiting for a slot: see {@link ready}) and resolves with its reply, error replies
   * included; rejects only when the connection fails.
   */
  send(args: Command): Promise<RespValue> {
    if (this.failure !== null) return Promise.reject(this.failure);
    let bytes: Uint8Array;
    try {
      bytes = encodeCommand(args);
    } catch (e) {
      return Promise.reject(new LiveError('protocol', `cannot encode ${commandName(args)}: ${(e as Error).message}`, { server: this.server, cause: e }));
    }
    return new Promise<RespValue>((resolve, reject) => {
      if (this.inFlight === 0) this.lastActivity = Date.now();
      this.pending.push({ resolve, reject, name: commandName(args) });
      this.socket.write(bytes);
      this.startTimer();
    });
  }

  private onData(chunk: Buffer): void {
    this.lastActivity = Date.now();
    try {
      this.decoder.push(chunk);
      this.recent.push(chunk);
      this.recentBytes += chunk.length;
      // Replies are only taken while some are awaited: bytes past the last one stay unread (see detach()).
      while (this.inFlight > 0) {
        const v = this.decoder.next();
        if (v === undefined) break;
        const p = this.pending[this.head];
        this.pending[this.head++] = undefined as unknown as Pending;
        if (this.head > 1024 && this.head * 2 > this.pending.length) {
          this.pending = this.pending.slice(this.head);
          this.head = 0;
        }
        p.resolve(v);
        this.slotWaiters.shift()?.();
      }
      if (this.inFlight === 0 && this.decoder.buffered > 0 && !this.detached) {
        // Redis sends nothing unasked (RESP2, no pub/sub here): keep at most a little of it for detach()
        if (this.decoder.buffered > 64 * 1024 * 1024) throw new LiveError('protocol', 'the server sent more than 64 MiB nobody asked for', { server: this.server });
      }
      const unread = this.decoder.buffered;
      while (this.recent.length > 0 && this.recentBytes - this.recent[0].length >= unread) this.recentBytes -= this.recent.shift()!.length;
      if (this.inFlight === 0) {
        this.stopTimer();
        this.pending = [];
        this.head = 0;
      }
    } catch (e) {
      const err = e instanceof LiveError ? e : new LiveError('protocol', `unreadable reply: ${(e as Error).message}`, { server: this.server, cause: e });
      this.fail(err);
      this.socket.destroy();
    }
  }

  private startTimer(): void {
    if (this.timer !== null || this.timeoutMs <= 0) return;
    const tick = () => {
      this.timer = null;
      if (this.failure !== null || this.inFlight === 0) return;
      const idle = Date.now() - this.lastActivity;
      if (idle >= this.timeoutMs) {
        const p = this.pending[this.head];
        this.fail(new LiveError('timeout', `no reply to ${p?.name ?? 'a command'} within ${this.timeoutMs} ms`, { server: this.server }));
        this.socket.destroy();
        return;
      }
      this.timer = setTimeout(tick, this.timeoutMs - idle);
    };
    this.timer = setTimeout(tick, this.timeoutMs);
  }

  private stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private fail(err: LiveError): void {
    if (this.detached) return;
    if (this.failure === null) this.failure = err;
    this.stopTimer();
    const pending = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    for (const p of pending) p.reject(err);
    for (const w of this.slotWaiters.splice(0)) w();
    this.onDrainBound();
  }
}

/**
 * Connects to one server (`redis://[user:pass@]host:port[/db]`, `rediss://...`, `host:port` or a parsed address),
 * authenticates (AUTH user pass, or AUTH pass) and selects the URL's database. Fails with LiveError: `connect`
 * (refused, unreachable, TLS, timed out), `auth` (WRONGPASS/NOAUTH), `noperm`, or `reply` (SELECT refused).
 */
export async function connectRedis(target: string | RedisAddress, options: ConnectOptions = {}): Promise<RedisConnection> {
  const address = resolveAddress(target, options);
  const server = formatAddress(address);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
  const connectTimeout = timeoutMs > 0 ? timeoutMs : DEFAULT_TIMEOUT;
  const deadline = Date.now() + connectTimeout;
  const socket = await new Promise<Socket>((resolve, reject) => {
    let s: Socket;
    const fail = (e: Error) => {
      clearTimeout(timer);
      s.destroy();
      const what = address.tls ? 'TLS connection' : 'connection';
      reject(new LiveError('connect', `${what} failed: ${e.message}`, { server, cause: e }));
    };
    const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeout} ms`)), connectTimeout);
    const ready = () => {
      clearTimeout(timer);
      s.off('error', fail);
      resolve(s);
    };
    if (address.tls) {
      const t = options.tls ?? {};
      const tlsOptions: TlsConnectionOptions = { host: address.host, port: address.port, rejectUnauthorized: t.rejectUnauthorized ?? true };
      if (t.ca !== undefined) tlsOptions.ca = t.ca;
      if (t.cert !== undefined) tlsOptions.cert = t.cert;
      if (t.key !== undefined) tlsOptions.key = t.key;
      const sni = t.servername ?? (isIp(address.host) ? undefined : address.host);
      if (sni !== undefined) tlsOptions.servername = sni;
      s = tlsConnect(tlsOptions, ready);
    } else {
      s = netConnect({ host: address.host, port: address.port }, ready);
    }
    s.once('error', fail);
  });
  const conn = new RedisConnection(socket, address, timeoutMs > 0 ? Math.min(timeoutMs, Math.max(1, deadline - Date.now())) : connectTimeout, options.maxInFlight ?? 1000, options.limits);
  // the handshake is bounded by what is left of the connect timeout; afterwards the reply timeout is timeoutMs
  try {
    if (address.password !== undefined) {
      const auth = address.username !== undefined ? ['AUTH', address.username, address.password] : ['AUTH', address.password];
      const v = await conn.request(auth);
      if (v.type === 'error') {
        const e = replyError(v.value, server);
        const err = new LiveError(e.code === 'reply' && /password|auth/i.test(v.value) ? 'auth' : e.code, `AUTH${address.username !== undefined ? ` as ${address.username}` : ''} refused: ${v.value}`, { server });
        err.reply = v.value;
        throw err;
      }
    }
    if (address.db !== 0) await conn.call('SELECT', address.db);
  } catch (e) {
    await conn.close();
    if (e instanceof LiveError && e.code === 'timeout') throw new LiveError('connect', `no answer to the handshake within ${connectTimeout} ms`, { server, cause: e });
    throw e;
  }
  conn.setReplyTimeout(timeoutMs);
  return conn;
}
