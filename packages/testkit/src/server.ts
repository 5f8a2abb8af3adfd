import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type RedisClient } from './client.js';
import { which } from './paths.js';

export interface StartRedisOptions {
  /**
   * Extra config directives, `name -> value`, written as `name value` lines after the defaults (so they win).
   * Values are written as given (so `'900 1 300 10'` works for `save`); an empty string is written as `""`.
   */
  config?: Record<string, string>;
  /** An existing data directory to use (e.g. holding dump.rdb or appendonlydir); it is never deleted. */
  dir?: string;
  /** Resolve even when the server exits during startup/load (check `alive()`, `exitCode` and `log()`). */
  expectFailure?: boolean;
  /** How long to wait for the server to answer PING. Default 15 s. */
  timeoutMs?: number;
  /** Picks the port (default {@link freePort}); a cluster node needs port + 10000 free too ({@link freeClusterPort}). */
  pickPort?: () => Promise<number>;
}

export interface RedisServer {
  /** The port it listens on (127.0.0.1). May change on restart() if the old port was taken meanwhile. */
  readonly port: number;
  /** The data directory (dump.rdb, appendonlydir). */
  readonly dir: string;
  /** A connected client (a new one after restart()); throws when the server is not running. */
  readonly client: RedisClient;
  /** The server's log file. */
  readonly logFile: string;
  /** The config file the server was started with. */
  readonly configFile: string;
  /** Exit code once the process has exited (null while running or when killed by a signal). */
  readonly exitCode: number | null;
  /** Whether the process is running. */
  alive(): boolean;
  /**
   * Shuts the server down (SHUTDOWN NOSAVE, then SIGKILL after 5 s) and waits for the exit. Removes the temp
   * dir unless `keepFiles` (then the caller removes `dir`); a caller-provided `dir` is never removed.
   */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
  /** Stops (SHUTDOWN SAVE when `save`, else NOSAVE; the AOF is always flushed) and starts again on the same dir and config. */
  restart(options?: { save?: boolean }): Promise<void>;
  /** The log file's content. */
  log(): string;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of tempDirs) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort
      }
    }
  });
}

/** A port that was free a moment ago (bind to port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A port that was free a moment ago together with port + 10000 (a cluster node's bus port), below 55536 so that
 * the bus port exists.
 */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 25000);
    if ((await canBind(port)) && (await canBind(port + 10000))) return port;
  }
  throw new Error('freeClusterPort: no free port pair found');
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function configText(port: number, dataDir: string, logFile: string, extra: Record<string, string>): string {
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${quote(dataDir)}`,
    'daemonize no',
    'save ""',
    'appendonly no',
    `logfile ${quote(logFile)}`,
    'enable-debug-command yes',
    'protected-mode no',
  ];
  for (const [k, v] of Object.entries(extra)) lines.push(`${k} ${v === '' ? '""' : v}`);
  return lines.join('\n') + '\n';
}

function tail(text: string, lines = 30): string {
  return text.split('\n').slice(-lines).join('\n');
}

let deathSigCache: string | null | undefined;

/**
 * `setpriv --pdeathsig KILL` when available (util-linux): the server then dies with the test process even when
 * that is killed outright (no 'exit' hook runs on SIGKILL, or on SIGTERM without a handler).
 */
function deathSignalWrapper(): string | null {
  if (deathSigCache !== undefined) return deathSigCache;
  const setpriv = process.platform === 'linux' ? which('setpriv') : null;
  deathSigCache = null;
  if (setpriv !== null) {
    const r = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
    if (r.status === 0) deathSigCache = setpriv;
  }
  return deathSigCache;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Server implements RedisServer {
  port = 0;
  readonly dir: string;
  readonly logFile: string;
  readonly configFile: string;
  exitCode: number | null = null;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private currentClient: RedisClient | null = null;
  readonly workDir: string;
  private removed = false;

  constructor(private readonly options: StartRedisOptions) {
    this.workDir = mkdtempSync(join(tmpdir(), 'redis-persist-test-'));
    tempDirs.add(this.workDir);
    this.dir = options.dir ?? this.workDir;
    this.logFile = join(this.workDir, 'redis.log');
    this.configFile = join(this.workDir, 'redis.conf');
  }

  get client(): RedisClient {
    if (this.currentClient === null) {
      throw new Error(
        `redis-server on port ${this.port} is not running (exit code ${this.exitCode}); log tail:\n${tail(this.log())}`,
      );
    }
    return this.currentClient;
  }

  alive(): boolean {
    return this.child !== null;
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Starts the process and waits for PING; retries on a port collision. */
  async start(): Promise<void> {
    const bin = which('redis-server');
    if (bin === null) throw new Error('redis-server is not on PATH');
    const timeout = this.options.timeoutMs ?? 15_000;
    for (let attempt = 0; ; attempt++) {
      if (this.port === 0 || attempt > 0) this.port = await (this.options.pickPort ?? freePort)();
      writeFileSync(this.configFile, configText(this.port, this.dir, this.logFile, this.options.config ?? {}));
      const logBefore = this.log().length;
      const wrapper = deathSignalWrapper();
      const child =
        wrapper !== null
          ? spawn(wrapper, ['--pdeathsig', 'KILL', '--', bin, this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
          : spawn(bin, [this.configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 10_000) stderr += d;
      });
      this.child = child;
      this.exitCode = null;
      running.add(child);
      this.exited = new Promise((resolve) => {
        child.once('exit', (code) => {
          running.delete(child);
          if (this.child === child) {
            this.child = null;
            this.exitCode = code;
            this.currentClient = null;
          }
          resolve();
        });
        child.once('error', () => {
          running.delete(child);
          if (this.child === child) this.child = null;
          resolve();
        });
      });
      const ok = await this.waitReady(timeout);
      if (ok) return;
      const newLog = this.log().slice(logBefore) + stderr;
      if (this.child === null && /Address already in use|bind: /i.test(newLog) && attempt < 5) continue;
      if (this.child === null && this.options.expectFailure) return;
      const why = this.child === null ? `exited with code ${this.exitCode}` : `did not answer PING within ${timeout} ms`;
      await this.kill();
      throw new Error(`redis-server (${this.configFile}) ${why}; log tail:\n${tail(newLog)}`);
    }
  }

  private async waitReady(timeout: number): Promise<boolean> {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      if (this.child === null) return false;
      let client: RedisClient | null = null;
      try {
        client = await connect(this.port);
        const reply = await client.call('PING');
        if (reply.type === 'simple' && reply.value === 'PONG') {
          // Make sure it is our process answering, not another test's server that won a port race.
          const info = (await client.callText('INFO', 'server')) ?? '';
          const pid = /^process_id:(\d+)/m.exec(info)?.[1];
          if (this.child === null || (pid !== undefined && Number(pid) !== this.child.pid)) {
            await client.close();
            if (this.child !== null) await Promise.race([this.exited, sleep(2000)]);
            return false;
          }
          this.currentClient = client;
          return true;
        }
      } catch {
        // not listening yet, or -LOADING
      }
      if (client !== null) await client.close().catch(() => undefined);
      await sleep(25);
    }
    return false;
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  private async shutdown(save: boolean): Promise<void> {
    const child = this.child;
    const client = this.currentClient;
    if (child !== null) {
      if (client !== null && !client.closed) {
        // The reply never comes: the server closes the connection as it exits.
        client.call('SHUTDOWN', save ? 'SAVE' : 'NOSAVE').catch(() => undefined);
      } else {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    if (client !== null) await client.close().catch(() => undefined);
    this.currentClient = null;
  }

  async stop(options: { keepFiles?: boolean } = {}): Promise<void> {
    await this.shutdown(false);
    if (!options.keepFiles && !this.removed) {
      this.removed = true;
      rmSync(this.workDir, { recursive: true, force: true });
      tempDirs.delete(this.workDir);
    } else if (options.keepFiles) {
      tempDirs.delete(this.workDir);
    }
  }

  async restart(options: { save?: boolean } = {}): Promise<void> {
    if (this.removed) throw new Error('restart() after stop(): the server files are gone');
    await this.shutdown(options.save ?? false);
    await this.start();
  }
}

/**
 * Starts a real redis-server on 127.0.0.1 and a free port, in a temp dir (or `options.dir`), and resolves when
 * it answers PING. Servers still running when the test process exits are killed.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  installExitHook();
  if (options.dir !== undefined && !existsSync(options.dir)) throw new Error(`startRedis: dir ${options.dir} does not exist`);
  const server = new Server(options);
  try {
    await server.start();
  } catch (e) {
    rmSync(server.workDir, { recursive: true, force: true });
    tempDirs.delete(server.workDir);
    throw e;
  }
  return server;
}

/**
 * Waits until no background save or AOF rewrite is running or scheduled (after BGSAVE / BGREWRITEAOF, or
 * CONFIG SET appendonly yes). Rejects after `timeoutMs` (default 30 s) or when the last one failed.
 */
export async function waitForPersistence(client: RedisClient, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await client.callText('INFO', 'persistence')) ?? '';
    const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
    const busy =
      field('rdb_bgsave_in_progress') === '1' ||
      field('aof_rewrite_in_progress') === '1' ||
      field('aof_rewrite_scheduled') === '1' ||
      field('loading') === '1';
    if (!busy) {
      if (field('rdb_last_bgsave_status') === 'err') throw new Error('redis-server: the last BGSAVE failed');
      if (field('aof_last_bgrewrite_status') === 'err') throw new Error('redis-server: the last AOF rewrite failed');
      return;
    }
    if (Date.now() > deadline) throw new Error(`redis-server: background persistence still busy after ${timeoutMs} ms`);
    await sleep(20);
  }
}

let versionCache: string | null | undefined;

/** The installed redis-server's version (e.g. "7.0.15"), or null when it is not on PATH. */
export function redisServerVersion(): string | null {
  if (versionCache !== undefined) return versionCache;
  const bin = which('redis-server');
  versionCache = null;
  if (bin !== null) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    versionCache = /v=(\d+\.\d+\.\d+)/.exec(r.stdout ?? '')?.[1] ?? null;
  }
  return versionCache;
}
