import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { encodeKeyspaceLine, readKeyspaceJsonl } from '@redis-persist/jsonl';
import { openFileDescriptors } from '@redis-persist/testkit';

const KEYS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'jsonl-abort-'));
const path = join(dir, 'big.jsonl');
// 3000 string keys of 1 kB: about 3 MB, three 1 MiB reads
const value = Buffer.alloc(1000, 0x61);
writeFileSync(
  path,
  Array.from({ length: KEYS }, (_, i) => encodeKeyspaceLine({ kind: 'key', db: 0, key: Buffer.from(`k${i}`), expireAt: null, type: 'string', value } as KeyspaceRecord) + '\n').join(''),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = openFileDescriptors;

async function read(signal: AbortSignal, seen: { n: number }, onFirst?: () => void): Promise<void> {
  for await (const _ of readKeyspaceJsonl(path, { signal })) if (seen.n++ === 0) onFirst?.();
}

describe('signal on readKeyspaceJsonl', () => {
  it('the fixture reads whole without a signal', async () => {
    const seen = { n: 0 };
    await read(new AbortController().signal, seen);
    expect(seen.n).toBe(KEYS);
  });

  it('an already aborted signal rejects at once with an AbortError, nothing read, no fd left', async () => {
    const fds = openFds();
    const seen = { n: 0 };
    await expect(read(AbortSignal.abort(), seen)).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.n).toBe(0);
    expect(openFds()).toBe(fds);
  });

  it('aborted part way it stops at the next chunk with the custom reason and closes the file', async () => {
    const fds = openFds();
    const ac = new AbortController();
    const reason = new Error('stop');
    const seen = { n: 0 };
    await expect(read(ac.signal, seen, () => ac.abort(reason))).rejects.toBe(reason);
    expect(seen.n).toBeGreaterThan(0);
    expect(seen.n).toBeLessThan(KEYS / 2); // the first 1 MiB chunk holds about a third
    expect(openFds()).toBe(fds);
  });

  it('a byte stream source is closed too', async () => {
    let closed = false;
    const line = Buffer.from(encodeKeyspaceLine({ kind: 'key', db: 0, key: Buffer.from('k'), expireAt: null, type: 'string', value } as KeyspaceRecord) + '\n');
    const src = (async function* () {
      try {
        for (;;) yield line;
      } finally {
        closed = true;
      }
    })();
    const ac = new AbortController();
    let n = 0;
    await expect(
      (async () => {
        for await (const _ of readKeyspaceJsonl(src, { signal: ac.signal })) if (++n === 10) ac.abort();
      })(),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(n).toBe(10);
    expect(closed).toBe(true);
  });
});
