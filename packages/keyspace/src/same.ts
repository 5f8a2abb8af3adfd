// Keyspace comparison with human-readable differences, for tests and `check` commands.
import { bytesEqual } from '@redis-persist/bytes';
import { isUtf8 } from 'node:buffer';
import { canonicalizeRecord, compareBytes, compareKeyspaceRecords, compareStreamIds } from './canonical.js';
import type { Bytes, KeyRecord, KeyspaceRecord } from './model.js';

/** What {@link sameKeyspace} may be told to ignore. */
export type SameKeyspaceIgnore = 'encoding' | 'streamConsumerTimes';

/** Options of {@link sameKeyspace}: what to ignore, how many differences to report. */
export interface SameKeyspaceOptions {
  /**
   * `encoding`: ignore `encoding` members (otherwise they are compared when both records carry one);
   * `streamConsumerTimes`: ignore consumers' `seenTime`/`activeTime` (they become the load time when a server
   * replays an AOF).
   */
  ignore?: SameKeyspaceIgnore[];
  /** How many differences to describe at most (default 50). */
  maxDiffs?: number;
}

/** The result of {@link sameKeyspace}: equal or not, and the first differences. */
export interface SameKeyspaceResult {
  equal: boolean;
  /** The first differences, e.g. `db 0 key "k": value[2] differs: "a" vs "b"`. */
  diff: string[];
}

const PREVIEW = 60;

function showBytes(b: Bytes): string {
  if (isUtf8(b)) {
    const s = Buffer.from(b).toString('utf8');
    return s.length > PREVIEW ? `${JSON.stringify(s.slice(0, PREVIEW))}… (${b.length} bytes)` : JSON.stringify(s);
  }
  const s = Buffer.from(b).toString('base64');
  return s.length > PREVIEW ? `base64:${s.slice(0, PREVIEW)}… (${b.length} bytes)` : `base64:${s}`;
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return showBytes(v);
  if (v === undefined) return 'nothing';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : Number.isNaN(v) ? 'NaN' : '-inf';
  if (Array.isArray(v)) return `[${v.length} item${v.length === 1 ? '' : 's'}]`;
  if (v && typeof v === 'object') return '{…}';
  return JSON.stringify(v);
}

type ItemKey = { bytes: Bytes } | { id: string };

/** The identity of a collection item that is sorted by it (hash field, zset member, group, consumer, entry...). */
function keyOf(item: unknown): ItemKey | null {
  if (!item || typeof item !== 'object' || Array.isArray(item) || item instanceof Uint8Array) return null;
  const o = item as Record<string, unknown>;
  if (o.field instanceof Uint8Array) return { bytes: o.field };
  if (o.name instanceof Uint8Array) return { bytes: o.name };
  if (o.member instanceof Uint8Array) return { bytes: o.member };
  if (typeof o.id === 'string') return { id: o.id };
  return null;
}

function compareKeys(a: ItemKey, b: ItemKey): number {
  if ('bytes' in a && 'bytes' in b) return compareBytes(a.bytes, b.bytes);
  if ('id' in a && 'id' in b) return compareStreamIds(a.id, b.id);
  return 0;
}

function showKey(k: ItemKey): string {
  return 'bytes' in k ? showBytes(k.bytes) : k.id;
}

/** Merge-walks two collections sorted by item key: reports items on one side only, or the first inner difference. */
function keyedDiff(a: unknown[], b: unknown[], path: string): string | null {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const ka = i < a.length ? keyOf(a[i]) : null;
    const kb = j < b.length ? keyOf(b[j]) : null;
    const c = ka === null ? 1 : kb === null ? -1 : compareKeys(ka, kb);
    if (c < 0) return `${path}[${showKey(ka!)}]: only in the first`;
    if (c > 0) return `${path}[${showKey(kb!)}]: only in the second`;
    const d = firstDiff(a[i], b[j], `${path}[${showKey(ka!)}]`);
    if (d !== null) return d;
    i++;
    j++;
  }
  return null;
}

/** First difference between two model values, as `path: a vs b`, or null when equal. */
function firstDiff(a: unknown, b: unknown, path: string): string | null {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (a instanceof Uint8Array && b instanceof Uint8Array && bytesEqual(a, b)) return null;
    return `${path}: ${show(a)} vs ${show(b)}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if ((a.length > 0 || b.length > 0) && a.every((x) => keyOf(x) !== null) && b.every((x) => keyOf(x) !== null)) return keyedDiff(a, b, path);
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const d = firstDiff(a[i], b[i], `${path}[${i}]`);
      if (d !== null) return a.length === b.length ? d : `${d} (lengths ${a.length} vs ${b.length})`;
    }
    if (a.length !== b.length) return `${path}: ${a.length} vs ${b.length} items (item [${n}] is only in the ${a.length > b.length ? 'first' : 'second'})`;
    return null;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const oa = a as Record<string, unknown>;
    const ob = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(oa), ...Object.keys(ob)]);
    for (const k of keys) {
      const d = firstDiff(oa[k], ob[k], path ? `${path}.${k}` : k);
      if (d !== null) return d;
    }
    return null;
  }
  if (Object.is(a, b) || (a === 0 && b === 0)) return null;
  return `${path}: ${show(a)} vs ${show(b)}`;
}

function recordName(r: KeyspaceRecord): string {
  return r.kind === 'function' ? `function library ${JSON.stringify(r.library)}` : `db ${r.db} key ${showBytes(r.key)}`;
}

function comparable(r: KeyspaceRecord, ignore: ReadonlySet<SameKeyspaceIgnore>): Record<string, unknown> {
  if (r.kind === 'function') return { library: r.library, engine: r.engine, code: r.code };
  const k = r as KeyRecord;
  const out: Record<string, unknown> = { type: k.type, expireAt: k.expireAt, value: k.value };
  // Sets and zsets are compared by member, so a difference reads "member x only in the first".
  if (k.type === 'set') out.value = k.value.map((member) => ({ member }));
  if (k.type === 'zset') out.value = [...k.value].sort((x, y) => compareBytes(x[0], y[0])).map(([member, score]) => ({ member, score }));
  if (k.type === 'stream' && ignore.has('streamConsumerTimes')) {
    out.value = {
      ...k.value,
      groups: k.value.groups.map((g) => ({ ...g, consumers: g.consumers.map((c) => ({ name: c.name })) })),
    };
  }
  return out;
}

/**
 * Compares two keyspaces (any order; values are canonicalised first) and describes the first differences:
 * records only on one side, then per record the first differing member (type, expiry, value path, encoding).
 */
export function sameKeyspace(a: KeyspaceRecord[], b: KeyspaceRecord[], options: SameKeyspaceOptions = {}): SameKeyspaceResult {
  const ignore = new Set(options.ignore ?? []);
  const max = options.maxDiffs ?? 50;
  const sa = a.map((r) => canonicalizeRecord(r)).sort(compareKeyspaceRecords);
  const sb = b.map((r) => canonicalizeRecord(r)).sort(compareKeyspaceRecords);
  const diff: string[] = [];
  let equal = true;
  const note = (s: string): void => {
    equal = false;
    if (diff.length < max) diff.push(s);
  };
  let i = 0;
  let j = 0;
  while (i < sa.length || j < sb.length) {
    const ra = sa[i];
    const rb = sb[j];
    const c = ra === undefined ? 1 : rb === undefined ? -1 : compareKeyspaceRecords(ra, rb);
    if (c < 0) {
      note(`${recordName(ra!)}: only in the first keyspace`);
      i++;
      continue;
    }
    if (c > 0) {
      note(`${recordName(rb!)}: only in the second keyspace`);
      j++;
      continue;
    }
    const d = firstDiff(comparable(ra!, ignore), comparable(rb!, ignore), '');
    if (d !== null) note(`${recordName(ra!)}: ${d}`);
    else if (!ignore.has('encoding') && ra!.kind === 'key' && rb!.kind === 'key') {
      if (ra.encoding !== undefined && rb.encoding !== undefined && ra.encoding !== rb.encoding) {
        note(`${recordName(ra)}: encoding: ${ra.encoding} vs ${rb.encoding}`);
      }
    }
    i++;
    j++;
  }
  return { equal, diff };
}
