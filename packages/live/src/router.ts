// A cluster-aware router: one connection per master, single-key commands sent to the owner of their key's slot,
// MOVED (map refreshed, command retried at the new owner), ASK (ASKING then the command, once, at the node named),
// TRYAGAIN / CLUSTERDOWN (bounded backoff), a bounded number of redirections per command.
import { CLUSTER_SLOTS, keyHashSlot, type ClusterNode, type SlotMap } from '@redis-persist/cluster';
import type { RespValue } from '@redis-persist/resp';
import { commandName, connectRedis, replyError, type Command, type ConnectOptions, type RedisConnection } from './connection.js';
import { LiveError } from './errors.js';
import { fetchSlotMapFrom } from './slotmap.js';
import { formatAddress, parseRedisUrl, type RedisAddress } from './url.js';

/** Options of {@link ClusterRouter}: connection options and the most redirections followed. */
export interface ClusterRouterOptions extends ConnectOptions {
  /** Most MOVED/ASK redirections followed for one command (then LiveError('cluster')). Default 16. */
  maxRedirections?: number;
  /** Most TRYAGAIN / CLUSTERDOWN retries for one command (then the error reply is the answer). Default 20. */
  maxRetries?: number;
  /** First backoff after TRYAGAIN / CLUSTERDOWN (doubling up to 1 s). Default 20 ms. */
  retryDelayMs?: number;
  /** Most commands of one {@link ClusterRouter.pipeline}/{@link ClusterRouter.forEach} unanswered overall. Default 1000. */
  maxInFlight?: number;
}

/** A command with the key that routes it; a plain command is routed by its second element (`SET key ...`). */
export type RoutedCommand = Command | { key: Uint8Array | string; args: Command };

/** What the router did, for reports and tests. */
export interface RouterStats {
  moved: number;
  ask: number;
  tryAgain: number;
  clusterDown: number;
  refreshes: number;
}

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function keyOf(cmd: RoutedCommand): Uint8Array {
  if (!Array.isArray(cmd)) {
    const k = (cmd as { key: Uint8Array | string }).key;
    return typeof k === 'string' ? enc.encode(k) : k;
  }
  const k = (cmd as Command)[1];
  if (k === undefined) throw new LiveError('cluster', `${commandName(cmd as Command)} has no key to route it by`);
  return k instanceof Uint8Array ? k : enc.encode(String(k));
}

function argsOf(cmd: RoutedCommand): Command {
  return Array.isArray(cmd) ? (cmd as Command) : (cmd as { args: Command }).args;
}

/** `MOVED 3999 127.0.0.1:6381` / `ASK ...`: the slot and the node named (an empty host: the one asked). */
function parseRedirect(text: string, fallbackHost: string): { kind: 'MOVED' | 'ASK'; slot: number; host: string; port: number } | null {
  const m = /^(MOVED|ASK) (\d+) (\S*)$/.exec(text);
  if (!m) return null;
  const at = m[3].lastIndexOf(':');
  if (at < 0) return null;
  let host = m[3].slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(m[3].slice(at + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  if (host === '' || host === '?') host = fallbackHost;
  return { kind: m[1] as 'MOVED' | 'ASK', slot: Number(m[2]), host, port };
}

/**
 * Routes single-key commands in a Redis Cluster. Build it with {@link ClusterRouter.connect} from a seed node; the
 * seed's credentials and TLS settings are used for every node. Commands that need several keys are not supported
 * (send them to {@link connectionFor} yourself).
 */
export class ClusterRouter {
  readonly stats: RouterStats = { moved: 0, ask: 0, tryAgain: 0, clusterDown: 0, refreshes: 0 };
  private slotMap: SlotMap;
  /** For each slot, `host:port` of the node believed to own it (patched by MOVED until the next refresh). */
  private readonly owners: string[] = new Array<string>(CLUSTER_SLOTS);
  private readonly addresses = new Map<string, { host: string; port: number }>();
  private readonly pool = new Map<string, Promise<RedisConnection>>();
  private refreshing: Promise<void> | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private lastRefresh = 0;
  private closed = false;
  private readonly maxRedirections: number;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly maxInFlight: number;

  private constructor(
    private readonly seed: RedisAddress,
    private readonly options: ClusterRouterOptions,
    map: SlotMap,
  ) {
    this.slotMap = map;
    this.setMap(map);
    this.maxRedirections = options.maxRedirections ?? 16;
    this.maxRetries = options.maxRetries ?? 20;
    this.retryDelayMs = options.retryDelayMs ?? 20;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1000);
  }

  /** Connects to `seed` (`redis://[user:pass@]host:port`, `rediss://...`), reads the slot map and keeps that connection. */
  static async connect(seed: string | RedisAddress, options: ClusterRouterOptions = {}): Promise<ClusterRouter> {
    const address: RedisAddress = { ...(typeof seed === 'string' ? parseRedisUrl(seed) : seed), db: 0 };
    if (options.tls !== undefined) address.tls = true;
    const conn = await connectRedis(address, { ...options, db: 0, maxInFlight: options.maxInFlight !== undefined ? Math.min(options.maxInFlight, 1000) : 100 });
    let map: SlotMap;
    try {
      map = await fetchSlotMapFrom(conn);
    } catch (e) {
      await conn.close();
      throw e;
    }
    const router = new ClusterRouter(address, options, map);
    router.pool.set(conn.server, Promise.resolve(conn));
    router.lastRefresh = Date.now();
    return router;
  }

  /** The slot map as last read (MOVED patches are not in it). */
  get map(): SlotMap {
    return this.slotMap;
  }

  /** The slot of a key (hash tags honoured). */
  slotOf(key: Uint8Array | string): number {
    return keyHashSlot(typeof key === 'string' ? enc.encode(key) : key);
  }

  /** `host:port` of the node that currently serves `slot` as far as this router knows. */
  ownerOf(slot: number): string {
    return this.owners[slot];
  }

  /** A connection to every master of the current map, in the map's order. */
  async masters(): Promise<{ node: ClusterNode; connection: RedisConnection }[]> {
    return Promise.all(this.slotMap.nodes.map(async (node) => ({ node, connection: await this.connectionFor(node) })));
  }

  /** The (shared) connection to a node, opened on first use with the seed's credentials and TLS settings. */
  connectionFor(node: { host: string; port: number }): Promise<RedisConnection> {
    if (this.closed) return Promise.reject(new LiveError('closed', 'the cluster router was closed'));
    const host = node.host === '' ? this.seed.host : node.host;
    const name = formatAddress({ host, port: node.port });
    const existing = this.pool.get(name);
    if (existing !== undefined) {
      return existing.then(
        (c) => {
          if (!c.closed) return c;
          if (this.pool.get(name) === existing) this.pool.delete(name);
          return this.connectionFor(node);
        },
        () => {
          if (this.pool.get(name) === existing) this.pool.delete(name);
          return this.connectionFor(node);
        },
      );
    }
    const opening = connectRedis({ ...this.seed, host, port: node.port, db: 0 }, { ...this.options, db: 0, maxInFlight: Math.min(this.maxInFlight, 1000) });
    this.pool.set(name, opening);
    // a failed attempt is forgotten, so that the next command tries again
    opening.catch(() => {
      if (this.pool.get(name) === opening) this.pool.delete(name);
    });
    return opening;
  }

  /**
   * Re-reads the slot map (from the seed, else any known master); concurrent calls share one read. Patches made by
   * MOVED are replaced by what the cluster now says.
   */
  refresh(): Promise<void> {
    if (this.refreshing !== null) return this.refreshing;
    this.refreshing = (async () => {
      try {
        const candidates = [{ host: this.seed.host, port: this.seed.port }, ...this.slotMap.nodes];
        let lastError: unknown = null;
        for (const node of candidates) {
          try {
            const conn = await this.connectionFor(node);
            const map = await fetchSlotMapFrom(conn);
            this.slotMap = map;
            this.setMap(map);
            this.stats.refreshes++;
            return;
          } catch (e) {
            lastError = e;
          }
        }
        throw lastError instanceof LiveError ? lastError : new LiveError('cluster', `cannot read the slot map from any node: ${String(lastError)}`);
      } finally {
        this.lastRefresh = Date.now();
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * Sends one single-key command to the node serving its key and follows redirections. Resolves with the reply, an
   * error reply included (as a value), except: more than maxRedirections MOVED/ASK → LiveError('cluster'); a
   * connection failure rejects.
   */
  async request(cmd: RoutedCommand): Promise<RespValue> {
    return (await this.route(cmd)).reply;
  }

  /** Like {@link request}, also saying which node (`host:port`) gave the reply. */
  async route(cmd: RoutedCommand): Promise<{ reply: RespValue; server: string }> {
    const args = argsOf(cmd);
    const slot = keyHashSlot(keyOf(cmd));
    let target = this.nodeOf(this.owners[slot]);
    let asking = false;
    let redirections = 0;
    let retries = 0;
    let lastRedirect = '';
    for (;;) {
      const conn = await this.connectionFor(target);
      let reply: RespValue;
      if (asking) {
        await conn.ready(2);
        // both written in the same tick: nothing can come between ASKING and the command on this connection
        const asked = conn.send(['ASKING']);
        const sent = conn.send(args);
        const a = await asked;
        reply = await sent;
        if (a.type === 'error' && reply.type !== 'error') throw replyError(a.value, conn.server, 'ASKING');
      } else {
        await conn.ready();
        reply = await conn.send(args);
      }
      asking = false;
      if (reply.type !== 'error') return { reply, server: conn.server };
      const text = reply.value;
      const redirect = text.startsWith('MOVED ') || text.startsWith('ASK ') ? parseRedirect(text, conn.address.host) : null;
      if (redirect !== null) {
        if (++redirections > this.maxRedirections) {
          const e = new LiveError('cluster', `${commandName(args)} for slot ${slot}: more than ${this.maxRedirections} redirections (last: ${text}, before: ${lastRedirect})`, { server: conn.server });
          e.reply = text;
          throw e;
        }
        lastRedirect = text;
        target = { host: redirect.host, port: redirect.port };
        if (redirect.kind === 'ASK') {
          this.stats.ask++;
          asking = true;
        } else {
          this.stats.moved++;
          this.owners[redirect.slot] = formatAddress(target);
          if (!this.addresses.has(this.owners[redirect.slot])) this.addresses.set(this.owners[redirect.slot], target);
          // the whole map may have changed (a reshard): read it again, at most every 100 ms
          this.scheduleRefresh();
          // nodes that disagree for a moment send a command back and forth: slow down after a few
          if (redirections > 3) await sleep(Math.min(500, 10 * 2 ** (redirections - 3)));
        }
        continue;
      }
      const word = /^\S+/.exec(text)?.[0];
      if (word === 'TRYAGAIN' || word === 'CLUSTERDOWN') {
        if (word === 'TRYAGAIN') this.stats.tryAgain++;
        else this.stats.clusterDown++;
        if (++retries > this.maxRetries) return { reply, server: conn.server };
        await sleep(Math.min(1000, this.retryDelayMs * 2 ** Math.min(retries - 1, 10)));
        if (word === 'CLUSTERDOWN') {
          await this.refresh().catch(() => undefined);
          target = this.nodeOf(this.owners[slot]);
        }
        continue;
      }
      return { reply, server: conn.server };
    }
  }

  /** Like {@link request}, but an error reply rejects with a LiveError carrying the server's text. */
  async call(cmd: RoutedCommand): Promise<RespValue> {
    const { reply, server } = await this.route(cmd);
    if (reply.type === 'error') throw replyError(reply.value, server, commandName(argsOf(cmd)));
    return reply;
  }

  /**
   * Sends many commands, each to its node, keeping at most `maxInFlight` unanswered overall (and each connection's
   * own limit per node); `onReply` gets every reply (error replies as values) with the command's index, in the
   * order the replies complete. Stops reading `commands` after a rejection (too many redirections, a lost
   * connection), waits for what is under way, then rejects with the first failure.
   */
  async forEach(
    commands: Iterable<RoutedCommand> | AsyncIterable<RoutedCommand>,
    onReply: (reply: RespValue, index: number, command: RoutedCommand) => void,
    options: { maxInFlight?: number } = {},
  ): Promise<number> {
    const window = Math.max(1, options.maxInFlight ?? this.maxInFlight);
    let inFlight = 0;
    let failure: unknown = null;
    let wake: (() => void) | null = null;
    const wakeUp = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    let index = 0;
    for await (const cmd of commands as AsyncIterable<RoutedCommand>) {
      while (inFlight >= window && failure === null) await new Promise<void>((r) => (wake = r));
      if (failure !== null) break;
      const i = index++;
      inFlight++;
      this.request(cmd).then(
        (v) => {
          inFlight--;
          try {
            onReply(v, i, cmd);
          } catch (e) {
            failure ??= e;
          }
          wakeUp();
        },
        (e: unknown) => {
          inFlight--;
          failure ??= e;
          wakeUp();
        },
      );
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    if (failure !== null) throw failure;
    return index;
  }

  /** Sends many commands (see {@link forEach}) and resolves with every reply in the order of the commands. */
  async pipeline(commands: Iterable<RoutedCommand> | AsyncIterable<RoutedCommand>, options: { maxInFlight?: number } = {}): Promise<RespValue[]> {
    const replies: RespValue[] = [];
    await this.forEach(commands, (v, i) => (replies[i] = v), options);
    return replies;
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    await this.refreshing?.catch(() => undefined);
    const all = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close(), () => undefined)));
  }

  /** A refresh soon: at once when the last one is 100 ms old, else when it will be (one pending at a time). */
  private scheduleRefresh(): void {
    if (this.refreshing !== null || this.refreshTimer !== null || this.closed) return;
    const wait = Math.max(0, 100 - (Date.now() - this.lastRefresh));
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      if (!this.closed) void this.refresh().catch(() => undefined);
    }, wait);
    this.refreshTimer.unref();
  }

  private nodeOf(name: string): { host: string; port: number } {
    return this.addresses.get(name)!;
  }

  private setMap(map: SlotMap): void {
    for (const r of map.ranges) {
      const host = r.node.host === '' ? this.seed.host : r.node.host;
      const name = formatAddress({ host, port: r.node.port });
      if (!this.addresses.has(name)) this.addresses.set(name, { host, port: r.node.port });
      this.owners.fill(name, r.first, r.last + 1);
    }
  }
}
