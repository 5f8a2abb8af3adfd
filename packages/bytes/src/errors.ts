/** Machine-readable reason for a {@link BytesError}. */
export type BytesErrorCode = 'truncated' | 'corrupt' | 'limit';

/**
 * The one error class of this package. `offset` is where the problem was found, relative to whatever the
 * caller handed in (callers that know the file position rebase it into their own error class).
 */
export class BytesError extends Error {
  override readonly name = 'BytesError';
  constructor(
    readonly code: BytesErrorCode,
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}
