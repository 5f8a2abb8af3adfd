// Records for a restore: an RDB's keys with the LRU/LFU hints of the file (IDLE / FREQ opcodes), which RESTORE can
// pass on (IDLETIME / FREQ); and a pre-pass finding elements no command can carry.
import type { KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { readRdb, type RdbKeyspaceOptions, type RdbSource } from '@redis-persist/rdb';
import { longestElement } from './restore-pieces.js';

/** A record to restore: a keyspace record (or piece of one), with the idle time or LFU counter the source kept. */
export type RestoreRecord = KeyspacePiece & {
  /** LRU idle seconds (RDB opcode IDLE): `RESTORE ... IDLETIME`. */
  idle?: number;
  /** LFU counter (RDB opcode FREQ): `RESTORE ... FREQ`. */
  freq?: number;
};

/** Like `rdbKeyspaceRecords` of `@redis-persist/rdb`, each key with `idle`/`freq` when the file has them. */
export async function* rdbRestoreRecords(source: RdbSource, options: RdbKeyspaceOptions = {}): AsyncGenerator<RestoreRecord> {
  const withFunctions = options.functions ?? true;
  for await (const r of readRdb(source, { ...options, values: true })) {
    if (r.kind === 'function') {
      if (withFunctions) yield { kind: 'function', ...r.function };
    } else if (r.kind === 'key' && r.value) {
      const rec = { kind: 'key', db: r.db, key: r.key, expireAt: r.expireAt, ...r.value } as RestoreRecord;
      if (r.partial) rec.partial = true;
      if (r.idle !== undefined) rec.idle = r.idle;
      if (r.freq !== undefined) rec.freq = r.freq;
      yield rec;
    }
  }
}

/** A key holding an element (string value, member, field, value) longer than `maxBulkLength`. */
export interface OversizedElement {
  db: number;
  key: Uint8Array;
  type: string;
  length: number;
}

/** The first key of `records` with an element longer than `maxBulkLength` (which only EVAL can build), or null. */
export async function findOversizedElement(records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>, maxBulkLength: number): Promise<OversizedElement | null> {
  for await (const r of records) {
    if (r.kind !== 'key') continue;
    const n = longestElement(r);
    if (n > maxBulkLength) return { db: r.db, key: r.key, type: r.type, length: n };
  }
  return null;
}
