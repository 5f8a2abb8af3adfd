// Canonical order of records and of the members inside a value (KEYSPACE-JSONL.md).
import type {
  Bytes,
  HashField,
  KeyRecord,
  KeyspaceRecord,
  Score,
  StreamConsumer,
  StreamEntry,
  StreamGroup,
  StreamPendingEntry,
  StreamValue,
} from './model.js';

/** Unsigned bytewise comparison, like `Buffer.compare`. */
export function compareBytes(a: Bytes, b: Bytes): number {
  const n = a.length < b.length ? a.length : b.length;
  if (n > 32) return Buffer.compare(a, b);
  // Short keys and members: a JS loop beats the native call.
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

const textEncoder = new TextEncoder();

function compareText(a: string, b: string): number {
  // Library names are ASCII in practice; compare UTF-8 bytes so the order never depends on UTF-16 units.
  return a === b ? 0 : compareBytes(textEncoder.encode(a), textEncoder.encode(b));
}

/** 2^64 - 1: the largest half of a stream ID. */
const U64_MAX = '18446744073709551615';

/** Whether `id` is a stream ID in canonical `<ms>-<seq>` form (both unsigned 64-bit decimals, no leading zeros). */
export function isStreamId(id: string): boolean {
  // a scan (no match objects: every entry and pending entry of a stream goes through here)
  if (typeof id !== 'string') return false;
  const dash = id.indexOf('-');
  return dash > 0 && u64Digits(id, 0, dash) && u64Digits(id, dash + 1, id.length);
}

/** `text[s..e)` is `0` or 1-20 digits without a leading zero, at most 2^64 - 1. */
function u64Digits(text: string, s: number, e: number): boolean {
  const n = e - s;
  if (n < 1 || n > 20 || (n > 1 && text.charCodeAt(s) === 0x30)) return false;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return n < 20 || text.slice(s, e) <= U64_MAX;
}

function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Numeric order of two canonical stream IDs. */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0;
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  return compareDecimal(a.slice(0, da), b.slice(0, db)) || compareDecimal(a.slice(da + 1), b.slice(db + 1));
}

/** Sorted-set order: by score, ties by member bytes. */
export function compareZsetPairs(a: [Bytes, Score], b: [Bytes, Score]): number {
  const sa = a[1];
  const sb = b[1];
  if (sa < sb) return -1;
  if (sa > sb) return 1;
  return compareBytes(a[0], b[0]);
}

/**
 * Canonical record order: function libraries first (by name bytes), then keys by db number, then by key bytes
 * (unsigned).
 */
export function compareKeyspaceRecords(a: KeyspaceRecord, b: KeyspaceRecord): number {
  if (a.kind === 'function') {
    return b.kind === 'function' ? compareText(a.library, b.library) : -1;
  }
  if (b.kind === 'function') return 1;
  if (a.db !== b.db) return a.db < b.db ? -1 : 1;
  return compareBytes(a.key, b.key);
}

function isSorted<T>(items: readonly T[], cmp: (a: T, b: T) => number): boolean {
  for (let i = 1; i < items.length; i++) if (cmp(items[i - 1]!, items[i]!) > 0) return false;
  return true;
}

function sortedCopy<T>(items: readonly T[], cmp: (a: T, b: T) => number): T[] {
  return isSorted(items, cmp) ? (items as T[]) : [...items].sort(cmp);
}

const byBytes = compareBytes;
const byField = (a: HashField, b: HashField): number => compareBytes(a.field, b.field);
const byEntryId = (a: StreamEntry, b: StreamEntry): number => compareStreamIds(a.id, b.id);
const byPendingId = (a: StreamPendingEntry, b: StreamPendingEntry): number => compareStreamIds(a.id, b.id);
const byConsumerName = (a: StreamConsumer, b: StreamConsumer): number => compareBytes(a.name, b.name);
const byGroupName = (a: StreamGroup, b: StreamGroup): number => compareBytes(a.name, b.name);

function canonicalZset(value: [Bytes, Score][]): [Bytes, Score][] {
  let out = value;
  for (let i = 0; i < value.length; i++) {
    if (Object.is(value[i]![1], -0)) {
      out = value.map(([m, s]) => [m, s === 0 ? 0 : s]);
      break;
    }
  }
  return sortedCopy(out, compareZsetPairs);
}

function canonicalGroup(g: StreamGroup): StreamGroup {
  const pending = sortedCopy(g.pending, byPendingId);
  const consumers = sortedCopy(g.consumers, byConsumerName);
  return pending === g.pending && consumers === g.consumers ? g : { ...g, pending, consumers };
}

function canonicalUnreported(s: StreamValue): Partial<StreamValue> | null {
  const u = s.unreported;
  if (u === undefined) return null;
  const maxDel = u.includes('maxDeletedId');
  const added = u.includes('entriesAdded');
  const want: ('maxDeletedId' | 'entriesAdded')[] = [];
  if (maxDel) want.push('maxDeletedId');
  if (added) want.push('entriesAdded');
  const fix: Partial<StreamValue> = {};
  let changed = false;
  if (want.length === 0) {
    changed = true; // an empty list means the same as none
  } else if (want.length !== u.length || want.some((w, i) => u[i] !== w)) {
    changed = true;
    fix.unreported = want;
  }
  if (maxDel && s.maxDeletedId !== '0-0') {
    fix.maxDeletedId = '0-0';
    changed = true;
  }
  if (added && s.entriesAdded !== s.length) {
    fix.entriesAdded = s.length;
    changed = true;
  }
  return changed ? fix : null;
}

function canonicalStream(s: StreamValue): StreamValue {
  const entries = sortedCopy(s.entries, byEntryId);
  let groups = s.groups.map(canonicalGroup);
  if (groups.every((g, i) => g === s.groups[i])) groups = s.groups;
  groups = sortedCopy(groups, byGroupName);
  const fix = canonicalUnreported(s);
  if (entries === s.entries && groups === s.groups && fix === null) return s;
  const out: StreamValue = { ...s, entries, groups, ...fix };
  if (fix !== null && fix.unreported === undefined && s.unreported !== undefined && s.unreported.length === 0) delete out.unreported;
  return out;
}

/**
 * Puts a record's value in canonical form: set members, hash fields, stream groups, consumers and pending
 * entries sorted by bytes/ID, zset pairs by score then member, `-0` scores as `0`. Returns the record itself when
 * it already is canonical, else a shallow copy; never mutates its argument.
 */
export function canonicalizeRecord<T extends KeyspaceRecord>(rec: T): T {
  if (rec.kind !== 'key') return rec;
  const key = rec as KeyRecord & { kind: 'key' };
  switch (key.type) {
    case 'set': {
      const value = sortedCopy(key.value, byBytes);
      return (value === key.value ? rec : { ...rec, value }) as T;
    }
    case 'zset': {
      const value = canonicalZset(key.value);
      return (value === key.value ? rec : { ...rec, value }) as T;
    }
    case 'hash': {
      const value = sortedCopy(key.value, byField);
      return (value === key.value ? rec : { ...rec, value }) as T;
    }
    case 'stream': {
      const value = canonicalStream(key.value);
      return (value === key.value ? rec : { ...rec, value }) as T;
    }
    default:
      return rec;
  }
}
