// External merge sort of keyspace records into canonical order with bounded memory.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import { MinHeap } from './heap.js';
import { keyspaceJsonlChunks, readKeyspaceJsonl } from '@redis-persist/jsonl';
import { canonicalizeRecord, compareKeyspaceRecords, type KeyspaceRecord } from '@redis-persist/keyspace';

export interface SortKeyspaceOptions {
  /** Approximate memory for records held in memory before a sorted run is spilled (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). A private subdirectory is made and always removed. */
  tmpDir?: string;
}

export const DEFAULT_SORT_BUDGET = 256 * 1024 * 1024;
/** Runs merged at once; more runs are first merged in groups (keeps open files bounded). */
const FAN_IN = 64;
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

async function writeRun(path: string, records: Iterable<KeyspaceRecord> | AsyncIterable<KeyspaceRecord>): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (err) {
    throw new FsioError(`cannot create sort run ${path}: ${describeIoError(err)}`, path, err);
  }
  try {
    for await (const chunk of keyspaceJsonlChunks(records, { encoding: true })) {
      try {
        await fh.write(chunk);
      } catch (err) {
        throw new FsioError(`cannot write sort run ${path}: ${describeIoError(err)}`, path, err);
      }
    }
  } finally {
    await fh.close();
  }
}

interface HeapItem {
  rec: KeyspaceRecord;
  run: number;
}

/** Canonical order; ties by run number so equal keys keep their input order. */
function heapLess(a: HeapItem, b: HeapItem): boolean {
  const c = compareKeyspaceRecords(a.rec, b.rec);
  return c < 0 || (c === 0 && a.run < b.run);
}

async function* mergeRuns(paths: string[]): AsyncGenerator<KeyspaceRecord> {
  const readers = paths.map((p) => readKeyspaceJsonl(p, { maxLineBytes: Number.MAX_SAFE_INTEGER }));
  try {
    const heap = new MinHeap<HeapItem>(heapLess);
    for (let i = 0; i < readers.length; i++) {
      const r = await readers[i]!.next();
      if (!r.done) heap.push({ rec: r.value, run: i });
    }
    while (heap.size > 0) {
      const top = heap.pop();
      yield top.rec;
      const r = await readers[top.run]!.next();
      if (!r.done) heap.push({ rec: r.value, run: top.run });
    }
  } finally {
    await Promise.all(readers.map((r) => r.return(undefined)));
  }
}

/**
 * Sorts records into canonical order (functions, then db, then key bytes) with bounded memory: records are
 * held up to `memoryBudgetBytes` (estimated), sorted, and spilled as canonical JSON Lines runs to a private temp
 * directory, then merged (in rounds of at most 64 runs). Each record is canonicalised. The temp directory is
 * removed when the generator finishes, fails or is abandoned early (`return()`, `break`).
 *
 * A single record larger than the budget is still held whole: the model keeps a key's value in memory.
 */
export async function* sortKeyspace(
  records: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>,
  options: SortKeyspaceOptions = {},
): AsyncGenerator<KeyspaceRecord> {
  const budget = options.memoryBudgetBytes ?? DEFAULT_SORT_BUDGET;
  let dir: string | undefined;
  let runs: string[] = [];
  let runCounter = 0;
  let held: KeyspaceRecord[] = [];
  let heldBytes = 0;

  const newRunPath = async (): Promise<string> => {
    if (dir === undefined) {
      const base = options.tmpDir ?? tmpdir();
      try {
        dir = await mkdtemp(join(base, 'keyspace-sort-'));
      } catch (err) {
        throw new FsioError(`cannot create a temporary directory in ${base}: ${describeIoError(err)}`, base, err);
      }
    }
    return join(dir, `run-${runCounter++}.jsonl`);
  };

  const spill = async (): Promise<void> => {
    held.sort(compareKeyspaceRecords);
    const path = await newRunPath();
    const batch = held;
    held = [];
    heldBytes = 0;
    await writeRun(path, batch);
    runs.push(path);
  };

  try {
    for await (const r of records) {
      const rec = canonicalizeRecord(r);
      held.push(rec);
      heldBytes += estimateRecordBytes(rec);
      if (heldBytes >= budget) await spill();
    }
    if (runs.length === 0) {
      held.sort(compareKeyspaceRecords);
      const out = held;
      held = [];
      for (let i = 0; i < out.length; i++) {
        const rec = out[i]!;
        out[i] = undefined as unknown as KeyspaceRecord; // let consumed records go
        yield rec;
      }
      return;
    }
    if (held.length > 0) await spill();
    while (runs.length > FAN_IN) {
      const next: string[] = [];
      for (let i = 0; i < runs.length; i += FAN_IN) {
        const group = runs.slice(i, i + FAN_IN);
        if (group.length === 1) {
          next.push(group[0]!);
          continue;
        }
        const path = await newRunPath();
        await writeRun(path, mergeRuns(group));
        next.push(path);
        await Promise.all(group.map((p) => rm(p, { force: true })));
      }
      runs = next;
    }
    yield* mergeRuns(runs);
  } finally {
    held = [];
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}
