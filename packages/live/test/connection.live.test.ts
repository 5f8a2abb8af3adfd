// RedisConnection against a real redis-server on 127.0.0.1: AUTH (requirepass, ACL user), SELECT, NOPERM,
// error replies, pipelining with a bounded window, timeouts, a refused port, a silent server, detach().
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';

/** A CA and a server certificate for 127.0.0.1 (openssl), or null without openssl. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } | null {
  try {
    const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 20_000 });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1\n' > ext.cnf"], { cwd: dir, timeout: 5000 });
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
    return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  } catch {
    return null;
  }
}
import { LiveError, connectRedis, replyText, type Command } from '@redis-persist/live';

const text = (v: { type: string; value: unknown }) => replyText(v as never);

async function rejection(p: Promise<unknown>): Promise<LiveError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(LiveError);
    return e as LiveError;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!redisAvailable())('RedisConnection', () => {
  let server: RedisServer;
  let url: string;

  beforeAll(async () => {
    server = await startRedis();
    url = `redis://:sekret@127.0.0.1:${server.port}`;
    // set after the start (startRedis waits for an unauthenticated PING); this client stays logged in
    await server.client.call('CONFIG', 'SET', 'requirepass', 'sekret');
    await server.client.call('ACL', 'SETUSER', 'reader', 'on', '>readpw', '~*', '+@read', '+ping', '+select');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('authenticates with a password, selects the URL database and round-trips bytes', async () => {
    const c = await connectRedis(`${url}/3`);
    try {
      const binary = new Uint8Array([0, 255, 13, 10, 36, 42]);
      expect(text(await c.call('SET', 'bin', binary))).toBe('OK');
      const v = await c.call('GET', 'bin');
      expect(v).toEqual({ type: 'bulk', value: binary });
      expect(await c.callInteger('INCRBY', 'n', 41)).toBe(41);
      expect(await c.callInteger('INCR', 'n')).toBe(42);
      expect((await c.info('keyspace')).get('db3')).toMatch(/^keys=2,/);
      expect((await c.info('server')).get('redis_version')).toMatch(/^\d+\.\d+/);
      expect(c.server).toBe(`127.0.0.1:${server.port}`);
    } finally {
      await c.close();
    }
  });

  it('authenticates an ACL user and turns -NOPERM into code noperm with the server text', async () => {
    const c = await connectRedis(`redis://reader:readpw@127.0.0.1:${server.port}`);
    try {
      expect(await c.call('GET', 'absent')).toEqual({ type: 'bulk', value: null });
      const e = await rejection(c.call('SET', 'k', 'v'));
      expect(e.code).toBe('noperm');
      expect(e.reply).toMatch(/^NOPERM/);
      expect(e.message).toContain(`127.0.0.1:${server.port}`);
      expect(e.message).toContain('SET');
      // still usable after an error reply
      expect(text(await c.call('PING'))).toBe('PONG');
    } finally {
      await c.close();
    }
  });

  it('refuses wrong credentials and a missing password with code auth', async () => {
    const wrong = await rejection(connectRedis(`redis://:nope@127.0.0.1:${server.port}`));
    expect(wrong.code).toBe('auth');
    expect(wrong.reply).toMatch(/WRONGPASS/);
    const badUser = await rejection(connectRedis(`redis://reader:nope@127.0.0.1:${server.port}`));
    expect(badUser.code).toBe('auth');
    const none = await connectRedis(`127.0.0.1:${server.port}`);
    try {
      const e = await rejection(none.call('GET', 'x'));
      expect(e.code).toBe('auth');
      expect(e.reply).toMatch(/^NOAUTH/);
    } finally {
      await none.close();
    }
  });

  it('turns an error reply into LiveError reply carrying the server text, and returns errors as values from request()', async () => {
    const c = await connectRedis(url);
    try {
      await c.call('SET', 'str', 'x');
      const e = await rejection(c.call('LPUSH', 'str', 'y'));
      expect(e.code).toBe('reply');
      expect(e.reply).toMatch(/^WRONGTYPE/);
      expect(e.server).toBe(`127.0.0.1:${server.port}`);
      const v = await c.request(['NOSUCHCOMMAND']);
      expect(v.type).toBe('error');
      const sel = await rejection(c.call('SELECT', 99999));
      expect(sel.code).toBe('reply');
    } finally {
      await c.close();
    }
  });

  it('pipelines many commands with a bounded window, replies in order, errors as values', async () => {
    const c = await connectRedis(url, { maxInFlight: 64 });
    try {
      const n = 20_000;
      let maxSeen = 0;
      function* commands(): Generator<Command> {
        for (let i = 0; i < n; i++) {
          maxSeen = Math.max(maxSeen, c.inFlight);
          if (i === 5000) yield ['LPUSH', 'str2', 'x'];
          else yield ['SET', `p:${i}`, i];
        }
      }
      await c.call('SET', 'str2', 'x');
      const replies = await c.pipeline(commands(), { maxInFlight: 50 });
      expect(replies).toHaveLength(n);
      expect(maxSeen).toBeLessThanOrEqual(50);
      expect(replies[5000].type).toBe('error');
      expect(replies.filter((r) => r.type === 'error')).toHaveLength(1);
      const gets = await c.pipeline(Array.from({ length: 1000 }, (_, i): Command => ['GET', `p:${i * 7}`]));
      gets.forEach((g, i) => expect(text(g)).toBe(String(i * 7)));
      // many concurrent call()s wait for a slot instead of queueing without bound
      const calls = await Promise.all(Array.from({ length: 500 }, (_, i) => c.call('ECHO', `e${i}`)));
      calls.forEach((r, i) => expect(text(r)).toBe(`e${i}`));
      expect(c.inFlight).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('times out a server that stays silent, naming the server and the command; later calls fail at once', async () => {
    const c = await connectRedis(url, { timeoutMs: 300 });
    const t0 = Date.now();
    const e = await rejection(c.call('DEBUG', 'SLEEP', '2'));
    expect(e.code).toBe('timeout');
    expect(e.message).toContain(`127.0.0.1:${server.port}`);
    expect(e.message).toContain('DEBUG');
    expect(Date.now() - t0).toBeLessThan(1500);
    expect((await rejection(c.call('PING'))).code).toBe('timeout');
    expect(c.closed).toBe(true);
    await c.close();
    // a server that is reached but never answers the handshake
    const silent: Socket[] = [];
    const srv: Server = createServer((s) => silent.push(s));
    const port = await freePort();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    try {
      const h = await rejection(connectRedis(`redis://:pw@127.0.0.1:${port}`, { timeoutMs: 300 }));
      expect(h.code).toBe('connect');
      expect(h.message).toContain(`127.0.0.1:${port}`);
    } finally {
      silent.forEach((s) => s.destroy());
      await new Promise((r) => srv.close(r));
    }
    // a long command is fine with a longer timeout set around it
    const d = await connectRedis(url, { timeoutMs: 5000 }); // waits for the DEBUG SLEEP above to end
    try {
      d.setReplyTimeout(200);
      expect((await rejection(d.call('DEBUG', 'SLEEP', '0.5'))).code).toBe('timeout');
    } finally {
      await d.close();
    }
    await server.client.call('PING'); // answered once the DEBUG SLEEP above is over
    const f = await connectRedis(url, { timeoutMs: 2000 });
    try {
      f.setReplyTimeout(300);
      expect(text(await f.call('PING'))).toBe('PONG');
      f.setReplyTimeout(5000); // raised around a command known to take longer than 300 ms
      expect(text(await f.call('DEBUG', 'SLEEP', '0.5'))).toBe('OK');
    } finally {
      await f.close();
    }
  });

  it('fails to connect to a closed port with code connect, and rejects awaited replies when the server goes away', async () => {
    const port = await freePort();
    const e = await rejection(connectRedis(`127.0.0.1:${port}`));
    expect(e.code).toBe('connect');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    const bad = await rejection(connectRedis('http://127.0.0.1:1'));
    expect(bad.code).toBe('url');

    const c = await connectRedis(url);
    const id = await c.callInteger('CLIENT', 'ID');
    const other = await connectRedis(url);
    const blocked = rejection(c.call('BLPOP', 'never', '0')); // handled from the start: it rejects during the awaits below
    await new Promise((r) => setTimeout(r, 100));
    await other.call('CLIENT', 'KILL', 'ID', id);
    const k = await blocked;
    expect(k.code).toBe('closed');
    expect((await rejection(c.call('PING'))).code).toBe('closed');
    await other.close();
  });

  it('detach() hands over the socket with the bytes received past the last reply', async () => {
    const c = await connectRedis(url);
    // two replies in one packet: the second one stays unread when only one was awaited
    expect(text(await c.call('ECHO', 'first'))).toBe('first');
    const { socket, head } = c.detach();
    expect(head.length).toBe(0);
    socket.write('*2\r\n$4\r\nECHO\r\n$3\r\nraw\r\n');
    const got = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    expect(got).toBe('$3\r\nraw\r\n');
    socket.destroy();
    expect((await rejection(c.call('PING'))).code).toBe('closed');
  });

  it('speaks TLS (rediss://) with a CA, and refuses a certificate it cannot verify with code connect', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-tls-'));
    const certs = makeCerts(dir);
    if (certs === null) {
      rmSync(dir, { recursive: true, force: true });
      console.warn('[connection tests] openssl is missing: TLS test skipped');
      return;
    }
    const tlsPort = await freePort();
    const tlsServer = await startRedis({
      config: { 'tls-port': String(tlsPort), 'tls-cert-file': certs.cert, 'tls-key-file': certs.key, 'tls-ca-cert-file': certs.ca, 'tls-auth-clients': 'no' },
    });
    try {
      const c = await connectRedis(`rediss://127.0.0.1:${tlsPort}`, { tls: { ca: readFileSync(certs.ca) } });
      try {
        expect(c.address.tls).toBe(true);
        expect(text(await c.call('PING'))).toBe('PONG');
        const big = new Uint8Array(300_000).map((_, i) => i & 0xff);
        await c.call('SET', 'big', big);
        expect(await c.call('GET', 'big')).toEqual({ type: 'bulk', value: big });
      } finally {
        await c.close();
      }
      const untrusted = await rejection(connectRedis(`rediss://127.0.0.1:${tlsPort}`));
      expect(untrusted.code).toBe('connect');
      expect(untrusted.message).toMatch(/TLS connection failed/);
    } finally {
      await tlsServer.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
