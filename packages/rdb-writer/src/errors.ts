export type RdbWriterErrorCode =
  /** The data cannot be expressed in the target RDB version (a newer feature). */
  | 'unsupported'
  /** The input is not a valid keyspace (duplicate members, NaN score, bad stream ID...). */
  | 'invalid'
  /** The options are wrong (unknown target version, bad threshold). */
  | 'options'
  /** A DUMP payload is damaged (bad CRC, short, unknown version). */
  | 'corrupt';

export interface RdbWriterErrorInit {
  key?: Uint8Array;
  db?: number;
  feature?: string;
  file?: string;
  offset?: number;
}

function keyText(key: Uint8Array): string {
  const text = Buffer.from(key).toString('utf8');
  // Show binary keys as JSON would escape them; a person must be able to find the key.
  return Buffer.from(text, 'utf8').equals(Buffer.from(key)) ? JSON.stringify(text) : `base64:${Buffer.from(key).toString('base64')}`;
}

/** The one error class of @redis-persist/rdb-writer. */
export class RdbWriterError extends Error {
  override readonly name = 'RdbWriterError';
  readonly code: RdbWriterErrorCode;
  readonly key?: Uint8Array;
  readonly db?: number;
  /** The feature the target cannot hold (e.g. `stream`, `hash-field-ttl`, `functions`). */
  readonly feature?: string;
  /** The output file, when writing one. */
  file?: string;
  /** Byte offset in the output where the offending record would have started. */
  offset?: number;

  constructor(code: RdbWriterErrorCode, message: string, init: RdbWriterErrorInit = {}) {
    super(message);
    this.code = code;
    if (init.key !== undefined) this.key = init.key;
    if (init.db !== undefined) this.db = init.db;
    if (init.feature !== undefined) this.feature = init.feature;
    if (init.file !== undefined) this.file = init.file;
    if (init.offset !== undefined) this.offset = init.offset;
  }
}

/** Describes a key for messages: `db 0 key "user:1"`. */
export function describeKey(db: number, key: Uint8Array): string {
  return `db ${db} key ${keyText(key)}`;
}
