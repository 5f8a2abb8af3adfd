import { describe, expect, it } from 'vitest';
import { clusterAvailable, startCluster } from '@redis-persist/testkit';

describe.skipIf(!clusterAvailable())('startCluster', () => {
  it('starts 3 masters on 127.0.0.1 that share every slot and route a key to its owner', async () => {
    const c = await startCluster();
    try {
      expect(c.nodes).toHaveLength(3);
      expect(new Set(c.ids).size).toBe(3);
      const info = (await c.nodes[0].client.callText('CLUSTER', 'INFO')) ?? '';
      expect(info).toMatch(/^cluster_slots_assigned:16384/m);
      expect(info).toMatch(/^cluster_known_nodes:3/m);
      // a key is accepted by exactly one node; the others answer MOVED to it
      let accepted = 0;
      for (const s of c.nodes) {
        try {
          await s.client.call('SET', '{user1000}.following', 'x');
          accepted++;
        } catch (err) {
          expect(String(err)).toMatch(/MOVED 3443 127\.0\.0\.1:\d+/);
        }
      }
      expect(accepted).toBe(1);
    } finally {
      await c.stop();
    }
  });
});
