import type { KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { parseRdbBatchesMapped, parseRdbMapped, type RdbSource } from './api.js';
import type { RdbRecord } from './types.js';
import type { ReadRdbOptions } from './types.js';

/** Options of {@link rdbKeyspaceRecords}: those of {@link readRdb} plus encodings and functions. */
export interface RdbKeyspaceOptions extends Omit<ReadRdbOptions, 'values'> {
  /** Add the file's encoding of each key as `encoding` (not part of the canonical form). */
  encoding?: boolean;
  /** Include function libraries (default true). */
  functions?: boolean;
}

/**
 * The keyspace an RDB holds, as `@redis-persist/keyspace` records in file order (functions and keys). With
 * `dropExpiredBefore: Date.now()` it is what a loading master keeps; empty collections are skipped as Redis 7 does.
 * With `chunkElements`, the pieces of a big collection carry `partial: true` (all but the last).
 *
 * @example
 * ```ts
 * for await (const rec of rdbKeyspaceRecords('dump.rdb', { dropExpiredBefore: Date.now() })) {
 *   if (rec.kind === 'key' && rec.type === 'hash') console.log(Buffer.from(rec.key).toString(), rec.value.length);
 * }
 * ```
 */
export function rdbKeyspaceRecords(source: RdbSource, options: RdbKeyspaceOptions = {}): AsyncGenerator<KeyspaceRecord> {
  // mapped inside the parser's generator: one async step per record, not two
  return parseRdbMapped(source, { ...options, values: true }, keyspaceMap(options));
}

/**
 * {@link rdbKeyspaceRecords} in arrays (up to 128 records or about 2048 elements each, a piece of a big key ending
 * one): one async step per batch instead of one per record, for consumers that go through millions of records.
 */
export function rdbKeyspaceRecordBatches(source: RdbSource, options: RdbKeyspaceOptions = {}): AsyncGenerator<KeyspacePiece[]> {
  return parseRdbBatchesMapped(source, { ...options, values: true }, keyspaceMap(options));
}

function keyspaceMap(options: RdbKeyspaceOptions): (r: RdbRecord) => KeyspaceRecord | undefined {
  const withFunctions = options.functions ?? true;
  const encoding = options.encoding === true;
  return (r) => {
    if (r.kind === 'function') {
      return withFunctions ? { kind: 'function', ...r.function } : undefined;
    } else if (r.kind === 'key' && r.value) {
      // spelled out, not spread: one object shape for every key record (the value is always { type, value })
      const rec = { kind: 'key', db: r.db, key: r.key, expireAt: r.expireAt, type: r.value.type, value: r.value.value } as KeyspaceRecord;
      if (encoding && rec.kind === 'key') rec.encoding = r.encoding;
      // with chunkElements: more pieces of this key follow (see KeyspacePiece in @redis-persist/keyspace)
      if (r.partial) (rec as KeyspacePiece).partial = true;
      // with stringPieceBytes: a string in pieces (every piece, the last too, has its whole length)
      if (r.stringLength !== undefined) (rec as KeyspacePiece).stringLength = r.stringLength;
      return rec;
    }
    return undefined;
  };
}
