import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/**
 * Machine-readable reason of a {@link ClusterError}:
 * - `uncovered`: a slot map leaves slots without an owner (the message names them)
 * - `overlap`: two nodes claim the same slots (the message names the slots and both nodes)
 * - `bad-reply`: a CLUSTER SHARDS / CLUSTER SLOTS reply is not what Redis sends
 * - `bad-nodes-conf`: a nodes.conf line cannot be read (the message names the line)
 * - `bad-ranges`: a slot range list (`0-5460,5461-16383`) cannot be read
 * - `other-db`: a key outside the database a cluster holds (cluster nodes have only db 0)
 * - `duplicate-key`: the same key in two merged inputs (the message names both files)
 * - `duplicate-function`: two different function libraries of the same name in merged inputs
 * - `unsupported`: the input holds something the output cannot carry (a module AUX record when re-encoding)
 * - `input`: the inputs do not fit together (no inputs, different RDB versions where one is needed)
 */
export type ClusterErrorCode =
  | 'uncovered'
  | 'overlap'
  | 'bad-reply'
  | 'bad-nodes-conf'
  | 'bad-ranges'
  | 'other-db'
  | 'duplicate-key'
  | 'duplicate-function'
  | 'unsupported'
  | 'input';

/** What a {@link ClusterError} can say besides its message. */
export interface ClusterErrorInit extends RedisPersistErrorInit {
  /** The slots concerned (`uncovered`, `overlap`), as inclusive ranges. */
  slots?: { first: number; last: number }[];
  /** The key concerned (`other-db`, `duplicate-key`). */
  key?: Uint8Array;
  /** The key's database. */
  db?: number;
  /** The input files concerned (`duplicate-key`: the earlier and the later one; `other-db`: the input). */
  files?: string[];
}

/**
 * The error of `@redis-persist/cluster`. `bad-reply` is a server that answered what Redis does not send (kind
 * `server`); every other code is a problem of the inputs (kind `data`).
 */
export class ClusterError extends RedisPersistError<ClusterErrorCode> {
  override readonly name = 'ClusterError';
  declare readonly slots?: { first: number; last: number }[];
  declare readonly key?: Uint8Array;
  declare readonly db?: number;
  declare readonly files?: string[];
  constructor(code: ClusterErrorCode, message: string, init: ClusterErrorInit = {}) {
    const { slots, key, db, files, ...base } = init;
    super(code, message, { ...base, kind: init.kind ?? (code === 'bad-reply' ? 'server' : 'data') });
    if (slots) this.slots = slots;
    if (key) this.key = key;
    if (db !== undefined) this.db = db;
    if (files) this.files = files;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A key for messages: its text in quotes when it is UTF-8, else `0x` and its hex. */
export function describeKey(key: Uint8Array): string {
  try {
    return JSON.stringify(utf8.decode(key));
  } catch {
    return `0x${Buffer.from(key).toString('hex')}`;
  }
}
