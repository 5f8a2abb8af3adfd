// Conversions of an RDB whose big strings come in pieces (raw, LZF, valid UTF-8, with an expiry) beside big
// collections, loaded by a real redis-server 7.0.15: RDB → RDB, to-aof and RDB → canonical RESP give the source's
// DEBUG DIGEST, and RDB → JSON Lines → RDB too. Small enough for CI (a few MB).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicFile } from '@redis-persist/fsio';
import { convertRecords, keyspaceBytes, rdbToAof } from '@redis-persist/converters';
import { writeRdbFile } from '@redis-persist/rdb-writer';
import { redisAvailable, startRedis } from '@redis-persist/testkit';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[converters] redis-server is not on PATH: skipping the huge-key conversion test');

const temps: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'huge-keys-'));
  temps.push(d);
  return d;
}
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const MiB = 1 << 20;

/** DEBUG DIGEST of what a redis-server 7.0.15 holds after starting on `dir` with `config`. */
async function digestOf(dir: string, config: Record<string, string> = {}): Promise<string> {
  const server = await startRedis({ dir, config: { save: '', 'enable-debug-command': 'local', ...config } });
  try {
    expect(server.alive()).toBe(true);
    return (await server.client.callText('DEBUG', 'DIGEST'))!;
  } finally {
    await server.stop();
  }
}

async function writeFile(path: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
  const f = await AtomicFile.create(path, { force: true });
  try {
    for await (const c of chunks) await f.write(c);
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}

describe.skipIf(!hasRedis)('huge keys in pieces, loaded by redis-server 7.0.15', () => {
  let source = '';
  let truth = '';

  beforeAll(async () => {
    source = tmp();
    const server = await startRedis({ dir: source, config: { save: '', 'enable-debug-command': 'local' } });
    try {
      const c = server.client;
      let x = 7;
      const random = Buffer.from(Array.from({ length: 2 * MiB + 3 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
      await c.call('SET', 'str:random', random);
      await c.call('SET', 'str:text', Buffer.from('big strings come in pieces; '.repeat(150_000)));
      await c.call('SET', 'str:utf8', Buffer.from('é€😀 '.repeat(120_000)), 'PXAT', '4102444800000');
      await c.call('SELECT', '2');
      await c.call('SET', 'str:mixed', Buffer.concat([Buffer.from('x'.repeat(MiB)), random.subarray(0, MiB)]));
      for (let i = 0; i < 10_000; i += 1000) {
        await c.call('RPUSH', 'list', ...Array.from({ length: 1000 }, (_, j) => `e${i + j}`));
        await c.call('HSET', 'hash', ...Array.from({ length: 1000 }, (_, j) => [`f${i + j}`, `v${j}`]).flat());
      }
      await c.call('SET', 'small', 'v');
      expect(await c.callText('SAVE')).toBe('OK');
      truth = (await c.callText('DEBUG', 'DIGEST'))!;
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('RDB → RDB (strings compressed as their pieces come)', async () => {
    const d = tmp();
    await writeRdbFile(join(d, 'dump.rdb'), convertRecords({ format: 'rdb', source: join(source, 'dump.rdb') }, 'rdb'), {});
    expect(await digestOf(d)).toBe(truth);
  });

  it('to-aof and RDB → canonical RESP', async () => {
    const d = tmp();
    await rdbToAof(join(source, 'dump.rdb'), join(d, 'appendonlydir'), { layout: 'dir', now: Date.now() });
    expect(await digestOf(d, { appendonly: 'yes' })).toBe(truth);
    const e = tmp();
    await writeFile(join(e, 'appendonly.aof'), keyspaceBytes(convertRecords({ format: 'rdb', source: join(source, 'dump.rdb') }, 'resp'), { format: 'resp' }));
    expect(await digestOf(e, { appendonly: 'yes' })).toBe(truth);
  });

  it('RDB → JSON Lines → RDB', async () => {
    const d = tmp();
    const jsonl = join(d, 'k.jsonl');
    await writeFile(jsonl, keyspaceBytes(convertRecords({ format: 'rdb', source: join(source, 'dump.rdb') }, 'jsonl'), { format: 'jsonl' }));
    mkdirSync(join(d, 'r'));
    await writeRdbFile(join(d, 'r', 'dump.rdb'), convertRecords({ format: 'jsonl', source: jsonl }, 'rdb'), {});
    expect(await digestOf(join(d, 'r'))).toBe(truth);
  });
});
