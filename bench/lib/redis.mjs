// Start/stop a real redis-server on 127.0.0.1 (free port, temp dir) and talk to it with a tiny RESP client.
// Every server started here is recorded so that run.mjs can stop it on exit, on error and on Ctrl-C.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const servers = new Set();

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A minimal RESP client: one request at a time. */
export class MiniClient {
  static connect(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.removeListener('error', reject);
        resolve(new MiniClient(sock));
      });
      sock.once('error', reject);
    });
  }
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this._try();
    });
    sock.on('error', (e) => this._fail(e));
    sock.on('close', () => this._fail(new Error('connection closed')));
  }
  _fail(err) {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }
  _try() {
    if (!this.waiter) return;
    const r = parseReply(this.buf, 0);
    if (!r) return;
    this.buf = this.buf.subarray(r.end);
    const w = this.waiter;
    this.waiter = null;
    w.resolve(r.value);
  }
  /** Resolves with the reply; error replies resolve as {error: '...'}. */
  call(...args) {
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      let s = `*${args.length}\r\n`;
      for (const a of args) {
        const b = Buffer.from(String(a));
        s += `$${b.length}\r\n${String(a)}\r\n`;
      }
      this.sock.write(s);
      this._try();
    });
  }
  close() {
    this.sock.removeAllListeners('close');
    this.sock.destroy();
  }
}

function parseReply(buf, off) {
  const nl = buf.indexOf('\r\n', off);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[off]);
  const line = buf.toString('latin1', off + 1, nl);
  const next = nl + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: { error: line }, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const arr = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p);
        if (!r) return null;
        arr.push(r.value);
        p = r.end;
      }
      return { value: arr, end: p };
    }
    default:
      throw new Error(`unexpected reply byte ${buf[off]}`);
  }
}

/**
 * Start redis-server in `dir` on a free loopback port. Resolves when it answers PING (i.e. after loading
 * any dump file in dir), with timings: spawn -> ready.
 */
export async function startRedis({ dir, dbfilename = 'dump.rdb', extra = [], readyTimeoutMs = 600000 } = {}) {
  let lastErr;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const logfile = path.join(dir, `redis-${port}.log`);
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', dbfilename,
      '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes',
      '--logfile', logfile, ...extra,
    ];
    const t0 = process.hrtime.bigint();
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const server = { proc, port, dir, logfile, t0, exited: false };
    servers.add(server);
    proc.on('exit', () => {
      server.exited = true;
      servers.delete(server);
    });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const deadline = Date.now() + readyTimeoutMs;
    let client = null;
    while (Date.now() < deadline && !server.exited) {
      try {
        if (!client) client = await MiniClient.connect(port);
        const r = await client.call('PING');
        if (r === 'PONG') break;
        // -LOADING: keep waiting
      } catch {
        if (client) client.close();
        client = null;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (server.exited || !client) {
      lastErr = new Error(`redis-server failed to start on port ${port}: ${stderr.trim()} ${readTail(logfile)}`);
      if (client) client.close();
      await stopRedis(server);
      continue;
    }
    server.readyS = Number(process.hrtime.bigint() - t0) / 1e9;
    server.client = client;
    return server;
  }
  throw lastErr;
}

function readTail(file) {
  try {
    const t = fs.readFileSync(file, 'utf8');
    return t.slice(-800);
  } catch {
    return '';
  }
}

export function redisLog(server) {
  return readTail(server.logfile);
}

export async function stopRedis(server) {
  if (!server || server.exited) return;
  try {
    server.client?.close();
  } catch {
    /* ignore */
  }
  const done = new Promise((r) => server.proc.once('exit', r));
  server.proc.kill('SIGTERM');
  const t = setTimeout(() => server.proc.kill('SIGKILL'), 10000);
  await done;
  clearTimeout(t);
}

/** Synchronous best effort, for process 'exit' / signal handlers. */
export function killAllServers() {
  for (const s of servers) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      /* ignore */
    }
  }
}
