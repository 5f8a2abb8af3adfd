import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/** Machine-readable reason for a {@link RespError}. */
export type RespErrorCode = 'truncated' | 'corrupt' | 'limit';

/**
 * The error of this package. `offset` is the absolute byte offset in the decoded stream where the problem was
 * found ('corrupt', 'limit') or where the incomplete value started ('truncated'); the encoder's errors (a value
 * that has no RESP form) have none. `file` is left for callers that know which file the stream came from.
 * Every code is a problem of the data (kind `data`).
 */
export class RespError extends RedisPersistError<RespErrorCode> {
  override readonly name = 'RespError' as const;
  constructor(code: RespErrorCode, message: string, init: RedisPersistErrorInit = {}) {
    super(code, message, { ...init, kind: init.kind ?? 'data' });
  }
}
