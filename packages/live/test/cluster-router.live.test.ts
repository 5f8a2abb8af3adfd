// fetchSlotMap and ClusterRouter against a real 3-master cluster on 127.0.0.1 (slots moved by hand: MOVED, a slot
// half-migrated: ASK), and fetchSlotMap against a standalone server (refused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAvailable, startCluster, startRedis, type TestCluster } from '@redis-persist/testkit';
import { ClusterRouter, LiveError, fetchSlotMap, replyText, type RoutedCommand } from '@redis-persist/live';
import { keyHashSlot } from '@redis-persist/cluster';

const enc = new TextEncoder();
const text = (v: Parameters<typeof replyText>[0]) => replyText(v);

/** A key whose slot is `slot`: `{t<n>}<suffix>` for the first n that hashes there. */
function keyInSlot(slot: number, suffix = ''): string {
  for (let n = 0; n < 1_000_000; n++) if (keyHashSlot(enc.encode(`t${n}`)) === slot) return `{t${n}}${suffix}`;
  throw new Error(`no key for slot ${slot}`);
}

describe.skipIf(!clusterAvailable())('fetchSlotMap', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reads CLUSTER SHARDS from any node: three masters, every slot, their addresses and ids', async () => {
    for (const address of cluster.addresses) {
      const map = await fetchSlotMap(`redis://${address}`);
      expect(map.nodes.map((n) => n.id).sort()).toEqual([...cluster.ids].sort());
      for (const n of map.nodes) expect(cluster.addresses).toContain(`${n.host}:${n.port}`);
      expect(map.ranges[0]).toMatchObject({ first: 0, last: 5460 });
      expect(map.ranges[0].node.id).toBe(cluster.ids[0]);
    }
  });

  it('routes single-key commands to the owner of their slot and pipelines them in order', async () => {
    const router = await ClusterRouter.connect(`redis://${cluster.addresses[1]}`);
    try {
      const n = 3000;
      const sets: RoutedCommand[] = Array.from({ length: n }, (_, i) => ['SET', `k:${i}`, `v${i}`]);
      const replies = await router.pipeline(sets, { maxInFlight: 200 });
      expect(replies.every((r) => r.type === 'simple' && r.value === 'OK')).toBe(true);
      const gets = await router.pipeline(Array.from({ length: n }, (_, i): RoutedCommand => ({ key: `k:${i}`, args: ['GET', `k:${i}`] })));
      gets.forEach((g, i) => expect(text(g)).toBe(`v${i}`));
      // every key sits on the node that owns its slot; nothing was redirected
      let total = 0;
      for (const s of cluster.nodes) total += Number((await s.client.callInt('DBSIZE')));
      expect(total).toBe(n);
      expect(router.stats.moved + router.stats.ask).toBe(0);
      expect((await router.call(['GET', 'k:7'])).type).toBe('bulk');
      await expect(router.call(['LPUSH', 'k:7', 'x'])).rejects.toMatchObject({ code: 'reply' });
    } finally {
      await router.close();
      for (const s of cluster.nodes) await s.client.call('FLUSHALL');
    }
  });

  it('follows MOVED after a slot changed owner (and reads the map again), and ASK for a slot being migrated', async () => {
    const router = await ClusterRouter.connect(`redis://${cluster.addresses[0]}`);
    try {
      // slot 100 (owned by node 0, empty) is given to node 1 behind the router's back
      const slot = 100;
      const key = keyInSlot(slot, 'moved');
      for (const s of cluster.nodes) await s.client.call('CLUSTER', 'SETSLOT', slot, 'NODE', cluster.ids[1]);
      expect(text(await router.call(['SET', key, 'here']))).toBe('OK');
      expect(await cluster.nodes[1].client.callText('GET', key)).toBe('here');
      expect(router.stats.moved).toBeGreaterThanOrEqual(1);
      await expect.poll(() => router.stats.refreshes).toBeGreaterThanOrEqual(1);
      await expect.poll(() => router.ownerOf(slot)).toBe(cluster.addresses[1]);

      // slot 200: node 0 MIGRATING to node 2, node 2 IMPORTING; one key already moved, one still on node 0
      const s2 = 200;
      const [stay, gone, fresh] = [keyInSlot(s2, 'stay'), keyInSlot(s2, 'gone'), keyInSlot(s2, 'fresh')];
      await cluster.nodes[0].client.call('SET', stay, 'a');
      await cluster.nodes[0].client.call('SET', gone, 'b');
      await cluster.nodes[2].client.call('CLUSTER', 'SETSLOT', s2, 'IMPORTING', cluster.ids[0]);
      await cluster.nodes[0].client.call('CLUSTER', 'SETSLOT', s2, 'MIGRATING', cluster.ids[2]);
      const port2 = cluster.nodes[2].port;
      await cluster.nodes[0].client.call('MIGRATE', '127.0.0.1', port2, '', 0, 5000, 'KEYS', gone);
      const asks = router.stats.ask;
      const replies = await router.pipeline([['GET', stay], ['GET', gone], ['SET', fresh, 'c'], ['APPEND', gone, '!']]);
      expect(replies.slice(0, 3).map(text)).toEqual(['a', 'b', 'OK']);
      expect(replies[3]).toEqual({ type: 'integer', value: 2n });
      expect(router.stats.ask - asks).toBe(3); // gone (GET), fresh, gone (APPEND): each once, with ASKING
      const [, onNode2] = await cluster.nodes[2].client.pipeline([['ASKING'], ['GET', gone]]);
      expect(text(onNode2)).toBe('b!');
      // the map did not change for ASK: the slot is still node 0's
      expect(router.ownerOf(s2)).toBe(cluster.addresses[0]);
      // a router never sends ASKING by itself: without it node 2 answers MOVED back to node 0
      await expect(cluster.nodes[2].client.call('GET', gone)).rejects.toThrow(/MOVED 200/);
    } finally {
      await router.close();
    }
  });

  it('gives up after a bounded number of redirections with a cluster error', async () => {
    // two nodes that send a slot back and forth: node 1 says node 2 owns 300, node 2 says node 1 does
    const slot = 300;
    await cluster.nodes[1].client.call('CLUSTER', 'SETSLOT', slot, 'NODE', cluster.ids[2]);
    await cluster.nodes[2].client.call('CLUSTER', 'SETSLOT', slot, 'NODE', cluster.ids[1]);
    await cluster.nodes[0].client.call('CLUSTER', 'SETSLOT', slot, 'NODE', cluster.ids[1]);
    const router = await ClusterRouter.connect(`redis://${cluster.addresses[0]}`, { maxRedirections: 5 });
    try {
      const e = await router.call(['GET', keyInSlot(slot)]).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LiveError);
      expect((e as LiveError).code).toBe('cluster');
      expect((e as LiveError).message).toMatch(/more than 5 redirections/);
    } finally {
      await router.close();
    }
  });

  it('refuses a server that is not in cluster mode', async () => {
    const s = await startRedis();
    try {
      const e = await fetchSlotMap(`127.0.0.1:${s.port}`).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LiveError);
      expect((e as LiveError).code).toBe('cluster');
      expect((e as LiveError).message).toContain(`127.0.0.1:${s.port}`);
    } finally {
      await s.stop();
    }
  });
});
