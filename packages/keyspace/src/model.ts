// The keyspace value model shared by every package: what the RDB parser yields, what the RDB writer and the AOF
// rewriter consume, what the live-server dump in the tests produces, and what the canonical JSON Lines form
// (../shared/KEYSPACE-JSONL.md) serialises. Byte strings are always Uint8Array.

/** A Redis byte string (key, value, member, field). */
export type Bytes = Uint8Array;

/** A stream ID, written `"<ms>-<seq>"` (both unsigned 64-bit decimals). */
export type StreamIdText = string;

/** A sorted-set score; JSON writes ±Infinity as "inf"/"-inf". */
export type Score = number;

/** A hash field, its value and its own expiry (Redis 7.4+ hash field TTL). */
export interface HashField {
  field: Bytes;
  value: Bytes;
  /** Absolute Unix ms of this field's own expiry (Redis 7.4+ hash field expiration), else null. */
  expireAt: number | null;
}

/** A stream entry: its ID and field/value pairs. */
export interface StreamEntry {
  id: StreamIdText;
  fields: [Bytes, Bytes][];
}

/** An entry of a consumer group's pending list: ID, owning consumer, delivery time and count. */
export interface StreamPendingEntry {
  id: StreamIdText;
  consumer: Bytes;
  deliveryTime: number;
  deliveryCount: number;
}

/** A consumer of a stream group, with its seen and active times. */
export interface StreamConsumer {
  name: Bytes;
  seenTime: number;
  activeTime: number | null;
}

/** A stream consumer group: last delivered ID, entries read, pending entries and consumers. */
export interface StreamGroup {
  name: Bytes;
  lastDeliveredId: StreamIdText;
  entriesRead: number | null;
  pending: StreamPendingEntry[];
  consumers: StreamConsumer[];
}

/** A stream's value: entries, length, first/last/max-deleted IDs, entries added and consumer groups. */
export interface StreamValue {
  entries: StreamEntry[];
  length: number;
  lastId: StreamIdText;
  firstId: StreamIdText | null;
  maxDeletedId: StreamIdText;
  entriesAdded: number;
  groups: StreamGroup[];
  /**
   * Members the source could not report (JSON `null`): a Redis < 7.0 server has no max-deleted ID or
   * entries-added counter. The members named here then hold what Redis 7 derives when it loads such a stream
   * (`maxDeletedId` "0-0", `entriesAdded` = length). Absent (the usual case) means both are reported.
   */
  unreported?: ('maxDeletedId' | 'entriesAdded')[];
}

/** A module type's value, kept as the serialized bytes of the file (it cannot be decoded without the module). */
export interface ModuleValue {
  /** The 9-character module type name (e.g. `ReJSON-RL`). */
  module: string;
  encver: number;
  /** The serialized module value exactly as it stands in the file. */
  raw: Bytes;
}

/** A key's value, tagged by Redis type. */
export type KeyValue =
  | { type: 'string'; value: Bytes }
  | { type: 'list'; value: Bytes[] }
  | { type: 'set'; value: Bytes[] }
  | { type: 'zset'; value: [Bytes, Score][] }
  | { type: 'hash'; value: HashField[] }
  | { type: 'stream'; value: StreamValue }
  | { type: 'module'; value: ModuleValue };

/** A key's type: `string`, `list`, `set`, `zset`, `hash`, `stream` or `module`. */
export type KeyType = KeyValue['type'];

/** One key of the keyspace. */
export type KeyRecord = KeyValue & {
  db: number;
  key: Bytes;
  /** Absolute Unix ms of the key's expiry, or null. */
  expireAt: number | null;
  /** Optional object encoding (e.g. `listpack`); not part of the canonical form. */
  encoding?: string;
};

/** A Redis 7+ function library. */
export interface FunctionRecord {
  library: string;
  engine: string;
  code: Bytes;
}

/** A line of keyspace JSON Lines: a function library or a key. */
export type KeyspaceRecord = ({ kind: 'function' } & FunctionRecord) | ({ kind: 'key' } & KeyRecord);

/**
 * A record as a chunking producer hands it out: `partial: true` means more pieces of the same key follow. A list,
 * set, zset or hash piece holds the next elements. A stream piece holds its next entries, then group parts: a part
 * whose name is that of the previous piece's last group goes on with that group (its consumers and pending entries
 * add to it); the stream's metadata is taken from the last piece. (The RDB parser's `chunkElements` makes these.)
 * A string piece (the RDB parser's `stringPieceBytes`, only for consumers that ask for them) holds the next bytes
 * of the string; every piece of such a string, the last (not partial) included, carries its whole `stringLength`.
 */
export type KeyspacePiece = KeyspaceRecord & { partial?: boolean; stringLength?: number };
