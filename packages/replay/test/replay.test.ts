// Hand-made AOFs: load-time rules (expired keys kept, unfinished MULTI discarded, unknown commands, --until).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '@redis-persist/resp';
import { ReplayError, replayAof } from '@redis-persist/replay';

const dir = mkdtempSync(join(tmpdir(), 'replay-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function aof(parts: (string[] | string)[]): string {
  const chunks = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(encodeCommand(p.map((x) => Buffer.from(x))))));
  const path = join(dir, `t${n++}.aof`);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

async function keys(path: string, options = {}): Promise<string[]> {
  const r = await replayAof(path, options);
  return [...r.keyspace.records()].map((x) => (x.kind === 'key' ? `${x.db}:${Buffer.from(x.key).toString()}` : `fn:${x.library}`));
}

describe('load-time rules', () => {
  it('keeps keys whose expiry has passed (Redis does not expire while loading), drops them on request', async () => {
    const p = aof([['SET', 'old', 'v', 'PXAT', '1000'], ['SET', 'k', 'v'], ['PEXPIREAT', 'k', '2000'], ['SET', 'live', 'v']]);
    const r = await replayAof(p);
    expect([...r.keyspace.records()].map((x) => x.kind === 'key' && x.expireAt)).toEqual([2000, null, 1000]);
    expect([...r.keyspace.records({ dropExpiredBefore: Date.now() })].length).toBe(1);
  });

  it('applies MULTI at EXEC and discards an unfinished MULTI at the end', async () => {
    const p = aof([['SET', 'a', '1'], ['MULTI'], ['SET', 'b', '2'], ['EXEC'], ['MULTI'], ['SET', 'c', '3'], ['DEL', 'a']]);
    const r = await replayAof(p);
    expect(r.discardedInMulti).toBe(2);
    expect(r.truncated).toMatchObject({ file: p, offset: 83 });
    expect(await keys(p)).toEqual(['0:a', '0:b']);
    await expect(replayAof(p, { loadTruncated: false })).rejects.toMatchObject({ name: 'AofError', code: 'truncated' });
    const cut = aof([['SET', 'a', '1'], '*2\r\n$3\r\nDEL\r\n$1\r\n']);
    expect((await replayAof(cut)).truncated).toMatchObject({ offset: 27 });
    expect(await keys(cut)).toEqual(['0:a']);
  });

  it('follows SELECT, SWAPDB, MOVE and FLUSHALL (functions survive FLUSHALL)', async () => {
    const lib = '#!lua name=mylib\nredis.register_function("f", function() return 1 end)';
    const p = aof([['FUNCTION', 'LOAD', lib], ['SELECT', '2'], ['SET', 'x', '1'], ['SWAPDB', '2', '4'], ['SELECT', '4'], ['MOVE', 'x', '9'], ['SET', 'y', '1'], ['FLUSHALL'], ['SET', 'z', '1']]);
    expect(await keys(p)).toEqual(['fn:mylib', '4:z']);
  });

  it('names an unknown command with its file and offset; skipUnknown counts it', async () => {
    const p = aof([['SET', 'a', '1'], ['FROBNICATE', 'a']]);
    const err = await replayAof(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).code).toBe('unknown-command');
    expect((err as ReplayError).offset).toBe(27);
    expect((err as ReplayError).message).toContain("unknown command 'FROBNICATE'");
    expect((err as ReplayError).message).toContain(p);
    const r = await replayAof(p, { skipUnknown: true });
    expect(r.skipped).toBe(1);
    expect(r.skippedByCommand).toEqual({ frobnicate: 1 });
  });

  it('refuses approximate stream trimming (its effect depends on the writing server) unless skipping', async () => {
    const p = aof([['XADD', 's', 'MAXLEN', '~', '1', '1-1', 'f', 'v']]);
    await expect(replayAof(p)).rejects.toMatchObject({ code: 'unsupported' });
    const script = aof([['SET', 'a', '1'], ['EVAL', "redis.call('set', KEYS[1], 'x')", '1', 'k']]);
    await expect(replayAof(script)).rejects.toThrow(/offset 27: cannot replay EVAL: a script replicated verbatim/);
    const r = await replayAof(script, { skipUnknown: true });
    expect(r.skippedByCommand).toEqual({ eval: 1 });
  });

  it('INCRBYFLOAT / HINCRBYFLOAT add in long double and store %.17Lf text, as redis-server does', async () => {
    const p = aof([
      ['SET', 'a', '0.1'],
      ['INCRBYFLOAT', 'a', '0.2'],
      ['INCRBYFLOAT', 'b', '1e10'],
      ['INCRBYFLOAT', 'b', '-0.000001'],
      ['SET', 'c', '1000000000000000'],
      ['INCRBYFLOAT', 'c', '0.25'],
      ['INCRBYFLOAT', 'c', '0x1p-2'],
      ['HINCRBYFLOAT', 'h', 'f', '1e10'],
      ['HINCRBYFLOAT', 'h', 'f', '-0.000001'],
      ['INCRBYFLOAT', 'a', 'inf'], // ERR increment would produce NaN or Infinity
      ['HINCRBYFLOAT', 'a', 'f', 'inf'], // ERR value is NaN or Infinity (before the type check)
      ['HINCRBYFLOAT', 'h', 'f', '1e-5000'], // ERR value is not a valid float (underflow)
    ]);
    const r = await replayAof(p);
    expect(r.failures.map((f) => f.reason)).toEqual([
      'ERR increment would produce NaN or Infinity',
      'ERR value is NaN or Infinity',
      'ERR value is not a valid float',
    ]);
    const values = Object.fromEntries(
      [...r.keyspace.records()].flatMap((x) =>
        x.kind !== 'key' ? [] : x.type === 'string' ? [[Buffer.from(x.key).toString(), Buffer.from(x.value).toString()]] : x.type === 'hash' ? [[Buffer.from(x.key).toString(), Buffer.from(x.value[0]!.value).toString()]] : [],
      ),
    );
    expect(values).toEqual({ a: '0.3', b: '9999999999.99999899975955486', c: '1000000000000000.5', h: '9999999999.99999899975955486' });
  });

  it('counts commands Redis would answer with an error, changing nothing', async () => {
    const p = aof([['SET', 's', 'x'], ['LPUSH', 's', 'a'], ['INCR', 's']]);
    const r = await replayAof(p);
    expect(r.failed).toBe(2);
    expect(r.failures[0].reason).toMatch(/^WRONGTYPE/);
    expect(r.failures[1].offset).toBeGreaterThan(r.failures[0].offset);
  });

  it('--until stops at the first #TS annotation after the point in time', async () => {
    const p = aof(['#TS:100\r\n', ['SET', 'a', '1'], '#TS:200\r\n', ['SET', 'b', '1'], '#TS:300\r\n', ['SET', 'c', '1']]);
    expect(await keys(p, { truncateToTimestamp: 250 })).toEqual(['0:a', '0:b']);
    expect(await keys(p, { truncateToTimestamp: 99 })).toEqual([]);
    const r = await replayAof(p, { truncateToTimestamp: 150 });
    expect(r.stoppedAt).toMatchObject({ timestamp: 200 });
    await expect(replayAof(aof([['SET', 'a', '1']]), { truncateToTimestamp: 5 })).rejects.toMatchObject({ code: 'input' });
  });
});
