// The commands that apply themselves to a packed collection (pack.ts: RPUSH/LPUSH, SADD, HSET, ZADD, XADD) leave the
// keyspace as the object path does: the same records after every command, up to and past the packing limits
// (128 elements, 4096 bytes), with repeated members and fields inside one command and in the collection.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Replayer } from '@redis-persist/replay';

const key = fc.constantFrom('k1', 'k2');
// Few distinct small members (repeats) and some big ones (the byte limit).
const member = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e', '1', '2', '10', '-3', '') },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 300 }).map((n) => `m${n}`) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 900 }).map((n) => 'x'.repeat(n)) },
);
const score = fc.constantFrom('1', '2', '-1', '0', '-0', '1.5', 'inf', '-inf', '3e2');
const many = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: 1, maxLength: 12 });
const pairs = (a: fc.Arbitrary<string>, b: fc.Arbitrary<string>) => many(fc.tuple(a, b)).map((p) => p.flat());

const command = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('RPUSH', 'LPUSH', 'RPUSHX', 'LPUSHX'), key, many(member)).map(([c, k, m]) => [c, k, ...m]) },
  { weight: 4, arbitrary: fc.tuple(key, many(member)).map(([k, m]) => ['SADD', k, ...m]) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom('HSET', 'HMSET'), key, pairs(member, member)).map(([c, k, p]) => [c, k, ...p]) },
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom([], ['CH'], ['NX'], ['XX'], ['GT'], ['INCR']), key, pairs(score, member)).map(([o, k, p]) => ['ZADD', k, ...o, ...p]) },
  { weight: 4, arbitrary: fc.tuple(key, fc.constantFrom(['*'], ['*'], ['MAXLEN', '=', '3', '*'], ['NOMKSTREAM', '*'], ['0-1'], ['1-*']), pairs(member, member)).map(([k, o, p]) => ['XADD', k, ...o, ...p]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('SREM', 'HDEL', 'ZREM', 'LREM'), key, member).map(([c, k, m]) => (c === 'LREM' ? [c, k, '0', m] : [c, k, m])) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('LPOP', 'RPOP', 'DEL'), key).map(([c, k]) => [c, k]) },
  { weight: 1, arbitrary: fc.tuple(key, member).map(([k, f]) => ['HPEXPIREAT', k, '4102444800000', 'FIELDS', '1', f]) },
);

describe('commands on packed collections', () => {
  it('leave the same keyspace as on objects, after every command', () => {
    const replayer = (keepUnpacked: number, keepUnpackedBytes = 1 << 30) =>
      new Replayer({ skipUnknown: true, keepUnpacked, keepUnpackedBytes, now: 1_700_000_000_000 });
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 80 }), (cmds) => {
        const packed = replayer(0); // every small collection packed between commands: the packed paths
        const objects = replayer(1 << 20); // nothing packed: the object paths
        const mixed = replayer(1 << 20, 1500); // packed when the unpacked ones pass 1500 bytes (estimated)
        for (const c of cmds) {
          const args = c.map((x) => Buffer.from(x, 'latin1'));
          packed.apply(0, args, 'random.aof', 0);
          objects.apply(0, args, 'random.aof', 0);
          mixed.apply(0, args, 'random.aof', 0);
          expect(packed.failed).toBe(objects.failed);
          expect(mixed.failed).toBe(objects.failed);
          const want = [...objects.ks.records()];
          expect([...packed.ks.records()]).toEqual(want);
          expect([...mixed.ks.records()]).toEqual(want);
        }
      }),
      { numRuns: 400 },
    );
  });
});
