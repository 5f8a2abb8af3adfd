// Stream IDs. One representation for code that handles IDs as values: `StreamId` ({ms, seq} as unsigned 64-bit
// bigints). In the file an ID is 16 bytes big-endian (node keys, PEL entries) or two RDB lengths; the keyspace
// model prints it as `<ms>-<seq>`. The parser's hot paths never build a StreamId: they compare and print the 16
// bytes where they lie (streamIdTextAt, u64Text), so the number of BigInts stays independent of the entry count.

/** A stream ID: milliseconds and sequence number, each an unsigned 64-bit integer. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

/** 2^64 - 1, the largest stream ID part. */
export const U64_MAX = (1n << 64n) - 1n;
/** 0-0: an unset max-deleted ID, a group that has delivered nothing. */
export const STREAM_ID_ZERO: StreamId = Object.freeze({ ms: 0n, seq: 0n });
/** The largest ID: what Redis 7 records as the first ID of an empty v1 stream it loads. */
export const STREAM_ID_MAX: StreamId = Object.freeze({ ms: U64_MAX, seq: U64_MAX });
/** Bytes of an ID in the file (node keys, PEL entries). */
export const STREAM_ID_BYTES = 16;

/** `<ms>-<seq>` in decimal, both parts up to 2^64-1, else null. */
export function parseStreamId(text: string): StreamId | null {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(text);
  if (!m) return null;
  const ms = BigInt(m[1]);
  const seq = BigInt(m[2]);
  if (ms > U64_MAX || seq > U64_MAX) return null;
  return { ms, seq };
}

/** A stream ID as Redis prints it: `<ms>-<seq>`. */
export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** Orders two stream IDs: negative, 0 or positive, as `a` comes before, equals or follows `b`. */
export function compareStreamIds(a: StreamId, b: StreamId): number {
  return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

/** The 16-byte big-endian form. */
export function streamIdToBytes(id: StreamId): Uint8Array {
  const out = new Uint8Array(STREAM_ID_BYTES);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, id.ms, false);
  dv.setBigUint64(8, id.seq, false);
  return out;
}

/** The ID in the 16 big-endian bytes at `b[p..p+16)`. */
export function streamIdFromBytes(b: Uint8Array, p = 0): StreamId {
  const dv = new DataView(b.buffer, b.byteOffset + p, STREAM_ID_BYTES);
  return { ms: dv.getBigUint64(0, false), seq: dv.getBigUint64(8, false) };
}

/** Decimal text of the unsigned 64-bit integer `hi * 2^32 + lo` (no BigInt below 2^53). */
export function u64Text(hi: number, lo: number): string {
  return hi < 0x200000 ? String(hi * 4294967296 + lo) : ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** `<ms>-<seq>` of the 16 big-endian bytes at `b[p..p+16)`, without a StreamId in between. */
export function streamIdTextAt(b: Uint8Array, p: number): string {
  const w = (q: number) => ((b[q] << 24) | (b[q + 1] << 16) | (b[q + 2] << 8) | b[q + 3]) >>> 0;
  return `${u64Text(w(p), w(p + 4))}-${u64Text(w(p + 8), w(p + 12))}`;
}

/** What Redis knows of a stream when it estimates a group's entries-read counter. */
export interface StreamCounters {
  length: number;
  entriesAdded: number;
  lastId: StreamId;
  /** The first entry's ID; null when unknown (then an estimate that needs it is invalid). */
  firstId: StreamId | null;
  /** 0-0 (unset) when omitted. */
  maxDeletedId?: StreamId;
}

/**
 * Redis' estimate of a consumer group's entries-read counter from its last-delivered ID (what it derives when it
 * loads a v1 stream, which stores no counter): null where Redis says "invalid" (SCG_INVALID_ENTRIES_READ).
 */
export function estimateEntriesRead(lastDelivered: StreamId, s: StreamCounters): number | null {
  if (s.entriesAdded === 0) return 0;
  const cmpLast = compareStreamIds(lastDelivered, s.lastId);
  if (s.length === 0 && cmpLast <= 0) return s.entriesAdded;
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return null;
  if (s.firstId === null) return null;
  // deletions behind the first entry leave the count of entries before it known
  const maxDel = s.maxDeletedId ?? STREAM_ID_ZERO;
  if (compareStreamIds(maxDel, STREAM_ID_ZERO) !== 0 && compareStreamIds(maxDel, s.firstId) >= 0) return null;
  const cmpFirst = compareStreamIds(lastDelivered, s.firstId);
  if (cmpFirst < 0) return s.entriesAdded - s.length;
  if (cmpFirst === 0) return s.entriesAdded - s.length + 1;
  return null;
}
