// sortKeyspace: canonical order through the byte sorter, whatever the budget; no temp files left behind.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalizeRecord, compareKeyspaceRecords, type KeyspaceRecord } from '@redis-persist/keyspace';
import { sortKeyspace } from '@redis-persist/extsort';
import { recordArb, u8 } from '../../keyspace/test/arbitraries.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function keyRec(fields: Partial<KeyspaceRecord> & Record<string, unknown>): KeyspaceRecord {
  return { kind: 'key', db: 0, key: u8('k'), expireAt: null, type: 'string', value: u8('v'), ...fields } as KeyspaceRecord;
}

describe('sortKeyspace', () => {
  it('with a tiny budget (many spilled runs) equals an in-memory sort and leaves no temp files', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-sort-test-'));
    try {
      const recs = fc.sample(
        fc.uniqueArray(recordArb(), {
          minLength: 300,
          maxLength: 300,
          selector: (r) => (r.kind === 'function' ? `f:${r.library}` : `k:${r.db}:${Buffer.from(r.key).toString('hex')}`),
        }),
        { numRuns: 1, seed: 42 },
      )[0]!;
      const want = recs.map((r) => canonicalizeRecord(r)).sort(compareKeyspaceRecords);
      async function* source(): AsyncGenerator<KeyspaceRecord> {
        yield* recs;
      }
      const got = await collect(sortKeyspace(source(), { memoryBudgetBytes: 600, tmpDir: tmp }));
      expect(got).toEqual(want);
      expect(readdirSync(tmp)).toEqual([]);
      // In memory (no spill) gives the same.
      expect(await collect(sortKeyspace(recs))).toEqual(want);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('removes its temp files when the consumer stops early or the source fails', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-sort-test-'));
    try {
      const recs = Array.from({ length: 200 }, (_, i) => keyRec({ key: u8(`k${(i * 7919) % 200}`) }));
      for await (const _ of sortKeyspace(recs, { memoryBudgetBytes: 1000, tmpDir: tmp })) break;
      expect(readdirSync(tmp)).toEqual([]);
      async function* failing(): AsyncGenerator<KeyspaceRecord> {
        yield* recs;
        throw new Error('source broke');
      }
      await expect(collect(sortKeyspace(failing(), { memoryBudgetBytes: 1000, tmpDir: tmp }))).rejects.toThrow('source broke');
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
