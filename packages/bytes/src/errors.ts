/**
 * What a caller should do about a {@link RedisPersistError}: the one thing a program (the CLI's exit code, a
 * script's retry loop) needs to decide without knowing every package's codes. Each package maps every code of
 * its own to one kind.
 * - `data`: the input is damaged, truncated or holds something the operation cannot take. Retrying will not help;
 *   the data must be repaired or another input chosen. (CLI: exit 1, a problem found.)
 * - `usage`: the request itself is wrong: a bad argument or option, options that contradict each other, a FIFO
 *   where a regular file is needed. Change the request. (CLI: exit 2.)
 * - `refused`: a safety refusal that protects existing data: an output that exists (without `force`), an output
 *   that is the input. Nothing was written; choose another output or allow the replacement. (CLI: exit 2.)
 * - `busy`: the file or directory is in use right now: a running server holds it open or answers for it, another
 *   run holds its lock. Nothing was changed; stop the other user and run again. (CLI: exit 1.)
 * - `io`: the operating system failed a read, write, rename... (`cause` holds the system error). (CLI: exit 3.)
 * - `unreachable`: no connection to a server, or the connection ended or fell silent before the answer came.
 *   Retrying later may work. (CLI: exit 3.)
 * - `server`: a server was reached but refused or answered what cannot be used: bad credentials, a missing
 *   permission, an error reply, a protocol violation, a cluster that cannot serve, a target that is not empty or
 *   cannot hold the data. (CLI: exit 1.)
 * - `internal`: a broken invariant of this code (a bug); report it. (CLI: exit 3.)
 */
export type RedisPersistErrorKind = 'data' | 'usage' | 'refused' | 'busy' | 'io' | 'unreachable' | 'server' | 'internal';

/** Where a {@link RedisPersistError} happened and what led to it; packages add fields of their own. */
export interface RedisPersistErrorInit {
  /** Overrides the kind the package gives the code (rarely needed; see {@link RedisPersistErrorKind}). */
  kind?: RedisPersistErrorKind;
  /** The file concerned, as the user named it. */
  file?: string;
  /** 1-based line number in a text file (JSON Lines, nodes.conf...). */
  line?: number;
  /** Byte offset in `file` (or in the stream the package was handed) where the problem is. */
  offset?: number;
  /** The error that led to this one (a Node system error, an error of a lower package). */
  cause?: unknown;
}

/** Set on the prototype: `instanceof` fails across two copies of this package, a global symbol does not. */
const BRAND: unique symbol = Symbol.for('@redis-persist/error');

/**
 * The base class of every error the redis-persist packages throw. `code` says what went wrong (each package
 * narrows it to its own union), `kind` what the caller should do about it. The message is
 * `<file>[:<line>]: offset <n>: <detail>`, each part present when known, so a person finds the place and a
 * program reads the parts from the fields. (Two classes set `file` without the prefix: fsio's messages are
 * sentences that name the file themselves, and rdb-writer's keep their text until its throw sites move.)
 */
export class RedisPersistError<Code extends string = string> extends Error {
  override readonly name: string = 'RedisPersistError';
  readonly code: Code;
  readonly kind: RedisPersistErrorKind;
  /** The message without the location prefix. */
  readonly detail: string;
  // `declare`: an unknown place is absent, not an own property holding undefined (class fields would define it).
  declare readonly file?: string;
  declare readonly line?: number;
  declare readonly offset?: number;

  constructor(code: Code, detail: string, init: RedisPersistErrorInit = {}) {
    // `cause` through the options, as Error itself does: Node prints it under the stack and tools follow it.
    super(formatErrorLocation(init) + detail, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.code = code;
    // Without a package's mapping nobody said what this is; treat it as a bug rather than guess.
    this.kind = init.kind ?? 'internal';
    this.detail = detail;
    if (init.file !== undefined) this.file = init.file;
    if (init.line !== undefined) this.line = init.line;
    if (init.offset !== undefined) this.offset = init.offset;
  }

  /** Same as {@link isRedisPersistError}. */
  static is(err: unknown): err is RedisPersistError {
    return isRedisPersistError(err);
  }
}

Object.defineProperty(RedisPersistError.prototype, BRAND, { value: true });

/**
 * True for an error of any redis-persist package, also when it comes from another copy of the package (two
 * versions in node_modules, a bundled and a linked one), where `instanceof` says false.
 */
export function isRedisPersistError(err: unknown): err is RedisPersistError {
  return err instanceof RedisPersistError || (typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true);
}

/** The message prefix naming a place: `dump.rdb: offset 9: `, `in.jsonl:7: offset 120: `, `offset 9: ` or empty. */
export function formatErrorLocation(where: { file?: string; line?: number; offset?: number }): string {
  let prefix = '';
  if (where.file !== undefined) prefix = where.line !== undefined ? `${where.file}:${where.line}: ` : `${where.file}: `;
  else if (where.line !== undefined) prefix = `line ${where.line}: `;
  if (where.offset !== undefined) prefix += `offset ${where.offset}: `;
  return prefix;
}

/** Machine-readable reason for a {@link BytesError}. */
export type BytesErrorCode = 'truncated' | 'corrupt' | 'limit';

/**
 * The error of this package. `offset` is where the problem was found, relative to whatever the caller handed in
 * (callers that know the file position rebase it into their own error class).
 */
export class BytesError extends RedisPersistError<BytesErrorCode> {
  override readonly name = 'BytesError';
  declare readonly offset: number;
  constructor(code: BytesErrorCode, message: string, init: RedisPersistErrorInit & { offset: number }) {
    super(code, message, { ...init, kind: init.kind ?? 'data' });
  }
}
