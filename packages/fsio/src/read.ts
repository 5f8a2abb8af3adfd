import { open, stat, type FileHandle } from 'node:fs/promises';
import { FsioError, describeIoError, notice } from './errors.js';

export interface ReadChunksOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Stop before this byte (default: end of file). */
  end?: number;
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
  /**
   * Recycle two buffers instead of allocating one per chunk (less memory, no GC churn). Only for consumers that
   * are done with a chunk when they ask for the next one and keep no reference to it.
   */
  reuseBuffers?: boolean;
}

/**
 * Refuses anything but a regular file (a FIFO, a device, a directory) for work that needs to seek or to read a
 * file twice, with an error of code `not-regular` naming the file and the work.
 */
export async function requireRegularFile(path: string, forWhat: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    throw new FsioError(`cannot open ${path}: ${describeIoError(err)}`, path, err);
  }
  if (s.isFile()) return;
  const what = s.isFIFO() ? 'a FIFO' : s.isDirectory() ? 'a directory' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : s.isSocket() ? 'a socket' : 'not a regular file';
  throw new FsioError(`${path} is ${what}; ${forWhat} needs a regular file`, path, undefined, 'not-regular');
}

/**
 * Reads a file as a sequence of chunks with bounded memory. Each yielded chunk is a fresh buffer the caller
 * may keep (unless `reuseBuffers`). A FIFO or a device is read once, front to back, as a stream (`start` bytes
 * are skipped); opening a FIFO waits for a writer, and says so. Errors are {@link FsioError}s naming the file.
 */
export async function* readFileChunks(path: string, options: ReadChunksOptions = {}): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  const kind = await stat(path).catch(() => null);
  const stream = kind !== null && !kind.isFile() && !kind.isDirectory();
  if (kind?.isFIFO()) notice(`${path} is a FIFO: waiting for a writer to open it`);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FsioError(`cannot open ${path}: ${describeIoError(err)}`, path, err);
  }
  if (stream) {
    yield* readStream(fh, path, chunkSize, options.start ?? 0, options.end ?? Infinity);
    return;
  }
  // One read is always in flight ahead of the consumer, so disk/page-cache copies overlap its work.
  const end = options.end ?? Infinity;
  let pos = options.start ?? 0;
  const pool = options.reuseBuffers ? [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)] : null;
  let turn = 0;
  const readAt = async (at: number): Promise<Uint8Array | null> => {
    const want = Math.min(chunkSize, end - at);
    if (want <= 0) return null;
    const buf = pool ? pool[turn++ & 1] : Buffer.allocUnsafe(want);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, want, at));
    } catch (err) {
      throw new FsioError(`cannot read ${path} at offset ${at}: ${describeIoError(err)}`, path, err);
    }
    if (bytesRead === 0) return null;
    return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  };
  let next: Promise<Uint8Array | null> | null = null;
  // A read that fails while the consumer is busy must not count as an unhandled rejection: it is awaited later.
  const start = (at: number) => {
    const p = readAt(at);
    p.catch(() => undefined);
    return p;
  };
  try {
    next = start(pos);
    for (;;) {
      const chunk = await next;
      next = null;
      if (chunk === null) break;
      pos += chunk.length;
      next = start(pos);
      yield chunk;
    }
  } finally {
    if (next) await next.catch(() => null);
    await fh.close();
  }
}

/** Sequential reads of a FIFO or device: no positions, one read at a time. */
async function* readStream(fh: FileHandle, path: string, chunkSize: number, start: number, end: number): AsyncGenerator<Uint8Array> {
  let pos = 0;
  try {
    while (pos < end) {
      const buf = Buffer.allocUnsafe(Math.min(chunkSize, end - pos));
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, buf.length, null));
      } catch (err) {
        throw new FsioError(`cannot read ${path} at offset ${pos}: ${describeIoError(err)}`, path, err);
      }
      if (bytesRead === 0) break;
      const from = Math.max(0, start - pos);
      pos += bytesRead;
      if (from < bytesRead) yield buf.subarray(from, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
