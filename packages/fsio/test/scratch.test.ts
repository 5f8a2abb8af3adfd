// ScratchFiles: synchronous scratch files that hold what was appended, read back anywhere, empty on clear, and leave
// nothing in their directory (unlinked at open on POSIX; dispose closes them and removes any leftover).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsioError, ScratchFiles } from '@redis-persist/fsio';

const root = mkdtempSync(join(tmpdir(), 'scratch-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ScratchFiles', () => {
  it('appends, reads back at any position, clears; nothing left in the directory', () => {
    const files = new ScratchFiles({ dir: root });
    const a = files.open();
    const b = files.open();
    const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    a.append(data.subarray(0, 30_000));
    a.append(data.subarray(30_000));
    b.append(Uint8Array.of(1, 2, 3));
    expect(a.size).toBe(100_000);
    const into = new Uint8Array(1000);
    expect(a.read(54_321, into)).toBe(1000);
    expect(into).toEqual(data.subarray(54_321, 55_321));
    expect(a.read(99_500, into)).toBe(500);
    a.clear();
    expect(a.size).toBe(0);
    expect(a.read(0, into)).toBe(0);
    a.append(Uint8Array.of(9));
    expect(a.read(0, into.subarray(0, 1))).toBe(1);
    expect(into[0]).toBe(9);
    expect(b.read(0, into.subarray(0, 3))).toBe(3);
    expect(readdirSync(root)).toEqual([]);
    const fds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
    const before = fds();
    files.dispose();
    if (before > 0) expect(fds()).toBe(before - 2);
    files.dispose();
  });

  it('a directory it cannot write in: an FsioError naming it', () => {
    const files = new ScratchFiles({ dir: join(root, 'missing', 'dir') });
    expect(() => files.open()).toThrow(FsioError);
    expect(() => files.open()).toThrow(/missing/);
  });
});
