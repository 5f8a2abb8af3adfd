// One RDB output written record by record: our own framing (magic, AUX, FUNCTION2, SELECTDB, SLOT_INFO, EOF and
// the CRC64 over everything) around keys that are either copied verbatim from an input of the same version or
// re-encoded by @redis-persist/rdb-writer.
import { Crc64 } from '@redis-persist/bytes';
import type { AtomicFile } from '@redis-persist/fsio';
import type { FunctionRecord, KeyRecord } from '@redis-persist/keyspace';
import type { RdbMagic } from '@redis-persist/rdb';
import { RdbWriter, resolveTarget, type DropInfo, type RdbWriteOptions } from '@redis-persist/rdb-writer';
import { ClusterError } from './errors.js';

/** The RDB an output is written as. */
export interface OutTarget {
  version: number;
  magic: RdbMagic;
}

export const hasAux = (t: OutTarget) => t.version >= 7;
export const hasChecksum = (t: OutTarget) => t.version >= 5;
export const hasFunctions = (t: OutTarget) => t.version >= 10;
export const hasModuleAux = (t: OutTarget) => t.version >= 9;
/** SLOT_INFO (0xF4): Redis RDB 12+ only (Valkey 9 merely tolerates it). */
export const hasSlotInfo = (t: OutTarget) => t.magic === 'REDIS' && t.version >= 12;

export function magicBytes(t: OutTarget): Uint8Array {
  const text = t.magic === 'VALKEY' ? `VALKEY${String(t.version).padStart(3, '0')}` : `REDIS${String(t.version).padStart(4, '0')}`;
  return Buffer.from(text, 'latin1');
}

/** An RDB length (6-bit, 14-bit, 32-bit or 64-bit form). */
export function lenBytes(n: number): Uint8Array {
  if (n < 64) return Uint8Array.of(n);
  if (n < 16384) return Uint8Array.of(0x40 | (n >>> 8), n & 0xff);
  if (n <= 0xffffffff) return Uint8Array.of(0x80, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const b = new Uint8Array(9);
  b[0] = 0x81;
  let v = BigInt(n);
  for (let i = 8; i >= 1; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/** A plain (length-prefixed, uncompressed) RDB string. */
export function strBytes(s: Uint8Array): Uint8Array[] {
  return [lenBytes(s.length), s];
}

const OP_SLOT_INFO = 0xf4;
const OP_FUNCTION2 = 0xf5;
const OP_AUX = 0xfa;
const OP_SELECTDB = 0xfe;
const OP_EOF = 0xff;

/** AUX fields that describe the server that saved the input, not the data: never copied. */
export const NOT_COPIED_AUX = new Set(['repl-id', 'repl-offset', 'repl-stream-db', 'cluster-asm-task']);

/**
 * Re-encodes keys and checks functions for a target version through rdb-writer. One instance serves every output
 * (its only state is the db of the last key, which it would select: {@link key} strips that SELECTDB).
 */
export class Encoder {
  private readonly writer: RdbWriter;
  private writerDb = -1;

  constructor(target: OutTarget, options: Pick<RdbWriteOptions, 'compress' | 'thresholds' | 'dropUnsupported' | 'lossy' | 'onDrop'>) {
    this.writer = new RdbWriter({ ...options, rdbVersion: target.version, valkey: target.magic === 'VALKEY' || target.version >= 80, defaultAux: false });
    this.writer.header();
  }

  /** Validates a target the writer can write (throws RdbWriterError `options` otherwise). */
  static check(target: OutTarget, valkey: boolean): void {
    resolveTarget(target.version, valkey);
  }

  /** The key record's bytes (expiry, type, key, value) without a SELECTDB; empty when dropped (`dropUnsupported`). */
  key(rec: KeyRecord): Uint8Array {
    const b = this.writer.key(rec);
    if (b.length === 0) return b;
    if (rec.db === this.writerDb) return b;
    this.writerDb = rec.db;
    // the writer selected the new db first: FE + length
    if (b[0] !== OP_SELECTDB) throw new Error('internal: rdb-writer did not select the db');
    return b.subarray(1 + lenBytes(rec.db).length);
  }
}

/** What a function library's FUNCTION2 record looks like, or why the target has none (`unsupported`). */
export function functionBytes(t: OutTarget, fn: FunctionRecord, onDrop: ((d: DropInfo) => void) | undefined, dropUnsupported: boolean): Uint8Array[] | null {
  if (!hasFunctions(t)) {
    const message = `function library ${JSON.stringify(fn.library)}: functions need RDB 10 (Redis 7.0+); the target is RDB ${t.version}`;
    if (!dropUnsupported) throw new ClusterError('unsupported', message);
    onDrop?.({ kind: 'function', library: fn.library, feature: 'functions', message });
    return null;
  }
  return [Uint8Array.of(OP_FUNCTION2), ...strBytes(fn.code)];
}

/** One output RDB: bytes go to its AtomicFile, through its CRC64. */
export class PartWriter {
  private readonly crc = new Crc64();
  private db = -1;
  bytes = 0;
  keys = 0;
  expires = 0;
  functions = 0;

  constructor(
    readonly file: AtomicFile,
    readonly target: OutTarget,
  ) {}

  async write(parts: readonly Uint8Array[]): Promise<void> {
    for (const b of parts) {
      if (b.length === 0) continue;
      this.crc.update(b);
      this.bytes += b.length;
      await this.file.write(b);
    }
  }

  /** Magic, then AUX fields (targets without AUX get none). */
  async header(aux: readonly { key: Uint8Array; value: Uint8Array }[]): Promise<void> {
    await this.write([magicBytes(this.target)]);
    for (const a of aux) await this.aux(a.key, a.value);
  }

  async aux(key: Uint8Array, value: Uint8Array): Promise<void> {
    if (!hasAux(this.target)) return;
    await this.write([Uint8Array.of(OP_AUX), ...strBytes(key), ...strBytes(value)]);
  }

  async selectDb(db: number): Promise<void> {
    if (db === this.db) return;
    this.db = db;
    await this.write([Uint8Array.of(OP_SELECTDB), lenBytes(db)]);
  }

  /** SLOT_INFO for the keys of `slot` that follow (a hint for the loading node's per-slot tables). */
  async slotInfo(db: number, slot: number, keys: number, expires: number): Promise<void> {
    if (!hasSlotInfo(this.target)) return;
    await this.selectDb(db);
    await this.write([Uint8Array.of(OP_SLOT_INFO), lenBytes(slot), lenBytes(keys), lenBytes(expires)]);
  }

  /** EOF and, from RDB 5 on, the CRC64 of everything before it. */
  async end(): Promise<void> {
    await this.write([Uint8Array.of(OP_EOF)]);
    if (!hasChecksum(this.target)) return;
    const sum = new Uint8Array(8);
    this.crc.writeLE(sum, 0);
    this.bytes += 8;
    await this.file.write(sum);
  }
}
