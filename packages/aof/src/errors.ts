import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/** Machine-readable reason of an {@link AofError}. */
export type AofErrorCode =
  | 'truncated' // the input ends inside a record
  | 'corrupt' // malformed bytes
  | 'manifest' // the manifest is invalid
  | 'missing' // a file the manifest lists does not exist
  | 'limit' // a length beyond the configured limits
  | 'rdb' // the RDB base / preamble is damaged
  | 'unsupported'; // something this tool refuses to do (e.g. edit a damaged file)

/**
 * The error of `@redis-persist/aof`. Messages read `<file>: offset <n>: <what>`. Every code is a problem of the
 * data (kind `data`): even `unsupported` refuses because of what the file holds.
 */
export class AofError extends RedisPersistError<AofErrorCode> {
  override readonly name: string = 'AofError';
  constructor(code: AofErrorCode, detail: string, init: RedisPersistErrorInit = {}) {
    super(code, detail, { ...init, kind: init.kind ?? 'data' });
  }
}
