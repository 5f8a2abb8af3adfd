import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { abortableChunks, readFileChunks } from '@redis-persist/fsio';
import { openFileDescriptors } from '@redis-persist/testkit';

const dir = mkdtempSync(join(tmpdir(), 'fsio-abort-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const path = join(dir, 'data.bin');
writeFileSync(path, Buffer.alloc(10_000, 7));
const openFds = openFileDescriptors;

/** Reads `it`, counting chunks in `seen.n` (kept when it rejects); aborts `ac` with `reason` after `after` chunks. */
async function read(it: AsyncIterable<Uint8Array>, seen: { n: number }, ac?: AbortController, after = 1, reason?: unknown): Promise<void> {
  for await (const _ of it) if (++seen.n === after) ac?.abort(reason);
}

describe('signal on readFileChunks and abortableChunks', () => {
  for (const [name, make] of [
    ['readFileChunks', (signal: AbortSignal) => readFileChunks(path, { chunkSize: 1000, signal })],
    ['readFileChunks (recycled buffers)', (signal: AbortSignal) => readFileChunks(path, { chunkSize: 1000, reuseBuffers: true, signal })],
    ['abortableChunks(readFileChunks)', (signal: AbortSignal) => abortableChunks(readFileChunks(path, { chunkSize: 1000 }), signal)],
  ] as const) {
    it(`${name}: already aborted rejects at once, no chunk read, no fd left`, async () => {
      const fds = openFds();
      const seen = { n: 0 };
      await expect(read(make(AbortSignal.abort()), seen)).rejects.toMatchObject({ name: 'AbortError' });
      expect(seen.n).toBe(0);
      expect(openFds()).toBe(fds);
    });

    it(`${name}: aborted part way rejects with the custom reason at the next chunk and closes the file`, async () => {
      const fds = openFds();
      const ac = new AbortController();
      const reason = new Error('enough');
      const seen = { n: 0 };
      await expect(read(make(ac.signal), seen, ac, 3, reason)).rejects.toBe(reason);
      expect(seen.n).toBe(3);
      expect(openFds()).toBe(fds);
    });
  }

  it('abortableChunks without a signal is the source itself', () => {
    const src = readFileChunks(path);
    expect(abortableChunks(src, undefined)).toBe(src);
  });

  it('abortableChunks closes the source it wraps', async () => {
    let closed = false;
    const src = (async function* () {
      try {
        for (;;) yield new Uint8Array(1);
      } finally {
        closed = true;
      }
    })();
    const ac = new AbortController();
    await expect(read(abortableChunks(src, ac.signal), { n: 0 }, ac, 5)).rejects.toMatchObject({ name: 'AbortError' });
    expect(closed).toBe(true);
  });
});
