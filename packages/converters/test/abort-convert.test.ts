import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aofToRdb, rdbToAof, rewriteAof } from '@redis-persist/converters';
import { sweepAbortPoints, treeListing } from '@redis-persist/testkit';

// Every check point of each call is hit in turn (a signal that aborts itself at its n-th check): each time the
// call rejects with the signal's reason, no fd stays open, and the directory is exactly as before (no temp file,
// no output, no backup).
const root = mkdtempSync(join(tmpdir(), 'conv-abort-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const value = 'x'.repeat(200);
const aof = Buffer.from(Array.from({ length: 6000 }, (_, i) => resp('SET', `key:${i}`, value)).join(''));

async function sweep(label: string, dir: string, run: (signal: AbortSignal) => Promise<unknown>, undo: () => void): Promise<void> {
  expect(await sweepAbortPoints(label, dir, run, undo)).toBeGreaterThan(5);
}

describe('signal on aofToRdb, rdbToAof, rewriteAof', () => {
  it('aofToRdb: at every check point, rejects with the reason, no temp file, no output', async () => {
    const dir = join(root, 'to-rdb');
    mkdirSync(dir);
    writeFileSync(join(dir, 'in.aof'), aof);
    const out = join(dir, 'out.rdb');
    await sweep('aofToRdb', dir, (signal) => aofToRdb(join(dir, 'in.aof'), out, { signal }), () => rmSync(out));
    expect(existsSync(out)).toBe(false);
  });

  for (const layout of ['file', 'dir'] as const) {
    it(`rdbToAof ${layout}: at every check point, rejects with the reason, nothing left`, async () => {
      const dir = join(root, `to-aof-${layout}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'in.aof'), aof);
      await aofToRdb(join(dir, 'in.aof'), join(dir, 'in.rdb'));
      const out = join(dir, 'out');
      await sweep(`rdbToAof ${layout}`, dir, (signal) => rdbToAof(join(dir, 'in.rdb'), out, { layout, signal }), () => rmSync(out, { recursive: true }));
    });
  }

  it('rewriteAof single file: at every check point the AOF is as it was, no .bak, no temp file', async () => {
    const dir = join(root, 'rewrite-single');
    mkdirSync(dir);
    const path = join(dir, 'appendonly.aof');
    writeFileSync(path, aof);
    const original = readFileSync(path);
    await sweep('rewriteAof single', dir, (signal) => rewriteAof(path, { signal, backup: true }), () => {
      writeFileSync(path, original);
      rmSync(`${path}.bak`);
    });
    expect(readFileSync(path).equals(original)).toBe(true);
  });

  it('rewriteAof multi-part: at every check point the directory is as it was, no backup directory', async () => {
    const parent = join(root, 'rewrite-multi');
    mkdirSync(parent);
    const src = join(parent, 'src.aof');
    writeFileSync(src, aof);
    await aofToRdb(src, join(parent, 'src.rdb'));
    rmSync(src);
    const dir = join(parent, 'appendonlydir');
    await rdbToAof(join(parent, 'src.rdb'), dir, { layout: 'dir' });
    rmSync(join(parent, 'src.rdb'));
    const snapshot = new Map(treeListing(dir).map((l) => [l.split(' ')[0], readFileSync(join(dir, l.split(' ')[0]))]));
    await sweep('rewriteAof multi-part', parent, (signal) => rewriteAof(dir, { signal, backup: true }), () => {
      // undo the counted run: the old files back, the new ones and the backup gone
      for (const l of treeListing(parent)) if (l.startsWith('appendonlydir.bak-') && l.endsWith('/')) rmSync(join(parent, l), { recursive: true });
      rmSync(dir, { recursive: true });
      mkdirSync(dir);
      for (const [name, bytes] of snapshot) writeFileSync(join(dir, name), bytes);
    });
  });
});
