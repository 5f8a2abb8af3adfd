// What an input file is: an AOF (a directory, a manifest, a `.aof` file, or RESP commands / annotations), an RDB file
// (REDIS or VALKEY magic), else keyspace JSON Lines. Shared by `rdb-tool convert` and `rdb-tool restore`.
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { resolveAofInput } from '@redis-persist/aof';
import { ChunkCursor, FsioError, describeIoError, requireRegularFile } from '@redis-persist/fsio';
import { CliExit, ExitCode } from './exit.js';

/** What a file holds: an RDB, keyspace JSON Lines, RESP commands, or an AOF. */
export type InputFormat = 'rdb' | 'jsonl' | 'resp' | 'aof';

/** What was detected; a FIFO or a device is read once: `chunks` continues the read that looked at its head. */
export interface Detected {
  format: InputFormat;
  chunks?: AsyncIterable<Uint8Array>;
}

/** An empty input: `verb`ing it would give an empty keyspace that nothing asked for. */
export function emptyInput(path: string, verb = 'convert'): CliExit {
  return new CliExit(ExitCode.Problem, `${path} is empty (0 bytes): nothing to ${verb}; nothing was written`);
}

const looksLikeAof = (path: string, text: string) => extname(path).toLowerCase() === '.aof' || text.startsWith('*') || text.startsWith('#');

/**
 * An AOF (a directory, a manifest, a `.aof` file, or a file of RESP commands / annotations), an RDB file (REDIS or
 * VALKEY magic), else keyspace JSON Lines. An empty file is refused (`verb` says what it was for: "nothing to
 * convert"). A FIFO or a device is read once: an RDB or JSON Lines streams through, an AOF (read twice by the
 * replay: its RDB part, then its commands) is refused.
 */
export async function detectInput(path: string, verb = 'convert'): Promise<Detected> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new FsioError('io', `cannot open ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
  if (st.isDirectory()) return { format: 'aof' };
  if (!st.isFile()) return detectStream(path, verb);
  if (st.size === 0) throw emptyInput(path, verb);
  if ((await resolveAofInput(path)).layout === 'multi-part') return { format: 'aof' };
  return { format: await sniffFile(path) };
}

async function detectStream(path: string, verb: string): Promise<Detected> {
  const forAof = `${verb === 'convert' ? 'converting' : `${verb}ing`} an AOF (the replay reads it twice: its RDB part, then its commands)`.replace('restoreing', 'restoring');
  if (extname(path).toLowerCase() === '.aof') await requireRegularFile(path, forAof);
  const cursor = ChunkCursor.open(path);
  let text: string;
  try {
    text = Buffer.from(await cursor.peek(6)).toString('latin1');
  } catch (err) {
    await cursor.close();
    throw err;
  }
  if (text === '' || looksLikeAof(path, text)) {
    await cursor.close();
    if (text === '') throw emptyInput(path, verb);
    await requireRegularFile(path, forAof);
  }
  // the cursor closes itself when its chunks are read to the end (or the reader stops)
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      yield* cursor.chunks();
    } finally {
      await cursor.close();
    }
  }
  return { format: text.startsWith('REDIS') || text === 'VALKEY' ? 'rdb' : 'jsonl', chunks: rest() };
}

async function sniffFile(path: string): Promise<InputFormat> {
  let fh;
  try {
    fh = await open(path, 'r');
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    const text = head.subarray(0, bytesRead).toString('latin1');
    if (looksLikeAof(path, text)) return 'aof';
    return text.startsWith('REDIS') || text === 'VALKEY' ? 'rdb' : 'jsonl';
  } catch (err) {
    throw new FsioError('io', `cannot read ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  } finally {
    await fh?.close();
  }
}
