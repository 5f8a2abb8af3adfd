import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRdb, readRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { openFileDescriptors, stringKeysRdb } from '@redis-persist/testkit';

const KEYS = 600;
const VALUE = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'rdb-abort-'));
const path = join(dir, 'big.rdb');
writeFileSync(path, stringKeysRdb(KEYS, VALUE));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = openFileDescriptors;

/** Reads `it` to the end, counting in `seen.n` (kept when it rejects); `onFirst` runs at the first item. */
async function drain(it: AsyncIterable<unknown>, onFirst?: () => void, seen = { n: 0 }): Promise<number> {
  for await (const _ of it) if (seen.n++ === 0) onFirst?.();
  return seen.n;
}

describe('signal on the rdb entry points', () => {
  it('the fixture is valid and read in several chunks', async () => {
    const r = await checkRdb(path);
    expect(r.ok).toBe(true);
    expect(r.keys).toBe(KEYS);
    expect(r.size).toBeGreaterThan(4 << 20);
  });

  for (const [name, run] of [
    ['readRdb', (signal: AbortSignal, onFirst?: () => void, seen?: { n: number }) => drain(readRdb(path, { signal, values: false }), onFirst, seen)],
    ['rdbKeyspaceRecords', (signal: AbortSignal, onFirst?: () => void, seen?: { n: number }) => drain(rdbKeyspaceRecords(path, { signal }), onFirst, seen)],
  ] as const) {
    it(`${name}: an already aborted signal rejects at once with an AbortError, nothing read`, async () => {
      const fds = openFds();
      const seen = { n: 0 };
      await expect(run(AbortSignal.abort(), undefined, seen)).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen.n).toBe(0);
      expect(openFds()).toBe(fds);
    });

    it(`${name}: aborting part way stops with the custom reason and closes the file`, async () => {
      const fds = openFds();
      const ac = new AbortController();
      const reason = new Error('stop here');
      const seen = { n: 0 };
      await expect(run(ac.signal, () => ac.abort(reason), seen)).rejects.toBe(reason);
      expect(seen.n).toBeGreaterThan(0);
      expect(seen.n).toBeLessThan(KEYS); // stopped after the first 2 MiB chunk, not at the end
      expect(openFds()).toBe(fds);
    });
  }

  it('readRdb: stops within a chunk of the abort', async () => {
    const ac = new AbortController();
    let keys = 0;
    await expect(
      (async () => {
        for await (const r of readRdb(path, { values: false, signal: ac.signal })) {
          if (r.kind === 'key' && ++keys === 1) ac.abort();
        }
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(keys).toBeGreaterThan(0);
    expect(keys).toBeLessThan(KEYS);
  });

  it('checkRdb: never throws for bad data, but rejects on abort (before or while running) and closes the file', async () => {
    const fds = openFds();
    await expect(checkRdb(path, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const reason = new Error('custom');
    await expect(checkRdb(path, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const ac = new AbortController();
    // progress is reported every 16 MiB: abort from the first chunk a source yields instead
    const chunks = async function* () {
      const data = stringKeysRdb(KEYS, VALUE);
      for (let at = 0; at < data.length; at += 1 << 20) {
        if (at > 0) ac.abort(reason);
        yield data.subarray(at, at + (1 << 20));
      }
    };
    await expect(checkRdb(chunks(), { signal: ac.signal })).rejects.toBe(reason);
    expect(openFds()).toBe(fds);
  });

  it('checkRdb on a file: aborted while the file is read, the handle is closed', async () => {
    const fds = openFds();
    const ac = new AbortController();
    setImmediate(() => ac.abort());
    const p = checkRdb(path, { signal: ac.signal });
    await p.then(
      (r) => expect(r.ok).toBe(true), // finished before the abort landed: allowed, but rare
      (err: unknown) => expect(err).toMatchObject({ name: 'AbortError' }),
    );
    expect(openFds()).toBe(fds);
  });
});
