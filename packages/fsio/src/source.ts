import { readFileChunks, type ReadChunksOptions } from './read.js';

/**
 * Where a file's bytes can come from, for every reader of the project (`readRdb`, `checkRdb`, `readAof`,
 * `checkAof`…): a path, the bytes themselves, a Node Readable, a web ReadableStream, or any (async) iterable of
 * Uint8Array chunks. A path is opened and read by the callee (and closed when it is done); any other source is
 * read once, front to back, and never closed by the callee beyond what ending its iteration does.
 */
export type ByteSource =
  | string
  | Uint8Array
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>;

/**
 * The chunks of any {@link ByteSource}, as one async iterable. A path is read with {@link readFileChunks} and
 * `fileRead` (its options; the default reads 1 MiB fresh buffers); bytes come as one chunk; a web stream is read
 * through its reader (the lock is released when the iteration ends); a Node Readable or another async iterable
 * is returned as it is.
 */
export function byteSourceChunks(source: ByteSource, fileRead: ReadChunksOptions = {}): AsyncIterable<Uint8Array> {
  if (typeof source === 'string') return readFileChunks(source, fileRead);
  if (source instanceof Uint8Array) source = [source];
  if (!(Symbol.asyncIterator in source) && Symbol.iterator in source) {
    const it = source as Iterable<Uint8Array>;
    return {
      async *[Symbol.asyncIterator]() {
        yield* it;
      },
    };
  }
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function' && !(Symbol.asyncIterator in source)) {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            yield value;
          }
        } finally {
          reader.releaseLock();
        }
      },
    };
  }
  return source as AsyncIterable<Uint8Array>;
}
