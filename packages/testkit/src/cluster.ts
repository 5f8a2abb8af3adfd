// A real Redis Cluster for tests: N masters (no replicas) on 127.0.0.1, created with redis-cli --cluster create.
import { spawnSync } from 'node:child_process';
import { freeClusterPort, startRedis, type RedisServer, type StartRedisOptions } from './server.js';
import { which } from './paths.js';

export interface TestCluster {
  /** The masters, in the order they were created (node 0 owns slots 0-5460 with 3 masters). */
  readonly nodes: RedisServer[];
  /** `host:port` of each node. */
  readonly addresses: string[];
  /** The node id of each node (CLUSTER MYID). */
  readonly ids: string[];
  /** Waits until every node reports cluster_state:ok and agrees on the slot owners. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Stops every node (SHUTDOWN NOSAVE); their temp dirs go unless `keepFiles`. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

export interface StartClusterOptions {
  /** How many masters (default 3; redis-cli --cluster create needs at least 3). */
  masters?: number;
  /** Extra config for every node. */
  config?: Record<string, string>;
  /** Data directories to start the nodes on (one per master), e.g. holding a dump.rdb each. */
  dirs?: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when redis-server and redis-cli are there to make a cluster. */
export function clusterAvailable(): boolean {
  return which('redis-server') !== null && which('redis-cli') !== null;
}

/**
 * Starts `masters` cluster-enabled redis-servers on free ports of 127.0.0.1 (each with its bus port free too),
 * joins them with `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes` and waits for
 * cluster_state:ok everywhere. Bounded: fails after 60 s.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const n = options.masters ?? 3;
  const nodes: RedisServer[] = [];
  const stop = async (o?: { keepFiles?: boolean }) => {
    await Promise.all(nodes.map((s) => (s.alive() ? s.stop(o) : undefined)));
  };
  try {
    for (let i = 0; i < n; i++) {
      const opts: StartRedisOptions = {
        pickPort: freeClusterPort,
        dir: options.dirs?.[i],
        config: { 'cluster-enabled': 'yes', 'cluster-config-file': 'nodes.conf', 'cluster-node-timeout': '5000', ...options.config },
      };
      nodes.push(await startRedis(opts));
    }
    const addresses = nodes.map((s) => `127.0.0.1:${s.port}`);
    const create = spawnSync(which('redis-cli')!, ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout}\n${create.stderr}`);
    const ids: string[] = [];
    for (const s of nodes) ids.push((await s.client.callText('CLUSTER', 'MYID')) ?? '');
    const cluster: TestCluster = {
      nodes,
      addresses,
      ids,
      async waitReady(timeoutMs = 60_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          let ok = true;
          let view: string | null = null;
          for (const s of nodes) {
            const info = (await s.client.callText('CLUSTER', 'INFO')) ?? '';
            if (!/^cluster_state:ok/m.test(info)) ok = false;
            // every node must see the same slot owners (CLUSTER SLOTS), else clients get MOVED loops
            const slots = JSON.stringify(await s.client.call('CLUSTER', 'SLOTS'), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));
            if (view === null) view = slots;
            else if (slots !== view) ok = false;
          }
          if (ok) return;
          if (Date.now() > deadline) throw new Error(`the cluster is not ready after ${timeoutMs} ms`);
          await sleep(100);
        }
      },
      stop,
    };
    await cluster.waitReady();
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}
