// The slot map of a live cluster, asked of one node: CLUSTER SHARDS (Redis 7.0+), else CLUSTER SLOTS.
import { ClusterError, slotMapFromShards, slotMapFromSlots, type SlotMap, type ClusterNode } from '@redis-persist/cluster';
import { connectRedis, replyError, type ConnectOptions, type RedisConnection } from './connection.js';
import { LiveError } from './errors.js';
import type { RedisAddress } from './url.js';

/** True for the error replies of a server that does not know a command or subcommand. */
function unknownCommand(text: string): boolean {
  return /unknown (sub)?command|wrong number of arguments|Unknown subcommand/i.test(text);
}

/**
 * Asks an open connection for its cluster's slot map: `CLUSTER SHARDS`, falling back to `CLUSTER SLOTS` on servers
 * before 7.0. Nodes announced without an endpoint (`?` or empty) get the host of the connection asked. Throws
 * LiveError('cluster') when the server is not in cluster mode or the slots are not all served (the ClusterError
 * as cause), LiveError('noperm') when the user may not ask.
 */
export async function fetchSlotMapFrom(conn: RedisConnection): Promise<SlotMap> {
  let reply = await conn.request(['CLUSTER', 'SHARDS']);
  let parse = slotMapFromShards;
  let asked = 'CLUSTER SHARDS';
  if (reply.type === 'error' && unknownCommand(reply.value)) {
    reply = await conn.request(['CLUSTER', 'SLOTS']);
    parse = slotMapFromSlots;
    asked = 'CLUSTER SLOTS';
  }
  if (reply.type === 'error') {
    if (/cluster support disabled/i.test(reply.value)) {
      const e = new LiveError('cluster', `not a cluster node (${reply.value})`, { server: conn.server });
      e.reply = reply.value;
      throw e;
    }
    throw replyError(reply.value, conn.server, asked);
  }
  let map: SlotMap;
  try {
    map = parse(reply);
  } catch (e) {
    if (e instanceof ClusterError) {
      const why = e.code === 'uncovered' ? 'the cluster does not serve every slot' : 'unexpected slot map';
      throw new LiveError('cluster', `${why}: ${e.message}`, { server: conn.server, cause: e });
    }
    throw e;
  }
  if (!map.nodes.some((n) => n.host === '')) return map;
  const fix = (n: ClusterNode): ClusterNode => (n.host === '' ? { ...n, host: conn.address.host } : n);
  const nodes = new Map(map.nodes.map((n) => [n.id, fix(n)]));
  return { ranges: map.ranges.map((r) => ({ ...r, node: nodes.get(r.node.id)! })), nodes: [...nodes.values()] };
}

/**
 * Connects to a seed node (`redis://[user:pass@]host:port`, `rediss://...`), asks it for the cluster's slot map
 * (see {@link fetchSlotMapFrom}) and disconnects.
 */
export async function fetchSlotMap(seed: string | RedisAddress, options: ConnectOptions = {}): Promise<SlotMap> {
  const conn = await connectRedis(seed, { ...options, db: 0 });
  try {
    return await fetchSlotMapFrom(conn);
  } finally {
    await conn.close();
  }
}
