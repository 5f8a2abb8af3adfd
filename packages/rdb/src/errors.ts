import { RedisPersistError } from '@redis-persist/bytes';

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
  // Keeps its own argument order for now: its throw sites move with the format code (see RedisPersistError for the
  // shape the others take).
  constructor(code: RdbErrorCode, offset: number, detail: string, file?: string, expected?: string) {
    super(code, `${code}: ${detail}`, file !== undefined ? { kind: 'data', file, offset } : { kind: 'data', offset });
    this.detail = detail;
    if (expected !== undefined) this.expected = expected;
  }
}
