import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/** Why the RDB writer refused: `unsupported`, `invalid`, `options` or `corrupt`. */
export type RdbWriterErrorCode =
  /** The data cannot be expressed in the target RDB version (a newer feature). */
  | 'unsupported'
  /** The input is not a valid keyspace (duplicate members, NaN score, bad stream ID...). */
  | 'invalid'
  /** The options are wrong (unknown target version, bad threshold). */
  | 'options'
  /** A DUMP payload is damaged (bad CRC, short, unknown version). */
  | 'corrupt';

/** The fields of an {@link RdbWriterError}: the base error's, plus the key, db and feature. */
export interface RdbWriterErrorInit extends RedisPersistErrorInit {
  key?: Uint8Array;
  db?: number;
  feature?: string;
}

function keyText(key: Uint8Array): string {
  const text = Buffer.from(key).toString('utf8');
  // Show binary keys as JSON would escape them; a person must be able to find the key.
  return Buffer.from(text, 'utf8').equals(Buffer.from(key)) ? JSON.stringify(text) : `base64:${Buffer.from(key).toString('base64')}`;
}

/**
 * The one error class of `@redis-persist/rdb-writer`. `options` is a usage error; the other codes are problems of
 * the data (kind `data`).
 */
export class RdbWriterError extends RedisPersistError<RdbWriterErrorCode> {
  override readonly name = 'RdbWriterError';
  declare readonly key?: Uint8Array;
  declare readonly db?: number;
  /** The feature the target cannot hold (e.g. `stream`, `hash-field-ttl`, `functions`). */
  declare readonly feature?: string;
  /** The output file, when writing one (set by writeRdbFile on an error from below). */
  declare file?: string;
  /** Byte offset in the output where the offending record would have started. */
  declare offset?: number;

  constructor(code: RdbWriterErrorCode, message: string, init: RdbWriterErrorInit = {}) {
    // The message keeps its text as its throw sites write it (they name key and place themselves); file and offset
    // are set as fields only, until those sites move to the shared `<file>: offset <n>:` prefix.
    const { key, db, feature, file, offset, ...base } = init;
    super(code, message, { ...base, kind: init.kind ?? (code === 'options' ? 'usage' : 'data') });
    if (key !== undefined) this.key = key;
    if (db !== undefined) this.db = db;
    if (feature !== undefined) this.feature = feature;
    if (file !== undefined) this.file = file;
    if (offset !== undefined) this.offset = offset;
  }
}

/** Describes a key for messages: `db 0 key "user:1"`. */
export function describeKey(db: number, key: Uint8Array): string {
  return `db ${db} key ${keyText(key)}`;
}
