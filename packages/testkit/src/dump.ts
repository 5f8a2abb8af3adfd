import type {
  HashField,
  KeyRecord,
  KeyspaceRecord,
  StreamConsumer,
  StreamEntry,
  StreamGroup,
  StreamPendingEntry,
  StreamValue,
} from '@redis-persist/keyspace';
import { parseRedisDouble } from '@redis-persist/bytes';
import type { RespValue } from '@redis-persist/resp';
import type { RedisArg, RedisClient } from './client.js';

const utf8 = new TextDecoder();

function fail(what: string, v: RespValue | undefined): never {
  throw new Error(`dumpLiveKeyspace: unexpected reply for ${what}: ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? utf8.decode(x) : x))}`);
}

function check(v: RespValue, what: string): RespValue {
  if (v.type === 'error') throw new Error(`dumpLiveKeyspace: ${what}: ${v.value}`);
  return v;
}

function bytesOf(v: RespValue | undefined, what: string): Uint8Array {
  if (v?.type === 'bulk' && v.value !== null) return v.value;
  if (v?.type === 'simple') return new TextEncoder().encode(v.value);
  return fail(what, v);
}

function textOf(v: RespValue | undefined, what: string): string {
  if (v?.type === 'simple') return v.value;
  return utf8.decode(bytesOf(v, what));
}

function intOf(v: RespValue | undefined, what: string): number {
  if (v?.type === 'integer') return Number(v.value);
  if (v?.type === 'bulk' && v.value !== null) {
    const n = Number(utf8.decode(v.value));
    if (Number.isInteger(n)) return n;
  }
  return fail(what, v);
}

function arrayOf(v: RespValue | undefined, what: string): RespValue[] {
  if (v?.type === 'array') return v.value ?? [];
  return fail(what, v);
}

function isNull(v: RespValue | undefined): boolean {
  return v === undefined || ((v.type === 'bulk' || v.type === 'array') && v.value === null);
}

/** A RESP2 flat map (`[k1, v1, k2, v2, ...]`) as a Map from key text. */
function mapOf(v: RespValue | undefined, what: string): Map<string, RespValue> {
  const a = arrayOf(v, what);
  const m = new Map<string, RespValue>();
  for (let i = 0; i + 1 < a.length; i += 2) m.set(textOf(a[i], what), a[i + 1]);
  return m;
}

/** Parses a score as Redis prints it ("inf", "-inf", %.17g, 7.2's shortest text) by Redis' own rule. */
export function parseScore(text: string): number {
  const n = parseRedisDouble(Buffer.from(text, 'latin1'));
  if (n === null) throw new Error(`dumpLiveKeyspace: bad score "${text}"`);
  return n;
}

interface ServerInfo {
  version: [number, number, number];
  dbs: number[];
}

function atLeast(v: [number, number, number], major: number, minor: number): boolean {
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

async function serverInfo(client: RedisClient): Promise<ServerInfo> {
  const server = await client.callText('INFO', 'server');
  const keyspace = await client.callText('INFO', 'keyspace');
  const m = /redis_version:(\d+)\.(\d+)\.(\d+)/.exec(server ?? '');
  const version: [number, number, number] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const dbs: number[] = [];
  for (const line of (keyspace ?? '').split(/\r?\n/)) {
    const d = /^db(\d+):keys=(\d+)/.exec(line);
    if (d && Number(d[2]) > 0) dbs.push(Number(d[1]));
  }
  return { version, dbs };
}

async function scanKeys(client: RedisClient): Promise<Uint8Array[]> {
  const seen = new Set<string>();
  const keys: Uint8Array[] = [];
  let cursor = '0';
  do {
    const reply = arrayOf(await client.call('SCAN', cursor, 'COUNT', 1000), 'SCAN');
    cursor = textOf(reply[0], 'SCAN cursor');
    for (const k of arrayOf(reply[1], 'SCAN keys')) {
      const key = bytesOf(k, 'SCAN key');
      const id = Buffer.from(key).toString('latin1');
      if (!seen.has(id)) {
        seen.add(id);
        keys.push(key);
      }
    }
  } while (cursor !== '0');
  return keys;
}

function streamPending(v: RespValue | undefined, what: string): StreamPendingEntry[] {
  return arrayOf(v, what).map((p) => {
    const a = arrayOf(p, what);
    return {
      id: textOf(a[0], what),
      consumer: bytesOf(a[1], what),
      deliveryTime: intOf(a[2], what),
      deliveryCount: intOf(a[3], what),
    };
  });
}

/** Maps `XINFO STREAM key FULL COUNT 0` onto the model. */
export function streamFromXinfoFull(reply: RespValue): StreamValue {
  const what = 'XINFO STREAM FULL';
  const m = mapOf(reply, what);
  const entries: StreamEntry[] = arrayOf(m.get('entries'), what).map((e) => {
    const a = arrayOf(e, what);
    const flat = arrayOf(a[1], what);
    const fields: [Uint8Array, Uint8Array][] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) fields.push([bytesOf(flat[i], what), bytesOf(flat[i + 1], what)]);
    return { id: textOf(a[0], what), fields };
  });
  const groups: StreamGroup[] = arrayOf(m.get('groups'), what).map((g) => {
    const gm = mapOf(g, what);
    const consumers: StreamConsumer[] = arrayOf(gm.get('consumers'), what).map((c) => {
      const cm = mapOf(c, what);
      const active = cm.get('active-time');
      return {
        name: bytesOf(cm.get('name'), what),
        seenTime: intOf(cm.get('seen-time'), what),
        activeTime: isNull(active) ? null : intOf(active, what),
      };
    });
    const entriesRead = gm.get('entries-read');
    return {
      name: bytesOf(gm.get('name'), what),
      lastDeliveredId: textOf(gm.get('last-delivered-id'), what),
      entriesRead: isNull(entriesRead) ? null : intOf(entriesRead, what),
      pending: streamPending(gm.get('pending'), what),
      consumers,
    };
  });
  const length = intOf(m.get('length'), what);
  const firstId = m.get('recorded-first-entry-id');
  const maxDeleted = m.get('max-deleted-entry-id');
  const added = m.get('entries-added');
  return {
    entries,
    length,
    lastId: textOf(m.get('last-generated-id'), what),
    firstId: isNull(firstId) ? null : textOf(firstId, what),
    maxDeletedId: isNull(maxDeleted) ? '0-0' : textOf(maxDeleted, what),
    entriesAdded: isNull(added) ? length : intOf(added, what),
    groups,
  };
}

export interface DumpOptions {
  /** Add `encoding` (OBJECT ENCODING) to key records. Default false. */
  encoding?: boolean;
  /** Batch size for pipelined reads. Default 256 keys. */
  batch?: number;
}

/**
 * The whole live keyspace in the model of @redis-persist/keyspace: function libraries (7.0+) and every key of
 * every db, in no particular order (canonicalise before comparing). Leaves the client on db 0.
 */
export async function dumpLiveKeyspace(client: RedisClient, options: DumpOptions = {}): Promise<KeyspaceRecord[]> {
  const info = await serverInfo(client);
  const out: KeyspaceRecord[] = [];
  const has7 = atLeast(info.version, 7, 0);
  const hasHfe = atLeast(info.version, 7, 4);
  const batch = options.batch ?? 256;

  if (has7) {
    for (const lib of arrayOf(await client.call('FUNCTION', 'LIST', 'WITHCODE'), 'FUNCTION LIST')) {
      const m = mapOf(lib, 'FUNCTION LIST');
      out.push({
        kind: 'function',
        library: textOf(m.get('library_name'), 'FUNCTION LIST'),
        engine: textOf(m.get('engine'), 'FUNCTION LIST'),
        code: bytesOf(m.get('library_code'), 'FUNCTION LIST'),
      });
    }
  }

  try {
    for (const db of info.dbs) {
      await client.call('SELECT', db);
      const keys = await scanKeys(client);
      for (let i = 0; i < keys.length; i += batch) {
        const slice = keys.slice(i, i + batch);
        const meta: RedisArg[][] = [];
        for (const k of slice) {
          meta.push(['TYPE', k], has7 ? ['PEXPIRETIME', k] : ['PTTL', k]);
          if (options.encoding) meta.push(['OBJECT', 'ENCODING', k]);
        }
        const now = Date.now();
        const metaReplies = await client.pipeline(meta);
        const per = options.encoding ? 3 : 2;
        const valueCmds: RedisArg[][] = [];
        const plan: { key: Uint8Array; type: string; expireAt: number | null; encoding?: string; cmds: number }[] = [];
        slice.forEach((key, j) => {
          const type = textOf(check(metaReplies[j * per], 'TYPE'), 'TYPE');
          if (type === 'none') return; // expired or deleted meanwhile
          const ttl = intOf(check(metaReplies[j * per + 1], 'PEXPIRETIME'), 'PEXPIRETIME');
          const expireAt = ttl < 0 ? null : has7 ? ttl : now + ttl;
          const encoding = options.encoding ? textOf(metaReplies[j * per + 2], 'OBJECT ENCODING') : undefined;
          let cmds: RedisArg[][];
          switch (type) {
            case 'string':
              cmds = [['GET', key]];
              break;
            case 'list':
              cmds = [['LRANGE', key, 0, -1]];
              break;
            case 'set':
              cmds = [['SMEMBERS', key]];
              break;
            case 'zset':
              cmds = [['ZRANGE', key, 0, -1, 'WITHSCORES']];
              break;
            case 'hash':
              cmds = [['HGETALL', key]];
              break;
            case 'stream':
              cmds = [['XINFO', 'STREAM', key, 'FULL', 'COUNT', 0]];
              break;
            default:
              throw new Error(`dumpLiveKeyspace: key ${JSON.stringify(utf8.decode(key))} has type ${type}, which cannot be dumped`);
          }
          valueCmds.push(...cmds);
          plan.push({ key, type, expireAt, ...(encoding !== undefined ? { encoding } : {}), cmds: cmds.length });
        });
        const values = await client.pipeline(valueCmds);
        let vi = 0;
        const hashFieldTtls: { rec: KeyRecord & { type: 'hash' } }[] = [];
        for (const p of plan) {
          const v = check(values[vi], p.type);
          vi += p.cmds;
          const base = { kind: 'key' as const, db, key: p.key, expireAt: p.expireAt, ...(p.encoding !== undefined ? { encoding: p.encoding } : {}) };
          switch (p.type) {
            case 'string':
              out.push({ ...base, type: 'string', value: bytesOf(v, 'GET') });
              break;
            case 'list':
              out.push({ ...base, type: 'list', value: arrayOf(v, 'LRANGE').map((x) => bytesOf(x, 'LRANGE')) });
              break;
            case 'set':
              out.push({ ...base, type: 'set', value: arrayOf(v, 'SMEMBERS').map((x) => bytesOf(x, 'SMEMBERS')) });
              break;
            case 'zset': {
              const a = arrayOf(v, 'ZRANGE');
              const pairs: [Uint8Array, number][] = [];
              for (let i2 = 0; i2 + 1 < a.length; i2 += 2) pairs.push([bytesOf(a[i2], 'ZRANGE'), parseScore(textOf(a[i2 + 1], 'ZRANGE score'))]);
              out.push({ ...base, type: 'zset', value: pairs });
              break;
            }
            case 'hash': {
              const a = arrayOf(v, 'HGETALL');
              const fields: HashField[] = [];
              for (let i2 = 0; i2 + 1 < a.length; i2 += 2) fields.push({ field: bytesOf(a[i2], 'HGETALL'), value: bytesOf(a[i2 + 1], 'HGETALL'), expireAt: null });
              const rec = { ...base, type: 'hash' as const, value: fields };
              out.push(rec);
              if (hasHfe && fields.length > 0) hashFieldTtls.push({ rec });
              break;
            }
            case 'stream':
              out.push({ ...base, type: 'stream', value: streamFromXinfoFull(v) });
              break;
          }
        }
        if (hashFieldTtls.length > 0) {
          const replies = await client.pipeline(
            hashFieldTtls.map(({ rec }) => ['HPEXPIRETIME', rec.key, 'FIELDS', rec.value.length, ...rec.value.map((f) => f.field)]),
          );
          hashFieldTtls.forEach(({ rec }, j) => {
            const a = arrayOf(check(replies[j], 'HPEXPIRETIME'), 'HPEXPIRETIME');
            rec.value.forEach((f, k) => {
              const t = intOf(a[k], 'HPEXPIRETIME');
              f.expireAt = t >= 0 ? t : null;
            });
          });
        }
      }
    }
  } finally {
    await client.call('SELECT', 0).catch(() => undefined);
  }
  return out;
}
