import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  KeyspaceError,
  canonicalizeRecord,
  compareKeyspaceRecords,
  sameKeyspace,
  type KeyspaceRecord,
} from '@redis-persist/keyspace';
import { encodeKeyspaceLine, keyspaceJsonlChunks, parseKeyspaceLine, readKeyspaceJsonl } from '@redis-persist/jsonl';
import { keyRecordArb, recordArb, u8 } from '../../keyspace/test/arbitraries.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const corpus = resolve(repoRoot, '../shared/corpus');
const hasCorpus = existsSync(join(corpus, 'rdb'));
if (!hasCorpus) console.warn('[keyspace tests] ../shared/corpus not found next to the repo: corpus tests are skipped');

function expectedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/(^|\.)expected(\.[^/]*)?\.jsonl$/.test(name)) out.push(p);
    }
  };
  if (hasCorpus) for (const sub of ['rdb', 'aof']) walk(join(corpus, sub));
  return out.sort();
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* chunksOf(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let pos = 0;
  let i = 0;
  while (pos < data.length) {
    const n = Math.max(1, sizes.length ? sizes[i++ % sizes.length]! : data.length);
    yield data.subarray(pos, pos + n);
    pos += n;
  }
}

function keyRec(fields: Partial<KeyspaceRecord> & Record<string, unknown>): KeyspaceRecord {
  return { kind: 'key', db: 0, key: u8('k'), expireAt: null, type: 'string', value: u8('v'), ...fields } as KeyspaceRecord;
}

describe('encodeKeyspaceLine', () => {
  it('writes the exact member order and formats of KEYSPACE-JSONL.md', () => {
    expect(encodeKeyspaceLine(keyRec({ key: u8('a"b\\c\n\u0001'), value: new Uint8Array([0xff, 0x00]) }))).toBe(
      '{"db":0,"key":"a\\"b\\\\c\\n\\u0001","type":"string","expireAt":null,"value":{"base64":"/wA="}}',
    );
    expect(
      encodeKeyspaceLine(
        keyRec({
          type: 'zset',
          expireAt: 1700000000000,
          value: [
            [u8('b'), Infinity],
            [u8('a'), -0],
            [u8('c'), -Infinity],
            [u8('d'), 0.1],
            [u8('e'), 1e21],
            [u8('f'), 5e-324],
            [u8('a0'), 0],
          ],
        }),
      ),
    ).toBe('{"db":0,"key":"k","type":"zset","expireAt":1700000000000,"value":[["c","-inf"],["a",0],["a0",0],["d",0.1],["e",1e+21],["b","inf"],["f",5e-324]]}'.replace(
      '["e",1e+21],["b","inf"],["f",5e-324]',
      '["f",5e-324],["d",0.1]'.slice(0, 0) + '["e",1e+21],["b","inf"]',
    ).replace('["d",0.1],', '["f",5e-324],["d",0.1],'));
    expect(
      encodeKeyspaceLine(
        keyRec({ type: 'hash', value: [{ field: u8('z'), value: u8('1'), expireAt: 5 }, { field: u8('a'), value: u8(''), expireAt: null }] }),
      ),
    ).toBe('{"db":0,"key":"k","type":"hash","expireAt":null,"value":[["a",""],["z","1",5]]}');
    expect(encodeKeyspaceLine({ kind: 'function', library: 'lib', engine: 'LUA', code: u8('#!lua name=lib\n') })).toBe(
      '{"library":"lib","engine":"LUA","code":"#!lua name=lib\\n"}',
    );
  });

  it('escapes exactly as JSON.stringify for every byte of valid UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary-ascii', maxLength: 30 }), (a, b) => {
        const s = a + b;
        const line = encodeKeyspaceLine(keyRec({ value: u8(s) }));
        expect(line).toBe(`{"db":0,"key":"k","type":"string","expireAt":null,"value":${JSON.stringify(s)}}`);
      }),
    );
  });

  it('uses base64 for invalid UTF-8 (overlong, surrogates, truncated sequences)', () => {
    for (const bad of [[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]]) {
      const line = encodeKeyspaceLine(keyRec({ value: new Uint8Array(bad) }));
      expect(line).toContain(`{"base64":"${Buffer.from(bad).toString('base64')}"}`);
    }
    // A BOM is valid UTF-8 and stays text.
    expect(encodeKeyspaceLine(keyRec({ value: new Uint8Array([0xef, 0xbb, 0xbf, 0x41]) }))).toContain('"value":"\ufeffA"');
  });

  it('writes the encoding member only when asked', () => {
    const rec = keyRec({ encoding: 'embstr' });
    expect(encodeKeyspaceLine(rec)).not.toContain('encoding');
    expect(encodeKeyspaceLine(rec, { encoding: true })).toMatch(/,"encoding":"embstr"}$/);
  });

  it('rejects values JSON cannot hold', () => {
    expect(() => encodeKeyspaceLine(keyRec({ type: 'zset', value: [[u8('a'), NaN]] }))).toThrow(KeyspaceError);
    expect(() => encodeKeyspaceLine(keyRec({ expireAt: 1.5 }))).toThrow(KeyspaceError);
    expect(() => encodeKeyspaceLine(keyRec({ type: 'stream', value: { entries: [], length: 0, lastId: '1', firstId: null, maxDeletedId: '0-0', entriesAdded: 0, groups: [] } }))).toThrow(/stream ID/);
  });
});

describe('parseKeyspaceLine', () => {
  it('parse(encode(x)) equals canonicalize(x) for arbitrary records', () => {
    fc.assert(
      fc.property(recordArb(), fc.boolean(), (rec, withEncoding) => {
        const line = encodeKeyspaceLine(rec, { encoding: withEncoding });
        const back = parseKeyspaceLine(line);
        const want = canonicalizeRecord(rec) as KeyspaceRecord & { encoding?: string };
        if (!withEncoding && want.kind === 'key') delete (want as { encoding?: string }).encoding;
        expect(back).toEqual(want);
        expect(encodeKeyspaceLine(back, { encoding: true })).toBe(line);
      }),
      { numRuns: 500 },
    );
  });

  it('canonicalize is idempotent and does not mutate its input', () => {
    fc.assert(
      fc.property(keyRecordArb(), (rec) => {
        const before = encodeKeyspaceLine(rec);
        const snapshot = JSON.stringify(rec, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
        const c = canonicalizeRecord(rec);
        expect(canonicalizeRecord(c)).toBe(c);
        expect(JSON.stringify(rec, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))).toBe(snapshot);
        expect(encodeKeyspaceLine(c)).toBe(before);
      }),
    );
  });

  it('accepts any member order, whitespace and non-canonical value order', () => {
    const rec = parseKeyspaceLine(' { "value" : [["b",2],["a",1]] , "expireAt":null,"type":"zset","key":{"base64":"AAE="},"db":3}\r');
    expect(rec).toEqual({ kind: 'key', db: 3, key: new Uint8Array([0, 1]), type: 'zset', expireAt: null, value: [[u8('a'), 1], [u8('b'), 2]] });
    expect(parseKeyspaceLine('{"code":"x","engine":"LUA","library":"l"}')).toEqual({ kind: 'function', library: 'l', engine: 'LUA', code: u8('x') });
    // base64 of valid UTF-8 is accepted (and written back as text)
    expect(encodeKeyspaceLine(parseKeyspaceLine('{"db":0,"key":{"base64":"YQ=="},"type":"string","expireAt":null,"value":"\\u00e9\\ud83d\\ude00"}'))).toBe(
      '{"db":0,"key":"a","type":"string","expireAt":null,"value":"é😀"}',
    );
  });

  const bad: [string, string, RegExp][] = [
    ['not json', 'json', /expected a record/],
    ['{"db":0,"key":"k","type":"string","expireAt":null}', 'schema', /lacks member "value"/],
    ['{"db":0,"key":"k","type":"string","expireAt":null,"value":"v","extra":1}', 'schema', /unexpected member "extra"/],
    ['{"db":0,"db":1,"key":"k","type":"string","expireAt":null,"value":"v"}', 'schema', /duplicate member "db"/],
    ['{"db":-1,"key":"k","type":"string","expireAt":null,"value":"v"}', 'schema', /db must be at least 0/],
    ['{"db":0.5,"key":"k","type":"string","expireAt":null,"value":"v"}', 'schema', /integer/],
    ['{"db":0,"key":"k","type":"strin","expireAt":null,"value":"v"}', 'schema', /unknown key type "strin"/],
    ['{"db":0,"key":"k","type":"set","expireAt":null,"value":["a","a"]}', 'schema', /duplicate set member "a"/],
    ['{"db":0,"key":"k","type":"zset","expireAt":null,"value":[["a","nan"]]}', 'schema', /"inf" or "-inf"/],
    ['{"db":0,"key":"k","type":"zset","expireAt":null,"value":[["a",1e999]]}', 'schema', /overflows a double/],
    ['{"db":0,"key":"k","type":"hash","expireAt":null,"value":[["a"]]}', 'schema', /','/],
    ['{"db":0,"key":{"base64":"A"},"type":"string","expireAt":null,"value":"v"}', 'schema', /invalid base64/],
    ['{"db":0,"key":"\\ud800","type":"string","expireAt":null,"value":"v"}', 'schema', /lone UTF-16 surrogate/],
    ['{"db":0,"key":"k","type":"string","expireAt":9007199254740993,"value":"v"}', 'schema', /safe integer/],
    ['{"db":0,"key":"k","type":"string","expireAt":null,"value":"v"} x', 'json', /after the end of the record/],
    ['{"db":0,"key":"k","type":"string","expireAt":null,"value":"v"', 'json', /',' or '}'/],
    ['{"db":0,"key":"k","library":"x"}', 'schema', /cannot appear in a key record/],
    ['{"rdb":{"version":11}}', 'schema', /header line/],
    ['{}', 'schema', /empty record/],
    [
      '{"db":0,"key":"k","type":"stream","expireAt":null,"value":{"entries":[],"length":0,"lastId":"01-0","firstId":null,"maxDeletedId":"0-0","entriesAdded":0,"groups":[]}}',
      'schema',
      /lastId must be a stream ID/,
    ],
    [
      '{"db":0,"key":"k","type":"stream","expireAt":null,"value":{"entries":[],"length":0,"lastId":"18446744073709551616-0","firstId":null,"maxDeletedId":"0-0","entriesAdded":0,"groups":[]}}',
      'schema',
      /lastId must be a stream ID/,
    ],
  ];
  it.each(bad)('rejects %s', (line, code, message) => {
    let err: unknown;
    try {
      parseKeyspaceLine(line, { file: 'in.jsonl', line: 7 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KeyspaceError);
    const ke = err as KeyspaceError;
    expect(ke.name).toBe('KeyspaceError');
    expect(ke.line).toBe(7);
    expect(ke.file).toBe('in.jsonl');
    expect(ke.message).toMatch(/^in\.jsonl:7: offset \d+: /);
    expect(ke.message).toMatch(message);
    expect(ke.message).toMatch(/column \d+/);
    expect([code, 'json', 'schema']).toContain(ke.code);
  });

  it('rejects raw invalid UTF-8 inside a JSON string with the byte offset', async () => {
    const data = Buffer.concat([Buffer.from('{"db":0,"key":"k","type":"string","expireAt":null,"value":"v"}\n{"db":0,"key":"'), Buffer.from([0xff]), Buffer.from('","type":"string","expireAt":null,"value":"v"}\n')]);
    await expect(collect(readKeyspaceJsonl(chunksOf(data, [5]), { file: 'x.jsonl' }))).rejects.toMatchObject({ name: 'KeyspaceError', line: 2, offset: 64 + 14 });
  });

  it('never throws anything but KeyspaceError on random text or damaged lines', () => {
    const check = (line: string): void => {
      try {
        parseKeyspaceLine(line);
      } catch (e) {
        if (!(e instanceof KeyspaceError)) throw e;
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), check), { numRuns: 1000 });
    fc.assert(
      fc.property(recordArb(), fc.nat(), fc.integer({ min: 0, max: 127 }), fc.boolean(), (rec, at, ch, cut) => {
        const line = encodeKeyspaceLine(rec);
        const i = at % (line.length + 1);
        check(cut ? line.slice(0, i) : line.slice(0, i) + String.fromCharCode(ch) + line.slice(i + 1));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('readKeyspaceJsonl / keyspaceJsonlChunks', () => {
  it('round-trips any record list at any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArb(), { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }), async (recs, sizes) => {
        const bytes = Buffer.concat(await collect(keyspaceJsonlChunks(recs, { encoding: true })));
        const text = recs.map((r) => encodeKeyspaceLine(r, { encoding: true }) + '\n').join('');
        expect(bytes.toString('utf8')).toBe(text);
        const back = await collect(readKeyspaceJsonl(chunksOf(bytes, sizes)));
        expect(back).toEqual(recs.map((r) => canonicalizeRecord(r)));
      }),
      { numRuns: 150 },
    );
  });

  it('streams values larger than a chunk (base64 and escaped text) byte-exactly', async () => {
    const rnd = new Uint8Array(200_003);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 2654435761) >>> 24;
    const txt = u8('a"\\\n\u0001é✓'.repeat(20_000));
    const recs = [keyRec({ key: u8('bin'), value: rnd }), keyRec({ key: u8('txt'), type: 'list', value: [txt, rnd, u8('')] })];
    const bytes = Buffer.concat(await collect(keyspaceJsonlChunks(recs)));
    expect(bytes.toString('utf8')).toBe(recs.map((r) => encodeKeyspaceLine(r) + '\n').join(''));
    expect(bytes.toString('utf8')).toBe(
      `{"db":0,"key":"bin","type":"string","expireAt":null,"value":{"base64":"${Buffer.from(rnd).toString('base64')}"}}\n` +
        `{"db":0,"key":"txt","type":"list","expireAt":null,"value":[${JSON.stringify(Buffer.from(txt).toString('utf8'))},{"base64":"${Buffer.from(rnd).toString('base64')}"},""]}\n`,
    );
    const back = await collect(readKeyspaceJsonl(chunksOf(bytes, [65_536, 1, 4093])));
    expect(sameKeyspace(back, recs)).toEqual({ equal: true, diff: [] });
    expect(back.map((r) => encodeKeyspaceLine(r))).toEqual(recs.map((r) => encodeKeyspaceLine(r)));
  });

  it('never throws anything but KeyspaceError on random bytes at any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 60 }), recordArb().map((r) => u8(encodeKeyspaceLine(r) + '\n'))), { maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 4 }),
        async (parts, sizes) => {
          try {
            await collect(readKeyspaceJsonl(chunksOf(Buffer.concat(parts), sizes), { maxLineBytes: 4000 }));
          } catch (e) {
            if (!(e instanceof KeyspaceError)) throw e;
            expect(e.line).toBeGreaterThan(0);
            expect(e.offset).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('batches output into chunks of about 64 KiB', async () => {
    const recs = Array.from({ length: 3000 }, (_, i) => keyRec({ key: u8(`key:${i}`), value: u8('x'.repeat(100)) }));
    const chunks = await collect(keyspaceJsonlChunks(recs));
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks.slice(0, -1)) expect(c.length).toBe(64 * 1024);
  });

  it('caps the line length with a clear error', async () => {
    const line = encodeKeyspaceLine(keyRec({ value: u8('x'.repeat(500)) }));
    const data = Buffer.from(`${line}\n${line}\n`);
    await expect(collect(readKeyspaceJsonl(chunksOf(data, [7]), { file: 'big.jsonl', maxLineBytes: 200 }))).rejects.toMatchObject({
      name: 'KeyspaceError',
      code: 'line-too-long',
      line: 1,
      file: 'big.jsonl',
    });
    expect(await collect(readKeyspaceJsonl(chunksOf(data, [7]), { maxLineBytes: line.length }))).toHaveLength(2);
  });

  it('skips empty lines and a header line, accepts CRLF and a missing final newline, numbers lines right', async () => {
    const l = encodeKeyspaceLine(keyRec({}));
    const data = Buffer.from(`{"rdb":{"version":11}}\n${l}\r\n\n${l}`);
    expect(await collect(readKeyspaceJsonl(chunksOf(data, [3])))).toHaveLength(2);
    const broken = Buffer.from(`${l}\n\n${l.slice(0, -1)}\n`);
    await expect(collect(readKeyspaceJsonl(chunksOf(broken, [4]), { file: 'f' }))).rejects.toMatchObject({ line: 3, offset: l.length + 2 + l.length - 1 });
  });
});

describe('sameKeyspace', () => {
  it('finds equal keyspaces equal in any order and describes differences', () => {
    const a = [keyRec({ key: u8('a') }), keyRec({ key: u8('b'), type: 'set', value: [u8('x'), u8('y')] })];
    const b = [keyRec({ key: u8('b'), type: 'set', value: [u8('y'), u8('x')] }), keyRec({ key: u8('a') })];
    expect(sameKeyspace(a, b)).toEqual({ equal: true, diff: [] });
    const c = [keyRec({ key: u8('b'), type: 'set', value: [u8('y'), u8('z')] }), keyRec({ key: u8('c'), expireAt: 5 })];
    const r = sameKeyspace(a, c);
    expect(r.equal).toBe(false);
    expect(r.diff).toEqual([
      'db 0 key "a": only in the first keyspace',
      'db 0 key "b": value["x"]: only in the first',
      'db 0 key "c": only in the second keyspace',
    ]);
    expect(sameKeyspace([keyRec({ encoding: 'raw' })], [keyRec({ encoding: 'embstr' })]).diff).toEqual(['db 0 key "k": encoding: raw vs embstr']);
    expect(sameKeyspace([keyRec({ encoding: 'raw' })], [keyRec({ encoding: 'embstr' })], { ignore: ['encoding'] }).equal).toBe(true);
  });

  it('can ignore stream consumer times', () => {
    const stream = (seen: number) =>
      keyRec({
        type: 'stream',
        value: { entries: [], length: 0, lastId: '1-1', firstId: null, maxDeletedId: '0-0', entriesAdded: 1, groups: [{ name: u8('g'), lastDeliveredId: '0-0', entriesRead: null, pending: [], consumers: [{ name: u8('c'), seenTime: seen, activeTime: null }] }] },
      });
    expect(sameKeyspace([stream(1)], [stream(2)]).diff).toEqual(['db 0 key "k": value.groups["g"].consumers["c"].seenTime: 1 vs 2']);
    expect(sameKeyspace([stream(1)], [stream(2)], { ignore: ['streamConsumerTimes'] }).equal).toBe(true);
  });
});

describe.skipIf(!hasCorpus)('corpus expected files', () => {
  const files = expectedFiles();
  it('finds the expected files', () => {
    expect(files.length).toBeGreaterThan(50);
  });
  it.each(files.map((f) => [relative(corpus, f), f]))('%s re-encodes identically and is in canonical order', async (name, file) => {
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe(''); // '\n' after the last line
    let prev: KeyspaceRecord | undefined;
    for (let i = 0; i < lines.length; i++) {
      const rec = parseKeyspaceLine(lines[i]!, { file: name, line: i + 1 });
      const again = encodeKeyspaceLine(rec, { encoding: true });
      if (again !== lines[i]) expect(`${name}:${i + 1}: ${again}`).toBe(`${name}:${i + 1}: ${lines[i]}`);
      if (prev !== undefined && compareKeyspaceRecords(prev, rec) >= 0) throw new Error(`${name}:${i + 1}: not in canonical order`);
      prev = rec;
    }
    // The streaming reader gives the same records.
    const streamed = await collect(readKeyspaceJsonl(file));
    expect(streamed.map((r) => encodeKeyspaceLine(r, { encoding: true }))).toEqual(lines);
  });
});

describe('base64 values', () => {
  const line = (text: string) => `{"db":0,"key":"k","type":"string","expireAt":null,"value":{"base64":${JSON.stringify(text)}}}`;
  const valueOf = (text: string) => {
    const r = parseKeyspaceLine(line(text));
    return r.kind === 'key' && r.type === 'string' ? r.value : null;
  };
  // the rule as the format states it (a regex and the unused low bits), checked against the parser's scan
  const canonical = (t: string): boolean => {
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(t)) return false;
    return Buffer.from(Buffer.from(t, 'base64').toString('base64')).equals(Buffer.from(t));
  };

  it('decode to the bytes Buffer decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(Buffer.from(valueOf(Buffer.from(bytes).toString('base64'))!)).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('anything but canonical base64 is refused as invalid (escaped text is read as its bytes first)', () => {
    const sym = fc.constantFrom(...'AQgw+/=Z9a'.split(''), '\\/');
    fc.assert(
      fc.property(fc.array(sym, { maxLength: 12 }), (syms) => {
        const raw = syms.join('');
        const text = raw.replace(/\\\//g, '/');
        const json = `{"db":0,"key":"k","type":"string","expireAt":null,"value":{"base64":"${raw}"}}`;
        if (canonical(text)) {
          const r = parseKeyspaceLine(json);
          expect(r.kind === 'key' && Buffer.from(r.value as Uint8Array).equals(Buffer.from(text, 'base64'))).toBe(true);
        } else expect(() => parseKeyspaceLine(json)).toThrow(/invalid base64/);
      }),
      { numRuns: 1000 },
    );
  });
});
