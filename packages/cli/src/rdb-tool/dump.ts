import { AtomicFile, checkOutput } from '@redis-persist/fsio';
import type { Command } from 'commander';
import { CliExit, ExitCode, addKeyFilterOptions, createOutput, dataDirSource, keyFilterFrom, refuseMinBytes, sortMemoryBytes, usageError, type KeyFilterCliOptions, interruptSignal } from '../common/index.js';
import { dumpReplayedAof } from './dump-aof.js';
import { dumpRdb } from '@redis-persist/converters';
import { keepHeapSmall } from './memory.js';
import { WholeKeyOutput, damageMessage, skipLine, writeStdout, type Damage } from './damage.js';

interface DumpOpts extends KeyFilterCliOptions {
  format: string;
  order: string;
  encoding?: boolean;
  keepExpired?: boolean;
  output?: string;
  sortMemory?: string;
  streamMeta?: string;
  force?: boolean;
  config?: string;
  from?: string;
  salvage?: boolean;
  ignoreChecksum?: boolean;
}

export function registerDump(program: Command): void {
  addKeyFilterOptions(
    program
      .command('dump')
    .description('write the keyspace of an RDB file as canonical JSON Lines or as RESP commands that rebuild it')
    .argument('<file>', 'the RDB file, or a Redis data directory (what Redis would load from it)')
    .option('--format <fmt>', 'jsonl (canonical keyspace JSON Lines) or resp (commands for redis-cli --pipe / an AOF)', 'jsonl')
  )
    .option('--order <order>', 'canonical (sorted, as KEYSPACE-JSONL.md says) or file (stream in file order, no sort)', 'canonical')
    .option('--encoding', 'add each key\'s encoding in the file as an "encoding" member (jsonl; not canonical)')
    .option('--keep-expired', 'keep keys and hash fields whose expiry is already past (default: drop them, as a loading master does)')
    .option('-o, --output <file>', 'write to this file (atomically: temp file, fsync, rename) instead of stdout')
    .option('--force', 'with -o: replace an existing file (the old one is kept as <file>.bak)')
    .option('--sort-memory <MiB>', 'memory for the canonical sort before spilling runs to temp files', '16')
    .option('--config <redis.conf>', "when <file> is a data directory: the server's redis.conf, whose appendonly decides what Redis loads (default: <file>/redis.conf when present, else appendonly no)")
    .option('--from <rdb|aof>', 'when <file> is a data directory: dump its RDB file, or the keyspace replayed from its AOF, whatever Redis would load')
    .option('--salvage', 'go on after a damaged key whose lengths still say where it ends (skipped and reported; exit 1)')
    .option('--ignore-checksum', 'a CRC64 that does not match is no error (as rdb-cli -i)')
    .option('--stream-meta <view>', 'streams of RDB <= 9 files (no first id, max-deleted id, entries added/read in the file): file (null, as Redis 5/6 report them; default for jsonl) or derived (what Redis 7 derives on load)')
    .action(async (file: string, opts: DumpOpts) => {
      if (opts.format !== 'jsonl' && opts.format !== 'resp') throw usageError(`--format must be jsonl or resp, got ${JSON.stringify(opts.format)}`);
      if (opts.order !== 'canonical' && opts.order !== 'file') throw usageError(`--order must be canonical or file, got ${JSON.stringify(opts.order)}`);
      const filter = keyFilterFrom(opts);
      // a data directory: what Redis would load (said on stderr); from an AOF, the keyspace replayed as convert does
      const src = await dataDirSource('rdb-tool', file, opts, createOutput());
      if (src?.kind === 'aof') {
        refuseMinBytes(filter, `the AOF ${src.path} (Redis loads it here)`);
        return dumpReplayedAof(src, opts, filter);
      }
      if (src) file = src.path;
      // -o is checked before any work: never the input, never an existing file without --force
      const policy = { force: opts.force, inputs: [file] };
      if (opts.output) await checkOutput(opts.output, policy);
      const sortBytes = sortMemoryBytes(opts.sortMemory);
      if (opts.streamMeta !== undefined && opts.streamMeta !== 'file' && opts.streamMeta !== 'derived') throw usageError(`--stream-meta must be file or derived, got ${JSON.stringify(opts.streamMeta)}`);
      // damaged input: the records before the damage are written whole, then the error is reported (below)
      let damage: Damage | null = null;
      let skipped = 0;
      keepHeapSmall();
      // the output never keeps part of a key: a file is cut back, stdout holds a key in pieces until its last one
      const out = opts.output ? await AtomicFile.create(opts.output, policy) : null;
      const sink = new WholeKeyOutput(out ? { kind: 'file', file: out } : { kind: 'stream', write: writeStdout });
      const chunks = dumpRdb(file, {
        signal: interruptSignal(),
        format: opts.format as 'jsonl' | 'resp',
        order: opts.order === 'canonical' ? 'canonical' : 'file',
        filter,
        encoding: opts.encoding,
        keepExpired: opts.keepExpired,
        streamMeta: opts.streamMeta as 'file' | 'derived' | undefined,
        verifyChecksum: !opts.ignoreChecksum,
        salvage: opts.salvage,
        onSkip: (s) => {
          skipped++;
          process.stderr.write(`rdb-tool: ${skipLine(s)}\n`);
        },
        onDamage: (error, reading) => {
          damage = { error, reading };
        },
        memoryBudgetBytes: sortBytes,
        // stdout gets each chunk written before the next is made (below); AtomicFile holds on to chunks
        reuseChunks: !opts.output,
        pieces: sink,
        // Redis refuses such a file ("RDB has duplicated key"), so do we
        onDuplicateKey: (db, key) => {
          throw new CliExit(ExitCode.Problem, `${file}: duplicated key ${JSON.stringify(Buffer.from(key).toString('utf8'))} in db ${db}: Redis refuses to load this file`);
        },
      });
      // one chunk at a time, each written out before the next is asked for (the JSONL stream reuses its buffers);
      // on stdout EPIPE ends the process quietly (runProgram's stdout error handler)
      try {
        for await (const c of chunks) await sink.write(c);
        await sink.finish();
        await out?.commit();
      } catch (err) {
        await out?.abort();
        throw err;
      } finally {
        await sink.dispose();
      }
      const where = opts.output ?? 'the output above';
      const d = damage as Damage | null;
      if (d !== null && d.error.code === 'checksum' && skipped > 0) {
        // a file with damaged keys cannot have a matching checksum: the skipped keys are the news
        throw new CliExit(ExitCode.Problem, `${d.error.message}\n${file}: ${skipped} damaged key(s) skipped (--salvage); ${where} holds every other record`);
      }
      if (d !== null) throw new CliExit(ExitCode.Problem, damageMessage(d, where, out !== null));
      if (skipped > 0) throw new CliExit(ExitCode.Problem, `${file}: ${skipped} damaged key(s) skipped (--salvage); ${where} holds every other record`);
    });
}
