// fast-check generators of valid keyspaces: every type, empty and large values, binary keys, int-like strings,
// ±inf scores, streams with groups, PEL and consumers, several dbs, expiries.
import fc from 'fast-check';
import type { HashField, KeyRecord, KeyspaceRecord, StreamGroup, StreamValue } from '@redis-persist/keyspace';

const enc = new TextEncoder();
const b = (s: string) => enc.encode(s);

/** Byte strings that exercise the encoders: int-like, short text, binary, empty, > 20 bytes (LZF), > 64 bytes. */
export const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }).map(b) },
  { weight: 3, arbitrary: fc.oneof(fc.integer({ min: -200, max: 200 }), fc.integer(), fc.maxSafeInteger()).map((n) => b(String(n))) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((n) => b(String(n))) },
  { weight: 1, arbitrary: fc.constantFrom('007', '-0', '+1', ' 1', '1.5', '9223372036854775808', '').map(b) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 7, max: 40 })).map(([s, n]) => b(s.repeat(n))) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 60, maxLength: 90 }) },
);

/** Occasionally a large value (crosses quicklist node and listpack value limits). */
export const bigBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 20, arbitrary: bytesArb },
  { weight: 1, arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 5 }), fc.integer({ min: 1000, max: 4000 })).map(([s, n]) => b(s.repeat(n))) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 9000, maxLength: 12000 }) },
);

function uniqueBy<T>(items: T[], key: (t: T) => Uint8Array): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = Buffer.from(key(t)).toString('latin1');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const scoreArb = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.constantFrom(Infinity, -Infinity, 0.1, 2.5, 1e21, -1e-300, 2 ** 53, 2 ** 62),
);

// Lengths follow `big`: many small collections, some above the listpack/intset limits.
const countArb = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.integer({ min: 130, max: 600 }) });

const listArb = countArb.chain((n) => fc.array(bigBytesArb, { minLength: n, maxLength: n }));
const setArb = fc.oneof(
  countArb.chain((n) => fc.uniqueArray(fc.integer({ min: -100000, max: 100000 }), { minLength: n, maxLength: n })).map((a) => a.map((x) => b(String(x)))),
  countArb.chain((n) => fc.array(bigBytesArb, { minLength: n, maxLength: n })).map((a) => uniqueBy(a, (x) => x)),
).filter((a) => a.length > 0);
const zsetArb = countArb
  .chain((n) => fc.array(fc.tuple(bytesArb, scoreArb), { minLength: n, maxLength: n }))
  .map((a) => uniqueBy(a, (x) => x[0]) as [Uint8Array, number][]);

export function hashArb(fieldTtl: boolean): fc.Arbitrary<HashField[]> {
  const ttl = fieldTtl
    ? fc.option(fc.integer({ min: 4_000_000_000_000, max: 5_000_000_000_000 }), { nil: null, freq: 2 })
    : fc.constant(null);
  return countArb
    .chain((n) => fc.array(fc.record({ field: bytesArb, value: bigBytesArb, expireAt: ttl }), { minLength: n, maxLength: n }))
    .map((a) => uniqueBy(a, (x) => x.field));
}

const idText = (ms: bigint, seq: bigint) => `${ms}-${seq}`;

export interface StreamArbOptions {
  /** v2 metadata (maxDeletedId, entriesAdded > length, entriesRead): false for RDB 9 targets. */
  metadata: boolean;
  /** consumers' activeTime differing from seenTime (RDB 11+ only). */
  activeTime: boolean;
}

export function streamArb(opts: StreamArbOptions): fc.Arbitrary<StreamValue> {
  return fc
    .record({
      steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { maxLength: 30 }),
      base: fc.bigInt({ min: 1n, max: 1n << 50n }),
      fieldSets: fc.array(fc.array(fc.tuple(bytesArb, bigBytesArb), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      extraAdded: opts.metadata ? fc.integer({ min: 0, max: 5 }) : fc.constant(0),
      lastBump: fc.integer({ min: 0, max: 2 }),
      groups: fc.array(
        fc.record({
          name: bytesArb,
          lastIdx: fc.integer({ min: -1, max: 40 }),
          entriesRead: opts.metadata ? fc.option(fc.nat({ max: 50 }), { nil: null }) : fc.constant(null),
          consumers: fc.array(
            fc.record({ name: bytesArb, seen: fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }), active: fc.option(fc.nat({ max: 1000 }), { nil: null }) }),
            { maxLength: 3 },
          ),
          pend: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 }), fc.integer({ min: 1, max: 9 })), { maxLength: 6 }),
        }),
        { maxLength: 3 },
      ),
    })
    .map(({ steps, base, fieldSets, extraAdded, lastBump, groups }) => {
      let ms = base;
      let seq = 0n;
      const entries = steps.map(([dms, dseq], i) => {
        if (i > 0) {
          if (dms > 0) {
            ms += BigInt(dms);
            seq = BigInt(dseq);
          } else seq += BigInt(dseq + 1);
        } else seq = BigInt(dseq);
        return { id: idText(ms, seq), fields: fieldSets[i % fieldSets.length] };
      });
      const lastId = entries.length ? idText(ms + BigInt(lastBump), lastBump ? 0n : seq) : idText(base, 5n);
      const length = entries.length;
      const gs: StreamGroup[] = uniqueBy(groups, (g) => g.name).map((g) => {
        const consumers = uniqueBy(g.consumers, (c) => c.name).map((c) => ({
          name: c.name,
          seenTime: c.seen,
          activeTime: opts.activeTime ? c.seen - (c.active ?? 0) : null,
        }));
        const pending =
          consumers.length && entries.length
            ? uniqueBy(
                g.pend.map(([e, c, t, n]) => ({ id: entries[e % entries.length].id, consumer: consumers[c % consumers.length].name, deliveryTime: t, deliveryCount: n })),
                (p) => b(p.id),
              )
            : [];
        const lastDeliveredId = g.lastIdx < 0 || !entries.length ? '0-0' : entries[Math.min(g.lastIdx, entries.length - 1)].id;
        return { name: g.name, lastDeliveredId, entriesRead: g.entriesRead, pending, consumers };
      });
      return {
        entries,
        length,
        lastId,
        firstId: entries.length ? entries[0].id : opts.metadata ? '0-0' : '18446744073709551615-18446744073709551615',
        maxDeletedId: opts.metadata && extraAdded > 0 && entries.length ? entries[0].id.replace(/-\d+$/, '-0') : '0-0',
        entriesAdded: length + extraAdded,
        groups: gs,
      } satisfies StreamValue;
    });
}

export interface KeyspaceArbOptions {
  streams?: StreamArbOptions | false;
  fieldTtl?: boolean;
  functions?: boolean;
  maxKeys?: number;
  dbs?: number[];
}

const futureExpire = fc.option(fc.integer({ min: 3_000_000_000_000, max: 4_000_000_000_000 }), { nil: null, freq: 3 });

export function keyspaceArb(opts: KeyspaceArbOptions = {}): fc.Arbitrary<KeyspaceRecord[]> {
  const valueArbs: fc.Arbitrary<Pick<KeyRecord, 'type' | 'value'>>[] = [
    bigBytesArb.map((value) => ({ type: 'string' as const, value })),
    listArb.map((value) => ({ type: 'list' as const, value })),
    setArb.map((value) => ({ type: 'set' as const, value })),
    zsetArb.map((value) => ({ type: 'zset' as const, value })),
    hashArb(opts.fieldTtl ?? false).map((value) => ({ type: 'hash' as const, value })),
  ];
  if (opts.streams) valueArbs.push(streamArb(opts.streams).map((value) => ({ type: 'stream' as const, value })));
  const keyArb = fc.record({
    db: fc.constantFrom(...(opts.dbs ?? [0, 1, 3, 15])),
    key: bytesArb,
    expireAt: futureExpire,
    v: fc.oneof(...valueArbs),
  });
  const fnArb = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), { maxLength: opts.functions ? 2 : 0 }).map((names) =>
    names.map(
      (name): KeyspaceRecord => ({
        kind: 'function',
        library: name,
        engine: 'LUA',
        code: b(`#!lua name=${name}\nredis.register_function('${name}_f', function(keys, args) return #keys end)`),
      }),
    ),
  );
  return fc.tuple(fnArb, fc.array(keyArb, { minLength: 1, maxLength: opts.maxKeys ?? 30, size: 'medium' })).map(([fns, keys]) => {
    const seen = new Set<string>();
    const recs: KeyspaceRecord[] = [...fns];
    for (const k of keys) {
      const id = `${k.db}:${Buffer.from(k.key).toString('latin1')}`;
      if (seen.has(id)) continue;
      seen.add(id);
      recs.push({ kind: 'key', db: k.db, key: k.key, expireAt: k.expireAt, ...k.v } as KeyspaceRecord);
    }
    return recs;
  });
}
