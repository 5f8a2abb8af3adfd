// Keyspace records as RESP commands in the order given (file order), as BGREWRITEAOF writes them.
import { batchReader, type RecordBatches, type RecordSource } from './batches.js';
import type { KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { CommandEncoder, type CommandArg } from '@redis-persist/resp';
import { commandsForFunction, commandsForKey, StreamPieceCommands } from './commands.js';
import type { PieceOutput } from './pieces.js';

const CHUNK = 256 * 1024;
const EMPTY = new Uint8Array(0);

/** Options of {@link respChunks}: a leading `#TS:` annotation, elements per command, score text. */
export interface RespChunksOptions {
  /** Unix seconds: start with a `#TS:` annotation, as a Redis 7 RESP rewrite does with aof-timestamp-enabled. */
  timestamp?: number;
  /** Elements per variadic command (default 64, Redis' AOF_REWRITE_ITEMS_PER_CMD). */
  itemsPerCommand?: number;
  /**
   * Where the commands of a key in pieces (`partial: true` records) lie in the output, and which keys were left
   * unfinished: with it, pieces that stop before their last one (a damaged input) are dropped instead of being
   * written as if the key were whole. See {@link PieceOutput}.
   */
  pieces?: PieceOutput;
}

/**
 * Keyspace records as the RESP commands BGREWRITEAOF writes (FUNCTION LOAD, SELECT, SET/RPUSH/SADD/ZADD/HMSET in
 * batches of 64, XADD/XSETID/XGROUP/XCLAIM, PEXPIREAT), in chunks of about 256 KiB.
 */
export async function* respChunks(records: RecordSource | RecordBatches, options: RespChunksOptions = {}): AsyncGenerator<Uint8Array> {
  // the commands not handed out yet are in the encoder (one copy per ~256 KiB chunk, not one per record)
  const enc = new CommandEncoder(CHUNK + 64 * 1024);
  if (options.timestamp !== undefined) enc.addRaw(Buffer.from(`#TS:${options.timestamp}\r\n`));
  let db = -1;
  const rewrite = { itemsPerCommand: options.itemsPerCommand ?? 64 };
  const pieces = options.pieces;
  // (a bad itemsPerCommand goes to commandsForKey, which says so)
  const perOk = Number.isInteger(rewrite.itemsPerCommand) && rewrite.itemsPerCommand >= 1;
  const setArgs: Uint8Array[] = [Buffer.from('SET'), EMPTY, EMPTY];
  const expireArgs: CommandArg[] = [Buffer.from('PEXPIREAT'), EMPTY, 0];
  // with options.pieces: bytes handed out, and the key in pieces being written (where its commands start, the db
  // selected before them)
  let handed = 0;
  let open: { db: number; key: Uint8Array; at: number; dbBefore: number } | null = null;
  // a stream in pieces (its commands depend on the pieces before: see StreamPieceCommands)
  let stream: StreamPieceCommands | null = null;
  const dropOpen = (): void => {
    const o = open!;
    open = null;
    if (o.at >= handed) {
      // still pending here: cut
      const kept = enc.take().subarray(0, o.at - handed);
      enc.addRaw(kept);
    } else {
      // partly handed out: the writer drops it from o.at on
      enc.clear();
      handed = o.at;
    }
    db = o.dbBefore;
    pieces!.drop?.(o.db, o.key, o.at);
  };
  const reader = batchReader(records);
  for await (const got of reader.items) for (const r of reader.batch(got)) {
    if (pieces) {
      if (open !== null && (r.kind !== 'key' || r.db !== open.db || !Buffer.from(r.key.buffer, r.key.byteOffset, r.key.length).equals(open.key))) dropOpen();
      if (open === null && r.kind === 'key' && (r as KeyspacePiece).partial) {
        open = { db: r.db, key: r.key, at: handed + enc.length, dbBefore: db };
        pieces.open?.(open.at);
      }
    }
    if (r.kind === 'function') {
      for (const c of commandsForFunction(r)) enc.add(c);
    } else {
      const partial = (r as KeyspacePiece).partial === true;
      if (stream !== null && !stream.matches(r)) stream = null;
      if (r.type === 'string' && perOk && (r.expireAt === null || r.expireAt === undefined || Number.isSafeInteger(r.expireAt))) {
        // most keys: the commands commandsForKey gives, written without an array per key (an integer argument is
        // written as its decimal text, as commandsForKey's PEXPIREAT holds it)
        if (r.db !== db) {
          db = r.db;
          enc.add([Buffer.from('SELECT'), Buffer.from(String(db))]);
        }
        setArgs[1] = r.key;
        setArgs[2] = r.value;
        enc.add(setArgs);
        if (r.expireAt !== null && r.expireAt !== undefined) {
          expireArgs[1] = r.key;
          expireArgs[2] = r.expireAt;
          enc.add(expireArgs);
        }
      } else {
        let cmds: Uint8Array[][];
        if (r.type === 'stream' && (partial || stream !== null)) {
          stream ??= new StreamPieceCommands(r.db, r.key);
          cmds = stream.piece(r, !partial);
          if (!partial) stream = null;
        } else cmds = commandsForKey(r, rewrite);
        if (cmds.length > 0) {
          if (r.db !== db) {
            db = r.db;
            enc.add([Buffer.from('SELECT'), Buffer.from(String(db))]);
          }
          for (const c of cmds) enc.add(c);
        }
      }
    }
    if (open !== null && !(r as KeyspacePiece).partial) {
      open = null;
      pieces!.close?.(handed + enc.length);
    }
    if (enc.length >= CHUNK) {
      handed += enc.length;
      yield enc.take(); // a copy
    }
  }
  if (open !== null) dropOpen();
  if (enc.length > 0) yield enc.take();
}
