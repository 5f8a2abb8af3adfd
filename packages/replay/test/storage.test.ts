// The packed storage of the replayed keyspace against plain JS models: ByteColumn as an array of byte strings,
// PackedMap (and BytesMap) as a Map, through random operations that cross the arena's compaction and own-segment
// paths; the packed form of small collections round-trips.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BytesMap } from '../src/bytes-map.js';
import { ByteColumn } from '../src/column.js';
import { type HashValue, type SetValue, type ZsetValue, IdColumn, StreamState, newHash, newSet, newZset } from '../src/model.js';
import { PACK_MAX_BYTES, PACK_MAX_COUNT, packValue, packedHashHasTtl, unpackValue } from '../src/pack.js';
import { PackedMap } from '../src/packed-map.js';
import { ORDER_MIN_SIZE, zsetDelete, zsetOrder, zsetPut, zsetRankRange } from '../src/zset-order.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Mostly short values, some long enough to get a segment of their own (>= 32 KiB). */
const bytes = fc.oneof(
  { weight: 20, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 100, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 32 * 1024, max: 70 * 1024 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
);

type ColumnOp =
  | { op: 'push' | 'unshift'; b: Uint8Array }
  | { op: 'set' | 'insert'; at: number; b: Uint8Array }
  | { op: 'remove'; at: number; n: number }
  | { op: 'swapRemove'; at: number }
  | { op: 'removeSorted'; picks: number[] };

const columnOp: fc.Arbitrary<ColumnOp> = fc.oneof(
  fc.record({ op: fc.constantFrom('push' as const, 'unshift' as const), b: bytes }),
  fc.record({ op: fc.constantFrom('set' as const, 'insert' as const), at: fc.nat(), b: bytes }),
  fc.record({ op: fc.constant('remove' as const), at: fc.nat(), n: fc.nat({ max: 6 }) }),
  fc.record({ op: fc.constant('swapRemove' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('removeSorted' as const), picks: fc.array(fc.nat(), { maxLength: 8 }) }),
);

function applyColumn(c: ByteColumn, ref: Uint8Array[], o: ColumnOp): void {
  const len = ref.length;
  switch (o.op) {
    case 'push':
      c.push(o.b);
      ref.push(o.b);
      break;
    case 'unshift':
      c.unshift(o.b);
      ref.unshift(o.b);
      break;
    case 'set':
      if (len === 0) return;
      c.set(o.at % len, o.b);
      ref[o.at % len] = o.b;
      break;
    case 'insert':
      c.insert(o.at % (len + 1), o.b);
      ref.splice(o.at % (len + 1), 0, o.b);
      break;
    case 'remove': {
      if (len === 0) return;
      const at = o.at % len;
      const n = Math.min(o.n, len - at);
      c.remove(at, n);
      ref.splice(at, n);
      break;
    }
    case 'swapRemove': {
      if (len === 0) return;
      const at = o.at % len;
      c.swapRemove(at);
      ref[at] = ref[len - 1];
      ref.pop();
      break;
    }
    case 'removeSorted': {
      if (len === 0) return;
      const picks = [...new Set(o.picks.map((p) => p % len))].sort((a, b) => a - b);
      c.removeSorted(picks);
      for (let k = picks.length - 1; k >= 0; k--) ref.splice(picks[k], 1);
      break;
    }
  }
}

describe('ByteColumn', () => {
  it('behaves like an array of byte strings through any mix of operations', () => {
    fc.assert(
      fc.property(fc.array(columnOp, { maxLength: 300 }), (ops) => {
        const c = new ByteColumn(1);
        const ref: Uint8Array[] = [];
        const views: [Uint8Array, string][] = [];
        for (const o of ops) {
          applyColumn(c, ref, o);
          expect(c.length).toBe(ref.length);
          if (ref.length > 0) {
            // A view handed out stays a snapshot of what it was, whatever happens to the column afterwards.
            const v = c.get(ref.length - 1);
            views.push([v, hex(v)]);
          }
        }
        expect(Array.from({ length: c.length }, (_, i) => hex(c.get(i)))).toEqual(ref.map(hex));
        expect(c.liveBytes).toBe(ref.reduce((s, b) => s + b.length, 0));
        for (const [v, h] of views) expect(hex(v)).toBe(h);
        for (let i = 0; i < ref.length; i++) {
          expect(c.equalsAt(i, ref[i])).toBe(true);
          expect(Math.sign(c.compareAt(i, ref[0]))).toBe(Math.sign(Buffer.compare(ref[i], ref[0])));
          expect(Math.sign(c.compareItems(i, 0))).toBe(Math.sign(Buffer.compare(ref[i], ref[0])));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reclaims garbage: a queue that turns over many times holds about its live bytes', () => {
    const c = new ByteColumn();
    const item = new Uint8Array(1000).fill(7);
    for (let i = 0; i < 20_000; i++) {
      c.push(item);
      if (c.length > 100) c.remove(0, 1);
    }
    expect(c.length).toBe(100);
    expect(c.liveBytes).toBe(100_000);
    const held = (c as unknown as { segs: (Uint8Array | null)[] }).segs.reduce((s, x) => s + (x?.byteLength ?? 0), 0);
    expect(held).toBeLessThan(8 * 100_000);
  });
  it('compacts: elements rewritten in place over and over keep their bytes, and the garbage is reclaimed', () => {
    const c = new ByteColumn();
    const ref: Uint8Array[] = [];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 300; i++) {
      const b = new Uint8Array(1 + rnd(200)).fill(i & 0xff);
      c.push(b);
      ref.push(b);
    }
    for (let k = 0; k < 50_000; k++) {
      const i = rnd(ref.length);
      const b = new Uint8Array(1 + rnd(200)).map(() => rnd(256));
      c.set(i, b);
      ref[i] = b;
    }
    expect(Array.from({ length: c.length }, (_, i) => hex(c.get(i)))).toEqual(ref.map(hex));
    const held = (c as unknown as { segs: (Uint8Array | null)[] }).segs.reduce((s, x) => s + (x?.byteLength ?? 0), 0);
    expect(held).toBeLessThan(6 * c.liveBytes);
  });
});

describe('PackedMap', () => {
  it('behaves like a Map from bytes to (bytes, number), through any mix of adds and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 3 }), bytes, fc.double({ noNaN: true })), { maxLength: 400 }), (ops) => {
        const m = new PackedMap({ values: true, numbers: true });
        const ref = new Map<string, [string, number]>();
        for (const [del, k, v, x] of ops) {
          const id = hex(k);
          if (del) expect(m.delete(k)).toBe(ref.delete(id));
          else {
            const i = m.add(k);
            expect(m.added).toBe(!ref.has(id));
            m.vals!.set(i, v);
            m.nums![i] = x;
            ref.set(id, [hex(v), x]);
          }
          expect(m.size).toBe(ref.size);
        }
        for (const [id, [v, x]] of ref) {
          const i = m.indexOf(Buffer.from(id, 'hex'));
          expect(i).toBeGreaterThanOrEqual(0);
          expect(hex(m.vals!.get(i))).toBe(v);
          expect(m.nums![i]).toBe(x);
        }
        const seen = new Map(Array.from({ length: m.size }, (_, i) => [hex(m.keyAt(i)), [hex(m.vals!.get(i)), m.nums![i]] as [string, number]]));
        expect(seen).toEqual(ref);
        expect(m.sortedByKey().map((i) => hex(m.keyAt(i)))).toEqual([...ref.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'))));
      }),
      { numRuns: 300 },
    );
  });
});

describe('BytesMap', () => {
  it('behaves like a Map keyed by the bytes, through any mix of sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 3 }), fc.integer()), { maxLength: 400 }), (ops) => {
        const m = new BytesMap<number>();
        const ref = new Map<string, number>();
        for (const [del, k, v] of ops) {
          const id = hex(k);
          if (del) expect(m.delete(k)).toBe(ref.get(id));
          else expect(m.set(k, v)).toBe(!ref.has(id));
          if (del) ref.delete(id);
          else ref.set(id, v);
          expect(m.size).toBe(ref.size);
        }
        for (const [id, v] of ref) expect(m.get(Buffer.from(id, 'hex'))).toBe(v);
        const seen = new Map(m.keys.map((k, i) => [hex(k), m.values[i]]));
        expect(seen).toEqual(ref);
      }),
      { numRuns: 300 },
    );
  });
});

describe('packed small collections', () => {
  const elems = fc.uniqueArray(fc.uint8Array({ maxLength: 20 }), { maxLength: 40, selector: (b) => hex(b) });

  it('unpack(pack(x)) = x for lists, sets, sorted sets, hashes (with and without field TTLs) and streams', () => {
    fc.assert(
      fc.property(elems, fc.array(fc.double()), fc.boolean(), (items, nums, ttl) => {
        const num = (i: number): number => nums[i % Math.max(1, nums.length)] ?? 0;
        const list = new ByteColumn();
        for (const x of items) list.push(x);
        const back = unpackValue('list', packValue('list', list)!.slice()) as ByteColumn;
        expect(Array.from({ length: back.length }, (_, i) => hex(back.get(i)))).toEqual(items.map(hex));

        const zset = newZset();
        items.forEach((x, i) => zset.addNumber(x, num(i)));
        const z = unpackValue('zset', packValue('zset', zset)!.slice()) as ZsetValue;
        expect(z.size).toBe(items.length);
        items.forEach((x, i) => expect(Object.is(z.nums![z.indexOf(x)], num(i))).toBe(true));

        const set = newSet();
        for (const x of items) set.add(x);
        const s = unpackValue('set', packValue('set', set)!.slice()) as SetValue;
        expect(s.sortedByKey().map((i) => hex(s.keyAt(i)))).toEqual(set.sortedByKey().map((i) => hex(set.keyAt(i))));

        const hash = newHash();
        items.forEach((x, i) => {
          const k = hash.add(x);
          hash.vals!.set(k, items[(i + 1) % items.length]);
          if (ttl && i % 2 === 0) hash.enableNumbers()[k] = 1_700_000_000_000 + i;
        });
        const packedHash = packValue('hash', hash)!.slice();
        const h = unpackValue('hash', packedHash) as HashValue;
        expect(packedHashHasTtl(packedHash)).toBe(ttl && items.length > 0);
        items.forEach((x, i) => {
          const k = h.indexOf(x);
          expect(hex(h.vals!.get(k))).toBe(hex(items[(i + 1) % items.length]));
          expect(h.nums === null ? NaN : h.nums[k]).toBe(ttl && i % 2 === 0 ? 1_700_000_000_000 + i : NaN);
        });

        const stream = new StreamState();
        items.forEach((x, i) => stream.append((BigInt(i + 1) << 64n) | BigInt(i), [x, items[0]]));
        stream.lastId = (1n << 127n) | 5n;
        stream.maxDeletedId = 3n;
        stream.entriesAdded = items.length + 2;
        const st = unpackValue('stream', packValue('stream', stream)!.slice()) as StreamState;
        const ids = (x: StreamState): bigint[] => Array.from({ length: x.ids.length }, (_, i) => x.ids.get(i));
        expect(ids(st)).toEqual(ids(stream));
        expect([st.lastId, st.maxDeletedId, st.entriesAdded]).toEqual([stream.lastId, stream.maxDeletedId, stream.entriesAdded]);
        for (let i = 0; i < items.length; i++) expect(st.fieldsAt(i).map(hex)).toEqual([items[i], items[0]].map(hex));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves big collections and streams with consumer groups as objects', () => {
    const list = new ByteColumn();
    for (let i = 0; i <= PACK_MAX_COUNT; i++) list.push(new Uint8Array([i]));
    expect(packValue('list', list)).toBeNull();
    const set = newSet();
    set.add(new Uint8Array(PACK_MAX_BYTES + 1));
    expect(packValue('set', set)).toBeNull();
    const stream = new StreamState();
    stream.groups.set(new Uint8Array([1]), { name: new Uint8Array([1]), lastId: 0n, entriesRead: -1, pel: new Map(), consumers: new BytesMap() });
    expect(packValue('stream', stream)).toBeNull();
  });
});

describe('rank order of big sorted sets', () => {
  it('stays the sorted order through adds, score changes, deletions and pops (swapped entries included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 5 }), fc.nat({ max: 4000 }), fc.integer({ min: -50, max: 50 })), { minLength: 200, maxLength: 600 }),
        (ops) => {
          const z = newZset();
          const ref = new Map<string, number>();
          const member = (n: number): Uint8Array => Buffer.from(`m${n}`);
          for (let n = 0; n < ORDER_MIN_SIZE + 500; n++) {
            zsetPut(z, member(n), n % 97);
            ref.set(`m${n}`, n % 97);
          }
          const refOrder = (): string[] =>
            [...ref].sort((a, b) => a[1] - b[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]))).map((e) => e[0]);
          const ours = (): string[] => zsetOrder(z).map((i) => Buffer.from(z.keyAt(i)).toString());
          expect(ours()).toEqual(refOrder()); // builds the index
          for (const [op, n, score] of ops) {
            if (op <= 1) {
              zsetPut(z, member(n), score);
              ref.set(`m${n}`, score);
            } else if (op === 2) {
              expect(zsetDelete(z, member(n))).toBe(ref.delete(`m${n}`));
            } else {
              // pop 1..4 from the low (op 3) or high (op 4) end, or a rank range from the middle (op 5)
              const k = 1 + (n % 4);
              const len = z.size;
              const [start, end] = op === 3 ? [0, k - 1] : op === 4 ? [len - k, len - 1] : [n % len, Math.min(len - 1, (n % len) + k)];
              const picked = zsetRankRange(z, start, end).map((i) => Buffer.from(z.keyAt(i)).toString());
              expect(picked).toEqual(refOrder().slice(start, end + 1));
              for (const m of picked) {
                zsetDelete(z, Buffer.from(m));
                ref.delete(m);
              }
            }
          }
          expect(z.size).toBe(ref.size);
          expect(ours()).toEqual(refOrder());
          for (const [m, s] of ref) expect(z.nums![z.indexOf(Buffer.from(m))]).toBe(s);
        },
      ),
      { numRuns: 15 },
    );
  });
});

describe('IdColumn', () => {
  it('behaves like an array of 128-bit stream IDs through pushes and removals anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat(), fc.nat({ max: 5 })), { maxLength: 300 }), (ops) => {
        const c = new IdColumn();
        const ref: bigint[] = [];
        for (const [add, id, at, n] of ops) {
          if (add || ref.length === 0) {
            c.push(id);
            ref.push(id);
          } else {
            const i = at % ref.length;
            const k = Math.min(n, ref.length - i);
            c.remove(i, k);
            ref.splice(i, k);
          }
          expect(c.length).toBe(ref.length);
        }
        expect(Array.from({ length: c.length }, (_, i) => c.get(i))).toEqual(ref);
      }),
      { numRuns: 200 },
    );
  });
});
