import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  RdbFormatError,
  RdbType,
  backlenSize,
  compareStreamIds,
  decodeModuleId,
  describeRdbType,
  encodeIntset,
  encodeListpack,
  encodeModuleId,
  encodeZiplist,
  encodeZipmap,
  estimateEntriesRead,
  formatStreamId,
  frameDumpPayload,
  intsetEntries,
  listpackCount,
  listpackEntries,
  listpackEntrySize,
  listpackVisit,
  parseFunctionLibraryHeader,
  parseStreamId,
  rdbTypeName,
  readBacklen,
  splitDumpPayload,
  streamIdFromBytes,
  streamIdTextAt,
  streamIdToBytes,
  writeBacklen,
  ziplistCount,
  ziplistEntries,
  ziplistVisit,
  zipmapEntries,
  type PackedEntry,
  type PackedVisit,
  type StreamId,
} from '@redis-persist/rdb-format';

const RUNS = { numRuns: 300 };
const te = new TextEncoder();

/** An entry as bytes (integers as their decimal text): how Redis hands an element back. */
function text(e: PackedEntry): string {
  return e instanceof Uint8Array ? Buffer.from(e).toString('latin1') : String(e);
}

/** Random bytes must either decode or throw RdbFormatError: never another error, never hang. */
function onlyTypedErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof RdbFormatError)) throw err;
  }
}

/** What listpackVisit / ziplistVisit give, as entries: strings copied out of the views, integers as given. */
function visited(b: Uint8Array, walk: (b: Uint8Array, sink: PackedVisit) => void): PackedEntry[] {
  const out: PackedEntry[] = [];
  walk(b, {
    str: (x, s, e) => void out.push(x.slice(s, e)),
    int: (v) => void out.push(v),
  });
  return out;
}

const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
// strings that look like integers, strings around the encoding boundaries, and integers of every width
const element = fc.oneof(
  fc.uint8Array({ maxLength: 80 }),
  fc.uint8Array({ minLength: 4090, maxLength: 4100 }),
  int64.map((v) => te.encode(String(v))),
  fc.integer({ min: -5000, max: 5000 }).map((v) => te.encode(String(v))),
  fc.constantFrom('0', '-0', '01', '+1', ' 1', '9223372036854775808', '-9223372036854775809').map((s) => te.encode(s)),
);

describe('listpack', () => {
  test('decode(encode(x)) = x, count and entry sizes agree', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 40 }), (xs) => {
        const lp = encodeListpack(xs);
        const back = listpackEntries(lp);
        expect(back.map(text)).toEqual(xs.map((x) => Buffer.from(x).toString('latin1')));
        expect(listpackCount(lp)).toBe(xs.length);
        // the walk in place gives the same entries, integers as the same numbers or bigints
        expect(visited(lp, listpackVisit)).toEqual(back);
        expect(lp.length).toBe(7 + xs.reduce((n, x) => n + listpackEntrySize(x), 0));
      }),
      RUNS,
    );
  });
  test('integers round-trip at every width', () => {
    fc.assert(
      fc.property(fc.array(int64, { maxLength: 30 }), (xs) => {
        const lp = encodeListpack(xs);
        expect(listpackEntries(lp).map((e) => BigInt(e as number | bigint))).toEqual(xs);
        expect(visited(lp, listpackVisit)).toEqual(listpackEntries(lp));
      }),
      RUNS,
    );
  });
  test('random bytes and damaged listpacks throw RdbFormatError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyTypedErrors(() => listpackEntries(b))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 10 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (xs, at, byte) => {
        const lp = encodeListpack(xs);
        lp[at % lp.length] = byte;
        onlyTypedErrors(() => listpackEntries(lp));
      }),
      RUNS,
    );
  });
});

describe('ziplist', () => {
  test('decode(encode(x)) = x, with and without the RDB 6 integer encodings', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 40 }), fc.boolean(), (xs, legacy) => {
        const zl = encodeZiplist(xs, legacy);
        expect(ziplistEntries(zl).map(text)).toEqual(xs.map((x) => Buffer.from(x).toString('latin1')));
        expect(ziplistCount(zl)).toBe(xs.length);
        expect(visited(zl, ziplistVisit)).toEqual(ziplistEntries(zl));
      }),
      RUNS,
    );
  });
  test('random bytes and damaged ziplists throw RdbFormatError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyTypedErrors(() => ziplistEntries(b))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 10 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (xs, at, byte) => {
        const zl = encodeZiplist(xs);
        zl[at % zl.length] = byte;
        onlyTypedErrors(() => ziplistEntries(zl));
      }),
      RUNS,
    );
  });
});

describe('intset', () => {
  test('decode(encode(x)) = sorted x in the narrowest width', () => {
    fc.assert(
      fc.property(fc.uniqueArray(int64, { minLength: 1, maxLength: 40 }), (xs) => {
        const is = encodeIntset(xs);
        const sorted = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(intsetEntries(is).map((v) => BigInt(v))).toEqual(sorted);
        const width = xs.some((v) => v < -(2n ** 31n) || v >= 2n ** 31n) ? 8 : xs.some((v) => v < -32768n || v > 32767n) ? 4 : 2;
        expect(is.length).toBe(8 + width * xs.length);
      }),
      RUNS,
    );
  });
  test('random bytes throw RdbFormatError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => onlyTypedErrors(() => intsetEntries(b))),
      RUNS,
    );
  });
});

describe('zipmap', () => {
  test('decode(encode(x)) = x', () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 30 }), fc.uint8Array({ minLength: 250, maxLength: 300 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(bytes, bytes), { minLength: 1, maxLength: 300 }), (pairs) => {
        const back = zipmapEntries(encodeZipmap(pairs));
        expect(back.map((b) => Buffer.from(b).toString('hex'))).toEqual(pairs.flat().map((b) => Buffer.from(b).toString('hex')));
      }),
      { numRuns: 100 },
    );
  });
  test('random bytes throw RdbFormatError only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => onlyTypedErrors(() => zipmapEntries(b))),
      RUNS,
    );
  });
});

describe('backlen', () => {
  test('read(write(l)) = l in backlenSize(l) bytes', () => {
    const sizes = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 16000, max: 17000 }), fc.integer({ min: 0, max: 2 ** 32 }));
    fc.assert(
      fc.property(sizes, (l) => {
        const out = new Uint8Array(5);
        const n = backlenSize(l);
        expect(writeBacklen(out, 0, l)).toBe(n);
        expect(readBacklen(out, 0, n)).toBe(l);
      }),
      RUNS,
    );
    expect([127, 128, 16382, 16383, 2097150, 2097151].map(backlenSize)).toEqual([1, 2, 2, 3, 3, 4]);
  });
  test('a byte with the wrong continuation bit reads as -1', () => {
    expect(readBacklen(Uint8Array.of(0x80), 0, 1)).toBe(-1);
    expect(readBacklen(Uint8Array.of(0x01, 0x01), 0, 2)).toBe(-1);
  });
});

describe('stream IDs', () => {
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  const id = fc.record({ ms: u64, seq: u64 });
  test('text, 16 bytes and back', () => {
    fc.assert(
      fc.property(id, (x) => {
        expect(parseStreamId(formatStreamId(x))).toEqual(x);
        const b = streamIdToBytes(x);
        expect(streamIdFromBytes(b)).toEqual(x);
        expect(streamIdTextAt(b, 0)).toBe(formatStreamId(x));
      }),
      RUNS,
    );
  });
  test('byte order is ID order', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(Math.sign(Buffer.compare(streamIdToBytes(a), streamIdToBytes(b)))).toBe(compareStreamIds(a, b));
      }),
      RUNS,
    );
  });
  test('bad text is null', () => {
    for (const t of ['', '1', '1-', '-1', '1-2-3', '18446744073709551616-0', 'a-b', '1-2 ']) expect(parseStreamId(t)).toBeNull();
  });
  test("entries-read estimate: Redis' cases", () => {
    const I = (ms: number, seq = 0): StreamId => ({ ms: BigInt(ms), seq: BigInt(seq) });
    const s = { length: 3, entriesAdded: 5, lastId: I(9), firstId: I(5) };
    expect(estimateEntriesRead(I(9), s)).toBe(5);
    expect(estimateEntriesRead(I(10), s)).toBeNull();
    expect(estimateEntriesRead(I(1), s)).toBe(2);
    expect(estimateEntriesRead(I(5), s)).toBe(3);
    expect(estimateEntriesRead(I(6), s)).toBeNull();
    expect(estimateEntriesRead(I(1), { ...s, firstId: null })).toBeNull();
    expect(estimateEntriesRead(I(1), { ...s, entriesAdded: 0 })).toBe(0);
    expect(estimateEntriesRead(I(1), { ...s, length: 0 })).toBe(5);
    expect(estimateEntriesRead(I(1), { ...s, maxDeletedId: I(7) })).toBeNull();
    expect(estimateEntriesRead(I(1), { ...s, maxDeletedId: I(2) })).toBe(2);
  });
});

describe('module ids', () => {
  test('decode(encode(name, encver)) = (name, encver)', () => {
    const ch = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');
    fc.assert(
      fc.property(fc.array(ch, { minLength: 9, maxLength: 9 }), fc.integer({ min: 0, max: 1023 }), (cs, encver) => {
        const name = cs.join('');
        expect(decodeModuleId(encodeModuleId(name, encver))).toEqual({ name, encver });
      }),
      RUNS,
    );
    expect(() => encodeModuleId('short', 0)).toThrow(RdbFormatError);
    expect(() => encodeModuleId('bad.name!', 0)).toThrow(RdbFormatError);
    expect(() => encodeModuleId('ReJSON-RL', 1024)).toThrow(RdbFormatError);
  });
});

describe('DUMP payload frame', () => {
  test('split(frame(type, body, version)) = (type, body, version)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 65535 }), (type, body, v) => {
        const parts = splitDumpPayload(frameDumpPayload(type, body, v));
        expect(parts.type).toBe(type);
        expect(Buffer.from(parts.body).equals(Buffer.from(body))).toBe(true);
        expect(parts.rdbVersion).toBe(v);
      }),
      RUNS,
    );
  });
  test('random bytes and flipped bytes throw RdbFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (b) => onlyTypedErrors(() => splitDumpPayload(b))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, at, x) => {
        const p = frameDumpPayload(0, body, 10);
        p[at % p.length] ^= x;
        expect(() => splitDumpPayload(p)).toThrow(RdbFormatError);
      }),
      RUNS,
    );
  });
});

describe('function library header', () => {
  const h = (s: string) => parseFunctionLibraryHeader(te.encode(s));
  const err = (s: string) => {
    try {
      h(s);
    } catch (e) {
      expect(e).toBeInstanceOf(RdbFormatError);
      return (e as Error).message;
    }
    return 'ok';
  };
  test("Redis' rule", () => {
    expect(h('#!lua name=mylib\nreturn 1')).toEqual({ engine: 'LUA', library: 'mylib' });
    expect(h('#!lua   NAME=mylib \r\nreturn 1')).toEqual({ engine: 'LUA', library: 'mylib' });
    expect(h('#!lua "name=my_lib"\n')).toEqual({ engine: 'LUA', library: 'my_lib' });
    expect(err('return 1')).toBe('Missing library metadata');
    expect(err('#!lua name=mylib')).toBe('Invalid library metadata');
    expect(err('#!lua name="mylib\n')).toBe('Invalid library metadata');
    expect(err('#!lua\n')).toBe('Library name was not given');
    expect(err('#!lua name=a name=b\n')).toBe('Invalid metadata value, name argument was given multiple times');
    expect(err('#!lua name=a desc=x\n')).toBe('Invalid metadata value given: desc=x');
    expect(err('#!lua name=a-b\n')).toMatch(/^Library names can only contain/);
  });
  test('random text throws RdbFormatError only', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => onlyTypedErrors(() => h(`#!${s}\n`))),
      RUNS,
    );
  });
});

describe('type table', () => {
  test('names and descriptions', () => {
    expect(rdbTypeName(RdbType.LIST_QUICKLIST_2)).toBe('quicklist-v2');
    expect(rdbTypeName(8)).toBe('unknown type 8');
    expect(describeRdbType(RdbType.HASH_LISTPACK_EX_PRE_GA, 'REDIS')).toEqual({ type: 'hash', encoding: 'listpackex' });
    expect(describeRdbType(RdbType.HASH_LISTPACK_EX_PRE_GA, 'VALKEY')).toBeNull();
    expect(describeRdbType(RdbType.STREAM_LISTPACKS_4, 'REDIS')).toBeNull();
  });
});
