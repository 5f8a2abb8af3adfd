// The analysis entry points stopped by a signal at each of their check points: they reject with the signal's
// reason, close their files, and leave no spilled run behind (diff).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diffKeyspaces, exportRdb, rdbMemoryRecords, reportRdbFiles } from '@redis-persist/analysis';
import { stringKeysRdb, sweepAbortPoints } from '@redis-persist/testkit';

const root = mkdtempSync(join(tmpdir(), 'analysis-abort-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// about 6 MB: several 2 MiB reads
const a = join(root, 'a.rdb');
const b = join(root, 'b.rdb');
writeFileSync(a, stringKeysRdb(600, 10_000));
writeFileSync(b, stringKeysRdb(500, 10_000));
// smaller ones for the diff, whose sorts spill (a 256 kB budget)
const c = join(root, 'c.rdb');
const d = join(root, 'd.rdb');
writeFileSync(c, stringKeysRdb(300, 3000));
writeFileSync(d, stringKeysRdb(250, 3000));
const spill = join(root, 'spill');
mkdirSync(spill);

describe('signal on the analysis entry points', () => {
  it('rdbMemoryRecords', async () => {
    const run = async (signal: AbortSignal) => {
      let n = 0;
      for await (const _ of rdbMemoryRecords(a, { signal })) n++;
      return n;
    };
    expect(await sweepAbortPoints('rdbMemoryRecords', root, run, () => undefined)).toBeGreaterThan(2);
  });

  it('reportRdbFiles', async () => {
    expect(await sweepAbortPoints('reportRdbFiles', root, (signal) => reportRdbFiles([a, b], { signal }), () => undefined)).toBeGreaterThan(4);
  });

  it('exportRdb (CSV)', async () => {
    const run = async (signal: AbortSignal) => exportRdb(a, { write: async () => undefined }, { format: 'csv', signal });
    expect(await sweepAbortPoints('exportRdb', root, run, () => undefined)).toBeGreaterThan(2);
  });

  it('diffKeyspaces: spilled runs removed too', async () => {
    const run = async (signal: AbortSignal) => {
      const out = [];
      for await (const e of diffKeyspaces({ format: 'rdb', source: c }, { format: 'rdb', source: d }, { signal, tmpDir: spill, memoryBudgetBytes: 256 << 10 })) out.push(e);
      expect(out).toHaveLength(50);
      return out;
    };
    expect(await sweepAbortPoints('diffKeyspaces', root, run, () => undefined)).toBeGreaterThan(4);
  });
});
