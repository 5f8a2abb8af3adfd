// The compact tables behind the stream checks agree with a plain Map / Set on any input: sorted (the delta-encoded
// blocks), out of order (the hash form, entered at any point), duplicates, extreme IDs and delivery times.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NameSet, StreamIdTable } from '../src/stream-tables.js';

const U64 = (1n << 64n) - 1n;

function idBytes(ms: bigint, seq: bigint): Uint8Array {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(ms, 0);
  b.writeBigUInt64BE(seq, 8);
  return b;
}

const edge64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 20n }),
  fc.bigInt({ min: 1700000000000n, max: 1700000000100n }),
  fc.bigInt({ min: 0n, max: U64 }),
  fc.constantFrom(0n, 1n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) + 1n, U64 - 1n, U64),
);
const time = fc.oneof(
  fc.integer({ min: 1700000000000, max: 1700000100000 }),
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom(2 ** 53, -(2 ** 60), 2 ** 63, 1.8446744073709552e19, Number.MAX_SAFE_INTEGER),
);
const entry = fc.record({ ms: edge64, seq: edge64, time, count: fc.oneof(fc.nat(5), fc.constantFrom(2 ** 53 - 1, 300, 2 ** 32)) });

/** Mostly sorted runs (what Redis writes), with some disorder and repeats. */
const entries = fc.oneof(
  fc.array(entry, { maxLength: 200 }).map((es) => es.sort((a, b) => (a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))),
  fc.array(entry, { maxLength: 200 }),
  fc
    .tuple(fc.array(entry, { minLength: 1, maxLength: 150 }), fc.nat(149))
    .map(([es, k]) => {
      es.sort((a, b) => (a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
      es.push(es[k % es.length]);
      return es;
    }),
);

describe('StreamIdTable', () => {
  it('adds, finds and owns as a Map does', () => {
    const t = new StreamIdTable();
    fc.assert(
      fc.property(entries, fc.boolean(), fc.array(fc.tuple(edge64, edge64), { maxLength: 20 }), (es, withValues, probes) => {
        t.reset(withValues);
        const ref = new Map<string, { pos: number; time: number; count: number }>();
        for (const e of es) {
          const k = `${e.ms}-${e.seq}`;
          const isNew = !ref.has(k);
          expect(t.add(idBytes(e.ms, e.seq), 0, e.time, e.count)).toBe(isNew);
          if (isNew) ref.set(k, { pos: ref.size, time: e.time, count: e.count });
        }
        expect(t.size).toBe(ref.size);
        const inOrder: string[] = [];
        t.scanStart();
        while (t.scanNext()) {
          const ms = (BigInt(t.id0) << 32n) | BigInt(t.id1);
          const seq = (BigInt(t.id2) << 32n) | BigInt(t.id3);
          inOrder.push(`${ms}-${seq}`);
          if (withValues) expect([t.time, t.count]).toEqual([ref.get(`${ms}-${seq}`)!.time, ref.get(`${ms}-${seq}`)!.count]);
        }
        expect(inOrder).toEqual([...ref.keys()]);
        for (const [k, v] of ref) {
          const [ms, seq] = k.split('-').map(BigInt) as [bigint, bigint];
          expect(t.find(idBytes(ms, seq), 0)).toBe(v.pos);
          if (withValues) {
            expect(t.time).toBe(v.time);
            expect(t.count).toBe(v.count);
          }
        }
        for (const [ms, seq] of probes) expect(t.find(idBytes(ms, seq), 0)).toBe(ref.get(`${ms}-${seq}`)?.pos ?? -1);
        const owned = new Set<number>();
        for (let i = 0; i < ref.size * 2; i++) {
          const pos = (i * 7) % Math.max(1, ref.size);
          expect(t.own(pos)).toBe(!owned.has(pos));
          owned.add(pos);
        }
        expect(t.ownedCount).toBe(owned.size);
      }),
      { numRuns: 400 },
    );
  });

  it('holds a million sorted IDs in a few bytes each and finds them all', () => {
    const t = new StreamIdTable();
    t.reset(true);
    const b = Buffer.alloc(16);
    const put = (i: number) => {
      const ms = 1700000000000 + Math.floor(i / 4);
      b.writeUInt32BE(Math.floor(ms / 2 ** 32), 0);
      b.writeUInt32BE(ms % 2 ** 32, 4);
      b.writeUInt32BE(i % 4, 12);
    };
    let added = 0;
    for (let i = 0; i < 1_000_000; i++) {
      put(i);
      if (t.add(b, 0, 1796645979000 + (i % 1000), 1 + (i % 3))) added++;
    }
    expect(added).toBe(1_000_000);
    for (let i = 0; i < 1_000_000; i += 997) {
      put(i);
      expect(t.find(b, 0)).toBe(i);
      expect(t.time).toBe(1796645979000 + (i % 1000));
      expect(t.count).toBe(1 + (i % 3));
    }
    expect((t as unknown as { used: number }).used).toBeLessThan(6_000_000);
  });
});

describe('NameSet', () => {
  it('says whether a name was added before, as a Set does', () => {
    const s = new NameSet();
    const name = fc.oneof(fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ minLength: 60, maxLength: 200 }), fc.constantFrom(new Uint8Array(0), Buffer.from('a'), Buffer.from('ab'), Buffer.from([0xff])));
    fc.assert(
      fc.property(fc.array(name, { maxLength: 100 }), fc.boolean(), (names, sorted) => {
        if (sorted) names.sort((a, b) => Buffer.compare(a, b));
        s.reset();
        const ref = new Set<string>();
        const added: string[] = [];
        for (const n of names) {
          // inside a larger buffer, as the parser hands them over
          const buf = Buffer.concat([Buffer.from([1, 2]), n, Buffer.from([3])]);
          const k = Buffer.from(n).toString('hex');
          const isNew = !ref.has(k);
          expect(s.add(buf, 2, 2 + n.length)).toBe(isNew);
          if (isNew) added.push(k);
          ref.add(k);
        }
        expect(s.size).toBe(added.length);
        // by position, in any order
        for (let i = added.length - 1; i >= 0; i -= 2) expect(Buffer.from(s.get(i)).toString('hex')).toBe(added[i]);
        for (let i = 0; i < added.length; i++) expect(Buffer.from(s.get(i)).toString('hex')).toBe(added[i]);
      }),
      { numRuns: 500 },
    );
  });
});
