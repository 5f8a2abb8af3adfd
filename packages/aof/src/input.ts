// What the user pointed at: a single AOF file, a manifest, an AOF directory, or a Redis data directory.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ChunkCursor, FsioError, describeIoError, readFileChunks, type ReadChunksOptions } from '@redis-persist/fsio';
import { checkRdb } from '@redis-persist/rdb';
import { AofError } from './errors.js';
import { looksLikeManifest, parseManifest, type AofManifest } from './manifest.js';
import { checkRdbPart, type RdbPartResult } from './rdb-part.js';

/** What an AOF path names: a single file, or a multi-part directory with its manifest. */
export type AofInput =
  | { layout: 'single'; path: string }
  | { layout: 'multi-part'; dir: string; manifestPath: string };

/** The first `n` bytes of a file (fewer when it is shorter). */
export async function readHead(path: string, n: number): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    throw new FsioError('io', `cannot read the first bytes of ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  } finally {
    await fh.close();
  }
}

async function statOrThrow(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
}

/**
 * Decides how to read `path`:
 * - a directory holding a `*.manifest` (preferring `appendonly.aof.manifest`) is a multi-part AOF;
 * - a Redis data directory with an `appendonlydir/` inside is followed into it, else its `appendonly.aof`;
 * - a file whose first non-comment line starts with `file` is a manifest (as redis-check-aof 7.2.5+ decides);
 * - any other file is a single AOF (RESP, possibly with an RDB preamble).
 */
export async function resolveAofInput(path: string): Promise<AofInput> {
  const st = await statOrThrow(path);
  if (st.isDirectory()) {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      throw new FsioError('io', `cannot read directory ${path}: ${describeIoError(err)}`, { file: path, cause: err });
    }
    const manifests = names.filter((n) => n.endsWith('.manifest') && !n.startsWith('temp-')).sort();
    if (manifests.length > 0) {
      const chosen = manifests.includes('appendonly.aof.manifest') ? 'appendonly.aof.manifest' : manifests[0];
      return { layout: 'multi-part', dir: path, manifestPath: join(path, chosen) };
    }
    if (names.includes('appendonlydir')) return resolveAofInput(join(path, 'appendonlydir'));
    if (names.includes('appendonly.aof')) return { layout: 'single', path: join(path, 'appendonly.aof') };
    throw new AofError('missing', 'no AOF here: expected an appendonly.aof.manifest, an appendonlydir/ or an appendonly.aof', { file: path });
  }
  // a FIFO or a device is read once, as a stream: a single AOF (looking at its head here would consume it)
  if (!st.isFile()) return { layout: 'single', path };
  const head = await readHead(path, 64 * 1024);
  if (looksLikeManifest(head)) return { layout: 'multi-part', dir: dirname(path), manifestPath: path };
  return { layout: 'single', path };
}

/** Reads and parses a manifest file (AofError `manifest` when Redis would refuse it). */
export async function readManifest(manifestPath: string): Promise<AofManifest> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(manifestPath);
  } catch (err) {
    throw new FsioError('io', `cannot read ${manifestPath}: ${describeIoError(err)}`, { file: manifestPath, cause: err });
  }
  return parseManifest(bytes, basename(manifestPath));
}

/**
 * The RDB signature test of redis-check-aof (`fileIsRDB`): at least 8 bytes starting with `REDIS`. We also take
 * Valkey 9's `VALKEY` magic, which a Valkey base file carries.
 */
export function isRdbHead(head: Uint8Array, size: number): boolean {
  if (size < 8) return false;
  const magic = Buffer.from(head.subarray(0, 6)).toString('latin1');
  return magic.startsWith('REDIS') || magic === 'VALKEY';
}

/**
 * One file of an AOF opened for a single front-to-back pass. A regular file is stat'ed and read at offsets; a FIFO
 * or a device is read once as a stream (its size is only known at the end: {@link totalSize}), its head peeked
 * and its RDB part checked from the same stream, the commands continuing where the RDB ends.
 */
export interface AofFilePass {
  /** The size of a regular file; null for a stream. */
  readonly size: number | null;
  /** The first 8 bytes (fewer when the file is shorter). */
  readonly head: Uint8Array;
  /** Checks the RDB part at the start (as {@link checkRdbPart}); {@link chunks} then starts at its end. */
  checkRdbPart(file: string, signal?: AbortSignal): Promise<RdbPartResult>;
  /**
   * The bytes from `start` on (for a stream, `start` must be where the previous read stopped, and the stream is
   * closed when this read ends, even early: read a stream to its end to learn its size).
   */
  chunks(start: number, options?: Pick<ReadChunksOptions, 'reuseBuffers' | 'chunkSize'>): AsyncIterable<Uint8Array>;
  /** The size of the file: a stream's rest is read (and counted) first, if it is still open. */
  totalSize(): Promise<number>;
  close(): Promise<void>;
}

/** Opens one file of an AOF for a single pass (see {@link AofFilePass}); null when it does not exist. */
export async function openAofFile(path: string): Promise<AofFilePass | null> {
  const st = await stat(path).catch(() => null);
  if (st === null) return null;
  if (st.isFile()) {
    const size = st.size;
    const head = size === 0 ? new Uint8Array(0) : await readHead(path, 8);
    return {
      size,
      head,
      checkRdbPart: (file, signal) => checkRdbPart(path, file, signal),
      chunks: (start, options = {}) => readFileChunks(path, { start, ...options }),
      totalSize: async () => size,
      close: async () => undefined,
    };
  }
  return openCursorPass(ChunkCursor.open(path), path);
}

/**
 * Opens an AOF given as a stream of chunks (any non-path {@link ByteSource}) for a single pass, as one single
 * file named `name`. A stream cannot be a multi-part AOF (its other files could not be found): a manifest
 * arriving by stream is refused with an {@link AofError} of code `unsupported` (the stream is closed).
 */
export async function openAofStream(chunks: AsyncIterable<Uint8Array>, name: string): Promise<AofFilePass> {
  const pass = await openCursorPass(new ChunkCursor(chunks), name);
  let manifest: boolean;
  try {
    manifest = await streamIsManifest(pass.peek);
  } catch (err) {
    await pass.close();
    throw err;
  }
  if (manifest) {
    await pass.close();
    throw new AofError('unsupported', 'this stream holds a manifest: a multi-part AOF can only be read from its directory or manifest path (its files are found next to it)', { file: name, offset: 0 });
  }
  return pass;
}

/** Whether a stream's first non-comment line starts with `file`, peeking no further than needed to tell. */
async function streamIsManifest(peek: (n: number) => Promise<Uint8Array>): Promise<boolean> {
  for (let n = 64; ; n *= 2) {
    const head = await peek(n);
    const c = head[0];
    if (c !== 0x23 && c !== 0x66) return false; // neither a comment nor `file`: RESP (`*`), an RDB, or empty
    const atEnd = head.length < n || n >= MANIFEST_HEAD;
    // the first line that is not a comment, and whether its first 4 bytes are there
    let pos = 0;
    while (pos < head.length && head[pos] === 0x23) {
      const nl = head.indexOf(0x0a, pos);
      if (nl < 0) {
        pos = head.length;
        break;
      }
      pos = nl + 1;
    }
    if (atEnd || head.length - pos >= 4) return looksLikeManifest(head);
  }
}

const MANIFEST_HEAD = 64 * 1024;

async function openCursorPass(cursor: ChunkCursor, path: string): Promise<AofFilePass & { peek: (n: number) => Promise<Uint8Array> }> {
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await cursor.close();
  };
  let head: Uint8Array;
  try {
    head = await cursor.peek(8);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    size: null,
    head,
    peek: (n) => cursor.peek(n),
    async checkRdbPart(file, signal) {
      let r;
      try {
        r = await checkRdb(cursor.chunks(), { stopAtEnd: true, file, signal });
      } catch (err) {
        await close();
        throw err;
      }
      const endOffset = r.endOffset ?? r.reachedOffset;
      if (r.ok) cursor.unread(endOffset);
      else await close();
      return {
        ok: r.ok,
        endOffset,
        version: r.version,
        keys: r.keys,
        error: r.error ? { offset: r.error.offset, message: r.error.message, truncated: r.error.truncated } : null,
      };
    },
    // the stream closes when its reader is done with it (at its end, or when the reader stops early)
    async *chunks(start) {
      try {
        if (start !== cursor.offset) throw new FsioError('io', `cannot read ${path} from offset ${start}: it is read as a stream, now at offset ${cursor.offset}`, { file: path });
        yield* cursor.chunks();
      } finally {
        await close();
      }
    },
    async totalSize() {
      if (!closed) {
        for await (const c of cursor.chunks()) void c;
        await close();
      }
      return cursor.offset;
    },
    close,
  };
}
