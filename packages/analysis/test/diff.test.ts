// The diff's merge walk on synthetic canonical JSON Lines: every kind of difference, at every chunking (a value
// compared across chunk ends must give the same answer), and the whole pipeline on JSON Lines inputs.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { diffCanonicalJsonl, diffKeyspaces, type DiffEntry } from '@redis-persist/analysis';

const enc = new TextEncoder();

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = enc.encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function collect(gen: AsyncIterable<DiffEntry>): Promise<unknown[]> {
  const out: unknown[] = [];
  // byte strings as KEYSPACE-JSONL writes them
  const show = (v: Uint8Array): unknown => {
    const t = Buffer.from(v).toString('utf8');
    return Buffer.from(t, 'utf8').equals(v) ? t : { base64: Buffer.from(v).toString('base64') };
  };
  for await (const e of gen) out.push(Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v instanceof Uint8Array ? show(v) : v])));
  return out;
}

const lines = (...ls: string[]): string => ls.map((l) => l + '\n').join('');

const A = lines(
  '{"library":"lib1","engine":"LUA","code":"#!lua name=lib1\\nreturn 1"}',
  '{"library":"lib2","engine":"LUA","code":"#!lua name=lib2\\nreturn 2"}',
  '{"db":0,"key":"same","type":"string","expireAt":null,"value":"v"}',
  '{"db":0,"key":"gone","type":"string","expireAt":null,"value":"x"}',
  '{"db":0,"key":"list","type":"list","expireAt":null,"value":["a","b","c"]}',
  '{"db":0,"key":"ttl","type":"string","expireAt":1900000000000,"value":"t"}',
  '{"db":0,"key":"typ","type":"string","expireAt":null,"value":"s"}',
  '{"db":0,"key":{"base64":"/w=="},"type":"string","expireAt":null,"value":"bin"}',
  '{"db":1,"key":"value","type":"hash","expireAt":null,"value":[["f","v"],["value","x"]]}',
);
const B = lines(
  '{"library":"lib2","engine":"LUA","code":"#!lua name=lib2\\nreturn 22"}',
  '{"library":"lib3","engine":"LUA","code":"#!lua name=lib3\\nreturn 3"}',
  '{"db":0,"key":"same","type":"string","expireAt":null,"value":"v"}',
  '{"db":0,"key":"list","type":"list","expireAt":null,"value":["a","b","d"]}',
  '{"db":0,"key":"new","type":"set","expireAt":1900000000001,"value":["m"]}',
  '{"db":0,"key":"ttl","type":"string","expireAt":1900000000999,"value":"t"}',
  '{"db":0,"key":"typ","type":"list","expireAt":null,"value":["s"]}',
  '{"db":0,"key":{"base64":"/w=="},"type":"string","expireAt":null,"value":"bin"}',
  '{"db":1,"key":"value","type":"hash","expireAt":null,"value":[["f","v"],["value","x"]]}',
  '{"db":2,"key":"z","type":"zset","expireAt":null,"value":[["m",1.5]]}',
);

// canonical order: "gone" < "list" < "new" < "same" < "ttl" < "typ" < 0xff
const A_SORTED = A.split('\n').filter(Boolean);
const B_SORTED = B.split('\n').filter(Boolean);
const order = (ls: string[]): string => {
  const fns = ls.filter((l) => l.startsWith('{"library"'));
  const keys = ls.filter((l) => !l.startsWith('{"library"'));
  const keyOf = (l: string): [number, Buffer] => {
    const r = JSON.parse(l) as { db: number; key: string | { base64: string } };
    return [r.db, typeof r.key === 'string' ? Buffer.from(r.key) : Buffer.from(r.key.base64, 'base64')];
  };
  keys.sort((x, y) => {
    const [dx, kx] = keyOf(x);
    const [dy, ky] = keyOf(y);
    return dx - dy || Buffer.compare(kx, ky);
  });
  return lines(...fns, ...keys);
};

const EXPECTED = [
  { kind: 'function', change: 'removed', library: 'lib1' },
  { kind: 'function', change: 'changed', library: 'lib2' },
  { kind: 'function', change: 'added', library: 'lib3' },
  { kind: 'removed', db: 0, key: 'gone', type: 'string', expireAt: null },
  { kind: 'changed', db: 0, key: 'list', changes: ['value'], oldType: 'list', newType: 'list', oldExpireAt: null, newExpireAt: null },
  { kind: 'added', db: 0, key: 'new', type: 'set', expireAt: 1900000000001 },
  { kind: 'changed', db: 0, key: 'ttl', changes: ['ttl'], oldType: 'string', newType: 'string', oldExpireAt: 1900000000000, newExpireAt: 1900000000999 },
  { kind: 'changed', db: 0, key: 'typ', changes: ['type', 'value'], oldType: 'string', newType: 'list', oldExpireAt: null, newExpireAt: null },
  { kind: 'added', db: 2, key: 'z', type: 'zset', expireAt: null },
];

describe('diffCanonicalJsonl (the merge walk)', () => {
  test('added, removed, changed (type, value, ttl) and functions, at every chunk size', async () => {
    const a = order(A_SORTED);
    const b = order(B_SORTED);
    for (const size of [1, 2, 3, 5, 7, 13, 64, 100000]) {
      for (const sizeB of [1, 4, 9, 100000]) {
        expect(await collect(diffCanonicalJsonl(chunked(a, size), chunked(b, sizeB))), `chunks ${size}/${sizeB}`).toEqual(EXPECTED);
      }
    }
  });

  test('a stream against itself is equal; against nothing is all removed (or added)', async () => {
    const a = order(A_SORTED);
    expect(await collect(diffCanonicalJsonl(chunked(a, 3), chunked(a, 5)))).toEqual([]);
    const gone = await collect(diffCanonicalJsonl(chunked(a, 7), chunked('', 1)));
    expect(gone).toHaveLength(A_SORTED.length);
    expect(gone.every((e) => ['removed', 'function'].includes((e as { kind: string }).kind))).toBe(true);
    const come = await collect(diffCanonicalJsonl(chunked('', 1), chunked(a, 7)));
    expect(come.map((e) => (e as { kind: string; change?: string }).change ?? (e as { kind: string }).kind)).toEqual(['added', 'added', ...Array(A_SORTED.length - 2).fill('added')]);
  });

  test('ignoreTtl: an expiry change alone is no change', async () => {
    const got = await collect(diffCanonicalJsonl(chunked(order(A_SORTED), 11), chunked(order(B_SORTED), 6), { ignoreTtl: true }));
    expect(got).toEqual(EXPECTED.filter((e) => e.key !== 'ttl'));
  });

  test('a value that is a prefix of the other is a change', async () => {
    const a = lines('{"db":0,"key":"k","type":"list","expireAt":null,"value":["a"]}');
    const b = lines('{"db":0,"key":"k","type":"list","expireAt":null,"value":["a","b"]}');
    for (const size of [1, 2, 50]) {
      expect(await collect(diffCanonicalJsonl(chunked(a, size), chunked(b, 3)))).toEqual([
        { kind: 'changed', db: 0, key: 'k', changes: ['value'], oldType: 'list', newType: 'list', oldExpireAt: null, newExpireAt: null },
      ]);
    }
  });

  test('a value much longer than a chunk is compared without assembling it', async () => {
    const big = 'x'.repeat(200_000);
    const a = lines(`{"db":0,"key":"big","type":"string","expireAt":null,"value":"${big}"}`, '{"db":0,"key":"c","type":"string","expireAt":null,"value":"1"}');
    const b = lines(`{"db":0,"key":"big","type":"string","expireAt":null,"value":"${big}y"}`, '{"db":0,"key":"c","type":"string","expireAt":null,"value":"1"}');
    expect(await collect(diffCanonicalJsonl(chunked(a, 4096), chunked(b, 1000)))).toEqual([
      { kind: 'changed', db: 0, key: 'big', changes: ['value'], oldType: 'string', newType: 'string', oldExpireAt: null, newExpireAt: null },
    ]);
    expect(await collect(diffCanonicalJsonl(chunked(a, 4096), chunked(a, 1000)))).toEqual([]);
  });

  test('keys whose text looks like the value member do not end the head early', async () => {
    const a = lines('{"db":0,"key":"\\"value\\":","type":"string","expireAt":null,"value":"1"}');
    const b = lines('{"db":0,"key":"\\"value\\":","type":"string","expireAt":null,"value":"2"}');
    expect(await collect(diffCanonicalJsonl(chunked(a, 1), chunked(b, 2)))).toEqual([
      { kind: 'changed', db: 0, key: '"value":', changes: ['value'], oldType: 'string', newType: 'string', oldExpireAt: null, newExpireAt: null },
    ]);
  });

  test('an input out of canonical order is an error, not a wrong diff', async () => {
    const a = lines('{"db":0,"key":"b","type":"string","expireAt":null,"value":"1"}', '{"db":0,"key":"a","type":"string","expireAt":null,"value":"1"}');
    await expect(collect(diffCanonicalJsonl(chunked(a, 5), chunked('', 1)))).rejects.toMatchObject({ name: 'AnalysisError', code: 'format', kind: 'data' });
  });
});

describe('cleanup', () => {
  test('a consumer that stops early, or an error on one side, lets both inputs go (their finally blocks run)', async () => {
    const closed: string[] = [];
    async function* src(name: string, text: string, fail = false): AsyncGenerator<Uint8Array> {
      try {
        yield* chunked(text, 10);
        if (fail) throw new Error('boom');
      } finally {
        closed.push(name);
      }
    }
    for await (const _ of diffCanonicalJsonl(src('a', order(A_SORTED)), src('b', order(B_SORTED)))) break;
    expect(closed.sort()).toEqual(['a', 'b']);
    closed.length = 0;
    await expect(collect(diffCanonicalJsonl(src('a', order(A_SORTED), true), src('b', order(B_SORTED) + order(B_SORTED).split('\n').slice(2).join('\n'))))).rejects.toThrow();
    expect(closed.sort()).toEqual(['a', 'b']);
  });
});

describe('diffKeyspaces on JSON Lines inputs', () => {
  test('sorts unsorted inputs, drops expired keys, filters by db and key', async () => {
    const shuffle = (s: string) => lines(...s.split('\n').filter(Boolean).reverse());
    const now = 1_800_000_000_000;
    const src = (s: string) => ({ format: 'jsonl' as const, source: chunked(s, 17) });
    expect(await collect(diffKeyspaces(src(shuffle(A)), src(shuffle(B)), { now }))).toEqual(EXPECTED);
    // at a later now, the keys with expiries are gone on both sides
    const later = await collect(diffKeyspaces(src(A), src(B), { now: 1_950_000_000_000 }));
    expect(later.map((e) => (e as { key?: string }).key ?? (e as { library: string }).library)).toEqual(['lib1', 'lib2', 'lib3', 'gone', 'list', 'typ', 'z']);
    const db0 = await collect(diffKeyspaces(src(A), src(B), { now, filter: { dbs: [2] } }));
    expect(db0).toEqual([{ kind: 'added', db: 2, key: 'z', type: 'zset', expireAt: null }]);
    // lapsed hash fields are dropped as the RDB reader drops them; a hash with none left is gone
    const hashes = (f: string) => lines(`{"db":0,"key":"h","type":"hash","expireAt":null,"value":[["a","1"]${f}]}`, `{"db":0,"key":"only","type":"hash","expireAt":null,"value":[["x","1",${now - 1}]]}`);
    expect(await collect(diffKeyspaces(src(hashes(`,["b","2",${now - 5}]`)), src(hashes('')), { now }))).toEqual([]);
    expect(await collect(diffKeyspaces(src(hashes(`,["b","2",${now - 5}]`)), src(hashes('')), { now, keepExpired: true }))).toHaveLength(1);
    const glob = await collect(diffKeyspaces(src(A), src(B), { now, filter: { keys: ['t*'] } }));
    expect(glob.map((e) => (e as { key: string }).key)).toEqual(['ttl', 'typ']);
  });
});

describe('bounded memory', () => {
  test('two 256 MiB values are compared without holding either (peak far below one of them)', async () => {
    let peak = 0;
    const enc = new TextEncoder();
    // a full collection before each reading, so the figure is what the walk holds, not garbage a busy machine has
    // not collected yet (a clean-clone CI run once read 262 MB of dead chunks)
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = live();
    // fresh 64 KiB chunks made on demand: a walk that assembled a value would hold 256 MiB of them
    async function* side(last: string): AsyncGenerator<Uint8Array> {
      yield enc.encode('{"db":0,"key":"big","type":"string","expireAt":null,"value":"');
      for (let i = 0; i < 4096; i++) {
        if (i % 256 === 255) peak = Math.max(peak, live() - before);
        yield new Uint8Array(65536).fill(0x78);
      }
      yield enc.encode(last + '"}\n');
    }
    const kinds: string[] = [];
    for await (const e of diffCanonicalJsonl(side('a'), side('b'))) kinds.push(e.kind);
    expect(kinds).toEqual(['changed']);
    // what the walk holds over what was live before it: under 1 MB when measured (a few chunks, with some noise from
    // buffers still being released), where a walk assembling a value would pass 64 MiB a quarter of the way in
    expect(peak).toBeLessThan(64 * 1024 * 1024);
  });
});
