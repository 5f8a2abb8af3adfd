// ByteSorter: every way out (held, spilled and merged, direct run) gives the items in key-byte order, equal keys in
// input order, exactly as a plain stable in-memory sort does: random keys with duplicates, empty keys, binary keys
// (zero bytes, 0xff), long shared prefixes, and budgets tiny enough to force many runs.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ChunkWriter } from '@redis-persist/jsonl';
import { ByteSorter, SlabPool, TempDir } from '@redis-persist/extsort';

const tmpBase = mkdtempSync(join(tmpdir(), 'byte-sorter-test-'));
afterAll(() => rmSync(tmpBase, { recursive: true, force: true }));

const shared = Buffer.alloc(300, 0x78);
/** Keys likely to tie, to end where others go on, to hold zero bytes, to share long prefixes. */
const keyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ maxLength: 3, min: 0, max: 2 }),
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 9, min: 0, max: 1 }).map((s) => Buffer.concat([shared.subarray(0, 40), s])),
  fc.tuple(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 4, min: 0, max: 255 })).map(([n, s]) => Buffer.concat([shared.subarray(0, n), s])),
  fc.uint8Array({ minLength: 6, maxLength: 6, min: 0xfe, max: 0xff }),
);

interface Item {
  key: Uint8Array;
  payload: Uint8Array;
}

function items(keys: Uint8Array[]): Item[] {
  return keys.map((key, i) => ({ key, payload: Buffer.from(`#${i};`) }));
}

function expected(list: Item[]): Item[] {
  // Array.prototype.sort is stable: equal keys stay in input order
  return [...list].sort((a, b) => Buffer.compare(a.key, b.key));
}

function cat(parts: Uint8Array[]): string {
  return Buffer.concat(parts).toString('latin1');
}

async function fill(list: Item[], budget: number, mode: 'add' | 'put'): Promise<{ sorter: ByteSorter; dir: string }> {
  const dir = mkdtempSync(join(tmpBase, 'run-'));
  const sorter = new ByteSorter(budget, new TempDir(dir), new SlabPool());
  const w = new ChunkWriter(64);
  for (const it of list) {
    if (mode === 'put') {
      await sorter.put(it.key, it.payload, it.payload.length);
    } else {
      w.raw(it.payload);
      sorter.add(it.key, w);
      if (sorter.full()) await sorter.spill();
    }
  }
  return { sorter, dir };
}

function noTempFiles(dir: string): void {
  for (const d of readdirSync(dir)) expect(readdirSync(join(dir, d))).toEqual([]);
}

const listArb = fc.array(keyArb, { maxLength: 400 });
const budgetArb = fc.constantFrom(64, 300, 2000, 1 << 20);

describe('ByteSorter', () => {
  it('drainItems equals a stable in-memory sort (held or spilled, many runs)', async () => {
    await fc.assert(
      fc.asyncProperty(listArb, budgetArb, fc.constantFrom<'add' | 'put'>('add', 'put'), async (keys, budget, mode) => {
        const list = items(keys);
        const { sorter, dir } = await fill(list, budget, mode);
        const got: string[] = [];
        for await (const { key, payload } of sorter.drainItems(true)) got.push(`${Buffer.from(key).toString('hex')}=${Buffer.from(payload).toString('latin1')}`);
        expect(got).toEqual(expected(list).map((it) => `${Buffer.from(it.key).toString('hex')}=${Buffer.from(it.payload).toString('latin1')}`));
        noTempFiles(dir);
      }),
      { numRuns: 150, seed: 7 },
    );
  });

  it('drain and drainTo write the payloads in that order; onEqual for each repeated key, after the bytes before it', async () => {
    await fc.assert(
      fc.asyncProperty(listArb, budgetArb, fc.boolean(), async (keys, budget, withSep) => {
        const list = items(keys);
        const want = expected(list);
        const sep = withSep ? Buffer.from(',') : undefined;
        const wantText = want.map((it) => Buffer.from(it.payload).toString('latin1')).join(withSep ? ',' : '');
        const wantEqual: string[] = [];
        for (let i = 1; i < want.length; i++) if (Buffer.compare(want[i]!.key, want[i - 1]!.key) === 0) wantEqual.push(`${Buffer.from(want[i]!.key).toString('hex')}@${want.slice(0, i).map((it) => Buffer.from(it.payload).toString('latin1')).join(withSep ? ',' : '').length}`);

        const a = await fill(list, budget, 'add');
        const parts: Uint8Array[] = [];
        const equal: string[] = [];
        for await (const p of a.sorter.drain(sep, (k) => equal.push(`${Buffer.from(k).toString('hex')}@${cat(parts).length}`), true)) parts.push(Buffer.from(p));
        expect(cat(parts)).toBe(wantText);
        // a repeated key is reported before any of its bytes go out, and after all the bytes before it did
        expect(equal.map((e) => e.replace(/@\d+$/, ''))).toEqual(wantEqual.map((e) => e.replace(/@\d+$/, '')));
        for (let i = 0; i < equal.length; i++) {
          const at = Number(equal[i]!.split('@')[1]);
          const wantAt = Number(wantEqual[i]!.split('@')[1]);
          expect(at).toBeGreaterThanOrEqual(wantAt);
          expect(at).toBeLessThanOrEqual(wantAt + 1);
        }
        noTempFiles(a.dir);

        const b = await fill(list, budget, 'put');
        const w = new ChunkWriter(128);
        const out: Uint8Array[] = [];
        const seen: string[] = [];
        for await (const c of b.sorter.drainTo(w, sep ?? null, true, (k, len) => {
          seen.push(Buffer.from(k.subarray(0, len)).toString('hex'));
        }))
          out.push(Buffer.from(c));
        out.push(...w.takeAll().map((c) => Buffer.from(c)));
        expect(cat(out)).toBe(wantText);
        expect(seen).toEqual(want.map((it) => Buffer.from(it.key).toString('hex')));
        noTempFiles(b.dir);
      }),
      { numRuns: 150, seed: 11 },
    );
  });

  it('sorts many items with long shared prefixes and few distinct bytes (deep refinement) like a plain sort', async () => {
    const rnd = fc.sample(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 30, min: 0, max: 2 })), { minLength: 20000, maxLength: 20000 }), { numRuns: 1, seed: 3 })[0]!;
    const keys = rnd.map(([n, s]) => Buffer.concat([shared.subarray(0, n * 50), s]));
    for (const budget of [1 << 26, 3 << 19]) {
      const list = items(keys);
      const { sorter, dir } = await fill(list, budget, 'add');
      const parts: Uint8Array[] = [];
      for await (const p of sorter.drain(undefined, undefined, true)) parts.push(Buffer.from(p));
      expect(cat(parts)).toBe(expected(list).map((it) => Buffer.from(it.payload).toString('latin1')).join(''));
      noTempFiles(dir);
    }
  });

  it('merges more runs than 48 at once with a budget that holds their read buffers, and in groups beyond that', async () => {
    // a run per item (openItem, after a spill, as the keyspace writers use it): 8 MiB merges 128 runs at once
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(keyArb, fc.boolean()), { maxLength: 300 }), fc.constantFrom(8 << 20, 32 << 20), async (spec, budget) => {
        const dir = mkdtempSync(join(tmpBase, 'run-'));
        const sorter = new ByteSorter(budget, new TempDir(dir), new SlabPool());
        const list = items(spec.map(([k]) => k));
        const w = new ChunkWriter(64);
        for (let i = 0; i < list.length; i++) {
          const it = list[i]!;
          if (spec[i]![1]) {
            await sorter.spill();
            const item = await sorter.openItem(it.key);
            await item.write(it.payload.subarray(0, 1));
            await item.write(it.payload.subarray(1));
            await item.finish(true);
          } else {
            w.raw(it.payload);
            sorter.add(it.key, w);
          }
        }
        const parts: Uint8Array[] = [];
        for await (const p of sorter.drain(undefined, undefined, true)) parts.push(Buffer.from(p));
        expect(cat(parts)).toBe(expected(list).map((it) => Buffer.from(it.payload).toString('latin1')).join(''));
        noTempFiles(dir);
      }),
      { numRuns: 25, seed: 5 },
    );
  }, 120_000);
});
