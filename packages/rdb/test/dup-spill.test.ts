// The duplicate check of huge collections in bounded memory (DupCheck with a spill store: sorted runs of hash pairs
// and offsets, merged at the collection's end) gives the in-memory table's verdicts: the same first duplicate (in
// file order), at the same offset, whether it lies early, late, inside one run or across runs; and checkRdb /
// readRdb give the same reports with it as without, leaving no scratch file behind.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ScratchFiles } from '@redis-persist/fsio';
import { checkRdb, readRdb, RdbError, type DupSpillOptions, type DupSpillStore } from '@redis-persist/rdb';
import { DUP_QUEUE, DupCheck } from '../src/dup.js';
import { firstDuplicate } from './helpers.js';

/** An in-memory spill store that counts what goes through it. */
class MemStore implements DupSpillStore {
  bytes = new Uint8Array(0);
  appends = 0;
  append(data: Uint8Array): void {
    const b = new Uint8Array(this.bytes.length + data.length);
    b.set(this.bytes);
    b.set(data, this.bytes.length);
    this.bytes = b;
    this.appends++;
  }
  read(pos: number, into: Uint8Array): number {
    // short reads on purpose: the merge must loop
    const n = Math.min(into.length, this.bytes.length - pos, 1000);
    if (n <= 0) return 0;
    into.set(this.bytes.subarray(pos, pos + n));
    return n;
  }
  clear(): void {
    this.bytes = new Uint8Array(0);
  }
}

/** A DupCheck whose "offset" of member i is offsetOf(i), with what it reports. */
function checker(spill: DupSpillOptions | undefined, offsetOf: (i: number) => number = (i) => i) {
  const host = { cur: 0, set: -1 };
  const d = new DupCheck(16_000_000, spill, { get: () => offsetOf(host.cur), set: (at) => void (host.set = at) });
  /** Member by member (seenRange): the reported offset of the duplicate, or -1. */
  const oneByOne = (m: Uint8Array[]): number => {
    d.reset(m.length);
    host.set = -1;
    for (let i = 0; i < m.length; i++) {
      host.cur = i;
      if (d.seenRange(m[i], 0, m[i].length)) return host.set >= 0 ? host.set : offsetOf(i);
    }
    return -1;
  };
  /** Queued DUP_QUEUE at a time (queueRange + flush), as the parser's fast path does. */
  const queued = (m: Uint8Array[]): number => {
    d.reset(m.length);
    const starts = new Int32Array(DUP_QUEUE);
    let base = 0;
    for (let i = 0; i < m.length; i++) {
      const n = d.queueRange(m[i], 0, m[i].length);
      if (n > 0) starts[n - 1] = i - base;
      if (n === DUP_QUEUE || i === m.length - 1) {
        const at = d.flush(starts, base);
        if (at >= 0) return offsetOf(at);
        base = i + 1;
      }
    }
    return -1;
  };
  return { d, oneByOne, queued };
}

describe('DupCheck with a spill store', () => {
  it('agrees with the in-memory table and a Set on random member lists (runs of 1 to 64 members)', () => {
    const table = checker(undefined);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3, max: 7 }), { maxLength: 300 }), fc.constantFrom(2, 3, 7, 64), fc.constantFrom(0, 1, 20), (m, run, threshold) => {
        const store = new MemStore();
        const spilled = checker({ open: () => store, threshold, runMembers: run });
        const want = m.length > 1 ? firstDuplicate(m) : -1;
        expect(table.oneByOne(m)).toBe(want);
        expect(table.queued(m)).toBe(want);
        expect(spilled.oneByOne(m)).toBe(want);
        expect(spilled.queued(m)).toBe(want);
      }),
      { numRuns: 400 },
    );
  });

  const N = 5000;
  const distinct = Array.from({ length: N }, (_, i) => Buffer.from(`member:${i}`));
  const withAt = (at: number, copyOf: number) => distinct.map((b, i) => (i === at ? distinct[copyOf] : b));
  const cases: [string, Buffer[], number][] = [
    ['none', distinct, -1],
    ['early (in the first run)', withAt(3, 1), 3],
    ['late (the last member)', withAt(N - 1, 2000), N - 1],
    ['across runs (first run and last run)', withAt(4900, 5), 4900],
    ['two duplicates: the earlier second occurrence wins', distinct.map((b, i) => (i === 4000 ? distinct[3999] : i === 3000 ? distinct[10] : b)), 3000],
    ['a member three times', distinct.map((b, i) => (i === 2500 || i === 4500 ? distinct[100] : b)), 2500],
  ];
  it.each(cases)('%s', (_name, m, want) => {
    const store = new MemStore();
    // offsets past 2^32, as in a file of more than 4 GiB
    const off = (i: number) => 2 ** 33 + i * 1_000_003;
    const spilled = checker({ open: () => store, threshold: 1000, runMembers: 256 }, off);
    const wantAt = want < 0 ? -1 : off(want);
    expect(spilled.oneByOne(m)).toBe(wantAt);
    expect(store.appends).toBe(Math.ceil(N / 256));
    expect(spilled.queued(m)).toBe(wantAt);
    // the in-memory table agrees
    expect(checker(undefined, off).oneByOne(m)).toBe(wantAt);
  });

  it('a collection within one run needs no store; at or below the threshold the table serves', () => {
    let opened = 0;
    const spilled = checker({ open: () => (opened++, new MemStore()), threshold: 10, runMembers: 1000 });
    expect(spilled.oneByOne(withAt(900, 899).slice(0, 901))).toBe(900);
    expect(spilled.oneByOne(distinct.slice(0, 10).concat(distinct.slice(0, 1)))).toBe(10);
    expect(opened).toBe(0);
  });

  it('a collection abandoned half way (damage, a visitor cancelling) leaves nothing for the next', () => {
    const store = new MemStore();
    const spilled = checker({ open: () => store, threshold: 10, runMembers: 16 });
    spilled.d.reset(1000);
    for (let i = 0; i < 500; i++) spilled.d.seenRange(distinct[i], 0, distinct[i].length);
    // the next collection holds the same members: no duplicate
    expect(spilled.oneByOne(distinct.slice(0, 400))).toBe(-1);
    expect(spilled.oneByOne(withAt(399, 0).slice(0, 400))).toBe(399);
  });
});

// ---- through the parser: an RDB with a set, a hash and a sorted set of 3000 members each ----

/** An RDB 9 file (checksum disabled) holding the given serialized keys in db 0. */
function rdb(...keys: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('REDIS0009'), Buffer.from([0xfe, 0x00]), ...keys, Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0])]);
}
const s = (t: string) => Buffer.concat([Buffer.from([t.length]), Buffer.from(t)]);
const len14 = (n: number) => Buffer.from([0x40 | (n >> 8), n & 0xff]);
const dbl = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
};
const bigKey = (type: number, name: string, n: number, el: (i: number) => Buffer[]) =>
  Buffer.concat([Buffer.from([type]), s(name), len14(n), ...Array.from({ length: n }, (_, i) => Buffer.concat(el(i)))]);
const m = (i: number) => s(`member:${i}`);
const M = 3000;
const set = (dupAt = -1, of = 0) => bigKey(2, 'set', M, (i) => [m(i === dupAt ? of : i)]);
const hash = (dupAt = -1, of = 0) => bigKey(4, 'hash', M, (i) => [m(i === dupAt ? of : i), s(`v${i}`)]);
const zset = (dupAt = -1, of = 0) => bigKey(5, 'zset', M, (i) => [m(i === dupAt ? of : i), dbl(i)]);

const files: [string, Buffer][] = [
  ['no duplicate', rdb(set(), hash(), zset())],
  ['set, early', rdb(set(2, 1), hash())],
  ['set, late', rdb(set(M - 1, 1500))],
  ['hash, across runs', rdb(set(), hash(2900, 4))],
  ['zset, late, after other huge keys', rdb(set(), hash(), zset(M - 1, 0))],
];

describe('checkRdb and readRdb: the same reports with the spill as without', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'dup-spill-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const chunked = (data: Buffer, size: number) => {
    const out: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
    return out;
  };
  const readAll = async (data: Buffer, size: number, values: boolean, duplicateSpill: DupSpillOptions | false) => {
    // the error only: the pieces of a spilled collection before its duplicate all come out before it is found
    try {
      for await (const r of readRdb(chunked(data, size), { file: 'x.rdb', values, duplicateSpill, chunkElements: 100 })) void r;
      return null;
    } catch (err) {
      if (!(err instanceof RdbError)) throw err;
      return { code: err.code, offset: err.offset, message: err.message };
    }
  };

  it.each(files)('%s', async (_name, data) => {
    for (const size of [data.length, 4096, 7]) {
      const files = new ScratchFiles({ dir: scratch });
      let opened = 0;
      const spill: DupSpillOptions = { open: () => (opened++, files.open()), threshold: 1000, runMembers: 256 };
      const want = await checkRdb(chunked(data, size), { file: 'x.rdb', duplicateSpill: false });
      const got = await checkRdb(chunked(data, size), { file: 'x.rdb', duplicateSpill: spill });
      // the same report but for the bytes read: a duplicate in a spilled collection is found at its end
      expect({ ...got, size: 0 }).toEqual({ ...want, size: 0 });
      expect(opened).toBe(1);
      for (const values of [false, true]) expect(await readAll(data, size, values, spill)).toEqual(await readAll(data, size, values, false));
      files.dispose();
      expect(readdirSync(scratch)).toEqual([]);
    }
    const plain = await checkRdb(data, { file: 'x.rdb', duplicateSpill: false });
    expect(plain.ok).toBe(_name === 'no duplicate');
  });

  it('the default scratch files of the drivers are gone after success, damage and abort', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dup-spill-tmpdir-'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      // a set of 1.1M members: over the default threshold
      const n = 1_100_000;
      const big = (dupAt: number) => rdb(Buffer.concat([Buffer.from([2]), s('s'), Buffer.from([0x80, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]), ...Array.from({ length: n }, (_, i) => m(i === dupAt ? 7 : i))]));
      const good = big(-1);
      const ok = await checkRdb(good, { file: 'x.rdb' });
      expect(ok.ok).toBe(true);
      const dup = big(n - 1);
      const bad = await checkRdb(dup, { file: 'x.rdb' });
      expect(bad.error?.message).toContain('duplicate set member');
      expect(bad.error?.offset).toBe((await checkRdb(dup, { file: 'x.rdb', duplicateSpill: false })).error?.offset);
      // aborted in the middle of the set, after its first run was spilled (values in pieces of 1000 members)
      const fds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
      const fdsBefore = fds();
      const ac = new AbortController();
      let pieces = 0;
      await expect(
        (async () => {
          for await (const r of readRdb(chunked(good, 1 << 16), { file: 'x.rdb', signal: ac.signal, chunkElements: 1000 })) {
            if (r.kind === 'key' && ++pieces === 300) ac.abort();
          }
        })(),
      ).rejects.toThrow();
      expect(pieces).toBeGreaterThanOrEqual(300);
      expect(pieces).toBeLessThan(1100);
      expect(fds()).toBe(fdsBefore);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
