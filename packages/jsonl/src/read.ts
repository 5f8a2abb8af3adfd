// Streaming reader: bytes in, records out, one line in memory at a time (capped).
import { abortableChunks, readFileChunks } from '@redis-persist/fsio';
import { KeyspaceError, type KeyspaceRecord } from '@redis-persist/keyspace';
import { parseKeyspaceLineBytes } from './parse.js';

/** Options of {@link readKeyspaceJsonl}: file name for errors, longest line. */
export interface ReadKeyspaceOptions {
  /** File name for error messages (defaults to the path when reading a path). */
  file?: string;
  /** Longest accepted line in bytes (default 1 GiB); a longer line is an error, never an allocation. */
  maxLineBytes?: number;
  /**
   * Stops the read: checked once per chunk read (not per line). When aborted, before the call or while it runs,
   * the iterator rejects with `signal.reason` (an `AbortError` DOMException by default) and the file is closed.
   */
  signal?: AbortSignal;
}

/** The longest line {@link readKeyspaceJsonl} accepts by default (1 GiB). */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024 * 1024;

function isHeaderLine(buf: Uint8Array, start: number, end: number): boolean {
  const prefix = '{"rdb":';
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads keyspace JSON Lines from a file path or a byte stream and yields its records in file order (any order
 * is accepted). Empty lines are skipped, `\r\n` endings accepted, and an optional first header line
 * (`{"rdb":...}`, an exporter's extra) is skipped. Errors are {@link KeyspaceError}s naming file, line and byte
 * offset (I/O errors stay `FsioError`s); an aborted `options.signal` rejects with its reason.
 */
export async function* readKeyspaceJsonl(
  source: string | AsyncIterable<Uint8Array>,
  options: ReadKeyspaceOptions = {},
): AsyncGenerator<KeyspaceRecord> {
  const file = options.file ?? (typeof source === 'string' ? source : undefined);
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunks = abortableChunks(typeof source === 'string' ? readFileChunks(source) : source, options.signal);
  let lineNo = 0;
  let fileOffset = 0; // offset of the first byte of `chunk`
  // A line that spans chunks is gathered here.
  let parts: Uint8Array[] = [];
  let partBytes = 0;

  const where = (lineStart: number) => {
    const w: { file?: string; line: number; offset: number } = { line: lineNo, offset: lineStart };
    if (file !== undefined) w.file = file;
    return w;
  };

  /** The record on one line, or undefined for a line to skip. */
  const parseLine = (buf: Uint8Array, start: number, end: number, lineStart: number): KeyspaceRecord | undefined => {
    lineNo++;
    if (end > start && buf[end - 1] === 0x0d) end--;
    if (end === start) return undefined;
    if (lineNo === 1 && isHeaderLine(buf, start, end)) return undefined;
    return parseKeyspaceLineBytes(buf, start, end, where(lineStart));
  };

  const tooLong = (lineStart: number): never => {
    lineNo++;
    throw new KeyspaceError('line-too-long', `line ${lineNo} is longer than the limit of ${maxLine} bytes (raise maxLineBytes if the record is genuine)`, where(lineStart));
  };

  for await (const chunk of chunks) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) {
        const add = chunk.length - pos;
        if (partBytes + add > maxLine + 1) tooLong(fileOffset + pos - partBytes);
        // Copied: a producer may reuse its chunk buffer once we ask for the next one.
        parts.push(new Uint8Array(chunk.subarray(pos)));
        partBytes += add;
        break;
      }
      if (partBytes === 0) {
        if (nl - pos > maxLine) tooLong(fileOffset + pos);
        const rec = parseLine(chunk, pos, nl, fileOffset + pos);
        if (rec !== undefined) yield rec;
      } else {
        if (partBytes + (nl - pos) > maxLine) tooLong(fileOffset + pos - partBytes);
        parts.push(chunk.subarray(pos, nl));
        const line = Buffer.concat(parts, partBytes + (nl - pos));
        const lineStart = fileOffset + pos - partBytes;
        parts = [];
        partBytes = 0;
        const rec = parseLine(line, 0, line.length, lineStart);
        if (rec !== undefined) yield rec;
      }
      pos = nl + 1;
    }
    fileOffset += chunk.length;
  }
  if (partBytes > 0) {
    // The last line has no '\n': accepted (importers are lenient), still within the limit.
    if (partBytes > maxLine) tooLong(fileOffset - partBytes);
    const line = Buffer.concat(parts, partBytes);
    parts = [];
    const rec = parseLine(line, 0, line.length, fileOffset - partBytes);
    if (rec !== undefined) yield rec;
  }
}
