/** The one error class of @redis-persist/fsio: an I/O failure on a named file. */
export class FsioError extends Error {
  override readonly name = 'FsioError';
  constructor(
    message: string,
    readonly file: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

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
    };
    return known[code] ?? code;
  }
  return err instanceof Error ? err.message : String(err);
}
