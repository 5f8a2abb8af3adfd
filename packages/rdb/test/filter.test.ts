// The parser's key filter (KeyFilter of @redis-persist/keyspace) gives exactly the keys a filter applied
// afterwards keeps, with and without pieces (chunkElements), sizes included.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KeyFilter, type KeyFilterSpec } from '@redis-persist/keyspace';
import { readRdb, rdbKeyspaceRecords, type RdbRecord } from '@redis-persist/rdb';

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/rdb/${name}`, import.meta.url));
const FILES = ['all-types.rdb', 'many-nodes.rdb'];

async function keyRecords(file: string, options: Parameters<typeof readRdb>[1]): Promise<RdbRecord[]> {
  const out: RdbRecord[] = [];
  for await (const r of readRdb(file, options)) if (r.kind === 'key') out.push(r);
  return out;
}

const id = (r: RdbRecord) => (r.kind === 'key' ? `${r.db}/${Buffer.from(r.key).toString('latin1')}${r.partial ? '+' : ''}` : '');

const SPECS: KeyFilterSpec[] = [
  { keys: ['l:*', 'h*'] },
  { excludeKeys: ['l:*'] },
  { keyRegexes: ['^[a-m]'], excludeKeyRegexes: ['set'] },
  { types: ['hash', 'zset'] },
  { dbs: [0] },
  { expired: true, now: 4102444800050 }, // other:db has expired by then, s:ttl not yet
  { expired: false, now: 4102444800050 },
  { minElements: 3 },
  { minElements: 50 },
  { minBytes: 100 },
  { minBytes: 500, excludeKeys: ['*z*'] },
];

describe('readRdb with a KeyFilter', () => {
  for (const file of FILES) {
    for (const spec of SPECS) {
      it(`${file}: ${JSON.stringify(spec)} keeps what the filter applied afterwards keeps`, async () => {
        const all = await keyRecords(fixture(file), {});
        const f = KeyFilter.from(spec);
        const want = all.filter((r) => r.kind === 'key' && f.matches(r.db, r.key, r.type, r.expireAt, r.size, r.elements)).map(id);
        expect(want.length).toBeGreaterThan(0);
        expect(want.length).toBeLessThan(all.length);
        const got = (await keyRecords(fixture(file), { filter: spec })).map(id);
        expect(got).toEqual(want);
        // the same in pieces of 2 elements: the kept keys' pieces all come, the others' none
        const pieces = await keyRecords(fixture(file), { chunkElements: 2 });
        const keptKeys = new Set(want);
        const wantPieces = pieces.filter((r) => keptKeys.has(id(r).replace(/\+$/, ''))).map(id);
        expect((await keyRecords(fixture(file), { filter: spec, chunkElements: 2 })).map(id)).toEqual(wantPieces);
        // structural mode, and a compiled filter
        expect((await keyRecords(fixture(file), { filter: f, values: false })).map(id)).toEqual(want);
      });
    }
  }

  it('several include globs: a key matching any of them, then the other criteria', async () => {
    const got = (await keyRecords(fixture('all-types.rdb'), { filter: { keys: ['l:*', 's:*'], types: ['list'] } })).map(id);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(['0/l:big', '0/l:small']);
  });

  it('rdbKeyspaceRecords takes the filter too', async () => {
    const keys: string[] = [];
    for await (const r of rdbKeyspaceRecords(fixture('all-types.rdb'), { filter: { excludeKeys: ['*'] } })) if (r.kind === 'key') keys.push(Buffer.from(r.key).toString());
    expect(keys).toEqual([]);
  });
});
