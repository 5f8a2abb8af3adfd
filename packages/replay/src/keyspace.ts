// The keyspace a replay builds, and the commands that change it, with Redis 7.x semantics as an AOF load
// applies them (nothing expires while loading; relative times count from `now`).
import type { FunctionRecord, KeyRecord, KeyValue, KeyspaceRecord, StreamValue } from '@redis-persist/keyspace';
import { BytesMap, bytesEqual } from './bytes-map.js';
import { type Entry, type Value, StreamState, cloneValue, idText, parseIdText } from './model.js';
import { text } from './numbers.js';

/** A command Redis would answer with an error: it changes nothing. */
export class CommandFailed extends Error {}

export function fail(message: string): never {
  throw new CommandFailed(message);
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

export interface RecordsOptions {
  /** Leave out keys (and hash fields) whose expiry is at or before this Unix ms time (default: keep all). */
  dropExpiredAt?: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export class ReplayKeyspace {
  readonly dbs = new Map<number, BytesMap<Entry>>();
  readonly functions = new Map<string, FunctionRecord>();

  db(n: number): BytesMap<Entry> {
    let d = this.dbs.get(n);
    if (d === undefined) this.dbs.set(n, (d = new BytesMap<Entry>()));
    return d;
  }

  lookup(db: number, key: Uint8Array): Entry | undefined {
    return this.dbs.get(db)?.get(key);
  }

  /** The value of `type` at key, undefined when absent; a CommandFailed WRONGTYPE for another type. */
  typed<T extends Value['type']>(db: number, key: Uint8Array, type: T): (Entry & { value: Extract<Value, { type: T }> }) | undefined {
    const e = this.lookup(db, key);
    if (e === undefined) return undefined;
    if (e.value.type !== type) fail(WRONGTYPE);
    return e as Entry & { value: Extract<Value, { type: T }> };
  }

  /** Sets a key's value, clearing its expiry (setKey without KEEPTTL). */
  setKey(db: number, key: Uint8Array, value: Value, expireAt: number | null = null): void {
    this.db(db).set(key, { value, expireAt });
  }

  delete(db: number, key: Uint8Array): boolean {
    return this.dbs.get(db)?.delete(key) !== undefined;
  }

  /** Deletes the key when its collection became empty. */
  dropIfEmpty(db: number, key: Uint8Array): void {
    const e = this.lookup(db, key);
    if (e === undefined) return;
    const v = e.value;
    const empty =
      (v.type === 'list' && v.v.length === 0) || ((v.type === 'set' || v.type === 'zset' || v.type === 'hash') && v.v.size === 0);
    if (empty) this.delete(db, key);
  }

  flushAll(): void {
    this.dbs.clear();
  }

  copyValue(v: Value): Value {
    return cloneValue(v);
  }

  /** Keys per database (including keys whose expiry has passed). */
  keyCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [n, d] of [...this.dbs].sort((a, b) => a[0] - b[0])) if (d.size > 0) out.set(n, d.size);
    return out;
  }

  /** Whether some hash field carries its own expiry (Redis 7.4+, RDB 12). */
  hasHashFieldTtls(): boolean {
    for (const d of this.dbs.values()) for (const e of d.values) if (e.value.type === 'hash' && e.value.ttl !== null && e.value.ttl.size > 0) return true;
    return false;
  }

  get keyCount(): number {
    let n = 0;
    for (const d of this.dbs.values()) n += d.size;
    return n;
  }

  /**
   * The keyspace as records in canonical order: function libraries by name, then keys by db and key bytes,
   * collections in canonical element order.
   */
  *records(options: RecordsOptions = {}): Generator<KeyspaceRecord> {
    const fns = [...this.functions.values()].sort((a, b) => (a.library < b.library ? -1 : a.library > b.library ? 1 : 0));
    for (const f of fns) yield { kind: 'function', ...f };
    const cut = options.dropExpiredAt;
    for (const n of [...this.dbs.keys()].sort((a, b) => a - b)) {
      const d = this.dbs.get(n)!;
      const order = Array.from({ length: d.size }, (_, i) => i).sort((a, b) => compareBytes(d.keys[a], d.keys[b]));
      for (const i of order) {
        const e = d.values[i];
        if (cut !== undefined && e.expireAt !== null && e.expireAt <= cut) continue;
        const rec = toKeyRecord(n, d.keys[i], e, cut);
        if (rec !== null) yield { kind: 'key', ...rec };
      }
    }
  }

  /** Loads one key as the RDB parser models it. */
  loadKey(db: number, key: Uint8Array, value: KeyValue, expireAt: number | null): void {
    const v = fromKeyValue(value);
    if (v !== null) this.setKey(db, key, v, expireAt);
  }
}

function sortedKeys(m: BytesMap<unknown>): number[] {
  return Array.from({ length: m.size }, (_, i) => i).sort((a, b) => compareBytes(m.keys[a], m.keys[b]));
}

export function zsetOrder(m: BytesMap<number>): number[] {
  return Array.from({ length: m.size }, (_, i) => i).sort((a, b) => m.values[a] - m.values[b] || compareBytes(m.keys[a], m.keys[b]));
}

function toKeyRecord(db: number, key: Uint8Array, e: Entry, cut: number | undefined): KeyRecord | null {
  const base = { db, key, expireAt: e.expireAt };
  const v = e.value;
  switch (v.type) {
    case 'string':
      return { ...base, type: 'string', value: v.v };
    case 'list':
      return { ...base, type: 'list', value: v.v.slice() };
    case 'set':
      return { ...base, type: 'set', value: sortedKeys(v.v).map((i) => v.v.keys[i]) };
    case 'zset':
      return { ...base, type: 'zset', value: zsetOrder(v.v).map((i) => [v.v.keys[i], v.v.values[i]] as [Uint8Array, number]) };
    case 'hash': {
      const fields = [];
      for (const i of sortedKeys(v.v)) {
        const f = v.v.keys[i];
        const ttl = v.ttl?.get(f) ?? null;
        if (cut !== undefined && ttl !== null && ttl <= cut) continue;
        fields.push({ field: f, value: v.v.values[i], expireAt: ttl });
      }
      if (fields.length === 0) return null;
      return { ...base, type: 'hash', value: fields };
    }
    case 'stream':
      return { ...base, type: 'stream', value: streamValue(v.v) };
    case 'module':
      return { ...base, type: 'module', value: v.v };
  }
}

function streamValue(s: StreamState): StreamValue {
  const entries = s.ids.map((id, i) => {
    const flat = s.fields[i];
    const fields: [Uint8Array, Uint8Array][] = [];
    for (let j = 0; j + 1 < flat.length; j += 2) fields.push([flat[j], flat[j + 1]]);
    return { id: idText(id), fields };
  });
  const groups = sortedKeys(s.groups).map((gi) => {
    const g = s.groups.values[gi];
    const pending = [...g.pel.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([id, p]) => ({ id: idText(id), consumer: p.consumer, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount }));
    const consumers = sortedKeys(g.consumers).map((ci) => {
      const c = g.consumers.values[ci];
      return { name: c.name, seenTime: c.seenTime, activeTime: c.activeTime };
    });
    return { name: g.name, lastDeliveredId: idText(g.lastId), entriesRead: g.entriesRead < 0 ? null : g.entriesRead, pending, consumers };
  });
  return {
    entries,
    length: s.ids.length,
    lastId: idText(s.lastId),
    firstId: idText(s.ids.length > 0 ? s.ids[0] : 0n),
    maxDeletedId: idText(s.maxDeletedId),
    entriesAdded: s.entriesAdded,
    groups,
  };
}

function fromKeyValue(value: KeyValue): Value | null {
  switch (value.type) {
    case 'string':
      return { type: 'string', v: value.value };
    case 'list':
      return value.value.length === 0 ? null : { type: 'list', v: value.value.slice() };
    case 'set': {
      const m = new BytesMap<true>();
      for (const x of value.value) m.set(x, true);
      return m.size === 0 ? null : { type: 'set', v: m };
    }
    case 'zset': {
      const m = new BytesMap<number>();
      for (const [x, s] of value.value) m.set(x, s);
      return m.size === 0 ? null : { type: 'zset', v: m };
    }
    case 'hash': {
      const m = new BytesMap<Uint8Array>();
      let ttl: BytesMap<number> | null = null;
      for (const h of value.value) {
        m.set(h.field, h.value);
        if (h.expireAt !== null && h.expireAt !== undefined) (ttl ??= new BytesMap<number>()).set(h.field, h.expireAt);
      }
      return m.size === 0 ? null : { type: 'hash', v: m, ttl };
    }
    case 'stream': {
      const sv = value.value;
      const s = new StreamState();
      for (const e of sv.entries) {
        s.ids.push(parseIdText(e.id));
        s.fields.push(e.fields.flat());
      }
      s.lastId = parseIdText(sv.lastId);
      s.maxDeletedId = parseIdText(sv.maxDeletedId);
      s.entriesAdded = sv.entriesAdded;
      for (const g of sv.groups) {
        const consumers = new BytesMap<{ name: Uint8Array; seenTime: number; activeTime: number | null }>();
        for (const c of g.consumers) consumers.set(c.name, { name: c.name, seenTime: c.seenTime, activeTime: c.activeTime });
        const pel = new Map<bigint, { consumer: Uint8Array; deliveryTime: number; deliveryCount: number }>();
        for (const p of g.pending) {
          pel.set(parseIdText(p.id), { consumer: p.consumer, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount });
          if (!consumers.has(p.consumer)) consumers.set(p.consumer, { name: p.consumer, seenTime: p.deliveryTime, activeTime: null });
        }
        s.groups.set(g.name, { name: g.name, lastId: parseIdText(g.lastDeliveredId), entriesRead: g.entriesRead ?? -1, pel, consumers });
      }
      return { type: 'stream', v: s };
    }
    case 'module':
      return { type: 'module', v: value.value };
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b);
}

/** Lower-case ASCII text of a (short) argument: command names and options. */
export function lower(b: Uint8Array): string {
  if (b.length > 24) return text(b).toLowerCase();
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  }
  return s;
}
