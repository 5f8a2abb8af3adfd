import { Socket, connect as netConnect } from 'node:net';
import { CommandEncoder, RespDecoder, type CommandArg, type RespValue } from '@redis-persist/resp';

/** A command argument: bytes as they are, strings as UTF-8, numbers in decimal. */
export type RedisArg = string | number | bigint | Uint8Array;

/** An error reply (`-ERR ...`) from the server; `message` is the server's text. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
  }
}

/** A minimal RESP2 client for tests. Replies are raw {@link RespValue}s; nothing is converted to strings. */
export interface RedisClient {
  /** Sends one command; rejects with {@link RedisReplyError} (the server's text) for an error reply. */
  call(...args: RedisArg[]): Promise<RespValue>;
  /** Like call(), for bulk/simple-string replies: the bytes, or null for a null reply. */
  callBuffer(...args: RedisArg[]): Promise<Uint8Array | null>;
  /** Like call(), for bulk/simple-string replies as UTF-8 text, or null. */
  callText(...args: RedisArg[]): Promise<string | null>;
  /** Like call(), for integer replies. */
  callInt(...args: RedisArg[]): Promise<bigint>;
  /**
   * Sends all commands at once and resolves with every reply in order. Error replies are NOT thrown: they
   * come back as `{ type: 'error' }` values, so a batch of random traffic can carry expected errors.
   */
  pipeline(cmds: readonly (readonly RedisArg[])[]): Promise<RespValue[]>;
  /** Closes the connection (pending calls reject). */
  close(): Promise<void>;
  /** True once the connection is closed (by us or the server). */
  readonly closed: boolean;
}

interface Pending {
  resolve(v: RespValue): void;
  reject(e: Error): void;
}

const utf8 = new TextDecoder();

function commandName(args: readonly RedisArg[]): string {
  const a = args[0];
  if (a === undefined) return '';
  return a instanceof Uint8Array ? utf8.decode(a) : String(a);
}

class SocketClient implements RedisClient {
  private readonly decoder = new RespDecoder();
  private readonly pending: Pending[] = [];
  private readonly encoder = new CommandEncoder(4096);
  private failure: Error | null = null;
  closed = false;

  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection to redis-server closed')));
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk);
      for (let v = this.decoder.next(); v !== undefined; v = this.decoder.next()) {
        const p = this.pending.shift();
        if (p === undefined) throw new Error('reply without a pending command');
        p.resolve(v);
      }
    } catch (e) {
      this.fail(e as Error);
      this.socket.destroy();
    }
  }

  private fail(err: Error): void {
    this.closed = true;
    if (this.failure === null) this.failure = err;
    for (const p of this.pending.splice(0)) p.reject(err);
  }

  private send(cmds: readonly (readonly RedisArg[])[]): Promise<RespValue>[] {
    if (this.closed) {
      const err = this.failure ?? new Error('connection closed');
      return cmds.map(() => Promise.reject(err));
    }
    const promises = cmds.map(
      () => new Promise<RespValue>((resolve, reject) => this.pending.push({ resolve, reject })),
    );
    for (const c of cmds) this.encoder.add(c as readonly CommandArg[]);
    this.socket.write(this.encoder.take());
    return promises;
  }

  async call(...args: RedisArg[]): Promise<RespValue> {
    const [p] = this.send([args]);
    const v = await p;
    if (v.type === 'error') throw new RedisReplyError(v.value, commandName(args));
    return v;
  }

  async callBuffer(...args: RedisArg[]): Promise<Uint8Array | null> {
    const v = await this.call(...args);
    if (v.type === 'bulk') return v.value;
    if (v.type === 'simple') return new TextEncoder().encode(v.value);
    if (v.type === 'array' && v.value === null) return null;
    throw new TypeError(`${commandName(args)}: expected a string reply, got ${v.type}`);
  }

  async callText(...args: RedisArg[]): Promise<string | null> {
    const b = await this.callBuffer(...args);
    return b === null ? null : utf8.decode(b);
  }

  async callInt(...args: RedisArg[]): Promise<bigint> {
    const v = await this.call(...args);
    if (v.type !== 'integer') throw new TypeError(`${commandName(args)}: expected an integer reply, got ${v.type}`);
    return v.value;
  }

  pipeline(cmds: readonly (readonly RedisArg[])[]): Promise<RespValue[]> {
    if (cmds.length === 0) return Promise.resolve([]);
    return Promise.all(this.send(cmds));
  }

  close(): Promise<void> {
    if (this.socket.destroyed) {
      this.closed = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      // A server that does not close its side within a second is cut off.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    });
  }
}

/** Connects to a server (default host 127.0.0.1). */
export function connect(port: number, host = '127.0.0.1'): Promise<RedisClient> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ port, host });
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(new SocketClient(socket));
    });
  });
}
