import { open } from 'node:fs/promises';
import { FsioError, describeIoError } from './errors.js';

export interface ReadChunksOptions {
  /** First byte to read (default 0). */
  start?: number;
  /** Stop before this byte (default: end of file). */
  end?: number;
  /** Bytes per read (default 1 MiB). */
  chunkSize?: number;
}

/**
 * Reads a file as a sequence of chunks with bounded memory. Each yielded chunk is a fresh buffer the caller
 * may keep. Errors are {@link FsioError}s naming the file.
 */
export async function* readFileChunks(path: string, options: ReadChunksOptions = {}): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FsioError(`cannot open ${path}: ${describeIoError(err)}`, path, err);
  }
  try {
    let pos = options.start ?? 0;
    const end = options.end ?? Infinity;
    while (pos < end) {
      const want = Math.min(chunkSize, end - pos);
      const buf = Buffer.allocUnsafe(want);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, want, pos));
      } catch (err) {
        throw new FsioError(`cannot read ${path} at offset ${pos}: ${describeIoError(err)}`, path, err);
      }
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
