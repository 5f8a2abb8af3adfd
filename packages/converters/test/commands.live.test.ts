import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KeyspaceError,
  sameKeyspace,
  type Bytes,
  type KeyRecord,
  type KeyspaceRecord,
  type StreamGroup,
  type StreamValue,
} from '@redis-persist/keyspace';
import { commandsForFunction, commandsForKey, formatScore } from '@redis-persist/converters';
import { encodeCommand } from '@redis-persist/resp';
import { dumpLiveKeyspace, redisAvailable, redisServerVersion, startRedis, type RedisServer } from '@redis-persist/testkit';
import { bytesArb, hashFieldsArb, hexOf, scoreArb, u8 } from '../../keyspace/test/arbitraries.js';

type KeyRec = KeyRecord & { kind: 'key' };
const text = (cmd: Uint8Array[]) => cmd.map((b) => Buffer.from(b).toString('latin1'));
const key = (fields: Partial<KeyRecord> & Record<string, unknown>): KeyRec =>
  ({ kind: 'key', db: 0, key: u8('k'), expireAt: null, type: 'string', value: u8('v'), ...fields }) as KeyRec;
const emptyStream = (over: Partial<StreamValue> = {}): StreamValue => ({
  entries: [],
  length: 0,
  lastId: '0-0',
  firstId: null,
  maxDeletedId: '0-0',
  entriesAdded: 0,
  groups: [],
  ...over,
});

describe('formatScore', () => {
  it('prints like Redis 7.2 (fpconv_dtoa layout, shortest digits) and 7.0 (%.17g)', () => {
    const cases: [number, string, string][] = [
      [1.1, '1.1', '1.1000000000000001'],
      [0.1, '0.1', '0.10000000000000001'],
      [Infinity, 'inf', 'inf'],
      [-Infinity, '-inf', '-inf'],
      [0, '0', '0'],
      [-0, '-0', '-0'],
      [-2.5, '-2.5', '-2.5'],
      [100, '100', '100'],
      [1e7, '10000000', '10000000'],
      [1e8, '1e+8', '100000000'],
      [1e16, '1e+16', '10000000000000000'],
      [1e17, '1e+17', '1e+17'],
      [1e21, '1e+21', '1e+21'],
      [123e8, '1.23e+10', '12300000000'],
      [1e-6, '0.000001', '9.9999999999999995e-07'],
      [1e-7, '1e-7', '9.9999999999999995e-08'],
      [1.5e-7, '1.5e-7', '1.4999999999999999e-07'],
      [5e-324, '5e-324', '4.9406564584124654e-324'],
      [1.7976931348623157e308, '1.7976931348623157e+308', '1.7976931348623157e+308'],
      [2251799813685246.25, '2251799813685246.2', '2251799813685246.2'], // exact tie: half to even
      [2251799813685247.75, '2251799813685247.8', '2251799813685247.8'],
      [1 / 3, '0.3333333333333333', '0.33333333333333331'],
    ];
    for (const [x, v72, v70] of cases) {
      expect([x, formatScore(x)]).toEqual([x, v72]);
      expect([x, formatScore(x, 'redis7.0')]).toEqual([x, v70]);
    }
  });

  it('always reads back as the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        expect(Object.is(Number(formatScore(x).replace('inf', 'Infinity')), x)).toBe(true);
        expect(Object.is(Number(formatScore(x, 'redis7.0').replace('inf', 'Infinity')), x)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('commandsForKey (shapes)', () => {
  it('writes the BGREWRITEAOF forms', () => {
    expect(commandsForKey(key({ expireAt: 123 })).map(text)).toEqual([['SET', 'k', 'v'], ['PEXPIREAT', 'k', '123']]);
    const list = Array.from({ length: 130 }, (_, i) => u8(String(i)));
    const lc = commandsForKey(key({ type: 'list', value: list }));
    expect(lc.map((c) => c.length)).toEqual([66, 66, 4]);
    expect(text(lc[2]!)).toEqual(['RPUSH', 'k', '128', '129']);
    expect(commandsForKey(key({ type: 'set', value: list }), { itemsPerCommand: 100 }).map((c) => c.length)).toEqual([102, 32]);
    expect(commandsForKey(key({ type: 'zset', value: [[u8('a'), 1.1], [u8('b'), -Infinity]] })).map(text)).toEqual([['ZADD', 'k', '1.1', 'a', '-inf', 'b']]);
    expect(commandsForKey(key({ type: 'zset', value: [[u8('a'), 1.1]] }), { scoreFormat: 'redis7.0' }).map(text)).toEqual([['ZADD', 'k', '1.1000000000000001', 'a']]);
    expect(
      commandsForKey(key({ type: 'hash', value: [{ field: u8('f'), value: u8('1'), expireAt: null }, { field: u8('g'), value: u8('2'), expireAt: null }] })).map(text),
    ).toEqual([['HMSET', 'k', 'f', '1', 'g', '2']]);
    expect(
      commandsForKey(key({ type: 'hash', expireAt: 9, value: [{ field: u8('f'), value: u8('1'), expireAt: null }, { field: u8('g'), value: u8('2'), expireAt: 77 }] })).map(text),
    ).toEqual([
      ['HMSET', 'k', 'f', '1'],
      ['HMSET', 'k', 'g', '2'],
      ['HPEXPIREAT', 'k', '77', 'FIELDS', '1', 'g'],
      ['PEXPIREAT', 'k', '9'],
    ]);
  });

  it('writes streams with XSETID, groups, empty consumers and XCLAIMs', () => {
    const s: StreamValue = {
      entries: [
        { id: '1-1', fields: [[u8('f'), u8('v')]] },
        { id: '2-0', fields: [[u8('g'), u8('w')], [u8('h'), u8('x')]] },
      ],
      length: 2,
      lastId: '3-0',
      firstId: '1-1',
      maxDeletedId: '1-2',
      entriesAdded: 4,
      groups: [
        {
          name: u8('g1'),
          lastDeliveredId: '2-0',
          entriesRead: 3,
          pending: [
            { id: '1-1', consumer: u8('c1'), deliveryTime: 1000, deliveryCount: 2 },
            { id: '2-0', consumer: u8('c1'), deliveryTime: 1001, deliveryCount: 1 },
          ],
          consumers: [
            { name: u8('c0'), seenTime: 5, activeTime: null },
            { name: u8('c1'), seenTime: 6, activeTime: 6 },
          ],
        },
        { name: u8('g2'), lastDeliveredId: '0-0', entriesRead: null, pending: [], consumers: [] },
      ],
    };
    expect(commandsForKey(key({ type: 'stream', value: s })).map(text)).toEqual([
      ['XADD', 'k', '1-1', 'f', 'v'],
      ['XADD', 'k', '2-0', 'g', 'w', 'h', 'x'],
      ['XSETID', 'k', '3-0', 'ENTRIESADDED', '4', 'MAXDELETEDID', '1-2'],
      ['XGROUP', 'CREATE', 'k', 'g1', '2-0', 'ENTRIESREAD', '3'],
      ['XGROUP', 'CREATECONSUMER', 'k', 'g1', 'c0'],
      ['XCLAIM', 'k', 'g1', 'c1', '0', '1-1', 'TIME', '1000', 'RETRYCOUNT', '2', 'JUSTID', 'FORCE'],
      ['XCLAIM', 'k', 'g1', 'c1', '0', '2-0', 'TIME', '1001', 'RETRYCOUNT', '1', 'JUSTID', 'FORCE'],
      ['XGROUP', 'CREATE', 'k', 'g2', '0-0', 'ENTRIESREAD', '-1'],
    ]);
    expect(commandsForKey(key({ type: 'stream', value: emptyStream({ lastId: '5-5', entriesAdded: 3 }) })).map(text)).toEqual([
      ['XADD', 'k', 'MAXLEN', '0', '0-1', 'x', 'y'],
      ['XSETID', 'k', '5-5', 'ENTRIESADDED', '3', 'MAXDELETEDID', '0-0'],
    ]);
  });

  it('gives nothing for empty collections and refuses what commands cannot express', () => {
    expect(commandsForKey(key({ type: 'set', value: [], expireAt: 5 }))).toEqual([]);
    expect(() => commandsForKey(key({ type: 'module', value: { module: 'ReJSON-RL', encver: 3, raw: new Uint8Array(3) } }))).toThrow(KeyspaceError);
    expect(() => commandsForKey(key({ type: 'module', value: { module: 'ReJSON-RL', encver: 3, raw: new Uint8Array(3) } }))).toThrow(/module value \(ReJSON-RL/);
    const noFields = emptyStream({ entries: [{ id: '1-1', fields: [] }], length: 1, lastId: '1-1', entriesAdded: 1 });
    expect(() => commandsForKey(key({ type: 'stream', value: noFields }))).toThrow(/no fields/);
  });

  it('loads functions with FUNCTION LOAD <code>', () => {
    expect(commandsForFunction({ library: 'l', engine: 'LUA', code: u8('#!lua name=l') }).map(text)).toEqual([['FUNCTION', 'LOAD', '#!lua name=l']]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Against a real server

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[keyspace tests] redis-server is not on PATH: skipping the replay tests against a real server');

const NOW = Date.now();
const futureArb = fc.integer({ min: NOW + 86_400_000, max: NOW + 10 * 365 * 86_400_000 });
const pastArb = fc.integer({ min: 0, max: NOW - 60_000 });

const idPartArb = fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.bigInt({ min: 0n, max: 2n ** 48n }), fc.constant(2n ** 64n - 1n));
const cmpBig = (a: [bigint, bigint], b: [bigint, bigint]) => (a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
const idText = (id: [bigint, bigint]) => `${id[0]}-${id[1]}`;

/** A stream Redis can hold: entries, deleted entries, groups with consumers and pending entries of live entries. */
function liveStreamArb(): fc.Arbitrary<StreamValue> {
  return fc
    .record({
      // an entry's ID is above 0-0 (XADD refuses 0-0, and no server writes it)
      ids: fc.uniqueArray(fc.tuple(idPartArb, idPartArb).filter(([ms, seq]) => ms !== 0n || seq !== 0n), { maxLength: 8, selector: (t) => `${t[0]}-${t[1]}` }),
      deleted: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      extraAdded: fc.nat({ max: 3 }),
      fields: fc.array(fc.array(fc.tuple(bytesArb(), bytesArb()), { minLength: 1, maxLength: 3 }), { minLength: 8, maxLength: 8 }),
      groups: fc.uniqueArray(
        fc.record({
          name: bytesArb(),
          consumers: fc.uniqueArray(bytesArb(), { maxLength: 3, selector: hexOf }),
          delivered: fc.nat(),
          entriesRead: fc.option(fc.nat({ max: 20 }), { nil: null }),
          pendingPick: fc.array(fc.tuple(fc.nat(), fc.nat(), pastArb, fc.nat({ max: 50 })), { maxLength: 4 }),
          seen: fc.array(fc.tuple(pastArb, fc.option(pastArb, { nil: null })), { minLength: 3, maxLength: 3 }),
        }),
        { maxLength: 3, selector: (g) => hexOf(g.name) },
      ),
    })
    .map(({ ids, deleted, extraAdded, fields, groups }) => {
      const sorted = [...ids].sort(cmpBig);
      const live = sorted.filter((_, i) => !deleted[i]);
      const dead = sorted.filter((_, i) => deleted[i]);
      const last = sorted.length ? sorted[sorted.length - 1]! : ([0n, 0n] as [bigint, bigint]);
      const entries = live.map((id, i) => ({ id: idText(id), fields: fields[i]! }));
      const allIds = ['0-0', ...sorted.map(idText)];
      const outGroups: StreamGroup[] = groups.map((g) => {
        const consumers = g.consumers.map((name, i) => ({ name, seenTime: g.seen[i]![0], activeTime: g.seen[i]![1] }));
        const pending = new Map<string, { id: string; consumer: Bytes; deliveryTime: number; deliveryCount: number }>();
        if (consumers.length > 0 && entries.length > 0) {
          for (const [e, c, t, n] of g.pendingPick) {
            const id = entries[e % entries.length]!.id;
            pending.set(id, { id, consumer: consumers[c % consumers.length]!.name, deliveryTime: t, deliveryCount: n });
          }
        }
        return {
          name: g.name,
          lastDeliveredId: allIds[g.delivered % allIds.length]!,
          entriesRead: g.entriesRead,
          pending: [...pending.values()],
          consumers,
        };
      });
      return {
        entries,
        length: entries.length,
        lastId: idText(last),
        firstId: entries.length ? entries[0]!.id : '0-0',
        maxDeletedId: dead.length ? idText(dead[dead.length - 1]!) : '0-0',
        entriesAdded: sorted.length + extraAdded,
        groups: outGroups,
      };
    });
}

function liveKeyArb(hfe: boolean): fc.Arbitrary<KeyRec> {
  const value = fc.oneof(
    bytesArb(40).map((value) => ({ type: 'string' as const, value })),
    fc.array(bytesArb(), { minLength: 1, maxLength: 70 }).map((value) => ({ type: 'list' as const, value })),
    fc.uniqueArray(bytesArb(), { minLength: 1, maxLength: 70, selector: hexOf }).map((value) => ({ type: 'set' as const, value })),
    fc
      .uniqueArray(fc.tuple(bytesArb(), scoreArb), { minLength: 1, maxLength: 70, selector: (t) => hexOf(t[0]) })
      .map((value) => ({ type: 'zset' as const, value })),
    hashFieldsArb({ ttl: false, minLength: 1 }).map((value) => ({ type: 'hash' as const, value })),
    liveStreamArb().map((value) => ({ type: 'stream' as const, value })),
  );
  const hfeHash = hashFieldsArb({ ttl: true, minLength: 1 }).chain((fields) =>
    fc.array(futureArb, { minLength: fields.length, maxLength: fields.length }).map((times) => ({
      type: 'hash' as const,
      value: fields.map((f, i) => ({ ...f, expireAt: f.expireAt === null ? null : times[i]! })),
    })),
  );
  return fc
    .record({
      db: fc.nat({ max: 3 }),
      key: bytesArb(16),
      expireAt: fc.option(futureArb, { nil: null, freq: 3 }),
      v: hfe ? fc.oneof(value, hfeHash) : value,
    })
    .map(({ db, key, expireAt, v }) => ({ kind: 'key', db, key, expireAt, ...v }) as KeyRec);
}

function uniqueKeys(recs: KeyRec[]): KeyRec[] {
  const seen = new Set<string>();
  return recs.filter((r) => {
    const k = `${r.db}:${hexOf(r.key)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function replayCommands(records: KeyspaceRecord[]): Uint8Array[][] {
  const cmds: Uint8Array[][] = [];
  let db = -1;
  for (const r of records) {
    if (r.kind === 'function') {
      cmds.push(...commandsForFunction(r));
      continue;
    }
    if (r.db !== db) {
      cmds.push([u8('SELECT'), u8(String(r.db))]);
      db = r.db;
    }
    cmds.push(...commandsForKey(r));
  }
  return cmds;
}

describe.skipIf(!hasRedis)('commandsForKey against a real redis-server', () => {
  let server: RedisServer;
  let hfe = false;
  beforeAll(async () => {
    server = await startRedis();
    const v = redisServerVersion();
    const [major = 0, minor = 0] = (v ?? '0.0').split('.').map(Number);
    hfe = major > 7 || (major === 7 && minor >= 4);
    if (!hfe) console.warn(`[keyspace tests] redis-server ${v} has no hash field expiration: HPEXPIREAT is tested by shape only`);
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function replayAndCompare(records: KeyspaceRecord[]): Promise<void> {
    const client = server.client;
    await client.call('FLUSHALL');
    await client.call('FUNCTION', 'FLUSH');
    const cmds = [...replayCommands(records), [u8('SELECT'), u8('0')]];
    const replies = await client.pipeline(cmds);
    const errors = replies.flatMap((r, i) => (r.type === 'error' ? [`${text(cmds[i]!).join(' ').slice(0, 200)} -> ${r.value}`] : []));
    expect(errors).toEqual([]);
    const live = await dumpLiveKeyspace(client);
    const result = sameKeyspace(records, live, { ignore: ['encoding', 'streamConsumerTimes'] });
    expect(result.diff).toEqual([]);
  }

  it('rebuilds random keys of every type exactly (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(liveKeyArb(hfe), { minLength: 1, maxLength: 8 }), async (recs) => {
        await replayAndCompare(uniqueKeys(recs).sort((a, b) => a.db - b.db));
      }),
      { numRuns: 60 },
    );
  });

  it('rebuilds the edge cases', async () => {
    const g = (name: string, over: Partial<StreamGroup> = {}): StreamGroup => ({ name: u8(name), lastDeliveredId: '0-0', entriesRead: null, pending: [], consumers: [], ...over });
    const c = (name: string) => ({ name: u8(name), seenTime: 0, activeTime: null });
    const records: KeyspaceRecord[] = [
      { kind: 'function', library: 'kslib', engine: 'LUA', code: u8("#!lua name=kslib\nredis.register_function('ks_one', function() return 1 end)") },
      // empty stream with groups and consumers (XADD MAXLEN 0 trick), last ID kept
      key({ key: u8('s:empty'), type: 'stream', value: emptyStream({ lastId: '7-3', maxDeletedId: '7-3', entriesAdded: 5, firstId: '0-0', groups: [g('ga', { lastDeliveredId: '7-3', entriesRead: 5, consumers: [c('c1'), c('c2')] }), g('gb')] }) }),
      // empty stream that never had an entry
      key({ key: u8('s:never'), type: 'stream', value: emptyStream({ firstId: '0-0', groups: [g('g')] }) }),
      // deleted entries (max deleted ID above the last live one), consumer without pending entries, binary names
      key({
        key: u8('s:deleted'),
        type: 'stream',
        expireAt: NOW + 3_600_000,
        value: {
          entries: [
            { id: '1-1', fields: [[u8('f'), u8('v')]] },
            { id: '5-0', fields: [[new Uint8Array([0, 255]), u8('')]] },
          ],
          length: 2,
          lastId: '9-9',
          firstId: '1-1',
          maxDeletedId: '9-9',
          entriesAdded: 7,
          groups: [
            g('grp', {
              lastDeliveredId: '5-0',
              entriesRead: 4,
              pending: [
                { id: '1-1', consumer: new Uint8Array([0xc3, 0x28]), deliveryTime: NOW - 5000, deliveryCount: 3 },
                { id: '5-0', consumer: u8('idle'), deliveryTime: NOW - 1000, deliveryCount: 0 },
              ],
              consumers: [{ name: new Uint8Array([0xc3, 0x28]), seenTime: 1, activeTime: 1 }, c('idle'), c('nothing-pending')],
            }),
          ],
        },
      }),
      key({ key: u8('z:inf'), type: 'zset', value: [[u8('lo'), -Infinity], [u8('hi'), Infinity], [u8('zero'), 0], [u8('tiny'), 5e-324], [u8('big'), 1.7976931348623157e308], [u8('third'), 1 / 3]] }),
      key({ key: new Uint8Array([0xff, 0, 0xfe]), type: 'set', value: [new Uint8Array([0]), new Uint8Array([0xff]), u8(''), u8('é')] }),
      ...['-9223372036854775808', '9223372036854775807', '9223372036854775808', '-0', '007', '1e3', ' 1', '-1'].map((v, i) =>
        key({ key: u8(`int:${i}`), value: u8(v) }),
      ),
      key({ key: u8(''), type: 'list', value: [u8('-1'), u8('18446744073709551616'), u8('')] }),
      key({ db: 2, key: u8('h'), type: 'hash', expireAt: NOW + 60_000, value: [{ field: u8(''), value: u8('12345678901234567890'), expireAt: null }] }),
    ];
    await replayAndCompare(records);
  });

  it('loads an AOF file made of these commands at startup (not only over a connection)', async () => {
    const recs = fc.sample(fc.array(liveKeyArb(false), { minLength: 20, maxLength: 20 }), { numRuns: 1, seed: 7 })[0]!;
    const records: KeyspaceRecord[] = [
      { kind: 'function', library: 'aoflib', engine: 'LUA', code: u8("#!lua name=aoflib\nredis.register_function('aof_f', function() return 2 end)") },
      ...uniqueKeys(recs).sort((a, b) => a.db - b.db),
    ];
    // An old-style single appendonly.aof (no appendonlydir): Redis 7 loads it at startup and upgrades it.
    const dir = mkdtempSync(join(tmpdir(), 'ks-aof-'));
    writeFileSync(join(dir, 'appendonly.aof'), Buffer.concat(replayCommands(records).map((c) => encodeCommand(c))));
    let loader: RedisServer | undefined;
    try {
      loader = await startRedis({ dir, config: { appendonly: 'yes', appendfilename: 'appendonly.aof' } });
      const live = await dumpLiveKeyspace(loader.client);
      expect(sameKeyspace(records, live, { ignore: ['encoding', 'streamConsumerTimes'] }).diff).toEqual([]);
    } finally {
      await loader?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
