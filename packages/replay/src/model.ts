// The replayed keyspace in compact form: byte strings stay Uint8Array, collections keyed by bytes use BytesMap
// (no JS string per element), stream IDs are 128-bit BigInts (ms << 64 | seq).
import type { ModuleValue } from '@redis-persist/keyspace';
import { BytesMap } from './bytes-map.js';

export class StreamState {
  ids: bigint[] = [];
  /** Per entry: field, value, field, value... */
  fields: Uint8Array[][] = [];
  lastId = 0n;
  maxDeletedId = 0n;
  entriesAdded = 0;
  groups = new BytesMap<GroupState>();

  get length(): number {
    return this.ids.length;
  }

  /** Index of the first entry with id >= `id`. */
  lowerBound(id: bigint): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(id: bigint): boolean {
    const i = this.lowerBound(id);
    return i < this.ids.length && this.ids[i] === id;
  }

  clone(): StreamState {
    const s = new StreamState();
    s.ids = this.ids.slice();
    s.fields = this.fields.slice();
    s.lastId = this.lastId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    for (let i = 0; i < this.groups.size; i++) {
      const g = this.groups.values[i];
      const ng: GroupState = { name: g.name, lastId: g.lastId, entriesRead: g.entriesRead, pel: new Map(), consumers: new BytesMap() };
      for (let j = 0; j < g.consumers.size; j++) ng.consumers.set(g.consumers.keys[j], { ...g.consumers.values[j] });
      for (const [id, n] of g.pel) ng.pel.set(id, { ...n });
      s.groups.set(g.name, ng);
    }
    return s;
  }
}

export interface PendingState {
  consumer: Uint8Array;
  deliveryTime: number;
  deliveryCount: number;
}

export interface ConsumerState {
  name: Uint8Array;
  seenTime: number;
  activeTime: number | null;
}

export interface GroupState {
  name: Uint8Array;
  lastId: bigint;
  /** -1 when unknown (Redis' SCG_INVALID_ENTRIES_READ). */
  entriesRead: number;
  pel: Map<bigint, PendingState>;
  consumers: BytesMap<ConsumerState>;
}

export type Value =
  | { type: 'string'; v: Uint8Array }
  | { type: 'list'; v: Uint8Array[] }
  | { type: 'set'; v: BytesMap<true> }
  | { type: 'zset'; v: BytesMap<number> }
  | { type: 'hash'; v: BytesMap<Uint8Array>; ttl: BytesMap<number> | null }
  | { type: 'stream'; v: StreamState }
  | { type: 'module'; v: ModuleValue };

export interface Entry {
  value: Value;
  expireAt: number | null;
}

export const SEQ_BITS = 64n;
export const SEQ_MASK = (1n << 64n) - 1n;
export const MAX_ID = (SEQ_MASK << SEQ_BITS) | SEQ_MASK;

export function idText(id: bigint): string {
  return `${id >> SEQ_BITS}-${id & SEQ_MASK}`;
}

export function parseIdText(s: string): bigint {
  const dash = s.indexOf('-');
  return (BigInt(s.slice(0, dash)) << SEQ_BITS) | BigInt(s.slice(dash + 1));
}

export function cloneValue(v: Value): Value {
  switch (v.type) {
    case 'string':
    case 'module':
      return v;
    case 'list':
      return { type: 'list', v: v.v.slice() };
    case 'set': {
      const m = new BytesMap<true>();
      for (const k of v.v.keys) m.set(k, true);
      return { type: 'set', v: m };
    }
    case 'zset': {
      const m = new BytesMap<number>();
      for (let i = 0; i < v.v.size; i++) m.set(v.v.keys[i], v.v.values[i]);
      return { type: 'zset', v: m };
    }
    case 'hash': {
      const m = new BytesMap<Uint8Array>();
      for (let i = 0; i < v.v.size; i++) m.set(v.v.keys[i], v.v.values[i]);
      let ttl: BytesMap<number> | null = null;
      if (v.ttl !== null && v.ttl.size > 0) {
        ttl = new BytesMap<number>();
        for (let i = 0; i < v.ttl.size; i++) ttl.set(v.ttl.keys[i], v.ttl.values[i]);
      }
      return { type: 'hash', v: m, ttl };
    }
    case 'stream':
      return { type: 'stream', v: v.v.clone() };
  }
}
