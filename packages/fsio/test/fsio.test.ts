import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AtomicFile, FsioError, backupFile, readFileChunks, writeFileAtomic } from '@redis-persist/fsio';

const dir = mkdtempSync(join(tmpdir(), 'fsio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(it: AsyncIterable<Uint8Array>, copy = false): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(copy ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.length));
  return Buffer.concat(parts);
}

describe('readFileChunks', () => {
  it('reads any range in chunks of any size, with and without recycled buffers', async () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
    const path = join(dir, 'data.bin');
    writeFileSync(path, data);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 5200 }), fc.nat({ max: 5200 }), fc.integer({ min: 1, max: 700 }), fc.boolean(), async (a, b, size, reuse) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const got = await collect(readFileChunks(path, { start, end, chunkSize: size, reuseBuffers: reuse }), true);
        expect(got.equals(data.subarray(start, end))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('names the file in errors', async () => {
    await expect(collect(readFileChunks(join(dir, 'missing.bin')))).rejects.toThrow(FsioError);
    await expect(collect(readFileChunks(join(dir, 'missing.bin')))).rejects.toThrow(/missing\.bin: no such file or directory/);
  });
});

describe('atomic writes and backups', () => {
  it('leaves the target untouched until commit, and no temp file after abort', async () => {
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'old');
    const f = await AtomicFile.create(target, { inPlace: true });
    await f.write(Buffer.from('new content'));
    expect(readFileSync(target, 'utf8')).toBe('old');
    await f.abort();
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((n) => n.includes('.tmp') || n.includes('.lock'))).toEqual([]);
    await writeFileAtomic(target, (async function* () {
      yield Buffer.from('new ');
      yield Buffer.from('content');
    })(), { inPlace: true });
    expect(readFileSync(target, 'utf8')).toBe('new content');
  });

  it('never overwrites an earlier backup, and the backup survives a rewrite of the original', async () => {
    const path = join(dir, 'appendonly.aof');
    writeFileSync(path, 'v1');
    const b1 = await backupFile(path);
    await writeFileAtomic(path, Buffer.from('v2'), { inPlace: true });
    const b2 = await backupFile(path);
    await writeFileAtomic(path, Buffer.from('v3'), { inPlace: true });
    expect([b1, b2]).toEqual([`${path}.bak`, `${path}.bak.1`]);
    expect(readFileSync(b1, 'utf8')).toBe('v1');
    expect(readFileSync(b2, 'utf8')).toBe('v2');
    expect(readFileSync(path, 'utf8')).toBe('v3');
    expect(existsSync(`${path}.bak.2`)).toBe(false);
  });
});
