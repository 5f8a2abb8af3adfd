// `rdb-tool dump <data dir>` when Redis loads the AOF: the keyspace Redis would hold after loading it (replayed, as
// `rdb-tool convert` does), with dump's filters and output forms.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { matchGlob } from '@redis-persist/bytes';
import { AtomicFile, checkOutput } from '@redis-persist/fsio';
import { type KeyType, type KeyspaceRecord } from '@redis-persist/keyspace';
import { keyspaceJsonlStream } from '@redis-persist/converters';
import { replayAof } from '@redis-persist/replay';
import { aofInputPaths, respChunks, type DataDirSource } from '@redis-persist/converters';
import { createOutput, usageError } from '../common/index.js';

export interface DumpAofOptions {
  format: string;
  key?: string;
  encoding?: boolean;
  keepExpired?: boolean;
  output?: string;
  force?: boolean;
}

/**
 * Dumps the keyspace replayed from the AOF of a data directory. Keys come in canonical order whatever `--order`
 * says (a replayed keyspace has no file order); `--encoding` is refused (an AOF stores no encodings).
 */
export async function dumpReplayedAof(src: DataDirSource, opts: DumpAofOptions, filter: { dbs?: number[]; types?: KeyType[] }): Promise<void> {
  const o = createOutput();
  if (opts.encoding) throw usageError(`--encoding shows the encodings stored in an RDB file; Redis loads the AOF ${src.path} here, which stores none (pass --from rdb to dump the RDB file)`);
  const policy = { force: opts.force, inputs: await aofInputPaths(src.path) };
  if (opts.output) await checkOutput(opts.output, policy);
  // what Redis would hold after loading the AOF (a damaged tail is cut as with aof-load-truncated yes)
  const replayed = await replayAof(src.path);
  if (replayed.truncated) o.err(o.e.yellow(`warning: ${replayed.truncated.file} ends early; commands from offset ${replayed.truncated.offset} on were not replayed (${replayed.truncated.message})`));
  if (replayed.failed > 0) o.err(o.e.yellow(`warning: ${replayed.failed} command(s) of the AOF fail in Redis too and changed nothing`));
  const { dbs, types } = filter;
  const pattern = opts.key !== undefined ? Buffer.from(opts.key, 'utf8') : null;
  const filtered = dbs !== undefined || types !== undefined || pattern !== null;
  function* selected(): Generator<KeyspaceRecord> {
    // a master drops keys already expired when it loads an RDB; the AOF keeps them until touched: dump drops
    // them (unless --keep-expired), as it does for an RDB file
    for (const r of replayed.keyspace.records({ dropExpiredAt: opts.keepExpired ? undefined : Date.now() })) {
      if (r.kind === 'function') {
        if (!filtered) yield r;
        continue;
      }
      if (dbs !== undefined && !dbs.includes(r.db)) continue;
      if (types !== undefined && !types.includes(r.type)) continue;
      if (pattern !== null && !matchGlob(pattern, r.key)) continue;
      yield r;
    }
  }
  // the replayed records are in canonical order already (functions, then keys by db and key bytes)
  const chunks = opts.format === 'jsonl' ? keyspaceJsonlStream(selected(), { order: 'file' }) : respChunks(selected());
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
