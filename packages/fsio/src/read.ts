import { open, stat, type FileHandle } from 'node:fs/promises';
import { FsioError, describeIoError, notice } from './errors.js';

/** Options of {@link readFileChunks}: byte range, chunk size, read-ahead. */
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
  /**
   * Stops the read: checked before each chunk (not per byte), the generator then rejects with `signal.reason`
   * (an `AbortError` DOMException unless the caller gave another) and closes the file.
   */
  signal?: AbortSignal;
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
    throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
  if (s.isFile()) return;
  const what = s.isFIFO() ? 'a FIFO' : s.isDirectory() ? 'a directory' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : s.isSocket() ? 'a socket' : 'not a regular file';
  throw new FsioError('not-regular', `${path} is ${what}; ${forWhat} needs a regular file`, { file: path });
}

/**
 * Reads a file as a sequence of chunks with bounded memory. Each yielded chunk is a fresh buffer the caller
 * may keep (unless `reuseBuffers`). A FIFO or a device is read once, front to back, as a stream (`start` bytes
 * are skipped); opening a FIFO waits for a writer, and says so. Errors are {@link FsioError}s naming the file.
 */
export async function* readFileChunks(path: string, options: ReadChunksOptions = {}): AsyncGenerator<Uint8Array> {
  const chunkSize = options.chunkSize ?? 1 << 20;
  const signal = options.signal;
  signal?.throwIfAborted();
  const kind = await stat(path).catch(() => null);
  const stream = kind !== null && !kind.isFile() && !kind.isDirectory();
  if (kind?.isFIFO()) notice(`${path} is a FIFO: waiting for a writer to open it`);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
  if (stream) {
    yield* readStream(fh, path, chunkSize, options.start ?? 0, options.end ?? Infinity, signal);
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
      throw new FsioError('io', `cannot read ${path} at offset ${at}: ${describeIoError(err)}`, { file: path, cause: err });
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
    signal?.throwIfAborted();
    next = start(pos);
    for (;;) {
      const chunk = await next;
      next = null;
      if (chunk === null) break;
      signal?.throwIfAborted();
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
async function* readStream(fh: FileHandle, path: string, chunkSize: number, start: number, end: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let pos = 0;
  try {
    while (pos < end) {
      signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(Math.min(chunkSize, end - pos));
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, buf.length, null));
      } catch (err) {
        throw new FsioError('io', `cannot read ${path} at offset ${pos}: ${describeIoError(err)}`, { file: path, cause: err });
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

/**
 * The chunks of `source`, checking `signal` before each one: once it is aborted the iteration rejects with
 * `signal.reason` (`signal.throwIfAborted()` semantics) and `source` is closed (its `return()` is called, which
 * closes a file read by {@link readFileChunks}). Without a signal, `source` itself is returned (no cost).
 */
export function abortableChunks<T>(source: AsyncIterable<T>, signal: AbortSignal | undefined): AsyncIterable<T> {
  if (signal === undefined) return source;
  return {
    async *[Symbol.asyncIterator]() {
      signal.throwIfAborted();
      const it = source[Symbol.asyncIterator]();
      try {
        for (;;) {
          const r = await it.next();
          signal.throwIfAborted();
          if (r.done) return;
          yield r.value;
        }
      } finally {
        await it.return?.();
      }
    },
  };
}

/** True when `path` can only be read as a stream (a FIFO, a character device, a socket): once, front to back. */
export async function isStreamPath(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  return s !== null && !s.isFile() && !s.isDirectory();
}

/**
 * One front-to-back read of a file (made for FIFOs and devices, which cannot be read twice or at an offset):
 * the first bytes can be looked at before they are consumed ({@link peek}), and a consumer that stopped inside
 * the chunks it took can give back what it did not use ({@link unread}), for the next consumer. {@link close} it.
 */
export class ChunkCursor {
  private readonly it: AsyncIterator<Uint8Array>;
  /** Chunks read from the file and not handed out yet (peeked, or given back). */
  private ahead: Uint8Array[] = [];
  private aheadBytes = 0;
  private ended = false;
  /** The last chunks handed out, with their offsets (what {@link unread} can give back). */
  private recent: { at: number; bytes: Uint8Array }[] = [];
  /** Offset of the next byte {@link chunks} hands out. */
  offset = 0;

  constructor(
    source: AsyncIterable<Uint8Array>,
    /** How many handed-out chunks stay available to {@link unread}. */
    private readonly keep = 4,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** A cursor over the file at `path` (read with {@link readFileChunks}: a FIFO waits for its writer, and says so). */
  static open(path: string, options: Pick<ReadChunksOptions, 'chunkSize'> = {}): ChunkCursor {
    return new ChunkCursor(readFileChunks(path, { chunkSize: options.chunkSize }));
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.ahead.push(r.value);
    this.aheadBytes += r.value.length;
    return true;
  }

  /** The next `n` bytes (fewer at the end of the file), without consuming them. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.aheadBytes < n && (await this.pull()));
    const all = this.ahead.length === 1 ? this.ahead[0] : Buffer.concat(this.ahead);
    if (this.ahead.length > 1) this.ahead = [all];
    return all.subarray(0, Math.min(n, all.length));
  }

  /** The bytes from {@link offset} on, in chunks the caller may keep. Stopping early leaves the rest for later. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.ahead.length === 0 && !(await this.pull())) return;
      const chunk = this.ahead.shift()!;
      this.aheadBytes -= chunk.length;
      this.recent.push({ at: this.offset, bytes: chunk });
      if (this.recent.length > this.keep) this.recent.shift();
      this.offset += chunk.length;
      yield chunk;
    }
  }

  /** Moves back to `offset` (inside the last chunks handed out): the bytes from there on come again. */
  unread(offset: number): void {
    if (offset === this.offset) return;
    const first = this.recent[0];
    if (first === undefined || offset < first.at || offset > this.offset) throw new RangeError(`cannot go back to offset ${offset} (at ${this.offset})`);
    const back: Uint8Array[] = [];
    while (this.recent.length > 0 && this.recent[this.recent.length - 1].at + this.recent[this.recent.length - 1].bytes.length > offset) {
      const c = this.recent.pop()!;
      back.unshift(c.at >= offset ? c.bytes : c.bytes.subarray(offset - c.at));
      if (c.at < offset) {
        this.recent.push({ at: c.at, bytes: c.bytes.subarray(0, offset - c.at) });
        break;
      }
    }
    for (const b of back) this.aheadBytes += b.length;
    this.ahead.unshift(...back);
    this.offset = offset;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}
