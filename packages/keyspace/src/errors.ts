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

export interface KeyspaceErrorWhere {
  file?: string;
  /** 1-based line number. */
  line?: number;
  /** Byte offset in the file (or in the line when no file offset is known). */
  offset?: number;
}

/** The one error class of @redis-persist/keyspace. */
export class KeyspaceError extends Error {
  override readonly name = 'KeyspaceError';
  readonly code: KeyspaceErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly offset?: number;

  constructor(code: KeyspaceErrorCode, message: string, where: KeyspaceErrorWhere = {}) {
    super(formatMessage(message, where));
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
    if (where.offset !== undefined) this.offset = where.offset;
  }
}

function formatMessage(message: string, where: KeyspaceErrorWhere): string {
  let prefix = '';
  if (where.file !== undefined) prefix = where.file;
  if (where.line !== undefined) prefix += (prefix ? ':' : 'line ') + where.line;
  if (where.offset !== undefined) prefix += `${prefix ? ' ' : ''}(byte offset ${where.offset})`;
  return prefix ? `${prefix}: ${message}` : message;
}
