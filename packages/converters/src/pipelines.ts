// Keyspace records to bytes, and how each command that writes them reads its input: `rdb-tool dump`, `convert`
// and `to-aof` (rdbToAof) all go through keyspaceBytes, so an RDB becomes RESP one way, in either order.
import { abortableChunks } from '@redis-persist/fsio';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { KeyFilter as Filter, type Bytes, type KeyspacePiece, type KeyspaceRecord } from '@redis-persist/keyspace';
import { compileRdbFilter, rdbKeyspaceRecordBatches, rdbKeyspaceRecords, type RdbFilter, type RdbKeyspaceOptions, type RdbSource } from '@redis-persist/rdb';
import type { ReplayResult } from '@redis-persist/replay';
import { RecordBatches, type RecordSource } from './batches.js';
import { respChunks } from './resp-chunks.js';
import { keyspaceJsonlStream } from './jsonl-stream.js';
import type { PieceOutput } from './pieces.js';
import { keyspaceRespStream } from './resp-stream.js';
import { JsonlKeyVisitor } from './transcode-jsonl.js';
import { RespKeyVisitor } from './transcode-resp.js';

/** Options of {@link keyspaceBytes}: JSON Lines or RESP, canonical or file order, memory budget. */
export interface KeyspaceBytesOptions {
  /** `jsonl`: canonical keyspace JSON Lines; `resp`: the commands BGREWRITEAOF writes (SELECT when the db changes). */
  format: 'jsonl' | 'resp';
  /**
   * `canonical` (default): functions, then keys by db and key bytes, with an external sort (bounded memory);
   * `file`: in the order given (records already canonical, such as a replayed keyspace, stay so).
   */
  order?: 'canonical' | 'file';
  /** JSON Lines: add each key's `encoding` member (not canonical). */
  encoding?: boolean;
  /** Memory held before the sort spills a run (default 64 MiB). */
  memoryBudgetBytes?: number;
  /** Where spilled runs go (default: the OS temp dir). */
  tmpDir?: string;
  /** Each chunk is valid until the next is asked for (buffers recycled); not for file-order RESP. */
  reuseChunks?: boolean;
  /** Where a key in pieces lies in the output, and which were left unfinished (see {@link PieceOutput}). */
  pieces?: PieceOutput;
  /** Canonical order: the same db and key came twice (Redis refuses to load such a file). */
  onDuplicateKey?: (db: number, key: Bytes) => void;
  /**
   * Stops the output: checked once per output chunk (not per record). When aborted, before the call or while it
   * runs, the generator rejects with `signal.reason` (an `AbortError` DOMException by default), closes `records`
   * and removes the sort's spilled runs. In canonical order nothing comes out before the input is sorted: give the
   * reader of `records` the same signal to stop during the sort too ({@link dumpRdb} does).
   */
  signal?: AbortSignal;
}

/**
 * Keyspace records as JSON Lines or RESP bytes, in canonical or file order. The one place that picks the writer:
 * canonical RESP is {@link keyspaceRespStream} (commands encoded once, sorted as bytes; it writes what
 * `respChunks(sortKeyspace(records))` wrote, byte for byte), file-order RESP is {@link respChunks}.
 */
export function keyspaceBytes(records: RecordSource | RecordBatches, options: KeyspaceBytesOptions): AsyncGenerator<Uint8Array> {
  const out = keyspaceBytesOf(records, options);
  return options.signal === undefined ? out : abortable(out, options.signal);
}

async function* abortable(out: AsyncGenerator<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  yield* abortableChunks(out, signal);
}

function keyspaceBytesOf(records: RecordSource | RecordBatches, options: KeyspaceBytesOptions): AsyncGenerator<Uint8Array> {
  const order = options.order ?? 'canonical';
  const { memoryBudgetBytes, tmpDir, reuseChunks, pieces, onDuplicateKey } = options;
  if (options.format === 'jsonl') return keyspaceJsonlStream(records, { order, encoding: options.encoding, memoryBudgetBytes, tmpDir, reuseChunks, pieces, onDuplicateKey });
  if (order === 'canonical') return keyspaceRespStream(records, { memoryBudgetBytes, tmpDir, reuseChunks, pieces, onDuplicateKey });
  return respChunks(records, { pieces });
}

/** Options of {@link rdbToResp}: how the RDB is read, and the RESP writer's options. */
export interface RdbToRespOptions extends Omit<KeyspaceBytesOptions, 'format' | 'encoding'> {
  /** How the RDB is read: filters, expired keys, stream views, pieces, damage (see `rdbKeyspaceRecords`). */
  read?: RdbKeyspaceOptions;
}

/** An RDB as RESP commands: {@link keyspaceBytes} over the RDB's records. */
export function rdbToResp(source: RdbSource, options: RdbToRespOptions = {}): AsyncGenerator<Uint8Array> {
  return keyspaceBytes(rdbKeyspaceRecords(source, options.read), { ...options, format: 'resp' });
}

/**
 * Which keys a dump or conversion keeps: a key filter spec of `@redis-persist/keyspace` (include/exclude globs and
 * regexes, types, dbs, expired or not, size), or a compiled KeyFilter.
 */
export type KeyFilter = RdbFilter | Filter;

/** Options of {@link dumpRdb} (`rdb-tool dump`): format, order, filter, expired keys, damaged files. */
export interface DumpRdbOptions extends KeyspaceBytesOptions, Pick<RdbKeyspaceOptions, 'verifyChecksum' | 'salvage' | 'onSkip' | 'onDamage'> {
  filter?: KeyFilter;
  /** Keep keys and hash fields already expired at `now` (default: dropped, as a loading master drops them). */
  keepExpired?: boolean;
  /** Unix ms (default: the time of the call). */
  now?: number;
  /** Streams of RDB <= 9: `file` (default for JSON Lines) or `derived` (always for RESP). */
  streamMeta?: 'file' | 'derived';
}

/**
 * `rdb-tool dump` of an RDB file: its records, read as that output wants them, as JSON Lines or RESP. An aborted
 * `options.signal` stops both the read (per chunk read) and the output, rejecting with its reason.
 */
export function dumpRdb(source: RdbSource, options: DumpRdbOptions): AsyncGenerator<Uint8Array> {
  const { format } = options;
  const filter = compileRdbFilter(options.filter);
  const filtered = !filter.passesAll;
  const read: RdbKeyspaceOptions = {
    filter,
    encoding: options.encoding,
    // a filter on keys leaves the functions out
    functions: !filtered,
    // keys asked for because they expired are kept
    dropExpiredBefore: options.keepExpired || filter.expired === true ? undefined : (options.now ?? Date.now()),
    // RESP rebuilds need values for XSETID / XGROUP ENTRIESREAD: always the derived ones there
    streamMeta: format === 'resp' ? 'derived' : (options.streamMeta ?? 'file'),
    // a stream's pending entries: XCLAIMs go consumer by consumer; JSON Lines sorts them by ID, as the group PEL is
    streamPendingOrder: format === 'resp' ? 'consumer' : 'pel',
    // A huge collection or stream comes in pieces: RESP in file order rebuilds it piece by piece (RPUSH/SADD/ZADD/
    // HSET add up, a stream's commands go on from piece to piece); JSON Lines and canonical RESP sort its elements
    // with external sorts of their own where the form wants them sorted.
    // Small pieces die young: with 10k elements a piece often outlived a scavenge and was promoted, and the old
    // space V8 then grew for that garbage cost ~30 MB of peak RSS (measured on the 60 MB bench RDB).
    chunkElements: 1_000,
    // A string of 1 MiB or more comes in pieces of 1 MiB, as convert and to-aof read it: RESP (both orders) and
    // canonical JSON Lines write it piecewise. JSON Lines in file order (which may have to restart a line as base64
    // after its text went out) still takes it whole.
    ...(format === 'jsonl' && (options.order ?? 'canonical') === 'file' ? {} : { stringPieceBytes: STRING_PIECE }),
    verifyChecksum: options.verifyChecksum,
    salvage: options.salvage,
    onSkip: options.onSkip,
    onDamage: options.onDamage,
    signal: options.signal,
  };
  // JSON Lines: the direct transcoder writes the common keys straight from the RDB's bytes (the parser walks them
  // in place for the visitor; canonical order sorts its lines); the others still come as records, in their place
  if (format === 'jsonl' && !options.encoding) {
    const visitor = new JsonlKeyVisitor();
    read.keyVisitor = visitor;
    const out = keyspaceJsonlStream(new RecordBatches(rdbKeyspaceRecordBatches(source, read)), { ...options, order: options.order ?? 'canonical', visitor });
    return options.signal === undefined ? out : abortable(out, options.signal);
  }
  // RESP in file order: the same, the commands written straight from the RDB's bytes (RespKeyVisitor)
  if (format === 'resp' && (options.order ?? 'canonical') === 'file') {
    const visitor = new RespKeyVisitor({ reuseChunks: options.reuseChunks });
    read.keyVisitor = visitor;
    const out = respChunks(new RecordBatches(rdbKeyspaceRecordBatches(source, read)), { pieces: options.pieces, visitor });
    return options.signal === undefined ? out : abortable(out, options.signal);
  }
  // canonical RESP: the same, each key's commands (elements in canonical order) going into the sort as one item
  if (format === 'resp') {
    const visitor = new RespKeyVisitor();
    read.keyVisitor = visitor;
    const { memoryBudgetBytes, tmpDir, reuseChunks, pieces, onDuplicateKey } = options;
    const out = keyspaceRespStream(new RecordBatches(rdbKeyspaceRecordBatches(source, read)), { memoryBudgetBytes, tmpDir, reuseChunks, pieces, onDuplicateKey, visitor });
    return options.signal === undefined ? out : abortable(out, options.signal);
  }
  // the parser's records in arrays: one async step per batch, not per record
  return keyspaceBytes(new RecordBatches(rdbKeyspaceRecordBatches(source, read)), options);
}

/** Options of {@link dumpReplayed}: format, filter and expired keys, for a replayed AOF. */
export interface DumpReplayedOptions {
  format: 'jsonl' | 'resp';
  filter?: KeyFilter;
  /** Keep keys already expired at `now` (default: dropped, as dump does for an RDB file). */
  keepExpired?: boolean;
  /** Unix ms (default: the time of the call). */
  now?: number;
}

/**
 * `rdb-tool dump` of the keyspace replayed from an AOF: keys in canonical order (a replayed keyspace has no file
 * order), the filters of an RDB dump.
 */
export function dumpReplayed(replayed: ReplayResult, options: DumpReplayedOptions): AsyncGenerator<Uint8Array> {
  const filter = compileRdbFilter(options.filter);
  const filtered = !filter.passesAll;
  const now = options.keepExpired || filter.expired === true ? undefined : (options.now ?? Date.now());
  function* selected(): Generator<KeyspaceRecord> {
    // a master drops keys already expired when it loads an RDB; the AOF keeps them until touched: dump drops
    // them (unless keepExpired), as it does for an RDB file
    for (const r of replayed.keyspace.records({ dropExpiredBefore: now })) {
      if (r.kind === 'function') {
        if (!filtered) yield r;
        continue;
      }
      // (a replayed key has no RDB record: minBytes does not apply)
      if (filtered && !filter.matchesRecord(r)) continue;
      yield r;
    }
  }
  // the replayed records are in canonical order already (functions, then keys by db and key bytes)
  return keyspaceBytes(selected(), { format: options.format, order: 'file' });
}

/** What `rdb-tool convert` reads: an RDB, keyspace JSON Lines, or the keyspace replayed from an AOF. */
export type ConvertInput =
  | { format: 'rdb'; source: RdbSource; file?: string; onDamage?: RdbKeyspaceOptions['onDamage'] }
  | { format: 'jsonl'; source: string | AsyncIterable<Uint8Array>; file?: string }
  | { format: 'aof'; replayed: ReplayResult };

/**
 * The records of a conversion's input, read as the output format wants them. An aborted `signal` stops the read of
 * an RDB or JSON Lines input (checked once per chunk read), rejecting with its reason. From an RDB, big collections
 * and streams come in pieces (`partial: true`) and so do strings of 1 MiB or more (`stringLength` on each piece):
 * `writeRdb` and {@link keyspaceBytes} (canonical order) take them as they are.
 */
export function convertRecords(input: ConvertInput, to: 'rdb' | 'jsonl' | 'resp', keyFilter?: KeyFilter, signal?: AbortSignal): AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece> {
  const filter = compileRdbFilter(keyFilter);
  if (input.format === 'aof') return filter.passesAll ? input.replayed.keyspace.records() : filterRecords(input.replayed.keyspace.records(), filter);
  if (input.format === 'jsonl') {
    const all = readKeyspaceJsonl(input.source, { file: input.file, signal });
    return filter.passesAll ? all : filterRecords(all, filter);
  }
  // JSON Lines output streams a huge collection in pieces (its elements externally sorted where needed); the RDB
  // writer encodes a big collection's pieces as they come (its body waiting in a temp file past 8 MiB)
  return rdbKeyspaceRecords(input.source, {
    file: input.file,
    onDamage: input.onDamage,
    signal,
    // RESP (canonical order) goes through keyspaceRespStream, which sorts a huge key's elements on its own; its
    // stream pieces come consumer by consumer (the order of the XCLAIMs)
    // The RDB writer takes a big string in pieces too (stringPieceBytes), compressing them as they come.
    ...(to === 'jsonl' ? { chunkElements: 10_000, stringPieceBytes: STRING_PIECE } : to === 'rdb' ? { chunkElements: 1_000, stringPieceBytes: STRING_PIECE } : { chunkElements: 1_000, stringPieceBytes: STRING_PIECE, streamPendingOrder: 'consumer' as const }),
    ...(filter.passesAll ? {} : { filter, functions: false }),
  });
}

/** Bytes per piece of a big string read for a writer that takes strings in pieces. */
export const STRING_PIECE = 1 << 20;

/**
 * The key records a filter keeps (functions left out), for inputs that are not an RDB: there a key has no RDB
 * record, so `minBytes` does not apply (callers refuse it), and the records come whole.
 */
async function* filterRecords(records: AsyncIterable<KeyspacePiece> | Iterable<KeyspacePiece>, filter: Filter): AsyncGenerator<KeyspacePiece> {
  for await (const r of records) if (r.kind === 'key' && filter.matchesRecord(r)) yield r;
}
