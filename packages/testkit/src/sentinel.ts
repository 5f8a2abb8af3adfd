// Redis Sentinel for tests: `redis-server <conf> --sentinel` processes on 127.0.0.1 monitoring one master, and a
// master with replicas (REPLICAOF, waited for master_link_status:up). Everything bounded; every process stopped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RespValue } from '@redis-persist/resp';
import { connect, type RedisClient } from './client.js';
import { which } from './paths.js';
import { freePort, startRedis, type RedisServer, type StartRedisOptions } from './server.js';

export interface StartSentinelsOptions {
  /** The name the sentinels monitor the master under. Default `mymaster`. */
  masterName?: string;
  /** The master to monitor (on 127.0.0.1 unless `host`). */
  master: { port: number; host?: string };
  /** How many sentinels. Default 3. */
  count?: number;
  /** How many sentinels must agree the master is down. Default 2. */
  quorum?: number;
  /** `sentinel down-after-milliseconds`. Default 5000 (forced failovers do not wait for it). */
  downAfterMs?: number;
  /** `sentinel failover-timeout`. Default 10 000. */
  failoverTimeoutMs?: number;
  /** The master's (and replicas') password: `sentinel auth-pass`. */
  masterPassword?: string;
  /** The sentinels' own password (`requirepass` on each sentinel). */
  password?: string;
  /** Wait until every sentinel lists this many healthy replicas (default 0: do not wait for replicas). */
  replicas?: number;
  /** Extra config lines, `name -> value`, for every sentinel. */
  config?: Record<string, string>;
  /** Bound on starting and on the waits. Default 30 s. */
  timeoutMs?: number;
}

export interface TestSentinels {
  readonly masterName: string;
  /** The sentinels' ports (127.0.0.1). */
  readonly ports: number[];
  /** `127.0.0.1:<port>` of each sentinel. */
  readonly addresses: string[];
  /** The addresses as `--sentinel` takes them: `h:p,h:p,h:p`. */
  readonly list: string;
  /** A connected client to sentinel `i` (authenticated when the sentinels have a password). */
  client(i: number): Promise<RedisClient>;
  /** What sentinel `i` answers to `SENTINEL get-master-addr-by-name` (port as a number), or null. */
  masterAddr(i?: number): Promise<{ host: string; port: number } | null>;
  /** Waits until every running sentinel names this master port. */
  waitForMaster(port: number, timeoutMs?: number): Promise<void>;
  /** Waits until every running sentinel lists `n` replicas that are up and linked to their master. */
  waitForReplicas(n: number, timeoutMs?: number): Promise<void>;
  /** `SENTINEL FAILOVER <name>` on sentinel `i` (default 0), retried while it answers -INPROG or -NOGOODSLAVE (bounded). */
  failover(i?: number, timeoutMs?: number): Promise<void>;
  /** Kills sentinel `i` (SIGKILL) and waits for its exit. */
  kill(i: number): Promise<void>;
  /** Whether sentinel `i` is running. */
  alive(i: number): boolean;
  /** The log of sentinel `i`. */
  log(i: number): string;
  /** Stops every sentinel and removes their temp dirs. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const utf8 = new TextDecoder();

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
let hookInstalled = false;
function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.once('exit', () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

let pdeathsig: string | null | undefined;
function setprivWrapper(): string | null {
  if (pdeathsig !== undefined) return pdeathsig;
  pdeathsig = null;
  const setpriv = process.platform === 'linux' ? which('setpriv') : null;
  if (setpriv !== null && spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0) pdeathsig = setpriv;
  return pdeathsig;
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function text(v: RespValue): string {
  if (v.type === 'bulk') return v.value === null ? '' : utf8.decode(v.value);
  if (v.type === 'simple' || v.type === 'error') return v.value;
  if (v.type === 'integer') return String(v.value);
  return '';
}

/** A flat `[field, value, field, value...]` reply (SENTINEL MASTER, each entry of SENTINEL REPLICAS) as a map. */
function fields(v: RespValue): Map<string, string> {
  const out = new Map<string, string>();
  if (v.type !== 'array' || v.value === null) return out;
  for (let i = 0; i + 1 < v.value.length; i += 2) out.set(text(v.value[i]), text(v.value[i + 1]));
  return out;
}

class Sentinel {
  child: ChildProcess | null = null;
  exited: Promise<void> = Promise.resolve();
  port = 0;
  readonly dir: string;
  readonly conf: string;
  readonly logFile: string;

  constructor(private readonly configLines: (port: number, dir: string) => string) {
    this.dir = mkdtempSync(join(tmpdir(), 'redis-persist-sentinel-'));
    dirs.add(this.dir);
    this.conf = join(this.dir, 'sentinel.conf');
    this.logFile = join(this.dir, 'sentinel.log');
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  async start(timeoutMs: number): Promise<void> {
    const bin = which('redis-server');
    if (bin === null) throw new Error('redis-server is not on PATH');
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort();
      writeFileSync(this.conf, this.configLines(this.port, this.dir));
      const wrapper = setprivWrapper();
      const args = [this.conf, '--sentinel'];
      const child = wrapper !== null ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: 'ignore' }) : spawn(bin, args, { stdio: 'ignore' });
      this.child = child;
      children.add(child);
      this.exited = new Promise((resolve) => {
        const done = () => {
          children.delete(child);
          if (this.child === child) this.child = null;
          resolve();
        };
        child.once('exit', done);
        child.once('error', done);
      });
      if (await this.waitReady(timeoutMs)) return;
      const why = this.child === null ? 'exited' : `did not answer PING within ${timeoutMs} ms`;
      await this.kill();
      if (attempt < 3 && /Address already in use/i.test(this.log())) continue;
      throw new Error(`redis-server --sentinel (${this.conf}) ${why}; log tail:\n${this.log().split('\n').slice(-20).join('\n')}`);
    }
  }

  private async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.child !== null) {
      let c: RedisClient | null = null;
      try {
        c = await connect(this.port);
        // our process, not another test's server that won the port race (a password does not stop INFO before AUTH
        // here: the PID check is skipped then)
        const info = await c.call('INFO', 'server').catch(() => null);
        if (info !== null) {
          const pid = /^process_id:(\d+)/m.exec(text(info))?.[1];
          if (pid !== undefined && Number(pid) !== this.child?.pid) return false;
          if (!/^redis_mode:sentinel/m.test(text(info))) return false;
        }
        return true;
      } catch {
        // not listening yet
      } finally {
        await c?.close().catch(() => undefined);
      }
      await sleep(25);
    }
    return false;
  }

  async kill(): Promise<void> {
    const c = this.child;
    if (c === null) return;
    c.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Starts `count` sentinels (`redis-server <conf> --sentinel`, each on 127.0.0.1 and a free port, in a temp dir)
 * monitoring one master, and resolves once every sentinel knows the master, the other sentinels and (with
 * `replicas`) the replicas. Bounded by `timeoutMs`; on failure every sentinel started is killed.
 */
export async function startSentinels(options: StartSentinelsOptions): Promise<TestSentinels> {
  installExitHook();
  const name = options.masterName ?? 'mymaster';
  const count = options.count ?? 3;
  const quorum = options.quorum ?? 2;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const host = options.master.host ?? '127.0.0.1';
  const lines = (port: number, dir: string) => {
    const l = [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize no',
      'protected-mode no',
      'sentinel resolve-hostnames no',
      'sentinel announce-ip 127.0.0.1',
      `sentinel announce-port ${port}`,
    ];
    // dir and logfile before `sentinel monitor`: the sentinel rewrites this file and keeps them
    l.push(`logfile ${quote(join(dir, 'sentinel.log'))}`, `dir ${quote(dir)}`);
    l.push(`sentinel monitor ${name} ${host} ${options.master.port} ${quorum}`);
    l.push(`sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 5000}`);
    l.push(`sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 10_000}`);
    l.push(`sentinel parallel-syncs ${name} 1`);
    if (options.masterPassword !== undefined) l.push(`sentinel auth-pass ${name} ${quote(options.masterPassword)}`);
    if (options.password !== undefined) l.push(`requirepass ${quote(options.password)}`);
    for (const [k, v] of Object.entries(options.config ?? {})) l.push(`${k} ${v === '' ? '""' : v}`);
    return l.join('\n') + '\n';
  };
  const sentinels: Sentinel[] = [];
  const stopAll = async () => {
    await Promise.all(sentinels.map((s) => s.kill()));
    for (const s of sentinels) {
      rmSync(s.dir, { recursive: true, force: true });
      dirs.delete(s.dir);
    }
  };
  const clientOf = async (i: number): Promise<RedisClient> => {
    const c = await connect(sentinels[i].port);
    if (options.password !== undefined) await c.call('AUTH', options.password);
    return c;
  };
  const ask = async <T>(i: number, f: (c: RedisClient) => Promise<T>): Promise<T> => {
    const c = await clientOf(i);
    try {
      return await f(c);
    } finally {
      await c.close().catch(() => undefined);
    }
  };
  const running = () => sentinels.map((s, i) => (s.child !== null ? i : -1)).filter((i) => i >= 0);
  const waitUntil = async (what: string, ms: number, check: () => Promise<string | null>) => {
    const deadline = Date.now() + ms;
    let last: string | null = null;
    for (;;) {
      try {
        last = await check();
      } catch (e) {
        last = (e as Error).message;
      }
      if (last === null) return;
      if (Date.now() > deadline) throw new Error(`sentinels: ${what} not reached within ${ms} ms (${last})`);
      await sleep(100);
    }
  };

  try {
    for (let i = 0; i < count; i++) {
      const s = new Sentinel(lines);
      sentinels.push(s);
      await s.start(timeoutMs);
    }
    const api: TestSentinels = {
      masterName: name,
      get ports() {
        return sentinels.map((s) => s.port);
      },
      get addresses() {
        return sentinels.map((s) => `127.0.0.1:${s.port}`);
      },
      get list() {
        return sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
      },
      client: clientOf,
      async masterAddr(i = 0) {
        const v = await ask(i, (c) => c.call('SENTINEL', 'get-master-addr-by-name', name));
        if (v.type !== 'array' || v.value === null || v.value.length !== 2) return null;
        return { host: text(v.value[0]), port: Number(text(v.value[1])) };
      },
      async waitForMaster(port, ms = timeoutMs) {
        await waitUntil(`every sentinel naming master port ${port}`, ms, async () => {
          for (const i of running()) {
            const a = await api.masterAddr(i);
            if (a?.port !== port) return `sentinel ${i} says ${a === null ? 'null' : `${a.host}:${a.port}`}`;
          }
          return null;
        });
      },
      async waitForReplicas(n, ms = timeoutMs) {
        await waitUntil(`every sentinel listing ${n} healthy replica(s)`, ms, async () => {
          for (const i of running()) {
            const v = await ask(i, (c) => c.call('SENTINEL', 'REPLICAS', name));
            const reps = v.type === 'array' && v.value !== null ? v.value.map(fields) : [];
            const good = reps.filter((r) => r.get('flags') === 'slave' && r.get('master-link-status') === 'ok');
            if (good.length < n) return `sentinel ${i}: ${reps.map((r) => `${r.get('name')} ${r.get('flags')} ${r.get('master-link-status')}`).join('; ') || 'no replicas'}`;
          }
          return null;
        });
      },
      async failover(i = 0, ms = timeoutMs) {
        await waitUntil('SENTINEL FAILOVER accepted', ms, async () => {
          try {
            await ask(i, (c) => c.call('SENTINEL', 'FAILOVER', name));
            return null;
          } catch (e) {
            const m = (e as Error).message;
            if (/INPROG|NOGOODSLAVE/.test(m)) return m;
            throw e;
          }
        });
      },
      kill: (i) => sentinels[i].kill(),
      alive: (i) => sentinels[i].child !== null,
      log: (i) => sentinels[i].log(),
      stop: stopAll,
    };
    // every sentinel knows the master (ROLE says so once it is connected) and the others (hello messages, every 2 s)
    await waitUntil(`every sentinel knowing ${name} and the ${count - 1} other sentinel(s)`, timeoutMs, async () => {
      for (const i of running()) {
        const m = fields(await ask(i, (c) => c.call('SENTINEL', 'MASTER', name)));
        if (m.get('flags') !== 'master') return `sentinel ${i}: master flags ${m.get('flags')}`;
        if (Number(m.get('num-other-sentinels')) < count - 1) return `sentinel ${i}: ${m.get('num-other-sentinels')} other sentinel(s)`;
      }
      return null;
    });
    if ((options.replicas ?? 0) > 0) await api.waitForReplicas(options.replicas!, timeoutMs);
    return api;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

export interface ReplicatedServers {
  readonly master: RedisServer;
  readonly replicas: RedisServer[];
  /** Every server: the master first. */
  readonly all: RedisServer[];
  /** Stops every server. */
  stop(): Promise<void>;
}

/** Waits until `server` is a replica whose link to its master is up (INFO replication: master_link_status:up). */
export async function waitForReplicaLink(server: RedisServer, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await server.client.callText('INFO', 'replication')) ?? '';
    if (/^role:slave/m.test(info) && /^master_link_status:up/m.test(info) && !/^master_sync_in_progress:1/m.test(info)) return;
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${server.port}: the replica link is not up after ${timeoutMs} ms:\n${info}`);
    await sleep(50);
  }
}

/**
 * A master and `replicas` replicas (default 1), each a {@link startRedis} server, the replicas attached with
 * `REPLICAOF 127.0.0.1 <master port>` and waited for until their link is up (bounded). `config` goes to every
 * server; with `password`, `requirepass` and `masterauth` are set on each (CONFIG SET, after it started).
 * Note: a sentinel that reconfigures a server (a failover) ends its normal clients (`CLIENT KILL TYPE normal`), the
 * `client` of its RedisServer included: connect anew (testkit `connect`) after a failover.
 */
export async function startMasterReplica(options: { replicas?: number; config?: Record<string, string>; password?: string; timeoutMs?: number } = {}): Promise<ReplicatedServers> {
  // the password is set once each server answers PING (startRedis waits for PING without AUTH); the testkit client
  // connected before stays authenticated
  const opts: StartRedisOptions = { config: { ...options.config } };
  const protect = async (s: RedisServer) => {
    if (options.password === undefined) return;
    await s.client.call('CONFIG', 'SET', 'masterauth', options.password);
    await s.client.call('CONFIG', 'SET', 'requirepass', options.password);
  };
  const all: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(all.map((s) => (s.alive() ? s.stop() : undefined)));
  };
  try {
    const master = await startRedis(opts);
    all.push(master);
    await protect(master);
    const replicas: RedisServer[] = [];
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      const r = await startRedis(opts);
      all.push(r);
      replicas.push(r);
      await protect(r);
      await r.client.call('REPLICAOF', '127.0.0.1', master.port);
    }
    for (const r of replicas) await waitForReplicaLink(r, options.timeoutMs ?? 30_000);
    return { master, replicas, all, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
