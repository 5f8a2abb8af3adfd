// fetchSlotMap against a real 3-master cluster on 127.0.0.1, and against a standalone server (refused).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAvailable, startCluster, startRedis, type TestCluster } from '@redis-persist/testkit';
import { LiveError, fetchSlotMap } from '@redis-persist/live';

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
