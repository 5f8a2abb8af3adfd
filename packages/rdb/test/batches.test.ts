// rdbKeyspaceRecordBatches: the records of rdbKeyspaceRecords, in arrays (one async step per array).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeyspacePiece } from '@redis-persist/keyspace';
import { RdbError, rdbKeyspaceRecordBatches, rdbKeyspaceRecords, type RdbKeyspaceOptions } from '@redis-persist/rdb';
import { repoRoot, stringKeysRdb } from '@redis-persist/testkit';

const fixtures = join(repoRoot()!, 'fixtures/rdb');
const load = (n: string) => new Uint8Array(readFileSync(join(fixtures, `${n}.rdb`)));

async function one(data: Uint8Array, options: RdbKeyspaceOptions): Promise<KeyspacePiece[]> {
  const out: KeyspacePiece[] = [];
  for await (const r of rdbKeyspaceRecords([data], options)) out.push(r);
  return out;
}

async function batches(data: Uint8Array, options: RdbKeyspaceOptions): Promise<KeyspacePiece[][]> {
  const out: KeyspacePiece[][] = [];
  for await (const b of rdbKeyspaceRecordBatches([data], options)) out.push(b);
  return out;
}

describe('rdbKeyspaceRecordBatches', () => {
  it('gives the records of rdbKeyspaceRecords, in order, whole keys and pieces alike', async () => {
    for (const name of ['all-types', 'tiny-limits', 'many-nodes']) {
      for (const options of [{}, { chunkElements: 3 }, { encoding: true, chunkElements: 2 }] as RdbKeyspaceOptions[]) {
        const got = await batches(load(name), options);
        expect(got.flat()).toEqual(await one(load(name), options));
        expect(got.every((b) => b.length > 0)).toBe(true);
      }
    }
  });

  it('batches many small keys (at most 128 a batch), and a piece of a big key ends its batch', async () => {
    const data = stringKeysRdb(1000, 64);
    const got = await batches(data, {});
    expect(got.flat()).toHaveLength(1000);
    expect(got.length).toBeLessThan(20);
    expect(Math.max(...got.map((b) => b.length))).toBeLessThanOrEqual(128);
    const pieces = await batches(load('tiny-limits'), { chunkElements: 3 });
    for (const b of pieces) for (let i = 0; i < b.length - 1; i++) expect(b[i]!.partial).toBeFalsy();
  });

  it('hands out the records before a damage, then reports it to onDamage (or throws without it)', async () => {
    const data = load('all-types');
    const whole = await one(data, {});
    const cut = data.subarray(0, Math.floor(data.length * 0.6));
    const before = await one(cut, { onDamage: () => undefined });
    let damage: RdbError | null = null;
    const got = await batches(cut, { onDamage: (e) => (damage = e) });
    expect(got.flat()).toEqual(before);
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(whole.length);
    expect((damage as RdbError | null)?.code).toBe('truncated');
    const seen: KeyspacePiece[] = [];
    await expect(async () => {
      for await (const b of rdbKeyspaceRecordBatches([cut])) seen.push(...b);
    }).rejects.toThrow(RdbError);
    expect(seen).toEqual(before);
  });
});
