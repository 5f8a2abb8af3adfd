// Random commands (known names, arguments drawn from options, numbers, IDs and bytes) never crash the replayer:
// each either applies, counts as a command Redis would refuse, or is a ReplayError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Replayer, ReplayError } from '@redis-persist/replay';
import { HANDLERS } from '../src/commands/index.js';

const names = [...HANDLERS.keys()].filter((n) => !['flushall', 'flushdb'].includes(n));
const tokens = [
  'k1', 'k2', 'k3', 's', 'f', 'v', 'g1', 'c1', '0', '1', '-1', '2', '3', '10', '-5', '100', '1.5', 'inf', '-inf', 'nan', '',
  '0-1', '1-1', '5-0', '$', '*', '1-*', '>', '(1', '[a', '-', '+', 'nx', 'xx', 'gt', 'lt', 'ch', 'incr', 'get', 'ex', 'px',
  'exat', 'pxat', 'keepttl', 'persist', 'maxlen', 'minid', '=', '~', 'limit', 'nomkstream', 'mkstream', 'entriesread',
  'entriesadded', 'maxdeletedid', 'create', 'setid', 'destroy', 'createconsumer', 'delconsumer', 'force', 'justid', 'time',
  'retrycount', 'idle', 'lastid', 'left', 'right', 'before', 'after', 'weights', 'aggregate', 'sum', 'min', 'max', 'byscore',
  'bylex', 'rev', 'fields', 'replace', 'db', 'absttl', 'load', 'delete', 'flush', 'u8', 'i5', 'i64', '#1', 'overflow', 'sat',
  'fail', 'wrap', 'set', 'incrby', 'and', 'or', 'not', 'xor', 'alpha', 'desc', 'asc', 'store', 'by', 'k*', 'nosort', 'k*->f',
  'frommember', 'fromlonlat', 'byradius', 'bybox', 'km', 'm', 'storedist', 'count', '9223372036854775807', '-9223372036854775808', '18446744073709551615-0',
  '#!lua name=x\nredis.register_function("f", function() return 1 end)', '13.36', '38.11', '200', '-90',
];
const arg = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...tokens) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('latin1')) },
);
const command = fc.tuple(fc.constantFrom(...names), fc.array(arg, { maxLength: 9 })).map(([n, a]) => [n, ...a]);

describe('robustness', () => {
  it('random commands never throw anything but a ReplayError', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 40 }), (cmds) => {
        const r = new Replayer({ skipUnknown: false });
        for (const c of cmds) {
          try {
            r.apply(0, c.map((x) => Buffer.from(x, 'latin1')), 'random.aof', 0);
          } catch (err) {
            if (!(err instanceof ReplayError)) throw err;
          }
        }
        for (const rec of r.ks.records()) expect(rec.kind === 'key' || rec.kind === 'function').toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('packing small collections between commands changes nothing: every command sees the same keyspace', () => {
    const replay = (cmds: string[][], keepUnpacked: number) => {
      const r = new Replayer({ skipUnknown: true, keepUnpacked, now: 1_700_000_000_000 });
      for (const c of cmds) r.apply(0, c.map((x) => Buffer.from(x, 'latin1')), 'random.aof', 0);
      // No final packing pass: one side's records come from packed bytes, the other's from objects.
      return { records: [...r.ks.records()], failed: r.failed };
    };
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 60 }), (cmds) => {
        const packedAlways = replay(cmds, 0);
        const neverPacked = replay(cmds, 1 << 20);
        expect(packedAlways.failed).toBe(neverPacked.failed);
        expect(packedAlways.records).toEqual(neverPacked.records);
      }),
      { numRuns: 1500 },
    );
  });
});
