// `rdb-tool dump <data dir>` when Redis loads the AOF: the keyspace Redis would hold after loading it (replayed, as
// `rdb-tool convert` does), with dump's filters and output forms.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AtomicFile, checkOutput } from '@redis-persist/fsio';
import type { KeyFilter } from '@redis-persist/keyspace';
import { replayAof } from '@redis-persist/replay';
import { aofInputPaths, dumpReplayed, type DataDirSource } from '@redis-persist/converters';
import { createOutput, usageError, interruptSignal } from '../common/index.js';

export interface DumpAofOptions {
  format: string;
  encoding?: boolean;
  keepExpired?: boolean;
  output?: string;
  force?: boolean;
}

/**
 * Dumps the keyspace replayed from the AOF of a data directory. Keys come in canonical order whatever `--order`
 * says (a replayed keyspace has no file order); `--encoding` is refused (an AOF stores no encodings).
 */
export async function dumpReplayedAof(src: DataDirSource, opts: DumpAofOptions, filter: KeyFilter | undefined): Promise<void> {
  const o = createOutput();
  if (opts.encoding) throw usageError(`--encoding shows the encodings stored in an RDB file; Redis loads the AOF ${src.path} here, which stores none (pass --from rdb to dump the RDB file)`);
  const policy = { force: opts.force, inputs: await aofInputPaths(src.path) };
  if (opts.output) await checkOutput(opts.output, policy);
  // what Redis would hold after loading the AOF (a damaged tail is cut as with aof-load-truncated yes)
  const replayed = await replayAof(src.path, { signal: interruptSignal() });
  if (replayed.truncated) o.err(o.e.yellow(`warning: ${replayed.truncated.file} ends early; commands from offset ${replayed.truncated.offset} on were not replayed (${replayed.truncated.message})`));
  if (replayed.failed > 0) o.err(o.e.yellow(`warning: ${replayed.failed} command(s) of the AOF fail in Redis too and changed nothing`));
  const chunks = dumpReplayed(replayed, { format: opts.format as 'jsonl' | 'resp', filter, keepExpired: opts.keepExpired });
  if (opts.output) {
    const out = await AtomicFile.create(opts.output, policy);
    try {
      for await (const c of chunks) await out.write(c);
      await out.commit();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return;
  }
  await pipeline(Readable.from(chunks, { objectMode: false }), process.stdout, { end: false });
}
