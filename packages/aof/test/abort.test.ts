import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAof, planFix, readAof, readAofBatches } from '@redis-persist/aof';
import { openFileDescriptors } from '@redis-persist/testkit';

const COMMANDS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'aof-abort-'));
const path = join(dir, 'big.aof');
// 3000 SETs of 1 kB: about 3 MB, three 1 MiB reads by default
const value = 'v'.repeat(1000);
writeFileSync(path, Array.from({ length: COMMANDS }, (_, i) => `*3\r\n$3\r\nSET\r\n$${`k${i}`.length}\r\nk${i}\r\n$${value.length}\r\n${value}\r\n`).join(''));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = openFileDescriptors;

describe('signal on the aof entry points', () => {
  it('the fixture is valid', async () => {
    const r = await checkAof(path);
    expect(r.ok).toBe(true);
    expect(r.totals.commands).toBe(COMMANDS);
  });

  for (const [name, read] of [
    ['readAof', async (signal: AbortSignal, seen: { n: number }, onFirst?: () => void) => {
      for await (const _ of readAof(path, { signal, chunkSize: 64 << 10 })) if (seen.n++ === 0) onFirst?.();
    }],
    ['readAofBatches', async (signal: AbortSignal, seen: { n: number }, onFirst?: () => void) => {
      for await (const b of readAofBatches(path, { signal, chunkSize: 64 << 10 })) if ((seen.n += b.length) === b.length) onFirst?.();
    }],
    ['readAofBatches with a filter', async (signal: AbortSignal, seen: { n: number }, onFirst?: () => void) => {
      for await (const b of readAofBatches(path, { signal, chunkSize: 64 << 10, filter: { keys: ['k*'] } })) if ((seen.n += b.length) === b.length) onFirst?.();
    }],
  ] as const) {
    it(`${name}: an already aborted signal rejects at once with an AbortError, nothing read`, async () => {
      const fds = openFds();
      const seen = { n: 0 };
      await expect(read(AbortSignal.abort(), seen)).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen.n).toBe(0);
      expect(openFds()).toBe(fds);
    });

    it(`${name}: aborted part way it stops at the next chunk with the custom reason and closes the file`, async () => {
      const fds = openFds();
      const ac = new AbortController();
      const reason = new Error('stop');
      const seen = { n: 0 };
      await expect(read(ac.signal, seen, () => ac.abort(reason))).rejects.toBe(reason);
      expect(seen.n).toBeGreaterThan(0);
      expect(seen.n).toBeLessThan(200); // one 64 kB chunk holds about 64 commands
      expect(openFds()).toBe(fds);
    });
  }

  it('checkAof: never throws for damaged data, but rejects on abort (before or while running) and closes the file', async () => {
    const fds = openFds();
    await expect(checkAof(path, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const reason = new Error('custom');
    await expect(checkAof(path, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const ac = new AbortController();
    let progressCalls = 0;
    await expect(checkAof(path, { signal: ac.signal, onProgress: () => { progressCalls++; ac.abort(reason); } })).rejects.toBe(reason);
    expect(progressCalls).toBe(1); // stopped at the next chunk
    expect(openFds()).toBe(fds);
  });

  it('planFix: the check under it stops on abort (before or part way) with the reason and closes the file', async () => {
    const fds = openFds();
    const reason = new Error('stop the plan');
    await expect(planFix(path, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const ac = new AbortController();
    let progressCalls = 0;
    await expect(planFix(path, { signal: ac.signal, salvage: true, onProgress: () => { progressCalls++; ac.abort(reason); } })).rejects.toBe(reason);
    expect(progressCalls).toBe(1);
    expect(openFds()).toBe(fds);
    expect((await planFix(path)).plan).toBeNull(); // the file was fine all along
  });
});
