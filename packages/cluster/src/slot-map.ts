// Slot maps: which node owns which of the 16384 hash slots. Built from a live cluster's CLUSTER SHARDS (Redis 7+)
// or CLUSTER SLOTS reply, from a node's nodes.conf (or CLUSTER NODES text), or from a plain range list. Every map
// covers each slot exactly once: uncovered slots and slots claimed twice are ClusterErrors naming them.
import { ClusterError } from './errors.js';
import { CLUSTER_SLOTS } from './slot.js';

/**
 * A RESP2 reply as `@redis-persist/resp` decodes it (structurally its `RespValue`: pass one straight in). Bulk
 * strings are raw bytes, integers bigints.
 */
export type RespReply =
  | { type: 'simple'; value: string }
  | { type: 'error'; value: string }
  | { type: 'integer'; value: bigint }
  | { type: 'bulk'; value: Uint8Array | null }
  | { type: 'array'; value: RespReply[] | null };

/** A master that owns slots. */
export interface ClusterNode {
  /**
   * The node id (40 hex characters, as CLUSTER MYID says). Maps from replies without ids (Redis < 4) use
   * `host:port`; maps from a range list use the canonical range text (`0-5460`, `0-99+200-299`).
   */
  id: string;
  /** Where to reach it: the preferred endpoint (an IP, or a hostname when announced so); '' when unknown. */
  host: string;
  /** Its client port (the TLS port when it has only that); 0 when unknown (range lists). */
  port: number;
  /** The announced hostname (`cluster-announce-hostname`), or the range text of a range-list node. */
  name?: string;
}

/** Slots `first..last` (inclusive) and their owner. */
export interface SlotRange {
  first: number;
  last: number;
  node: ClusterNode;
}

/** Every slot 0-16383 exactly once, in order. */
export interface SlotMap {
  /** Sorted by slot, adjacent ranges of one node joined. */
  readonly ranges: readonly SlotRange[];
  /** The owners, in the order of their first slot. */
  readonly nodes: readonly ClusterNode[];
}

/** `a-b` or `a` for one range. */
function rangeText(r: { first: number; last: number }): string {
  return r.first === r.last ? String(r.first) : `${r.first}-${r.last}`;
}

/** Inclusive ranges as text: `0-5460,5461-10922,16383`. */
export function formatSlotRanges(ranges: readonly { first: number; last: number }[]): string {
  return ranges.map(rangeText).join(',');
}

/** Ranges as text, the first `max` of them and how many more. */
function someRanges(ranges: { first: number; last: number }[], max = 8): string {
  const shown = ranges.slice(0, max).map(rangeText).join(', ');
  return ranges.length > max ? `${shown} and ${ranges.length - max} more range(s)` : shown;
}

/** `id (host:port)`, or just the id when the address is unknown. */
export function describeNode(node: ClusterNode): string {
  if (!node.host && !node.port) return node.id;
  const host = node.host.includes(':') ? `[${node.host}]` : node.host || '?';
  return `${node.id} (${host}:${node.port})`;
}

const slotCount = (n: number): string => (n === 1 ? '1 slot' : `${n} slots`);

/**
 * Builds a map from ranges of owners (any order; a node may own several ranges). Nodes are told apart by id; two
 * ranges of the same node may touch or overlap. Throws ClusterError `overlap` when two nodes claim a slot,
 * `uncovered` when a slot has no owner, `bad-ranges` for a slot outside 0-16383 or a range whose end is before
 * its start. `source` names where the ranges come from in the messages.
 */
export function buildSlotMap(ranges: readonly SlotRange[], source = 'the slot map'): SlotMap {
  const byId = new Map<string, ClusterNode>();
  for (const r of ranges) {
    if (!Number.isInteger(r.first) || !Number.isInteger(r.last) || r.first < 0 || r.last >= CLUSTER_SLOTS || r.first > r.last) {
      throw new ClusterError('bad-ranges', `${source}: ${r.first}-${r.last} is not a slot range (slots are 0-${CLUSTER_SLOTS - 1}, first <= last)`);
    }
    if (!byId.has(r.node.id)) byId.set(r.node.id, r.node);
  }
  // owner of each slot (index into `ids`), -1 = none; overlaps collected as runs
  const ids = [...byId.keys()];
  const index = new Map(ids.map((id, i) => [id, i]));
  const owner = new Int32Array(CLUSTER_SLOTS).fill(-1);
  const clash = new Map<string, { first: number; last: number }[]>();
  for (const r of ranges) {
    const me = index.get(r.node.id)!;
    for (let s = r.first; s <= r.last; s++) {
      const o = owner[s];
      if (o === -1 || o === me) owner[s] = me;
      else {
        const pair = o < me ? `${o},${me}` : `${me},${o}`;
        let runs = clash.get(pair);
        if (!runs) clash.set(pair, (runs = []));
        const last = runs[runs.length - 1];
        if (last && last.last === s - 1) last.last = s;
        else runs.push({ first: s, last: s });
      }
    }
  }
  if (clash.size > 0) {
    const slots: { first: number; last: number }[] = [];
    const parts: string[] = [];
    for (const [pair, runs] of clash) {
      const [a, b] = pair.split(',').map(Number);
      slots.push(...runs);
      const n = runs.reduce((t, r) => t + r.last - r.first + 1, 0);
      parts.push(`${slotCount(n)} (${someRanges(runs)}) claimed by both ${describeNode(byId.get(ids[a])!)} and ${describeNode(byId.get(ids[b])!)}`);
    }
    slots.sort((x, y) => x.first - y.first);
    throw new ClusterError('overlap', `${source}: overlapping slots: ${parts.join('; ')}`, { slots });
  }
  const gaps: { first: number; last: number }[] = [];
  const out: SlotRange[] = [];
  let missing = 0;
  for (let s = 0; s < CLUSTER_SLOTS; ) {
    let e = s;
    while (e + 1 < CLUSTER_SLOTS && owner[e + 1] === owner[s]) e++;
    if (owner[s] === -1) {
      gaps.push({ first: s, last: e });
      missing += e - s + 1;
    } else out.push({ first: s, last: e, node: byId.get(ids[owner[s]])! });
    s = e + 1;
  }
  if (gaps.length > 0) {
    throw new ClusterError('uncovered', `${source}: ${slotCount(missing)} not covered by any node: ${someRanges(gaps)}`, { slots: gaps });
  }
  const nodes: ClusterNode[] = [];
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r.node.id)) continue;
    seen.add(r.node.id);
    nodes.push(r.node);
  }
  return { ranges: out, nodes };
}

/** The owner of `slot`. */
export function slotOwner(map: SlotMap, slot: number): ClusterNode {
  const rs = map.ranges;
  let lo = 0;
  let hi = rs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = rs[mid];
    if (slot < r.first) hi = mid - 1;
    else if (slot > r.last) lo = mid + 1;
    else return r.node;
  }
  throw new ClusterError('bad-ranges', `slot ${slot} is not a slot (0-${CLUSTER_SLOTS - 1})`);
}

/** For each slot, the index of its owner in `map.nodes` (a 32 KiB table for per-key lookups). */
export function slotOwnerTable(map: SlotMap): Uint16Array {
  const t = new Uint16Array(CLUSTER_SLOTS);
  const index = new Map(map.nodes.map((n, i) => [n.id, i]));
  for (const r of map.ranges) t.fill(index.get(r.node.id)!, r.first, r.last + 1);
  return t;
}

/** The ranges a node owns. */
export function nodeRanges(map: SlotMap, node: ClusterNode | string): { first: number; last: number }[] {
  const id = typeof node === 'string' ? node : node.id;
  return map.ranges.filter((r) => r.node.id === id).map((r) => ({ first: r.first, last: r.last }));
}

// ---- range lists -------------------------------------------------------------------------------------------

function parseSlot(text: string, what: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new ClusterError('bad-ranges', `${what}: ${JSON.stringify(text)} is not a slot number`);
  const n = Number(text);
  if (n >= CLUSTER_SLOTS) throw new ClusterError('bad-ranges', `${what}: slot ${n} is out of range (0-${CLUSTER_SLOTS - 1})`);
  return n;
}

/**
 * A map from a range list: nodes separated by `,`, each one or more ranges joined by `+` (`a-b` or a single slot
 * `a`), e.g. `0-5460,5461-10922,10923-16383` or `0-99+200-16383,100-199`. Each node gets as id (and name) its
 * canonical range text, every range written `first-last` (`0-99+200-16383`; a single slot `5` is `5-5`): the
 * name `rdb-tool split --slots` gives its file. Host '' and port 0.
 */
export function slotMapFromRanges(text: string): SlotMap {
  const what = `slot ranges ${JSON.stringify(text)}`;
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new ClusterError('bad-ranges', `${what}: an empty item (write ranges like 0-5460,5461-16383)`);
  const ranges: SlotRange[] = [];
  for (const item of items) {
    const parts = item.split('+').map((s) => s.trim());
    const own: { first: number; last: number }[] = [];
    for (const p of parts) {
      const m = /^([^-]*)(?:-(.*))?$/.exec(p)!;
      const first = parseSlot(m[1], what);
      const last = m[2] === undefined ? first : parseSlot(m[2], what);
      if (last < first) throw new ClusterError('bad-ranges', `${what}: ${p} ends before it starts`);
      own.push({ first, last });
    }
    const id = own.map((r) => `${r.first}-${r.last}`).join('+');
    if (ranges.some((r) => r.node.id === id)) {
      throw new ClusterError('overlap', `${what}: ${id} is listed twice`, { slots: own });
    }
    const node: ClusterNode = { id, host: '', port: 0, name: id };
    for (const r of own) ranges.push({ ...r, node });
  }
  return buildSlotMap(ranges, what);
}

// ---- replies -----------------------------------------------------------------------------------------------

function badReply(what: string, detail: string): ClusterError {
  return new ClusterError('bad-reply', `${what}: ${detail}`);
}

function replyKind(v: RespReply | undefined): string {
  if (v === undefined) return 'nothing';
  if (v.type === 'error') return `the error ${JSON.stringify(v.value)}`;
  if (v.value === null) return `a null ${v.type}`;
  return `a ${v.type === 'simple' ? 'simple string' : v.type}`;
}

function arrayOf(v: RespReply | undefined, what: string, where: string): RespReply[] {
  if (v?.type === 'array' && v.value !== null) return v.value;
  throw badReply(what, `${where} is ${replyKind(v)}, expected an array`);
}

function textOf(v: RespReply | undefined): string | null {
  if (v?.type === 'bulk' && v.value !== null) return Buffer.from(v.value).toString('utf8');
  if (v?.type === 'simple') return v.value;
  return null;
}

function intOf(v: RespReply | undefined, what: string, where: string): number {
  if (v?.type === 'integer') return Number(v.value);
  const t = textOf(v);
  if (t !== null && /^-?\d+$/.test(t)) return Number(t);
  throw badReply(what, `${where} is ${replyKind(v)}, expected an integer`);
}

/** A RESP2 flat map (`key, value, key, value...`) as a Map of its text keys. */
function flatMap(v: RespReply | undefined, what: string, where: string): Map<string, RespReply> {
  const a = arrayOf(v, what, where);
  if (a.length % 2 !== 0) throw badReply(what, `${where} has an odd number of elements (${a.length}), expected field/value pairs`);
  const m = new Map<string, RespReply>();
  for (let i = 0; i < a.length; i += 2) {
    const k = textOf(a[i]);
    if (k === null) throw badReply(what, `${where}: field ${i / 2} is ${replyKind(a[i])}, expected a name`);
    m.set(k, a[i + 1]);
  }
  return m;
}

/**
 * A map from a CLUSTER SLOTS reply (any Redis since 3.0): `[start, end, [endpoint, port, id?, metadata?],
 * replicas...]` per range. The master (first node of each entry) owns the range; the endpoint is its host (a null
 * or `?` endpoint — unknown — gives host ''; the caller knows which address it asked). Replies without ids (Redis
 * < 4) use `host:port` as id. A `hostname` in the metadata becomes `name`.
 */
export function slotMapFromSlots(reply: RespReply): SlotMap {
  const what = 'CLUSTER SLOTS reply';
  const entries = arrayOf(reply, what, 'the reply');
  const ranges: SlotRange[] = [];
  entries.forEach((e, i) => {
    const where = `entry ${i}`;
    const a = arrayOf(e, what, where);
    if (a.length < 3) throw badReply(what, `${where} has ${a.length} elements, expected start, end and the master`);
    const first = intOf(a[0], what, `${where} start`);
    const last = intOf(a[1], what, `${where} end`);
    const m = arrayOf(a[2], what, `${where} master`);
    if (m.length < 2) throw badReply(what, `${where} master has ${m.length} elements, expected at least endpoint and port`);
    let host = textOf(m[0]);
    if (host === null && !(m[0].type === 'bulk' && m[0].value === null)) throw badReply(what, `${where} master endpoint is ${replyKind(m[0])}`);
    if (host === null || host === '?') host = '';
    const port = intOf(m[1], what, `${where} master port`);
    const id = m.length > 2 ? textOf(m[2]) : null;
    if (m.length > 2 && id === null) throw badReply(what, `${where} master id is ${replyKind(m[2])}`);
    const node: ClusterNode = { id: id ?? `${host}:${port}`, host, port };
    if (m.length > 3 && m[3].type === 'array' && m[3].value) {
      const meta = m[3].value;
      for (let k = 0; k + 1 < meta.length; k += 2) {
        if (textOf(meta[k]) === 'hostname') {
          const h = textOf(meta[k + 1]);
          if (h) node.name = h;
        }
      }
    }
    ranges.push({ first, last, node });
  });
  return buildSlotMap(ranges, what);
}

/**
 * A map from a CLUSTER SHARDS reply (Redis 7.0+, Valkey): per shard a `slots` list of start/end pairs and its
 * `nodes`; the node whose role is `master` (Valkey: `primary`) owns the shard's slots. Host: the node's
 * `endpoint` (its preferred endpoint), else its `ip`; port: `port`, else `tls-port`; `hostname` becomes `name`.
 * Shards without slots are left out.
 */
export function slotMapFromShards(reply: RespReply): SlotMap {
  const what = 'CLUSTER SHARDS reply';
  const shards = arrayOf(reply, what, 'the reply');
  const ranges: SlotRange[] = [];
  shards.forEach((s, i) => {
    const where = `shard ${i}`;
    const shard = flatMap(s, what, where);
    const slots = arrayOf(shard.get('slots'), what, `${where} slots`);
    if (slots.length % 2 !== 0) throw badReply(what, `${where} slots has an odd number of elements (${slots.length}), expected start/end pairs`);
    if (slots.length === 0) return;
    const nodes = arrayOf(shard.get('nodes'), what, `${where} nodes`).map((n, k) => flatMap(n, what, `${where} node ${k}`));
    const masters = nodes.filter((n) => {
      const role = textOf(n.get('role'));
      return role === 'master' || role === 'primary';
    });
    if (masters.length !== 1) throw badReply(what, `${where} owns slots but has ${masters.length} masters, expected one`);
    const m = masters[0];
    const id = textOf(m.get('id'));
    if (!id) throw badReply(what, `${where} master has no id`);
    let host = textOf(m.get('endpoint'));
    if (!host || host === '?') host = textOf(m.get('ip')) ?? '';
    const port = m.has('port') ? intOf(m.get('port'), what, `${where} master port`) : m.has('tls-port') ? intOf(m.get('tls-port'), what, `${where} master tls-port`) : 0;
    const node: ClusterNode = { id, host, port };
    const hostname = textOf(m.get('hostname'));
    if (hostname) node.name = hostname;
    for (let k = 0; k < slots.length; k += 2) {
      ranges.push({ first: intOf(slots[k], what, `${where} slot ${k}`), last: intOf(slots[k + 1], what, `${where} slot ${k + 1}`), node });
    }
  });
  return buildSlotMap(ranges, what);
}

// ---- nodes.conf --------------------------------------------------------------------------------------------

/**
 * A map from a node's nodes.conf (`cluster-config-file`), or the text of CLUSTER NODES (same line format):
 * `<id> <ip:port@cport[,hostname][,aux=value...]> <flags> <master> <ping> <pong> <epoch> <link> <slots...>`.
 * Only masters count (flags with `master`, failed ones included: they still own their slots); slot entries in
 * brackets (`[5461->-<id>]` migrating, `[5461-<-<id>]` importing) are ignored, as is the `vars` line.
 */
export function slotMapFromNodesConf(text: string, file = 'nodes.conf'): SlotMap {
  const ranges: SlotRange[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('vars ') || line.startsWith('#')) return;
    const where = `${file} line ${i + 1}`;
    const f = line.split(/\s+/);
    if (f.length < 8) throw new ClusterError('bad-nodes-conf', `${where}: ${f.length} fields, expected at least 8 (id, address, flags, master, ping, pong, epoch, link)`);
    const [id, addr, flags] = f;
    if (!/^[0-9a-f]{40}$/i.test(id)) throw new ClusterError('bad-nodes-conf', `${where}: ${JSON.stringify(id)} is not a node id`);
    if (!flags.split(',').includes('master')) return;
    const parts = addr.split(',');
    const hostPort = parts[0].split('@')[0];
    const colon = hostPort.lastIndexOf(':');
    if (colon < 0) throw new ClusterError('bad-nodes-conf', `${where}: ${JSON.stringify(addr)} is not an address (ip:port@cport)`);
    let host = hostPort.slice(0, colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    const portText = hostPort.slice(colon + 1);
    if (!/^\d+$/.test(portText)) throw new ClusterError('bad-nodes-conf', `${where}: ${JSON.stringify(addr)} has no port`);
    const node: ClusterNode = { id, host, port: Number(portText) };
    if (parts.length > 1 && parts[1] !== '' && !parts[1].includes('=')) node.name = parts[1];
    for (const tok of f.slice(8)) {
      if (tok.startsWith('[')) continue; // a slot being migrated or imported: still owned as the plain entries say
      const m = /^(\d+)(?:-(\d+))?$/.exec(tok);
      if (!m) throw new ClusterError('bad-nodes-conf', `${where}: ${JSON.stringify(tok)} is not a slot or slot range`);
      const first = Number(m[1]);
      const last = m[2] === undefined ? first : Number(m[2]);
      ranges.push({ first, last, node });
    }
  });
  return buildSlotMap(ranges, file);
}
