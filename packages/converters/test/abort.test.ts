import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { dumpRdb, keyspaceBytes } from '@redis-persist/converters';
import { openFileDescriptors, stringKeysRdb } from '@redis-persist/testkit';

const KEYS = 600;
const VALUE = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'conv-abort-'));
const path = join(dir, 'big.rdb');
writeFileSync(path, stringKeysRdb(KEYS, VALUE));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const openFds = openFileDescriptors;

async function drain(it: AsyncIterable<Uint8Array>, seen: { chunks: number }, after?: () => void): Promise<void> {
  for await (const _ of it) if (++seen.chunks === 1) after?.();
}

describe('signal on dumpRdb / keyspaceBytes', () => {
  it('dumpRdb: an already aborted signal rejects at once, nothing out, no fd left', async () => {
    const fds = openFds();
    const seen = { chunks: 0 };
    await expect(drain(dumpRdb(path, { format: 'jsonl', signal: AbortSignal.abort() }), seen)).rejects.toMatchObject({ name: 'AbortError' });
    const reason = new Error('custom');
    await expect(drain(dumpRdb(path, { format: 'resp', order: 'file', signal: AbortSignal.abort(reason) }), seen)).rejects.toBe(reason);
    expect(seen.chunks).toBe(0);
    expect(openFds()).toBe(fds);
  });

  for (const format of ['jsonl', 'resp'] as const) {
    it(`dumpRdb ${format} in file order: aborted after the first output chunk it rejects with the reason, file closed`, async () => {
      const fds = openFds();
      const ac = new AbortController();
      const reason = new Error('halt');
      const seen = { chunks: 0 };
      await expect(drain(dumpRdb(path, { format, order: 'file', signal: ac.signal }), seen, () => ac.abort(reason))).rejects.toBe(reason);
      expect(seen.chunks).toBe(1);
      expect(openFds()).toBe(fds);
    });

    it(`dumpRdb ${format} in canonical order: aborted while the input is read and sorted, the file is closed and spills removed`, async () => {
      const fds = openFds();
      const tmp = join(dir, `tmp-${format}`);
      mkdirSync(tmp);
      const ac = new AbortController();
      const reason = new Error('mid-read');
      setImmediate(() => ac.abort(reason));
      const seen = { chunks: 0 };
      await expect(drain(dumpRdb(path, { format, signal: ac.signal, tmpDir: tmp, memoryBudgetBytes: 1 << 20 }), seen)).rejects.toBe(reason);
      expect(seen.chunks).toBe(0);
      expect(readdirSync(tmp)).toEqual([]);
      expect(openFds()).toBe(fds);
    });
  }

  it('keyspaceBytes: stops at the next output chunk and closes its source', async () => {
    let closed = false;
    let produced = 0;
    const value = Buffer.alloc(VALUE, 0x62);
    const records = (async function* () {
      try {
        for (let i = 0; i < KEYS; i++) {
          produced++;
          yield { kind: 'key', db: 0, key: Buffer.from(`k${i}`), expireAt: null, type: 'string', value } as KeyspaceRecord;
        }
      } finally {
        closed = true;
      }
    })();
    const ac = new AbortController();
    const seen = { chunks: 0 };
    await expect(drain(keyspaceBytes(records, { format: 'resp', order: 'file', signal: ac.signal }), seen, () => ac.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.chunks).toBe(1);
    expect(produced).toBeLessThan(KEYS);
    expect(closed).toBe(true);
  });
});
