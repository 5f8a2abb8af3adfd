// splitRdb and mergeRdb stopped by a signal at each of their check points: they reject with the signal's reason,
// close their files and leave nothing behind (no temp directory or file, no output).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeRdb, slotMapFromRanges, splitRdb } from '@redis-persist/cluster';
import { stringKeysRdb, sweepAbortPoints } from '@redis-persist/testkit';

const root = mkdtempSync(join(tmpdir(), 'cluster-abort-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const input = join(root, 'in.rdb');
// about 6 MB: several 1 MiB reads
writeFileSync(input, stringKeysRdb(600, 10_000));
const map = slotMapFromRanges('0-8191,8192-16383');

describe('signal on splitRdb and mergeRdb', () => {
  it('splitRdb', async () => {
    const out = join(root, 'parts');
    const n = await sweepAbortPoints('splitRdb', root, (signal) => splitRdb(input, { map, output: out, signal }), () => rmSync(out, { recursive: true }));
    expect(n).toBeGreaterThan(5);
  });

  it('mergeRdb', async () => {
    const parts = join(root, 'merge-in');
    mkdirSync(parts);
    await splitRdb(input, { map, output: join(parts, 'p') });
    const files = readdirSync(join(parts, 'p')).map((f) => join(parts, 'p', f));
    expect(files).toHaveLength(2);
    const out = join(parts, 'merged.rdb');
    const n = await sweepAbortPoints('mergeRdb', parts, (signal) => mergeRdb(files, { output: out, signal }), () => rmSync(out));
    expect(n).toBeGreaterThan(5);
  });
});
