/** Machine-readable reason of an {@link AofError}. */
export type AofErrorCode =
  | 'truncated' // the input ends inside a record
  | 'corrupt' // malformed bytes
  | 'manifest' // the manifest is invalid
  | 'missing' // a file the manifest lists does not exist
  | 'limit' // a length beyond the configured limits
  | 'rdb' // the RDB base / preamble is damaged
  | 'unsupported'; // something this tool refuses to do (e.g. edit a damaged file)

/** The one error class of @redis-persist/aof. Messages read `<file>: offset <n>: <what>`. */
export class AofError extends Error {
  override readonly name = 'AofError';
  constructor(
    readonly code: AofErrorCode,
    readonly detail: string,
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(formatLocation(file, offset) + detail);
  }
}

function formatLocation(file?: string, offset?: number): string {
  if (file !== undefined && offset !== undefined) return `${file}: offset ${offset}: `;
  if (file !== undefined) return `${file}: `;
  if (offset !== undefined) return `offset ${offset}: `;
  return '';
}
