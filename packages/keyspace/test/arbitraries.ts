// fast-check generators for keyspace records, shared by the JSONL and the command tests.
import fc from 'fast-check';
import type { Bytes, FunctionRecord, HashField, KeyRecord, KeyspaceRecord, StreamGroup, StreamValue } from '@redis-persist/keyspace';

export const u8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Byte strings: arbitrary bytes (mostly not UTF-8), any Unicode text, JSON-hostile text, numbers as text. */
export function bytesArb(maxLength = 12): fc.Arbitrary<Bytes> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.string({ unit: 'binary', maxLength }).map(u8),
    fc.constantFrom('', '"', '\\', '\u0000', '\u001f\u007f', '\u2028', 'é✓', '\ufeffbom', '{"base64":"AA=="}').map(u8),
    fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer()).map((n) => u8(String(n))),
    fc.constantFrom('-0', '007', '1e5', '0x10', ' 1', '9223372036854775808', '-9223372036854775809').map(u8),
  );
}

export const scoreArb: fc.Arbitrary<number> = fc.oneof(
  fc.double({ noNaN: true }),
  fc.constantFrom(Infinity, -Infinity, -0, 0, 5e-324, -5e-324, 1.7976931348623157e308, 0.1, 1.1, 1e21, 1e-7, 2 ** 53 + 2),
  fc.integer({ min: -1000, max: 1000 }),
);

/** Stream IDs as text; `maxMs` keeps them small enough for live tests when asked. */
export function streamIdArb(maxMs: bigint = 2n ** 64n - 1n, maxSeq: bigint = 2n ** 64n - 1n): fc.Arbitrary<string> {
  return fc.tuple(fc.bigInt({ min: 0n, max: maxMs }), fc.bigInt({ min: 0n, max: maxSeq })).map(([ms, seq]) => `${ms}-${seq}`);
}

const timeArb = fc.integer({ min: 0, max: 2 ** 42 });

function uniqueBytes(max: number, minLength = 0): fc.Arbitrary<Bytes[]> {
  return fc.uniqueArray(bytesArb(), { minLength, maxLength: max, selector: hexOf });
}

export function hashFieldsArb(opts: { ttl: boolean; minLength?: number }): fc.Arbitrary<HashField[]> {
  return fc
    .uniqueArray(fc.tuple(bytesArb(), bytesArb(), opts.ttl ? fc.option(timeArb, { nil: null }) : fc.constant(null)), {
      minLength: opts.minLength ?? 0,
      maxLength: 8,
      selector: (t) => hexOf(t[0]),
    })
    .map((fs) => fs.map(([field, value, expireAt]) => ({ field, value, expireAt })));
}

/** A structurally valid stream (IDs unique); not necessarily one Redis could hold. */
export function looseStreamArb(): fc.Arbitrary<StreamValue> {
  const group: fc.Arbitrary<StreamGroup> = fc.record({
    name: bytesArb(),
    lastDeliveredId: streamIdArb(),
    entriesRead: fc.option(fc.nat(), { nil: null }),
    pending: fc
      .uniqueArray(fc.tuple(streamIdArb(), bytesArb(), timeArb, fc.nat()), { maxLength: 4, selector: (t) => t[0] })
      .map((ps) => ps.map(([id, consumer, deliveryTime, deliveryCount]) => ({ id, consumer, deliveryTime, deliveryCount }))),
    consumers: fc
      .uniqueArray(fc.tuple(bytesArb(), timeArb, fc.option(timeArb, { nil: null })), { maxLength: 3, selector: (t) => hexOf(t[0]) })
      .map((cs) => cs.map(([name, seenTime, activeTime]) => ({ name, seenTime, activeTime }))),
  });
  return fc.record({
    entries: fc
      .uniqueArray(fc.tuple(streamIdArb(), fc.array(fc.tuple(bytesArb(), bytesArb()), { maxLength: 3 })), { maxLength: 5, selector: (t) => t[0] })
      .map((es) => es.map(([id, fields]) => ({ id, fields }))),
    length: fc.nat(),
    lastId: streamIdArb(),
    firstId: fc.option(streamIdArb(), { nil: null }),
    maxDeletedId: streamIdArb(),
    entriesAdded: fc.nat(),
    groups: fc.uniqueArray(group, { maxLength: 3, selector: (g) => hexOf(g.name) }),
  }).chain((s) =>
    fc.option(fc.subarray(['entriesAdded', 'maxDeletedId'] as ('maxDeletedId' | 'entriesAdded')[]), { nil: undefined, freq: 4 }).map((unreported) =>
      unreported === undefined ? s : { ...s, unreported },
    ),
  );
}

type KeyRec = KeyRecord & { kind: 'key' };

/** Any key record (values in arbitrary order: the encoder must canonicalise). */
export function keyRecordArb(): fc.Arbitrary<KeyRec> {
  const head = fc.record({
    kind: fc.constant('key' as const),
    db: fc.oneof(fc.nat({ max: 15 }), fc.nat()),
    key: bytesArb(16),
    expireAt: fc.option(fc.oneof(timeArb, fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })), { nil: null }),
  });
  const value = fc.oneof(
    bytesArb(40).map((value) => ({ type: 'string' as const, value })),
    fc.array(bytesArb(), { maxLength: 8 }).map((value) => ({ type: 'list' as const, value })),
    uniqueBytes(8).map((value) => ({ type: 'set' as const, value })),
    fc
      .uniqueArray(fc.tuple(bytesArb(), scoreArb), { maxLength: 8, selector: (t) => hexOf(t[0]) })
      .map((value) => ({ type: 'zset' as const, value })),
    hashFieldsArb({ ttl: true }).map((value) => ({ type: 'hash' as const, value })),
    looseStreamArb().map((value) => ({ type: 'stream' as const, value })),
    fc
      .record({ module: fc.stringMatching(/^[A-Za-z0-9_-]{9}$/), encver: fc.nat({ max: 1023 }), raw: fc.uint8Array({ maxLength: 30 }) })
      .map((value) => ({ type: 'module' as const, value })),
  );
  return fc
    .tuple(head, value, fc.option(fc.constantFrom('listpack', 'hashtable', 'embstr'), { nil: undefined }))
    .map(([h, v, encoding]) => {
      const rec = { ...h, ...v } as KeyRec;
      if (encoding !== undefined) rec.encoding = encoding;
      return rec;
    });
}

export function functionRecordArb(): fc.Arbitrary<FunctionRecord & { kind: 'function' }> {
  return fc.record({
    kind: fc.constant('function' as const),
    library: fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/),
    engine: fc.constant('LUA'),
    code: bytesArb(60),
  });
}

export function recordArb(): fc.Arbitrary<KeyspaceRecord> {
  return fc.oneof({ arbitrary: keyRecordArb(), weight: 8 }, { arbitrary: functionRecordArb(), weight: 1 });
}
