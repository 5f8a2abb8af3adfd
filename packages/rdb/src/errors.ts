/** Machine-readable reason for an {@link RdbError}. */
export type RdbErrorCode = 'truncated' | 'corrupt' | 'checksum' | 'unsupported' | 'limit';

/**
 * The one error class of `@redis-persist/rdb`. `offset` is the absolute byte offset in the file where the item that
 * could not be read starts (for `truncated`: the input ended inside it). The message names the file, the offset and
 * what was expected, e.g. `dump.rdb: offset 1234: truncated: expected 5 bytes of a string, file ends at 1232`.
 */
export class RdbError extends Error {
  override readonly name = 'RdbError';
  constructor(
    readonly code: RdbErrorCode,
    readonly offset: number,
    readonly detail: string,
    readonly file?: string,
    readonly expected?: string,
  ) {
    super(`${file ?? '<rdb>'}: offset ${offset}: ${code}: ${detail}`);
  }
}
