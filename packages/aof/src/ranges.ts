// Byte-range plumbing shared by repairs and filters: copy chosen ranges of a file into a new file atomically,
// keeping the original as a backup.
import { open, type FileHandle } from 'node:fs/promises';
import { AtomicFile, FsioError, backupFile, describeIoError, readFileChunks, resolvePath } from '@redis-persist/fsio';

/** A half-open byte range [start, end). */
export type ByteRange = [number, number];

/** Streams the given ranges of `source`, in order, into `out` (`signal` checked per chunk read). */
export async function copyRanges(source: string, ranges: readonly ByteRange[], out: AtomicFile, signal?: AbortSignal): Promise<void> {
  for (const [start, end] of ranges) {
    if (end <= start) continue;
    for await (const chunk of readFileChunks(source, { start, end, signal })) await out.write(chunk);
  }
}

export interface RewriteResult {
  /** Where the original content now lives (null with backup: false). */
  backup: string | null;
  bytesWritten: number;
}

/**
 * Replaces `path` by the concatenation of `ranges` of its current content: written to a temp file, fsynced,
 * renamed over `path`. With `backup` the original stays under a fresh `<path>.bak` name (a hard link to the
 * untouched original inode when the file system allows). A symbolic link is resolved: the file it points to is
 * edited, never replaced by a regular file.
 */
export async function rewriteWithRanges(path: string, ranges: readonly ByteRange[], backup: boolean, signal?: AbortSignal): Promise<RewriteResult> {
  // a symbolic link is followed: the real file is edited and its backup sits beside it
  const real = await resolvePath(path);
  const out = await AtomicFile.create(real, { inPlace: true });
  try {
    await copyRanges(real, ranges, out, signal);
    signal?.throwIfAborted();
    const backupPath = backup ? await backupFile(real) : null;
    await out.commit();
    return { backup: backupPath, bytesWritten: out.bytesWritten };
  } catch (err) {
    await out.abort();
    throw err;
  }
}

/** Positional reads over one file, for the few random accesses a resynchronisation needs. */
export class RandomReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<RandomReader> {
    try {
      const fh = await open(path, 'r');
      const { size } = await fh.stat();
      return new RandomReader(fh, size, path);
    } catch (err) {
      throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
    }
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const n = Math.max(0, Math.min(length, this.size - position));
    const buf = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(buf, done, n - done, position + done));
      } catch (err) {
        throw new FsioError('io', `cannot read ${this.path} at offset ${position + done}: ${describeIoError(err)}`, { file: this.path, cause: err });
      }
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
