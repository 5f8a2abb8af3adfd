// Against a real 3-master cluster on 127.0.0.1: keyHashSlot agrees with CLUSTER KEYSLOT for random binary keys,
// and the four slot-map sources (CLUSTER SHARDS, CLUSTER SLOTS, CLUSTER NODES, each node's nodes.conf) agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clusterAvailable, startCluster, type TestCluster } from '@redis-persist/testkit';
import { keyHashSlot, slotMapFromNodesConf, slotMapFromShards, slotMapFromSlots, type SlotMap } from '@redis-persist/cluster';

const plain = (m: SlotMap) => m.ranges.map((r) => `${r.first}-${r.last}:${r.node.id}@${r.node.host}:${r.node.port}`);

describe.skipIf(!clusterAvailable())('a live cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('keyHashSlot = CLUSTER KEYSLOT for random binary keys', async () => {
    const client = cluster.nodes[0].client;
    // keys biased towards braces so that hash tags (empty, nested, unterminated) come up often
    const byte = fc.oneof(fc.constantFrom(0x7b, 0x7d), fc.integer({ min: 0, max: 255 }));
    const keys = fc.sample(fc.array(byte, { maxLength: 24 }).map((a) => Uint8Array.from(a)), { numRuns: 2000, seed: 42 });
    keys.push(Buffer.from('{}'), Buffer.from('{'), Buffer.from('}{a}'), Buffer.from('{{}}'), Buffer.from('a{b}c{d}'));
    const replies = await client.pipeline(keys.map((k) => ['CLUSTER', 'KEYSLOT', k]));
    const mismatches = keys.flatMap((k, i) => {
      const r = replies[i];
      const want = r.type === 'integer' ? Number(r.value) : NaN;
      return want === keyHashSlot(k) ? [] : [{ key: Buffer.from(k).toString('hex'), want, got: keyHashSlot(k) }];
    });
    expect(mismatches).toEqual([]);
  });

  it('CLUSTER SHARDS, CLUSTER SLOTS, CLUSTER NODES and nodes.conf give the same map', async () => {
    const client = cluster.nodes[1].client;
    const shards = slotMapFromShards(await client.call('CLUSTER', 'SHARDS'));
    const slots = slotMapFromSlots(await client.call('CLUSTER', 'SLOTS'));
    const nodes = slotMapFromNodesConf((await client.callText('CLUSTER', 'NODES')) ?? '', 'CLUSTER NODES');
    expect(plain(slots)).toEqual(plain(shards));
    expect(plain(nodes)).toEqual(plain(shards));
    expect(shards.nodes.map((n) => n.id).sort()).toEqual([...cluster.ids].sort());
    for (const s of cluster.nodes) {
      const conf = slotMapFromNodesConf(readFileSync(join(s.dir, 'nodes.conf'), 'utf8'), join(s.dir, 'nodes.conf'));
      expect(plain(conf)).toEqual(plain(shards));
    }
  });
});
