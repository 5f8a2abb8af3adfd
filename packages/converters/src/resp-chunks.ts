// Keyspace records as RESP commands in the order given (file order), as BGREWRITEAOF writes them.
import { bytesEqual } from '@redis-persist/bytes';
import { batchReader, type RecordBatches, type RecordSource } from './batches.js';
import type { KeyRecord, KeyspacePiece } from '@redis-persist/keyspace';
import { CommandEncoder, type CommandArg } from '@redis-persist/resp';
import { commandsForFunction, commandsForKey, StreamPieceCommands } from './commands.js';
import { isStringPiece, setCommandHead, type PieceOutput } from './pieces.js';
import type { RespKeyVisitor } from './transcode-resp.js';

const CHUNK = 256 * 1024;
/** An argument this big is handed out as it is, not copied into the encoder (a huge string's value). */
const PASS_THROUGH = 1 << 20;
const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = new Uint8Array(0);

type Element = KeyRecord['value'] extends infer V ? (V extends readonly (infer E)[] ? E : never) : never;

/**
 * A list, set, zset or hash in pieces: the elements of the pieces so far that do not fill a command (fewer than
 * `itemsPerCommand`) wait for the next piece, so that the key's commands are batched as the whole value's are
 * (a piece boundary falls anywhere: the parser hands out a quicklist node by node).
 */
interface OpenCollection {
  db: number;
  key: Uint8Array;
  type: 'list' | 'set' | 'zset' | 'hash';
  carry: Element[];
  /** A hash with field TTLs: one HMSET per field (decided by the pieces seen so far, see README). */
  perField: boolean;
  /** Commands of it were written (its PEXPIREAT comes after the last piece even when that one adds none). */
  wrote: boolean;
}

function hasFieldTtl(fields: readonly Element[]): boolean {
  for (const h of fields as readonly { expireAt?: number | null }[]) if (h.expireAt !== null && h.expireAt !== undefined) return true;
  return false;
}

/**
 * The commands of the next piece of a collection (`last`: its last piece), in the batches of the whole value:
 * whole commands only, the elements left over carried to the next piece; PEXPIREAT after the last.
 */
function collectionPiece(c: OpenCollection, rec: KeyRecord, last: boolean, per: number): Uint8Array[][] {
  const value = rec.value as readonly Element[];
  if (c.type === 'hash' && !c.perField && hasFieldTtl(value)) c.perField = true;
  const step = c.perField ? 1 : per;
  const all = c.carry.length === 0 ? value : c.carry.concat(value);
  const n = last ? all.length : all.length - (all.length % step);
  const sub = { ...rec, value: n === all.length ? all : all.slice(0, n), expireAt: last ? rec.expireAt : null } as KeyRecord;
  c.carry = n === all.length ? [] : all.slice(n);
  const cmds = n === 0 && !last ? [] : commandsForKey(sub, { itemsPerCommand: step });
  if (cmds.length > 0) c.wrote = true;
  else if (last && c.wrote && rec.expireAt !== null && rec.expireAt !== undefined) cmds.push([Buffer.from('PEXPIREAT', 'latin1'), rec.key, Buffer.from(String(rec.expireAt), 'latin1')]);
  return cmds;
}

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
  /**
   * The direct transcoder's visitor, which the parser feeding `records` was given (`keyVisitor`): what it wrote
   * while the parser read goes out before the records that follow it (it and this writer share the selected db).
   */
  visitor?: RespKeyVisitor;
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
  // a list/set/zset/hash in pieces (see OpenCollection)
  let coll: OpenCollection | null = null;
  // a string in pieces whose SET is open (its head out, the bytes of its pieces so far after it)
  let str: { db: number; key: Uint8Array } | null = null;
  const per = rewrite.itemsPerCommand;
  // a SELECT before the next command when it goes to another db than the last one
  const select = (to: number): void => {
    if (to === db) return;
    db = to;
    enc.add([Buffer.from('SELECT'), Buffer.from(String(db))]);
  };
  // the elements still waiting of a collection whose pieces stopped early (no options.pieces: written as they are)
  const carryOut = (c: OpenCollection): void => {
    if (c.carry.length === 0) return;
    select(c.db);
    for (const cmd of commandsForKey({ kind: 'key', db: c.db, key: c.key, expireAt: null, type: c.type, value: c.carry } as KeyRecord, { itemsPerCommand: c.perField ? 1 : per })) enc.add(cmd);
  };
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
  const visitor = options.visitor;
  if (visitor !== undefined) visitor.since = enc.length;
  try {
    for await (const got of reader.items) {
      const batch = reader.batch(got);
      if (visitor !== undefined) {
        // the visited keys written while the parser read up to this batch come before its records: handed out up to
        // where this writer would have handed them out had they come as records, the rest waiting in the encoder
        db = visitor.db;
        if (visitor.cut > 0) {
          if (enc.length > 0) {
            handed += enc.length;
            yield enc.take();
          }
          for (const c of visitor.take(visitor.cut)) {
            handed += c.length;
            yield c;
            visitor.release(c);
          }
        }
        if (batch.length > 0 && visitor.pendingBytes > 0) {
          for (const c of visitor.take()) {
            enc.addRaw(c);
            visitor.release(c);
          }
        }
      }
      for (const r of batch) {
        if (pieces) {
          if (open !== null && (r.kind !== 'key' || r.db !== open.db || !bytesEqual(r.key, open.key))) dropOpen();
          if (open === null && r.kind === 'key' && (r as KeyspacePiece).partial) {
            open = { db: r.db, key: r.key, at: handed + enc.length, dbBefore: db };
            pieces.open?.(open.at);
          }
        }
        if (coll !== null && (r.kind !== 'key' || r.db !== coll.db || r.type !== coll.type || !bytesEqual(r.key, coll.key))) {
          // its pieces stopped before the last one: without options.pieces the elements waiting go out as they are
          // (with it, the key was cut just above and they are forgotten)
          if (!pieces) carryOut(coll);
          coll = null;
        }
        if (r.kind === 'function') {
          for (const c of commandsForFunction(r)) enc.add(c);
        } else {
          const partial = (r as KeyspacePiece).partial === true;
          if (stream !== null && !stream.matches(r)) stream = null;
          if (str !== null && (r.db !== str.db || !bytesEqual(r.key, str.key))) str = null;
          if (isStringPiece(r)) {
            // a big string in pieces: SET's head with the whole length, each piece's bytes as they come (no copy), CRLF
            // after the last, then its PEXPIREAT (what commandsForKey writes for the whole string)
            if (str === null) {
              select(r.db);
              enc.addRaw(setCommandHead(r.key, r.stringLength));
              str = { db: r.db, key: r.key };
            }
            if (enc.length > 0) {
              handed += enc.length;
              yield enc.take();
            }
            handed += r.value.length;
            yield r.value;
            if (!partial) {
              str = null;
              enc.addRaw(CRLF);
              if (r.expireAt !== null && r.expireAt !== undefined) for (const c of commandsForKey({ ...r, value: EMPTY }, rewrite).slice(1)) enc.add(c);
            }
          } else if (r.type === 'string' && perOk && r.value.length < PASS_THROUGH && (r.expireAt === null || r.expireAt === undefined || Number.isSafeInteger(r.expireAt))) {
            // most keys: the commands commandsForKey gives, written without an array per key (an integer argument is
            // written as its decimal text, as commandsForKey's PEXPIREAT holds it)
            select(r.db);
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
            } else if (coll !== null || (partial && (r.type === 'list' || r.type === 'set' || r.type === 'zset' || r.type === 'hash'))) {
              coll ??= { db: r.db, key: r.key, type: r.type as OpenCollection['type'], carry: [], perField: false, wrote: false };
              cmds = collectionPiece(coll, r, !partial, per);
              if (!partial) coll = null;
            } else cmds = commandsForKey(r, rewrite);
            if (cmds.length > 0) {
              select(r.db);
              for (const c of cmds) {
                if (!hasHugeArg(c)) {
                  enc.add(c);
                  continue;
                }
                // a huge argument (a big string's value) goes out as it is: no copy of it in the encoder
                for (const part of passThrough(c)) {
                  if (part.length >= PASS_THROUGH) {
                    if (enc.length > 0) {
                      handed += enc.length;
                      yield enc.take();
                    }
                    handed += part.length;
                    yield part;
                  } else enc.addRaw(part);
                }
              }
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
      if (visitor !== undefined) {
        visitor.db = db;
        if (batch.length > 0) visitor.since = enc.length;
      }
    }
  } catch (err) {
    // an error (damage, abort) while the parser read on: what the record path would have handed out before it
    // goes out
    if (visitor !== undefined && visitor.cut > 0) {
      if (enc.length > 0) yield enc.take();
      yield* visitor.take(visitor.cut);
    }
    throw err;
  }
  if (open !== null) dropOpen();
  if (coll !== null && !pieces) carryOut(coll);
  if (enc.length > 0) yield enc.take();
  if (visitor !== undefined) yield* visitor.take();
}

function hasHugeArg(cmd: readonly Uint8Array[]): boolean {
  for (const a of cmd) if (a.length >= PASS_THROUGH) return true;
  return false;
}

/** One command as RESP, in parts: headers with small arguments, and each argument as it is (no copy). */
function* passThrough(cmd: readonly Uint8Array[]): Generator<Uint8Array> {
  let head = `*${cmd.length}\r\n`;
  for (const a of cmd) {
    yield Buffer.from(`${head}$${a.length}\r\n`, 'latin1');
    yield a;
    head = '\r\n';
  }
  yield CRLF;
}
