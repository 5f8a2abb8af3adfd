// checkRdb takes a fast path through the parser (keys counted through a sink, nothing materialised): its report must
// be what the plain record stream (values: false) gives, at any chunking, on valid and on damaged files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRdb, DONE, NEED_MORE, RdbError, RdbParser } from '@redis-persist/rdb';
import { repoRoot } from '@redis-persist/testkit';

const fixtures = join(repoRoot()!, 'fixtures', 'rdb');
const names = ['all-types', 'all-types-nocrc', 'many-nodes', 'tiny-limits'];
const files = Object.fromEntries(names.map((n) => [n, new Uint8Array(readFileSync(join(fixtures, `${n}.rdb`)))]));
const NOW = 1_700_000_000_000;

/** What checkRdb must report, computed from the record stream of a parser without the key sink. */
function reference(data: Uint8Array, size: number) {
  const p = new RdbParser({ values: false, skipEmpty: false, file: 'x.rdb' });
  const dbs = new Map<number, { keys: number; expires: number; alreadyExpired: number; byType: [string, number][]; byEncoding: [string, number][] }>();
  let cur: number | null = null;
  let keys = 0;
  let lastKey: string | undefined;
  let reached = 0;
  let at = 0;
  const bump = (list: [string, number][], k: string) => {
    const e = list.find((x) => x[0] === k);
    if (e) e[1]++;
    else list.push([k, 1]);
  };
  const db = (n: number) => {
    let s = dbs.get(n);
    if (!s) dbs.set(n, (s = { keys: 0, expires: 0, alreadyExpired: 0, byType: [], byEncoding: [] }));
    return s;
  };
  let error: { code: string; offset: number; message: string } | undefined;
  let failedKey: { key: string; type: number; offset: number } | undefined;
  try {
    for (;;) {
      const r = p.next();
      if (r === DONE) break;
      if (r === NEED_MORE) {
        if (at >= data.length) p.end();
        else p.push(data.subarray(at, (at += size)));
        continue;
      }
      if (r.kind === 'db') db((cur = r.db));
      if (r.kind === 'resizedb') db(r.db);
      if (r.kind === 'key') {
        const s = db(cur ?? r.db);
        s.keys++;
        keys++;
        if (r.expireAt !== null) {
          s.expires++;
          if (r.expireAt < NOW) s.alreadyExpired++;
        }
        bump(s.byType, r.type);
        bump(s.byEncoding, r.encoding);
        lastKey = Buffer.from(r.key).toString('utf8');
        if (r.empty) {
          // checkRdb stops on it before counting it as read
          throw new RdbError('corrupt', 'empty', { offset: r.offset, file: 'x.rdb' });
        }
      }
      reached = p.offset;
      if (r.kind === 'end') break;
    }
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
    error = { code: err.code, offset: err.offset, message: err.message };
    const c = p.current;
    if (c) failedKey = { key: Buffer.from(c.key).toString('utf8'), type: c.rdbType, offset: c.offset };
  }
  return { ok: !error, keys, dbs: [...dbs].sort((a, b) => a[0] - b[0]), lastKey, reached, error, failedKey };
}

async function ours(data: Uint8Array, size: number) {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  const r = await checkRdb(chunks, { file: 'x.rdb', now: NOW });
  return {
    ok: r.ok,
    keys: r.keys,
    dbs: r.dbs.map((d) => [d.db, { keys: d.keys, expires: d.expires, alreadyExpired: d.alreadyExpired, byType: Object.entries(d.byType), byEncoding: Object.entries(d.byEncoding) }]),
    lastKey: r.lastKey,
    reached: r.reachedOffset,
    error: r.error && { code: r.error.code, offset: r.error.offset, message: r.error.message },
    failedKey: r.failedKey && { key: r.failedKey.key, type: r.failedKey.type, offset: r.failedKey.offset },
  };
}

function same(a: Awaited<ReturnType<typeof ours>>, b: ReturnType<typeof reference>): void {
  // the empty-key error is checkRdb's own wording: compare its code and offset only
  const strip = (e: { code: string; offset: number; message: string } | undefined) => e && { code: e.code, offset: e.offset, message: /empty/.test(e.message) ? 'empty' : e.message };
  expect({ ...a, error: strip(a.error), failedKey: a.failedKey && { ...a.failedKey, type: undefined } }).toEqual({
    ...b,
    error: strip(b.error),
    failedKey: b.failedKey && { ...b.failedKey, type: undefined },
  });
}

describe('checkRdb agrees with the plain record stream', () => {
  it.each(names)('%s, whole and in small chunks', async (name) => {
    const data = files[name];
    for (const size of [data.length, 1000, 7, 1]) same(await ours(data, size), reference(data, size));
  });

  it.each(names)('%s with random edits', async (name) => {
    const data = files[name];
    const edits = fc.sample(
      fc.tuple(fc.array(fc.tuple(fc.nat(data.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), fc.constantFrom(5, 64, 4096)),
      { numRuns: 150, seed: 7 },
    );
    let damaged = 0;
    for (const [muts, size] of edits) {
      const b = Buffer.from(data);
      for (const [at, v] of muts) b[at] = v;
      const want = reference(b, size);
      if (!want.ok) damaged++;
      same(await ours(b, size), want);
    }
    expect(damaged).toBeGreaterThan(10);
  });
});

/** An RDB 9 file (checksum disabled) holding the given serialized keys in db 0. */
function rdb(...keys: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from('REDIS0009'), Buffer.from([0xfe, 0x00]), ...keys, Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0])]);
}
const s = (t: string) => Buffer.concat([Buffer.from([t.length]), Buffer.from(t)]);
const lzf = (t: string) => Buffer.concat([Buffer.from([0xc3, t.length + 1, t.length, t.length - 1]), Buffer.from(t)]); // one literal run
const dbl = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b;
};
const key = (type: number, name: string, n: number, ...els: Buffer[]) => Buffer.concat([Buffer.from([type]), s(name), Buffer.from([n]), ...els]);

describe('hashtable collections (elements taken straight from the buffer)', () => {
  const cases: [string, Buffer, string | null][] = [
    ['set', rdb(key(2, 'k', 3, s('a'), s('b'), s('c'))), null],
    ['set dup', rdb(key(2, 'k', 3, s('a'), s('b'), s('a'))), 'duplicate set member'],
    ['set dup int/text', rdb(key(2, 'k', 2, Buffer.from([0xc0, 7]), s('7'))), 'duplicate set member'],
    // an LZF string declaring 0 bytes is the empty string whatever its data (lzf_decompress fails, Redis keeps it)
    ['set int then lzf-0', rdb(key(2, 'k', 2, Buffer.from([0xc0, 7]), Buffer.from([0xc3, 2, 0, 0x61, 0x62]))), null],
    ['set dup lzf-0/empty', rdb(key(2, 'k', 3, Buffer.from([0xc0, 7]), Buffer.from([0xc3, 2, 0, 0x61, 0x62]), s(''))), 'duplicate set member'],
    ['set dup lzf/text', rdb(key(2, 'k', 2, lzf('abcdef'), s('abcdef'))), 'duplicate set member'],
    ['hash', rdb(key(4, 'h', 2, s('f1'), s('v'), s('f2'), s('v'))), null],
    ['hash dup', rdb(key(4, 'h', 2, s('f1'), s('v1'), s('f1'), s('v2'))), 'duplicate hash field'],
    ['hash lzf field and value', rdb(key(4, 'h', 2, lzf('fieldA'), lzf('value1'), lzf('fieldB'), lzf('value2'))), null],
    // the field's bytes must survive the decompression of its value (same LZF values, distinct fields: no duplicate)
    ['hash lzf fields, equal lzf values', rdb(key(4, 'h', 2, lzf('fieldA'), lzf('same12'), lzf('fieldB'), lzf('same12'))), null],
    ['hash dup lzf field, lzf values', rdb(key(4, 'h', 2, lzf('fieldA'), lzf('value1'), lzf('fieldA'), lzf('value2'))), 'duplicate hash field'],
    ['zset', rdb(key(5, 'z', 2, s('m1'), dbl(1.5), s('m2'), dbl(-2))), null],
    ['zset dup', rdb(key(5, 'z', 2, s('m1'), dbl(1.5), s('m1'), dbl(-2))), 'duplicate sorted set member'],
    ['zset NaN', rdb(key(5, 'z', 2, s('m1'), dbl(1.5), s('m2'), dbl(NaN))), 'sorted set score is NaN'],
  ];
  it.each(cases)('%s', async (_name, data, message) => {
    for (const size of [data.length, 1, 3, 11]) {
      const r = await ours(data, size);
      same(r, reference(data, size));
      if (message === null) expect(r.ok).toBe(true);
      else expect(r.error?.message).toContain(message);
    }
  });
});

// Big hashtable collections: the fast path hashes their members a run at a time and probes the table for the run
// after; the duplicate (or NaN score) reported, and its offset, must be those of the element-by-element path (a
// file fed a byte at a time takes that path).
describe('big hashtable collections (duplicates checked a run of members at a time)', () => {
  const len14 = (n: number) => Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const bigKey = (type: number, n: number, el: (i: number) => Buffer[]) =>
    Buffer.concat([Buffer.from([type]), s('big'), len14(n), ...Array.from({ length: n }, (_, i) => Buffer.concat(el(i)))]);
  const big = (type: number, n: number, el: (i: number) => Buffer[]) => rdb(bigKey(type, n, el));
  const m = (i: number) => s(`member:${i}`);
  const cases: [string, Buffer, string | null][] = [
    ['set of 300', big(2, 300, (i) => [m(i)]), null],
    // the checker's table is reused: what a collection left in it is no member of the next ones
    ['sets with the same members', rdb(bigKey(2, 3000, (i) => [m(i)]), key(2, 'k', 3, m(1), m(2), m(3)), bigKey(2, 3000, (i) => [m(i)]), bigKey(2, 20, (i) => [m(i)])), null],
    ['sets with the same members, dup in the last', rdb(bigKey(2, 3000, (i) => [m(i)]), key(2, 'k', 3, m(1), m(2), m(3)), bigKey(2, 3000, (i) => [m(i === 2999 ? 7 : i)])), 'duplicate set member'],
    ...[1, 62, 63, 64, 65, 127, 128, 299].map((at): [string, Buffer, string] => [`set dup at ${at}`, big(2, 300, (i) => [m(i === at ? 0 : i)]), 'duplicate set member']),
    ['set dup at 200 of 150', big(2, 300, (i) => [m(i === 200 ? 150 : i)]), 'duplicate set member'],
    ['hash dup at 64', big(4, 300, (i) => [m(i === 64 ? 3 : i), s(`v${i}`)]), 'duplicate hash field'],
    // a value equal to an earlier field is no duplicate
    ['hash values like fields', big(4, 300, (i) => [m(i), m(0)]), null],
    ['zset dup before NaN', big(5, 300, (i) => [m(i === 70 ? 1 : i), dbl(i === 100 ? NaN : i)]), 'duplicate sorted set member'],
    ['zset NaN before dup', big(5, 300, (i) => [m(i === 100 ? 1 : i), dbl(i === 70 ? NaN : i)]), 'sorted set score is NaN'],
    ['zset NaN in the run of a dup', big(5, 300, (i) => [m(i === 66 ? 1 : i), dbl(i === 65 ? NaN : i)]), 'sorted set score is NaN'],
  ];
  it.each(cases)('%s', async (_name, data, message) => {
    const whole = await ours(data, data.length);
    same(whole, reference(data, data.length));
    for (const size of [1, 7]) {
      const r = await ours(data, size);
      same(r, reference(data, size));
      expect(r.error).toEqual(whole.error);
    }
    if (message === null) expect(whole.ok).toBe(true);
    else expect(whole.error?.message).toContain(message);
  });
});
