// filterAof and stripAof stopped by a signal at each of their check points: they reject with the signal's reason,
// close their files and leave the directory as it was (no temp file, no output, the input untouched).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filterAof, stripAof } from '@redis-persist/aof';
import { sweepAbortPoints } from '@redis-persist/testkit';

const root = mkdtempSync(join(tmpdir(), 'aof-abort-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const value = 'x'.repeat(200);
// about 5 MB: several 1 MiB reads
const aof = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i % 100 === 99 ? resp('DEL', `a:${i - 1}`) : resp('SET', `${i % 2 ? 'a' : 'b'}:${i}`, value))).join(''));

function fresh(name: string): { dir: string; input: string } {
  const dir = join(root, name);
  mkdirSync(dir);
  const input = join(dir, 'appendonly.aof');
  writeFileSync(input, aof);
  return { dir, input };
}

describe('signal on filterAof and stripAof', () => {
  it('filterAof: rejects with the reason at every check point, no output, no temp file', async () => {
    const { dir, input } = fresh('filter');
    const out = join(dir, 'out.aof');
    const n = await sweepAbortPoints('filterAof', dir, (signal) => filterAof(input, out, { filter: { keys: ['a:*'] }, signal }), () => rmSync(out));
    expect(n).toBeGreaterThan(5);
  });

  it('stripAof to an output: rejects with the reason at every check point, no output', async () => {
    const { dir, input } = fresh('strip-out');
    const out = join(dir, 'out.aof');
    const n = await sweepAbortPoints('stripAof output', dir, (signal) => stripAof(input, { commands: ['del'], output: out, signal }), () => rmSync(out));
    expect(n).toBeGreaterThan(5);
  });

  it('stripAof in place: rejects with the reason at every check point, the AOF untouched, no .bak', async () => {
    const { dir, input } = fresh('strip-in-place');
    const n = await sweepAbortPoints('stripAof in place', dir, (signal) => stripAof(input, { commands: ['del'], signal }), () => {
      writeFileSync(input, aof);
      rmSync(`${input}.bak`);
    });
    expect(n).toBeGreaterThan(5);
    expect(readFileSync(input).equals(aof)).toBe(true);
  });
});
