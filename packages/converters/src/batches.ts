// Records handed to the writers one by one (any iterable) or in arrays (one async step per array, not per record:
// what `dumpRdb` reads from the parser, see rdbKeyspaceRecordBatches).
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
