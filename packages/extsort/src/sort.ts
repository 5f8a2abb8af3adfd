// Keyspace records into canonical order with bounded memory, through the one external sort (ByteSorter).
import { tmpdir } from 'node:os';
import { ChunkWriter, parseKeyspaceLineBytes, writeRecord } from '@redis-persist/jsonl';
import { canonicalizeRecord, type KeyspaceRecord } from '@redis-persist/keyspace';
import { ByteSorter, SlabPool, TempDir, recordSortKey } from './byte-sorter.js';

/** Options of {@link sortKeyspace}: the memory budget and where spilled runs go. */
export interface SortKeyspaceOptions {
  /** Memory for the records' lines held before a sorted run is spilled (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). A private subdirectory is made and always removed. */
  tmpDir?: string;
}

/** Default memory for records held before a sorted run is spilled to disk (256 MiB). */
export const DEFAULT_SORT_BUDGET = 256 * 1024 * 1024;
/** Chunk of the writer a record's line is built in before the sorter copies it. */
const LINE_CHUNK = 64 * 1024;
/** Rough per-object cost of JS arrays/objects/typed arrays, so small elements are not under-counted. */
const OBJECT_COST = 96;

/** Rough heap size of a record: bytes held plus a per-object overhead. */
export function estimateRecordBytes(rec: KeyspaceRecord): number {
  if (rec.kind === 'function') return OBJECT_COST * 2 + rec.library.length * 2 + rec.code.length;
  let n = OBJECT_COST * 2 + rec.key.length;
  switch (rec.type) {
    case 'string':
      return n + rec.value.length;
    case 'list':
    case 'set':
      for (const v of rec.value) n += OBJECT_COST + v.length;
      return n;
    case 'zset':
      for (const [m] of rec.value) n += OBJECT_COST * 2 + m.length;
      return n;
    case 'hash':
      for (const h of rec.value) n += OBJECT_COST * 3 + h.field.length + h.value.length;
      return n;
    case 'stream': {
      const s = rec.value;
      for (const e of s.entries) {
        n += OBJECT_COST * 2 + e.id.length * 2;
        for (const [f, v] of e.fields) n += OBJECT_COST * 3 + f.length + v.length;
      }
      for (const g of s.groups) {
        n += OBJECT_COST * 3 + g.name.length;
        n += g.pending.length * (OBJECT_COST * 2 + 40) + g.consumers.length * OBJECT_COST * 2;
        for (const c of g.consumers) n += c.name.length;
      }
      return n;
    }
    case 'module':
      return n + rec.value.raw.length;
    default:
      return n;
  }
}

/**
 * Sorts records into canonical order (functions, then db, then key bytes; equal keys in input order) with bounded
 * memory: each record is canonicalised and encoded once as its JSON Lines line (with `encoding`), the lines are
 * sorted by {@link ByteSorter} (held up to `memoryBudgetBytes`, spilled as sorted runs to a private temp directory,
 * merged) and parsed back as they come out. The temp directory is removed when the generator finishes, fails or is
 * abandoned early (`return()`, `break`).
 *
 * A single record larger than the budget is still held whole: the model keeps a key's value in memory.
 */
export async function* sortKeyspace(
  records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>,
  options: SortKeyspaceOptions = {},
): AsyncGenerator<KeyspaceRecord> {
  const tmp = new TempDir(options.tmpDir ?? tmpdir());
  const sorter = new ByteSorter(options.memoryBudgetBytes ?? DEFAULT_SORT_BUDGET, tmp, new SlabPool());
  const w = new ChunkWriter(LINE_CHUNK);
  try {
    for await (const r of records) {
      const rec = canonicalizeRecord(r);
      // the line keeps every member (encoding too), so parsing it back gives the record
      writeRecord(w, rec, { encoding: true });
      sorter.add(recordSortKey(rec), w);
      if (sorter.full()) await sorter.spill();
    }
    for await (const { payload } of sorter.drainItems(true)) {
      // the payload is a view into the sorter's buffers, reused for the next item: the record gets its own copy
      const line = payload.slice();
      yield parseKeyspaceLineBytes(line, 0, line.length);
    }
  } finally {
    await tmp.remove();
  }
}
