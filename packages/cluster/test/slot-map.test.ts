import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc16 } from '@redis-persist/bytes';
import {
  ClusterError,
  keyHashSlot,
  slotMapFromNodesConf,
  slotMapFromRanges,
  slotMapFromShards,
  slotMapFromSlots,
  slotOwner,
  slotOwnerTable,
  type RespReply,
} from '@redis-persist/cluster';

const enc = (s: string) => Buffer.from(s, 'latin1');

describe('crc16 / keyHashSlot', () => {
  it('CRC-16/XMODEM check value', () => {
    expect(crc16(enc('123456789'))).toBe(0x31c3);
    expect(crc16(new Uint8Array(0))).toBe(0);
    // continuing from a previous value gives the CRC of the concatenation
    expect(crc16(enc('56789'), 0, 5, crc16(enc('1234')))).toBe(0x31c3);
  });
  it.each([
    ['123456789', 12739],
    ['foo', 12182],
    ['bar', 5061],
    ['hello', 866],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['user1000', 3443],
    ['foo{}{bar}', 8363],
    ['foo{{bar}}zap', 4015],
    ['foo{bar}{zap}', 5061],
    ['', 0],
  ])('%j -> %d', (key, slot) => {
    expect(keyHashSlot(enc(key))).toBe(slot);
  });
  it('a key with a hash tag lands where the tag does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), (a, tag, b) => {
        fc.pre(!a.includes(0x7b) && !tag.includes(0x7d) && !tag.includes(0x7b));
        const key = Buffer.concat([a, enc('{'), tag, enc('}'), b]);
        expect(keyHashSlot(key)).toBe(keyHashSlot(tag));
      }),
    );
  });
});

const bulk = (s: string | null): RespReply => ({ type: 'bulk', value: s === null ? null : enc(s) });
const int = (n: number): RespReply => ({ type: 'integer', value: BigInt(n) });
const arr = (...v: RespReply[]): RespReply => ({ type: 'array', value: v });
const ID = (c: string) => c.repeat(40);

describe('slot maps', () => {
  it('ranges: nodes by comma, several ranges of one node by +, ids are the canonical text', () => {
    const m = slotMapFromRanges('0-5460, 5461-10922,10923-16383');
    expect(m.nodes.map((n) => n.id)).toEqual(['0-5460', '5461-10922', '10923-16383']);
    expect(slotOwner(m, 5461).id).toBe('5461-10922');
    const m2 = slotMapFromRanges('0-99+200-16383,100-199');
    expect(m2.nodes.map((n) => n.id)).toEqual(['0-99+200-16383', '100-199']);
    expect(m2.ranges.map((r) => [r.first, r.last, r.node.id])).toEqual([
      [0, 99, '0-99+200-16383'],
      [100, 199, '100-199'],
      [200, 16383, '0-99+200-16383'],
    ]);
    expect(slotMapFromRanges('0-16382,16383').nodes[1].id).toBe('16383-16383');
    const t = slotOwnerTable(m2);
    expect([t[0], t[150], t[16383]]).toEqual([0, 1, 0]);
  });
  it('uncovered and overlapping slots are errors naming them', () => {
    const e1 = (() => {
      try {
        slotMapFromRanges('0-5460,5470-16383');
      } catch (e) {
        return e as ClusterError;
      }
    })()!;
    expect(e1).toBeInstanceOf(ClusterError);
    expect(e1.code).toBe('uncovered');
    expect(e1.message).toContain('9 slots not covered by any node: 5461-5469');
    expect(e1.slots).toEqual([{ first: 5461, last: 5469 }]);
    expect(() => slotMapFromRanges('0-5460,5000-16383')).toThrow(/overlapping slots: 461 slots \(5000-5460\) claimed by both 0-5460 and 5000-16383/);
    expect(() => slotMapFromRanges('0-16383,0-16383')).toThrow(ClusterError);
    expect(() => slotMapFromRanges('0-16384')).toThrow(/out of range/);
    expect(() => slotMapFromRanges('10-5,0-16383')).toThrow(/ends before it starts/);
    expect(() => slotMapFromRanges('0-100,,101-16383')).toThrow(/empty item/);
    expect(() => slotMapFromRanges('a-b')).toThrow(/not a slot number/);
  });
  it('CLUSTER SLOTS (7.x form with metadata, and the old form without ids)', () => {
    const reply = arr(
      arr(int(0), int(5460), arr(bulk('127.0.0.1'), int(30001), bulk(ID('a')), arr()), arr(bulk('127.0.0.1'), int(30004), bulk(ID('d')), arr())),
      arr(int(10923), int(16383), arr(bulk('127.0.0.1'), int(30003), bulk(ID('c')), arr(bulk('hostname'), bulk('node-c')))),
      arr(int(5461), int(10922), arr(bulk(null), int(30002), bulk(ID('b')), arr())),
    );
    const m = slotMapFromSlots(reply);
    expect(m.nodes).toEqual([
      { id: ID('a'), host: '127.0.0.1', port: 30001 },
      { id: ID('b'), host: '', port: 30002 },
      { id: ID('c'), host: '127.0.0.1', port: 30003, name: 'node-c' },
    ]);
    const old = slotMapFromSlots(arr(arr(int(0), int(16383), arr(bulk('10.0.0.1'), int(7000)))));
    expect(old.nodes[0].id).toBe('10.0.0.1:7000');
    expect(() => slotMapFromSlots(arr(arr(int(0), int(100), arr(bulk('h'), int(1), bulk(ID('a'))))))).toThrow(/16283 slots not covered by any node: 101-16383/);
    expect(() => slotMapFromSlots({ type: 'error', value: 'ERR This instance has cluster support disabled' })).toThrow(/the error "ERR This instance/);
  });
  it('CLUSTER SHARDS', () => {
    const node = (id: string, port: number, role: string, extra: RespReply[] = []) =>
      arr(bulk('id'), bulk(id), bulk('port'), int(port), bulk('ip'), bulk('127.0.0.1'), bulk('endpoint'), bulk('127.0.0.1'), ...extra, bulk('role'), bulk(role), bulk('replication-offset'), int(0), bulk('health'), bulk('online'));
    const reply = arr(
      arr(bulk('slots'), arr(int(0), int(100), int(200), int(5460)), bulk('nodes'), arr(node(ID('d'), 30004, 'replica'), node(ID('a'), 30001, 'master'))),
      arr(bulk('slots'), arr(int(101), int(199), int(5461), int(16383)), bulk('nodes'), arr(node(ID('b'), 30002, 'master', [bulk('hostname'), bulk('b.example')]))),
      arr(bulk('slots'), arr(), bulk('nodes'), arr(node(ID('e'), 30005, 'master'))),
    );
    const m = slotMapFromShards(reply);
    expect(m.nodes.map((n) => n.id)).toEqual([ID('a'), ID('b')]);
    expect(m.nodes[1]).toEqual({ id: ID('b'), host: '127.0.0.1', port: 30002, name: 'b.example' });
    expect(m.ranges.map((r) => `${r.first}-${r.last}`)).toEqual(['0-100', '101-199', '200-5460', '5461-16383']);
    expect(() => slotMapFromShards(arr(arr(bulk('slots'), arr(int(0), int(16383)), bulk('nodes'), arr(node(ID('d'), 1, 'replica')))))).toThrow(/has 0 masters/);
  });
  it('nodes.conf: masters only, migrating/importing markers ignored, vars line skipped', () => {
    const text = [
      `${ID('a')} 127.0.0.1:30001@40001,,tls-port=0,shard-id=${ID('9')} myself,master - 0 0 1 connected 0-5460 [5461-<-${ID('b')}]`,
      `${ID('b')} 127.0.0.1:30002@40002,node-b master - 0 1700000000000 2 connected 5461-10922 [5461->-${ID('a')}]`,
      `${ID('d')} 127.0.0.1:30004@40004 slave ${ID('a')} 0 1700000000000 1 connected`,
      `${ID('c')} ::1:30003@40003 master,fail - 0 1700000000000 3 disconnected 10923-16382 16383`,
      'vars currentEpoch 3 lastVoteEpoch 0',
      '',
    ].join('\n');
    const m = slotMapFromNodesConf(text);
    expect(m.nodes).toEqual([
      { id: ID('a'), host: '127.0.0.1', port: 30001 },
      { id: ID('b'), host: '127.0.0.1', port: 30002, name: 'node-b' },
      { id: ID('c'), host: '::1', port: 30003 },
    ]);
    expect(m.ranges.at(-1)).toMatchObject({ first: 10923, last: 16383 });
    expect(() => slotMapFromNodesConf(`${ID('a')} 127.0.0.1:1@2 master - 0 0 1 connected 0-100`, 'x/nodes.conf')).toThrow(/x\/nodes.conf: 16283 slots not covered/);
    expect(() => slotMapFromNodesConf(`zz 127.0.0.1:1@2 master - 0 0 1 connected 0-100`)).toThrow(/nodes.conf line 1: "zz" is not a node id/);
  });
});
