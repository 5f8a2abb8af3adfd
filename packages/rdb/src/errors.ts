import { RedisPersistError, type RedisPersistErrorInit } from '@redis-persist/bytes';

/** Machine-readable reason for an {@link RdbError}. */
export type RdbErrorCode = 'truncated' | 'corrupt' | 'checksum' | 'unsupported' | 'limit';

/**
 * The one error class of `@redis-persist/rdb`. `offset` is the absolute byte offset in the file where the item that
 * could not be read starts (for `truncated`: the input ended inside it). The message names the file, the offset and
 * what was expected, e.g. `dump.rdb: offset 1234: truncated: expected 5 bytes of a string, file ends at 1232`.
 * Every code is a problem of the data (kind `data`).
 */
export class RdbError extends RedisPersistError<RdbErrorCode> {
  override readonly name = 'RdbError';
  declare readonly offset: number;
  /** What was expected, without the code (the base class' `detail` carries `<code>: <detail>`, as the message does). */
  declare readonly detail: string;
  declare readonly expected?: string;
  /** `init.offset` is required: an RDB error always has a place in the file (or payload). */
  constructor(code: RdbErrorCode, detail: string, init: RdbErrorInit) {
    const { expected, ...base } = init;
    super(code, `${code}: ${detail}`, { ...base, kind: 'data' });
    this.detail = detail;
    if (expected !== undefined) this.expected = expected;
  }
}

/** Where an {@link RdbError} happened, and what was expected there. */
export interface RdbErrorInit extends Omit<RedisPersistErrorInit, 'kind' | 'offset'> {
  offset: number;
  expected?: string;
}
