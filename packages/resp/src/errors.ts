/** Machine-readable reason for a {@link RespError}. */
export type RespErrorCode = 'truncated' | 'corrupt' | 'limit';

/**
 * The one error class of this package. `offset` is the absolute byte offset in the decoded stream where the
 * problem was found ('corrupt', 'limit') or where the incomplete value started ('truncated'). `file` is left
 * for callers that know which file the stream came from.
 */
export class RespError extends Error {
  override readonly name = 'RespError' as const;
  file?: string;
  constructor(
    readonly code: RespErrorCode,
    message: string,
    readonly offset: number,
    file?: string,
  ) {
    super(file === undefined ? message : `${file}: ${message}`);
    if (file !== undefined) this.file = file;
  }
}
