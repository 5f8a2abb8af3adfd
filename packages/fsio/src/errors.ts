import { RedisPersistError, type RedisPersistErrorInit, type RedisPersistErrorKind } from '@redis-persist/bytes';

/**
 * Machine-readable reason of an {@link FsioError}:
 * - `io`: the operating system refused a read, write, rename... (see `cause`)
 * - `output-exists`: an output is already there and `force` was not given
 * - `output-is-input`: an output names an input (same path, another link to the same file, or a directory
 *   holding it); refused even with `force`
 * - `locked`: another run of the tool holds the lock on the file or directory
 * - `in-use`: a running process (a Redis server) holds the file open, or a server answers for its directory
 * - `not-regular`: the command needs a regular file and got a FIFO, a device or a directory
 */
export type FsioErrorCode = 'io' | 'output-exists' | 'output-is-input' | 'locked' | 'in-use' | 'not-regular';

/** What each code asks of the caller (see RedisPersistErrorKind). */
const KIND: Record<FsioErrorCode, RedisPersistErrorKind> = {
  io: 'io',
  'output-exists': 'refused',
  'output-is-input': 'refused',
  locked: 'busy',
  'in-use': 'busy',
  'not-regular': 'usage',
};

/**
 * The error of `@redis-persist/fsio`: an I/O failure or a refusal on a named file. Its messages are sentences that
 * name the file where it reads best (`cannot open <file>: no such file or directory`), so `file` is not repeated
 * as a message prefix.
 */
export class FsioError extends RedisPersistError<FsioErrorCode> {
  override readonly name = 'FsioError';
  declare readonly file: string;
  constructor(code: FsioErrorCode, message: string, init: RedisPersistErrorInit & { file: string }) {
    const { file, ...rest } = init;
    super(code, message, { ...rest, kind: init.kind ?? KIND[code] });
    this.file = file;
  }
}

/** A short text for a Node I/O error (`ENOENT` → `no such file or directory`), else the error's message. */
export function describeIoError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = String((err as { code: unknown }).code);
    const known: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EISDIR: 'is a directory',
      ENOTDIR: 'not a directory',
      ENOSPC: 'no space left on device',
      EEXIST: 'already exists',
      EROFS: 'read-only file system',
      EBUSY: 'device or resource busy',
      ENOTEMPTY: 'directory not empty',
      EXDEV: 'cross-device link not permitted',
      ESPIPE: 'not seekable (a pipe or a FIFO)',
      EMFILE: 'too many open files',
      ELOOP: 'too many levels of symbolic links',
    };
    return known[code] ?? code;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Receives what fsio wants a person to know (a stale temp file removed, a wait for a FIFO writer...). */
export type NoticeHandler = (message: string) => void;

let noticeHandler: NoticeHandler = () => undefined;

/** Where fsio's notices go (the CLI prints them on stderr); by default they are dropped. */
export function setNoticeHandler(handler: NoticeHandler): void {
  noticeHandler = handler;
}

export function notice(message: string): void {
  noticeHandler(message);
}
