// Records handed to the writers one by one (any iterable) or in arrays (one async step per array, not per record:
// what `dumpRdb` reads from the parser, see rdbKeyspaceRecordBatches).
import type { ChunkWriter } from '@redis-persist/jsonl';
import type { KeyspacePiece } from '@redis-persist/keyspace';

/** Records one by one, as the public writers take them. */
export type RecordSource = AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece>;

/** Records in arrays: the writers go through each array without an async step per record. */
export class RecordBatches {
  constructor(readonly batches: AsyncIterable<readonly KeyspacePiece[]>) {}
}

/**
 * What to `for await` over, and how each item becomes an array of records: the batches themselves, or each record
 * in a one-element array (reused: valid until the next item).
 */
export function batchReader(records: RecordSource | RecordBatches): {
  items: AsyncIterable<KeyspacePiece | readonly KeyspacePiece[]> | Iterable<KeyspacePiece | readonly KeyspacePiece[]>;
  batch: (item: KeyspacePiece | readonly KeyspacePiece[]) => readonly KeyspacePiece[];
} {
  if (records instanceof RecordBatches) return { items: records.batches, batch: (item) => item as readonly KeyspacePiece[] };
  const one: KeyspacePiece[] = [];
  return {
    items: records,
    batch: (item) => {
      one[0] = item as KeyspacePiece;
      return one;
    },
  };
}

/**
 * The sorting side of a direct transcoder (a parser `KeyVisitor` that also writes its keys, JsonlKeyVisitor, RespKeyVisitor):
 * the canonical writers attach it to a writer of their own and a sink; it writes each key it takes into `w` and,
 * once the key is complete, calls `sorted(sortKey, w)` (sort key: 1, the db as 4 big-endian bytes, the key bytes;
 * w then holds just that key's output, which the sink takes, resetting w). A key it cancels leaves nothing in w.
 */
export interface SortedKeyWriter {
  /** From now on, write each key taken into `w` and hand it to `sorted` once complete (see the interface). */
  attach(w: ChunkWriter, sorted: (sortKey: Uint8Array, w: ChunkWriter) => void): void;
}
