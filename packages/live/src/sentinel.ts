// Redis Sentinel: which server is the master of a monitored name, asked the way the sentinel client guidelines say
// (each sentinel in turn, `SENTINEL get-master-addr-by-name`, the answer confirmed with `ROLE` at that address), and
// failovers watched as they happen (`+switch-master` on the sentinels' pub/sub).
import type { Socket } from 'node:net';
import { RespDecoder, encodeCommand, type RespValue } from '@redis-persist/resp';
import { connectRedis, replyError, type RedisConnection, type TlsOptions } from './connection.js';
import { LiveError, type LiveErrorCode, type LiveErrorInit } from './errors.js';
import { formatAddress, type RedisAddress } from './url.js';

/** Where a sentinel listens. */
export interface SentinelAddress {
  host: string;
  port: number;
}

/** The port sentinels listen on unless told otherwise. */
export const SENTINEL_DEFAULT_PORT = 26379;

/** Options for finding a master through Sentinel: the sentinels, the master's name, auth and TLS. */
export interface SentinelOptions {
  /** The sentinels, asked in this order: `'h:p,h:p'` or a list of `'h:p'` / addresses. */
  sentinels: string | readonly (string | SentinelAddress)[];
  /** The name the sentinels monitor the master under (`sentinel monitor <name> ...`). */
  masterName: string;
  /** Credentials of the master (and its replicas): put into the resolved address and used for the ROLE check. */
  username?: string;
  password?: string;
  /** The database of the resolved address (default 0). */
  db?: number;
  /** TLS towards the master (the resolved address then has `tls: true`). */
  tls?: TlsOptions;
  /** Credentials of the sentinels themselves (a sentinel's own `requirepass` / ACL user). */
  sentinelUsername?: string;
  sentinelPassword?: string;
  /** TLS towards the sentinels. */
  sentinelTls?: TlsOptions;
  /** Bound on each connection and reply, per sentinel and for the ROLE check. Default 3000 ms. */
  timeoutMs?: number;
  /** How many rounds over the sentinels before giving up. Default 3. */
  attempts?: number;
  /** Pause between rounds. Default 500 ms. */
  retryDelayMs?: number;
}

/** What one sentinel said when asked for the master, for messages and {@link SentinelError.answers}. */
export interface SentinelAnswer {
  /** `host:port` of the sentinel. */
  sentinel: string;
  /**
   * - `master`: it named the master and ROLE there confirmed it
   * - `unknown-master`: it does not monitor that name (a null reply)
   * - `not-master`: it named an address whose ROLE is not master (a failover under way)
   * - `master-unreachable`: it named an address nobody answers at
   * - `unreachable`: the sentinel itself could not be asked (refused, timed out, closed)
   * - `error`: it answered with an error (AUTH refused, NOPERM, not a sentinel...)
   */
  outcome: 'master' | 'unknown-master' | 'not-master' | 'master-unreachable' | 'unreachable' | 'error';
  /** The address it named, when it named one. */
  master?: string;
  /** In words. */
  message: string;
  /** The LiveError code behind an `unreachable`, `master-unreachable` or `error` outcome. */
  code?: LiveErrorCode;
}

/** No sentinel gave a master that confirmed: `answers` holds what each sentinel said in the last round. */
export class SentinelError extends LiveError {
  override readonly name = 'SentinelError';
  readonly masterName: string;
  readonly answers: SentinelAnswer[];
  constructor(code: LiveErrorCode, message: string, init: LiveErrorInit & { masterName: string; answers: SentinelAnswer[] }) {
    const { masterName, answers, ...base } = init;
    super(code, message, base);
    this.masterName = masterName;
    this.answers = answers;
  }
}

/** The master found by {@link resolveMaster}. */
export interface ResolvedMaster {
  /** Where it is, with the credentials, TLS and database of the options: ready for connectRedis or fetchSnapshot. */
  address: RedisAddress;
  /** `host:port` of the sentinel that named it. */
  sentinel: string;
  /** The master's replication offset as ROLE gave it (null when only INFO could be asked). */
  offset: number | null;
  /** What each sentinel asked said (the ones before the answering one failed or answered something unusable). */
  answers: SentinelAnswer[];
}

const utf8 = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Parses a list of sentinels: `host:port` items separated by commas (or spaces); `[::1]:26379` for IPv6; a host
 * without a port means 26379. Duplicates are dropped, the order kept. Throws LiveError('url').
 */
export function parseSentinelList(text: string): SentinelAddress[] {
  const out: SentinelAddress[] = [];
  const seen = new Set<string>();
  const items = text.split(/[,\s]+/).filter((s) => s !== '');
  if (items.length === 0) throw new LiveError('url', `no sentinel in ${JSON.stringify(text)} (expected host:port[,host:port...])`);
  for (const item of items) {
    const m = /^(?:\[([^\]]+)\]|([^:[\]/@]+))(?::(\d{1,5}))?$/.exec(item.replace(/^redis:\/\//i, ''));
    const port = m?.[3] !== undefined ? Number(m[3]) : SENTINEL_DEFAULT_PORT;
    if (m === null || port < 1 || port > 65535) throw new LiveError('url', `not a sentinel address: ${JSON.stringify(item)} (expected host:port)`);
    const a = { host: m[1] ?? m[2], port };
    const key = formatAddress(a);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(a);
  }
  return out;
}

function sentinelList(s: SentinelOptions['sentinels']): SentinelAddress[] {
  if (typeof s === 'string') return parseSentinelList(s);
  const out: SentinelAddress[] = [];
  for (const item of s) out.push(...(typeof item === 'string' ? parseSentinelList(item) : [{ host: item.host, port: item.port }]));
  if (out.length === 0) throw new LiveError('url', 'no sentinel given');
  return out;
}

/** The master's address as the options want it (credentials, TLS, database). */
function masterAddress(host: string, port: number, o: SentinelOptions): RedisAddress {
  const a: RedisAddress = { host, port, tls: o.tls !== undefined, db: o.db ?? 0 };
  if (o.username !== undefined) a.username = o.username;
  if (o.password !== undefined) a.password = o.password;
  return a;
}

function connectSentinel(s: SentinelAddress, o: SentinelOptions): Promise<RedisConnection> {
  const a: RedisAddress = { host: s.host, port: s.port, tls: o.sentinelTls !== undefined, db: 0 };
  if (o.sentinelUsername !== undefined) a.username = o.sentinelUsername;
  if (o.sentinelPassword !== undefined) a.password = o.sentinelPassword;
  return connectRedis(a, { timeoutMs: o.timeoutMs ?? 3000, ...(o.sentinelTls !== undefined ? { tls: o.sentinelTls } : {}) });
}

function text(v: RespValue | undefined): string | null {
  if (v === undefined) return null;
  if (v.type === 'bulk') return v.value === null ? null : utf8.decode(v.value);
  if (v.type === 'simple') return v.value;
  if (v.type === 'integer') return String(v.value);
  return null;
}

/**
 * `SENTINEL get-master-addr-by-name <name>` on one sentinel: the address, or null when it does not know the name.
 * Throws LiveError when it cannot be asked or answers something else.
 */
export async function askSentinel(sentinel: SentinelAddress, options: SentinelOptions): Promise<SentinelAddress | null> {
  const conn = await connectSentinel(sentinel, options);
  try {
    const v = await conn.call('SENTINEL', 'get-master-addr-by-name', options.masterName);
    if ((v.type === 'array' || v.type === 'bulk') && v.value === null) return null;
    if (v.type === 'array' && v.value !== null && v.value.length === 2) {
      const host = text(v.value[0]);
      const port = Number(text(v.value[1]));
      if (host !== null && host !== '' && Number.isInteger(port) && port > 0 && port < 65536) return { host, port };
    }
    throw new LiveError('protocol', `SENTINEL get-master-addr-by-name: expected [ip, port] or null, got ${v.type}`, { server: conn.server });
  } finally {
    await conn.close();
  }
}

/** What ROLE (or INFO replication, when ROLE is refused) says about a server: its role and, for a master, its offset. */
export async function serverRole(address: RedisAddress, options: { timeoutMs?: number; tls?: TlsOptions } = {}): Promise<{ role: string; offset: number | null }> {
  const conn = await connectRedis(address, { timeoutMs: options.timeoutMs ?? 3000, ...(options.tls !== undefined ? { tls: options.tls } : {}) });
  try {
    const v = await conn.request(['ROLE']);
    if (v.type === 'array' && v.value !== null && v.value.length > 0) {
      const role = text(v.value[0]) ?? '';
      const offset = role === 'master' ? Number(text(v.value[1]) ?? NaN) : NaN;
      return { role, offset: Number.isFinite(offset) ? offset : null };
    }
    if (v.type !== 'error') throw new LiveError('protocol', `ROLE: expected an array, got ${v.type}`, { server: conn.server });
    // ROLE refused (NOPERM for a restricted user, or a server before 2.8.12): INFO replication says it too
    const info = await conn.request(['INFO', 'replication']);
    if (info.type === 'error') throw replyError(v.value, conn.server, 'ROLE');
    const role = /^role:(\S+)/m.exec(text(info) ?? '')?.[1];
    if (role === undefined) throw replyError(v.value, conn.server, 'ROLE');
    return { role: role === 'slave' ? 'slave' : role, offset: null };
  } finally {
    await conn.close();
  }
}

function failureCode(answers: SentinelAnswer[]): LiveErrorCode {
  const codes = answers.map((a) => a.code);
  const network = (c: LiveErrorCode | undefined) => c === 'connect' || c === 'closed' || c === 'timeout';
  if (answers.length > 0 && answers.every((a) => (a.outcome === 'unreachable' || a.outcome === 'master-unreachable') && network(a.code))) return 'connect';
  if (answers.some((a) => a.outcome === 'unknown-master' || a.outcome === 'not-master')) return 'reply';
  if (codes.includes('auth')) return 'auth';
  if (codes.includes('noperm')) return 'noperm';
  return 'reply';
}

function describeFailure(name: string, answers: SentinelAnswer[], rounds: number): string {
  const said = answers.map((a) => `${a.sentinel}: ${a.message}`).join('; ');
  return `no master for ${JSON.stringify(name)} from the sentinels${rounds > 1 ? ` (${rounds} rounds)` : ''}: ${said}`;
}

/**
 * Finds the master of `masterName`: asks each sentinel in order (`SENTINEL get-master-addr-by-name`; a sentinel that
 * cannot be reached within `timeoutMs`, fails, or does not know the name is skipped) and confirms the address it
 * names with `ROLE` there (it must say `master`; `INFO replication` when ROLE is refused). Up to `attempts` rounds
 * `retryDelayMs` apart; a round where every sentinel that answered said it does not know the name ends it early.
 * Fails with a {@link SentinelError} naming what each sentinel said: code `connect` when no sentinel (or no master
 * named) could be reached at all, `reply` when the name is unknown or the address named is not a master, `auth` /
 * `noperm` when that is what was refused.
 */
export async function resolveMaster(options: SentinelOptions): Promise<ResolvedMaster> {
  return resolveIn(sentinelList(options.sentinels), options);
}

async function resolveIn(sentinels: SentinelAddress[], options: SentinelOptions): Promise<ResolvedMaster> {
  const attempts = Math.max(1, options.attempts ?? 3);
  let answers: SentinelAnswer[] = [];
  let round = 0;
  for (; round < attempts; round++) {
    if (round > 0) await sleep(options.retryDelayMs ?? 500);
    answers = [];
    // one ROLE check per address and round (several sentinels usually name the same one)
    const checked = new Map<string, SentinelAnswer>();
    for (const s of sentinels) {
      const name = formatAddress(s);
      let named: SentinelAddress | null;
      try {
        named = await askSentinel(s, options);
      } catch (e) {
        const err = e instanceof LiveError ? e : new LiveError('protocol', String(e), { server: name, cause: e });
        const network = err.code === 'connect' || err.code === 'closed' || err.code === 'timeout';
        answers.push({ sentinel: name, outcome: network ? 'unreachable' : 'error', message: stripServer(err.message, name), code: err.code });
        continue;
      }
      if (named === null) {
        answers.push({ sentinel: name, outcome: 'unknown-master', message: `does not know a master named ${JSON.stringify(options.masterName)}` });
        continue;
      }
      const address = masterAddress(named.host, named.port, options);
      const at = formatAddress(named);
      const seen = checked.get(at);
      if (seen !== undefined) {
        answers.push({ ...seen, sentinel: name });
        continue;
      }
      let answer: SentinelAnswer;
      try {
        const role = await serverRole(address, { timeoutMs: options.timeoutMs ?? 3000, ...(options.tls !== undefined ? { tls: options.tls } : {}) });
        if (role.role === 'master') {
          answers.push({ sentinel: name, outcome: 'master', master: at, message: `${at}, ROLE master` });
          return { address, sentinel: name, offset: role.offset, answers };
        }
        answer = { sentinel: name, outcome: 'not-master', master: at, message: `${at}, but ROLE there says ${role.role}` };
      } catch (e) {
        const err = e instanceof LiveError ? e : new LiveError('protocol', String(e), { server: at, cause: e });
        const network = err.code === 'connect' || err.code === 'closed' || err.code === 'timeout';
        answer = { sentinel: name, outcome: network ? 'master-unreachable' : 'error', master: at, message: `${at}, which ${network ? 'cannot be reached' : 'refused ROLE'}: ${stripServer(err.message, at)}`, code: err.code };
      }
      checked.set(at, answer);
      answers.push(answer);
    }
    const named = answers.filter((a) => a.outcome !== 'unreachable');
    if (named.length > 0 && named.every((a) => a.outcome === 'unknown-master')) {
      round++;
      break;
    }
  }
  throw new SentinelError(failureCode(answers), describeFailure(options.masterName, answers, round), { masterName: options.masterName, answers });
}

function stripServer(message: string, server: string): string {
  return message.startsWith(`${server}: `) ? message.slice(server.length + 2) : message;
}

/**
 * A function that finds the master again at each call (as {@link resolveMaster}), for code that (re)connects to
 * whatever the master is now: a replication follower, a restore retried after a failover. The sentinel that
 * answered last is asked first next time (the sentinel client guidelines' order).
 */
export function masterResolver(options: SentinelOptions): () => Promise<RedisAddress> {
  const order = sentinelList(options.sentinels);
  return async () => {
    const r = await resolveIn(order.slice(), options);
    const i = order.findIndex((s) => formatAddress(s) === r.sentinel);
    if (i > 0) order.unshift(...order.splice(i, 1));
    return r.address;
  };
}

/** A failover seen by {@link watchMaster}. */
export interface MasterSwitch {
  masterName: string;
  /** The master before (as the sentinel names it), or null when unknown. */
  from: SentinelAddress | null;
  /** The new master, with the credentials, TLS and database of the options. */
  to: RedisAddress;
  /** `host:port` of the sentinel that told. */
  sentinel: string;
  /**
   * `switch-master`: a `+switch-master` message; `resync`: after its subscription was lost and made again, a sentinel
   * names a master other than the last one known (the switch happened meanwhile), confirmed by ROLE.
   */
  reason: 'switch-master' | 'resync';
}

/** Something that happened to one sentinel's subscription, for {@link WatchMasterOptions.onSentinel}. */
export interface SentinelEvent {
  sentinel: string;
  /** `subscribed`: listening to +switch-master; `lost`: the subscription (or the attempt to make it) failed. */
  state: 'subscribed' | 'lost';
  error?: LiveError;
}

/** Options of {@link watchMaster}: the Sentinel options and callbacks for failovers and errors. */
export interface WatchMasterOptions extends SentinelOptions {
  /** Called for each failover (before the iterator yields it). */
  onSwitch?: (s: MasterSwitch) => void;
  /** Called when a sentinel's subscription is made or lost. */
  onSentinel?: (e: SentinelEvent) => void;
  /** The master as the caller knows it now: a `+switch-master` to this address is not a change. */
  current?: SentinelAddress;
  /** A PING on each subscription this often; no data for this long plus `timeoutMs` drops it. Default 5000 ms. */
  pingIntervalMs?: number;
  /** First pause before subscribing again to a sentinel, doubled up to 5 s. Default 250 ms. */
  reconnectDelayMs?: number;
  /** Closes the watch. */
  signal?: AbortSignal;
}

/**
 * Failovers of one master as they happen: subscribed to `+switch-master` on every sentinel (each subscription made
 * again after it is lost, with a growing pause), each switch reported once (several sentinels publish the same one).
 * Iterate it (`for await (const s of watch)`) or pass `onSwitch`; {@link close} ends both. Treat a switch as a hint to
 * find the master again ({@link resolveMaster}): sentinels publish it when they take up the new configuration, the
 * old master may still answer as master for a few seconds.
 */
export class MasterWatch implements AsyncIterable<MasterSwitch> {
  /** Resolves once one sentinel's subscription is made; rejects (SentinelError) when the first attempt on every sentinel failed. The watch keeps trying until closed. */
  readonly ready: Promise<void>;
  private readyResolve!: () => void;
  private readyReject!: (e: Error) => void;
  private readySettled = false;
  private firstFailures: SentinelAnswer[] = [];
  private closedFlag = false;
  private readonly sockets = new Set<Socket>();
  private readonly wakeups = new Set<() => void>();
  private readonly queue: MasterSwitch[] = [];
  private readonly waiters: ((r: IteratorResult<MasterSwitch>) => void)[] = [];
  private currentMaster: SentinelAddress | null;
  private readonly subscribedSet = new Set<string>();
  private readonly loops: Promise<void>[];
  private readonly sentinels: SentinelAddress[];

  /** @internal use {@link watchMaster}. */
  constructor(private readonly options: WatchMasterOptions) {
    this.sentinels = sentinelList(options.sentinels);
    this.currentMaster = options.current !== undefined ? { host: options.current.host, port: options.current.port } : null;
    this.ready = new Promise<void>((res, rej) => {
      this.readyResolve = res;
      this.readyReject = rej;
    });
    this.ready.catch(() => undefined); // a caller that does not await it gets no unhandled rejection
    if (options.signal !== undefined) {
      if (options.signal.aborted) void this.close();
      else options.signal.addEventListener('abort', () => void this.close(), { once: true });
    }
    this.loops = this.sentinels.map((s) => this.run(s));
  }

  /** The master as last known: `current`, then what a sentinel named when subscribed, then each switch's address. */
  get master(): SentinelAddress | null {
    return this.currentMaster;
  }

  /** How many sentinels are subscribed now. */
  get subscribed(): number {
    return this.subscribedSet.size;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Stops watching: every subscription is closed and the iteration ends. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const s of this.sockets) s.destroy();
    for (const w of this.wakeups) w();
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    if (!this.readySettled) {
      this.readySettled = true;
      this.readyReject(new LiveError('closed', 'the watch was closed'));
    }
    await Promise.all(this.loops);
  }

  /** The next switch (waits for one); done once closed. */
  next(): Promise<IteratorResult<MasterSwitch>> {
    const s = this.queue.shift();
    if (s !== undefined) return Promise.resolve({ value: s, done: false });
    if (this.closedFlag) return Promise.resolve({ value: undefined, done: true });
    return new Promise((r) => this.waiters.push(r));
  }

  /** Each master switch (failover) as Sentinel announces it. */
  [Symbol.asyncIterator](): AsyncIterator<MasterSwitch> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private emit(s: MasterSwitch): void {
    this.currentMaster = { host: s.to.host, port: s.to.port };
    this.options.onSwitch?.(s);
    const w = this.waiters.shift();
    if (w !== undefined) w({ value: s, done: false });
    else {
      this.queue.push(s);
      if (this.queue.length > 64) this.queue.shift();
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wakeups.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wakeups.add(done);
    });
  }

  private async run(s: SentinelAddress): Promise<void> {
    const name = formatAddress(s);
    const base = this.options.reconnectDelayMs ?? 250;
    let delay = base;
    let everSubscribed = false;
    let attempt = 0;
    while (!this.closedFlag) {
      let subscribed = false;
      try {
        await this.subscribeOnce(s, name, () => {
          subscribed = true;
          this.subscribedSet.add(name);
          this.options.onSentinel?.({ sentinel: name, state: 'subscribed' });
          if (!this.readySettled) {
            this.readySettled = true;
            this.readyResolve();
          }
          void this.checkMaster(s, name, everSubscribed);
          everSubscribed = true;
        });
      } catch (e) {
        const err = e instanceof LiveError ? e : new LiveError('protocol', String(e), { server: name, cause: e });
        this.subscribedSet.delete(name);
        if (this.closedFlag) break;
        this.options.onSentinel?.({ sentinel: name, state: 'lost', error: err });
        if (attempt === 0 && !subscribed) {
          const network = err.code === 'connect' || err.code === 'closed' || err.code === 'timeout';
          this.firstFailures.push({ sentinel: name, outcome: network ? 'unreachable' : 'error', message: stripServer(err.message, name), code: err.code });
          if (!this.readySettled && this.firstFailures.length === this.sentinels.length) {
            this.readySettled = true;
            const answers = this.firstFailures;
            this.readyReject(new SentinelError(failureCode(answers), `cannot subscribe to +switch-master on any sentinel: ${answers.map((a) => `${a.sentinel}: ${a.message}`).join('; ')}`, { masterName: this.options.masterName, answers }));
          }
        }
      }
      attempt++;
      if (this.closedFlag) break;
      if (subscribed) delay = base;
      await this.pause(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }

  /** After a subscription is made: what the sentinel names now (a switch missed while it was lost is reported). */
  private async checkMaster(s: SentinelAddress, name: string, again: boolean): Promise<void> {
    try {
      const named = await askSentinel(s, this.options);
      if (named === null || this.closedFlag) return;
      const known = this.currentMaster;
      if (known === null) {
        this.currentMaster = named;
        return;
      }
      if (!again || sameAddress(known, named)) return;
      const to = masterAddress(named.host, named.port, this.options);
      const role = await serverRole(to, { timeoutMs: this.options.timeoutMs ?? 3000, ...(this.options.tls !== undefined ? { tls: this.options.tls } : {}) });
      if (role.role !== 'master' || this.closedFlag || sameAddress(this.currentMaster ?? known, named)) return;
      this.emit({ masterName: this.options.masterName, from: known, to, sentinel: name, reason: 'resync' });
    } catch {
      // best effort: the subscription stands, the next switch is still seen
    }
  }

  /** One subscription: resolves never, rejects when it ends (closed, timed out, refused). */
  private async subscribeOnce(s: SentinelAddress, name: string, onSubscribed: () => void): Promise<void> {
    const conn = await connectSentinel(s, this.options);
    if (this.closedFlag) {
      await conn.close();
      throw new LiveError('closed', 'the watch was closed', { server: name });
    }
    const { socket, head } = conn.detach();
    this.sockets.add(socket);
    const timeoutMs = this.options.timeoutMs ?? 3000;
    const pingEvery = this.options.pingIntervalMs ?? 5000;
    try {
      await new Promise<void>((_resolve, reject) => {
        const decoder = new RespDecoder();
        let lastData = Date.now();
        let lastPing = Date.now();
        let failed = false;
        const fail = (err: LiveError) => {
          if (failed) return;
          failed = true;
          clearInterval(timer);
          socket.destroy();
          reject(err);
        };
        const onValue = (v: RespValue) => {
          if (v.type === 'error') return fail(replyError(v.value, name, 'SUBSCRIBE'));
          if (v.type !== 'array' || v.value === null || v.value.length === 0) return;
          const kind = text(v.value[0])?.toLowerCase();
          if (kind === 'subscribe') onSubscribed();
          else if (kind === 'message' && text(v.value[1]) === '+switch-master') this.onSwitchMessage(text(v.value[2]) ?? '', name);
        };
        const onData = (chunk: Uint8Array) => {
          lastData = Date.now();
          try {
            decoder.push(chunk);
            for (let v = decoder.next(); v !== undefined; v = decoder.next()) onValue(v);
          } catch (e) {
            fail(new LiveError('protocol', `unreadable message: ${(e as Error).message}`, { server: name, cause: e }));
          }
        };
        const timer = setInterval(() => {
          const now = Date.now();
          if (now - lastData > pingEvery + timeoutMs) fail(new LiveError('timeout', `nothing from the sentinel for ${now - lastData} ms (PING unanswered)`, { server: name }));
          else if (now - lastData >= pingEvery && now - lastPing >= pingEvery) {
            lastPing = now;
            socket.write(encodeCommand(['PING']));
          }
        }, Math.max(50, Math.min(1000, pingEvery)));
        socket.on('data', onData);
        socket.once('error', (e) => fail(new LiveError('closed', `connection failed: ${e.message}`, { server: name, cause: e })));
        socket.once('close', () => fail(new LiveError('closed', this.closedFlag ? 'the watch was closed' : 'the sentinel closed the connection', { server: name })));
        if (this.closedFlag) return fail(new LiveError('closed', 'the watch was closed', { server: name }));
        socket.write(encodeCommand(['SUBSCRIBE', '+switch-master']));
        if (head.length > 0) onData(head);
      });
    } finally {
      this.sockets.delete(socket);
      socket.destroy();
    }
  }

  /** `+switch-master` carries `<name> <old ip> <old port> <new ip> <new port>`. */
  private onSwitchMessage(message: string, sentinel: string): void {
    const parts = message.split(' ');
    if (parts.length !== 5 || parts[0] !== this.options.masterName || this.closedFlag) return;
    const from = { host: parts[1], port: Number(parts[2]) };
    const toPort = Number(parts[4]);
    if (!Number.isInteger(toPort) || toPort <= 0 || toPort > 65535) return;
    const to = { host: parts[3], port: toPort };
    if (this.currentMaster !== null && sameAddress(this.currentMaster, to)) return;
    this.emit({ masterName: this.options.masterName, from: Number.isInteger(from.port) ? from : null, to: masterAddress(to.host, to.port, this.options), sentinel, reason: 'switch-master' });
  }
}

function sameAddress(a: SentinelAddress, b: SentinelAddress): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}

/** Starts a {@link MasterWatch}: subscribes to `+switch-master` on every sentinel of `options`. */
export function watchMaster(options: WatchMasterOptions): MasterWatch {
  return new MasterWatch(options);
}
