import type { KeyspaceRecord } from '@redis-persist/keyspace';

export interface NormalizeOptions {
  /** Zero consumer seenTime/activeTime (they are load times after an AOF replay). */
  dropConsumerTimes?: boolean;
  /**
   * Null group entriesRead: Redis 7.0.15 propagates XREADGROUP to the AOF as XCLAIM ... LASTID, which moves
   * last-delivered-id but not entries-read, so a replayed AOF reports a stale or null entries-read.
   */
  dropEntriesRead?: boolean;
  /** Zero pending deliveryTime (wall-clock dependent in generated traffic). */
  dropDeliveryTimes?: boolean;
}

/** A comparable, order-free form of a keyspace (bytes as latin1 text, collections sorted, no encodings). */
export function normalize(records: KeyspaceRecord[], o: NormalizeOptions = {}): unknown[] {
  const s = (x: Uint8Array) => Buffer.from(x).toString('latin1');
  const sortBy = <T>(a: T[], f: (x: T) => string) => [...a].sort((x, y) => (f(x) < f(y) ? -1 : f(x) > f(y) ? 1 : 0));
  const out = records.map((r) => {
    if (r.kind === 'function') return { kind: 'function', library: r.library, engine: r.engine, code: s(r.code) };
    const base = { db: r.db, key: s(r.key), type: r.type, expireAt: r.expireAt };
    switch (r.type) {
      case 'string':
        return { ...base, value: s(r.value) };
      case 'list':
        return { ...base, value: r.value.map(s) };
      case 'set':
        return { ...base, value: r.value.map(s).sort() };
      case 'zset':
        return { ...base, value: sortBy(r.value.map(([m, sc]) => [s(m), Object.is(sc, -0) ? 0 : sc] as const), (x) => x[0]) };
      case 'hash':
        return { ...base, value: sortBy(r.value.map((f) => [s(f.field), s(f.value), f.expireAt] as const), (x) => x[0]) };
      case 'stream': {
        const v = r.value;
        return {
          ...base,
          value: {
            ...v,
            entries: v.entries.map((e) => [e.id, e.fields.map(([f, x]) => [s(f), s(x)])]),
            groups: sortBy(
              v.groups.map((g) => ({
                ...g,
                name: s(g.name),
                entriesRead: o.dropEntriesRead ? null : g.entriesRead,
                pending: g.pending.map((p) => ({ ...p, consumer: s(p.consumer), deliveryTime: o.dropDeliveryTimes ? 0 : p.deliveryTime })),
                consumers: sortBy(
                  g.consumers.map((c) => ({
                    name: s(c.name),
                    seenTime: o.dropConsumerTimes ? 0 : c.seenTime,
                    activeTime: o.dropConsumerTimes ? null : c.activeTime,
                  })),
                  (c) => c.name,
                ),
              })),
              (g) => g.name,
            ),
          },
        };
      }
      default:
        return base;
    }
  });
  const keyOf = (r: unknown) => JSON.stringify(r);
  return sortBy(out, keyOf);
}

type Str = string | { base64: string };
const bytesOf = (x: Str): Uint8Array =>
  typeof x === 'string' ? new TextEncoder().encode(x) : new Uint8Array(Buffer.from(x.base64, 'base64'));
const scoreOf = (x: number | string): number => (x === 'inf' ? Infinity : x === '-inf' ? -Infinity : Number(x));

/** Parses one line of canonical keyspace JSONL (../shared/KEYSPACE-JSONL.md) into the model. */
export function parseKeyspaceLine(line: string): KeyspaceRecord {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const j = JSON.parse(line) as any;
  if ('library' in j) return { kind: 'function', library: j.library, engine: j.engine, code: bytesOf(j.code) };
  const base = { kind: 'key' as const, db: j.db as number, key: bytesOf(j.key), expireAt: j.expireAt as number | null };
  switch (j.type) {
    case 'string':
      return { ...base, type: 'string', value: bytesOf(j.value) };
    case 'list':
    case 'set':
      return { ...base, type: j.type, value: (j.value as Str[]).map(bytesOf) };
    case 'zset':
      return { ...base, type: 'zset', value: (j.value as [Str, number | string][]).map(([m, sc]) => [bytesOf(m), scoreOf(sc)]) };
    case 'hash':
      return {
        ...base,
        type: 'hash',
        value: (j.value as [Str, Str, number?][]).map(([f, v, t]) => ({ field: bytesOf(f), value: bytesOf(v), expireAt: t ?? null })),
      };
    case 'stream': {
      const v = j.value;
      return {
        ...base,
        type: 'stream',
        value: {
          entries: (v.entries as [string, [Str, Str][]][]).map(([id, fs]) => ({ id, fields: fs.map(([f, x]) => [bytesOf(f), bytesOf(x)] as [Uint8Array, Uint8Array]) })),
          length: v.length,
          lastId: v.lastId,
          firstId: v.firstId,
          maxDeletedId: v.maxDeletedId,
          entriesAdded: v.entriesAdded,
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          groups: (v.groups as any[]).map((g) => ({
            name: bytesOf(g.name),
            lastDeliveredId: g.lastDeliveredId,
            entriesRead: g.entriesRead,
            pending: (g.pending as [string, Str, number, number][]).map(([id, c, t, n]) => ({ id, consumer: bytesOf(c), deliveryTime: t, deliveryCount: n })),
            // eslint-disable-next-line @typescript-eslint/no-explicit-any
            consumers: (g.consumers as any[]).map((c) => ({ name: bytesOf(c.name), seenTime: c.seenTime, activeTime: c.activeTime })),
          })),
        },
      };
    }
    default:
      throw new Error(`unsupported type in expected file: ${j.type}`);
  }
}
