import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/** Machine-readable reason for a {@link KeyspaceError}. */
export type KeyspaceErrorCode =
  /** A line is not valid JSON. */
  | 'json'
  /** Valid JSON, but not a keyspace record (missing/extra member, wrong type, bad stream ID...). */
  | 'schema'
  /** A line is longer than the configured limit. */
  | 'line-too-long'
  /** A record cannot be turned into Redis commands (module value, invalid stream...). */
  | 'not-expressible'
  /** A value is out of the range the format or Redis allows. */
  | 'range';

/** Where a keyspace error happened: `line` is 1-based, `offset` the byte offset in the file (or in the line when no file offset is known). */
export type KeyspaceErrorWhere = RedisPersistErrorInit;

/**
 * The error of `@redis-persist/keyspace`. Every code is a problem of the records (kind `data`). Messages read
 * `<file>:<line>: offset <n>: <what>`.
 */
export class KeyspaceError extends RedisPersistError<KeyspaceErrorCode> {
  override readonly name = 'KeyspaceError';
  constructor(code: KeyspaceErrorCode, message: string, init: KeyspaceErrorWhere = {}) {
    super(code, message, { ...init, kind: init.kind ?? 'data' });
  }
}
