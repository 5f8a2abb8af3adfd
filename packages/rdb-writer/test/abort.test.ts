import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeyspacePiece } from '@redis-persist/keyspace';
import { writeRdb, writeRdbFile } from '@redis-persist/rdb-writer';
import { openFileDescriptors } from '@redis-persist/testkit';

const KEYS = 3000;
const value = randomBytes(1000); // incompressible: LZF leaves it as it is
const dir = mkdtempSync(join(tmpdir(), 'rdbw-abort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const openFds = openFileDescriptors;

/** 3000 string keys of 1 kB (about 3 MB of RDB: some 46 chunks of 64 KiB); `state` says how far it got. */
async function* records(state = { produced: 0, closed: false }): AsyncGenerator<KeyspacePiece> {
  try {
    for (let i = 0; i < KEYS; i++) {
      state.produced++;
      yield { kind: 'key', db: 0, key: Buffer.from(`k${i}`), expireAt: null, type: 'string', value } as KeyspacePiece;
    }
  } finally {
    state.closed = true;
  }
}

describe('signal on writeRdb / writeRdbFile', () => {
  it('writeRdbFile without abort writes the file', async () => {
    const s = await writeRdbFile(join(dir, 'whole.rdb'), records(), { signal: new AbortController().signal });
    expect(s.keys).toBe(KEYS);
    rmSync(join(dir, 'whole.rdb'));
  });

  it('writeRdb: an already aborted signal rejects at once, no record read', async () => {
    const state = { produced: 0, closed: false };
    const out = writeRdb(records(state), { signal: AbortSignal.abort() });
    await expect(out.next()).rejects.toMatchObject({ name: 'AbortError' });
    expect(state.produced).toBe(0);
  });

  it('writeRdb: aborted part way it rejects with the custom reason at the next chunk and closes its source', async () => {
    const state = { produced: 0, closed: false };
    const ac = new AbortController();
    const reason = new Error('halt');
    let chunks = 0;
    await expect(
      (async () => {
        for await (const _ of writeRdb(records(state), { signal: ac.signal })) if (++chunks === 2) ac.abort(reason);
      })(),
    ).rejects.toBe(reason);
    expect(chunks).toBe(2);
    expect(state.produced).toBeLessThan(KEYS / 2);
    expect(state.closed).toBe(true);
  });

  it('writeRdbFile: an already aborted signal rejects at once, creates nothing', async () => {
    const state = { produced: 0, closed: false };
    const reason = new Error('before');
    await expect(writeRdbFile(join(dir, 'pre.rdb'), records(state), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(state.produced).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writeRdbFile: aborted part way it rejects with the reason, removes its temporary file, leaves no fd open', async () => {
    const fds = openFds();
    const state = { produced: 0, closed: false };
    const ac = new AbortController();
    let progress = 0;
    await expect(
      writeRdbFile(join(dir, 'mid.rdb'), records(state), { signal: ac.signal, onProgress: () => { if (++progress === 3) ac.abort(); } }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(progress).toBe(3);
    expect(state.produced).toBeLessThan(KEYS / 2);
    expect(state.closed).toBe(true);
    expect(readdirSync(dir)).toEqual([]); // neither mid.rdb nor .mid.rdb.tmp
    expect(openFds()).toBe(fds);
  });
});
