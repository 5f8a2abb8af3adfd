import { extname } from 'node:path';
import { AtomicFile, checkOutput, type OutputPolicy } from '@redis-persist/fsio';
import type { KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { DEFAULT_RDB_VERSION, RdbWriterError, resolveTarget, writeRdbFile, type DropInfo } from '@redis-persist/rdb-writer';
import type { Command } from 'commander';
import { CliExit, ExitCode, addKeyFilterOptions, keyFilterFrom, refuseMinBytes, type KeyFilterCliOptions, describeError, Progress, createOutput, dataDirSource, dropJson, errorJson, sourceJson, usageError, type Output, interruptSignal } from '../common/index.js';
import { replayAof } from '@redis-persist/replay';
import { aofInputPaths, convertRecords, keyspaceBytes, type ConvertInput } from '@redis-persist/converters';
import { detectInput, type Detected } from '../common/input.js';
import { WholeKeyOutput, damageMessage, type Damage } from './damage.js';
import { keepHeapSmall } from './memory.js';

type Format = 'rdb' | 'jsonl' | 'resp';

interface ConvertOpts {
  rdbVersion?: string;
  valkey?: boolean;
  to?: string;
  compress: boolean;
  dropUnsupported?: boolean;
  lossy?: boolean;
  json?: boolean;
  force?: boolean;
  config?: string;
  from?: string;
}

const EXTENSIONS: Record<string, Format> = { '.rdb': 'rdb', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.aof': 'resp', '.resp': 'resp' };

async function* toAsync<T>(items: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

/** The --json document of a conversion refused before anything was read (an empty input). */
function refusedJson(o: Output, r: { input: string; source: unknown; output: string; code: string; message: string }): void {
  o.json({ input: r.input, source: r.source, output: r.output, written: false, error: { code: r.code, message: r.message } });
}

function dropLine(d: DropInfo): string {
  return d.message;
}

export function registerConvert(program: Command): void {
  addKeyFilterOptions(
    program
      .command('convert')
    .description('convert an RDB file, an AOF or keyspace JSON Lines to an RDB file of any version (1-12, Valkey), JSON Lines or RESP commands')
    .argument('<in>', 'input: an RDB file (REDIS/VALKEY magic), an AOF (file, appendonlydir/ or manifest: replayed as Redis would load it) or keyspace JSON Lines')
    .argument('<out>', 'output file (written atomically: temp file, fsync, rename); never the input')
    .option('--rdb-version <n>', `target RDB version: 1-12 (Redis 2.0 … 7.4/8.x), with --valkey 1-11 or 80 (default ${DEFAULT_RDB_VERSION}: Redis 7.0+ and every Valkey)`)
    .option('--valkey', 'write for Valkey (valkey-ver AUX, Valkey version range)')
    .option('--to <format>', 'output format: rdb, jsonl or resp (default: from the extension .rdb/.jsonl/.aof/.resp)')
    .option('--no-compress', 'do not LZF-compress strings (like rdbcompression no)')
    .option('--drop-unsupported', 'leave out keys/functions the target version cannot hold (each is reported) instead of refusing')
    .option('--lossy', 'keep keys whose only problem is metadata the target lacks (stream metadata, consumer active-time, hash-field TTLs) and write them without it, reporting each')
    .option('--force', 'replace an existing output (the old one is kept as <out>.bak)')
    .option('--config <redis.conf>', "when <in> is a data directory: the server's redis.conf, whose appendonly decides what Redis loads (default: <in>/redis.conf when present, else appendonly no)")
    .option('--from <rdb|aof>', 'when <in> is a data directory: read its RDB file or its AOF, whatever Redis would load')
    .option('--json', 'print one JSON document describing the result'),
  ).action(async (input: string, output: string, opts: ConvertOpts & KeyFilterCliOptions) => {
      const filter = keyFilterFrom(opts);
      const o = createOutput();
      let to: Format;
      if (opts.to !== undefined) {
        if (opts.to !== 'rdb' && opts.to !== 'jsonl' && opts.to !== 'resp') throw usageError(`--to must be rdb, jsonl or resp, got ${JSON.stringify(opts.to)}`);
        to = opts.to;
      } else {
        const f = EXTENSIONS[extname(output).toLowerCase()];
        if (!f) throw usageError(`cannot tell the output format from ${JSON.stringify(output)}: use a .rdb/.jsonl/.aof/.resp name or --to`);
        to = f;
      }
      let rdbVersion: number | undefined;
      if (opts.rdbVersion !== undefined) {
        rdbVersion = Number(opts.rdbVersion);
        if (!/^\d+$/.test(opts.rdbVersion)) throw usageError(`--rdb-version wants a number, got ${JSON.stringify(opts.rdbVersion)}`);
        if (to !== 'rdb') throw usageError('--rdb-version only applies to RDB output');
      }
      if (opts.valkey && to !== 'rdb') throw usageError('--valkey only applies to RDB output');
      if (to === 'rdb') {
        try {
          resolveTarget(rdbVersion, opts.valkey ?? false);
        } catch (err) {
          if (err instanceof RdbWriterError) throw usageError(describeError(err));
          throw err;
        }
      }
      // a data directory: what Redis would load from it (said on stderr), else the input itself
      const src = await dataDirSource('rdb-tool', input, opts, o);
      const source = sourceJson(src);
      const path = src?.path ?? input;
      let detected: Detected;
      try {
        if (src?.kind === 'aof') detected = { format: 'aof' };
        else if (src?.kind === 'rdb') detected = { ...(await detectInput(path)), format: 'rdb' }; // dbfilename is an RDB (an empty one is refused)
        else detected = await detectInput(path);
      } catch (err) {
        if (opts.json && err instanceof CliExit) refusedJson(o, { input, source, output, code: 'empty', message: err.message });
        throw err;
      }
      const from = detected.format;
      if (from !== 'rdb') refuseMinBytes(filter, from === 'aof' ? 'the keyspace replayed from an AOF' : 'keyspace JSON Lines');
      const policy: OutputPolicy = { force: opts.force, inputs: from === 'aof' ? await aofInputPaths(path) : [path] };
      await checkOutput(output, policy);
      // a damaged RDB: the records before the damage are written (and committed), then it is reported: exit 1
      let damage: Damage | null = null;
      const damaged = (): Damage | null => damage;
      const damageJson = (d: Damage) => ({ code: d.error.code, offset: d.error.offset, message: d.error.message, complete: d.error.code === 'checksum' });
      let what: ConvertInput;
      if (from === 'aof') {
        // what Redis would hold after loading the AOF (a damaged tail is cut as with aof-load-truncated yes)
        const replayed = await replayAof(path, { signal: interruptSignal() });
        if (replayed.truncated) o.err(o.e.yellow(`warning: ${replayed.truncated.file} ends early; commands from offset ${replayed.truncated.offset} on were not replayed (${replayed.truncated.message})`));
        if (replayed.failed > 0) o.err(o.e.yellow(`warning: ${replayed.failed} command(s) of the AOF fail in Redis too and changed nothing`));
        what = { format: 'aof', replayed };
      } else {
        // (a FIFO streams on from the read that looked at its head)
        const bytes = detected.chunks ?? path;
        const onDamage = (error: Damage['error'], reading: Damage['reading']) => {
          damage = { error, reading };
        };
        what = from === 'rdb' ? { format: 'rdb', source: bytes, file: path, onDamage } : { format: 'jsonl', source: bytes, file: path };
      }
      const records = convertRecords(what, to, filter, interruptSignal());

      if (to === 'rdb') {
        const dropped: DropInfo[] = [];
        const progress = new Progress('converting', 0);
        let summary;
        try {
          summary = await writeRdbFile(output, records, {
            signal: interruptSignal(),
            file: policy,
            rdbVersion,
            valkey: opts.valkey ?? false,
            compress: opts.compress,
            dropUnsupported: opts.dropUnsupported ?? false,
            lossy: opts.lossy ?? false,
            onDrop: (d) => {
              dropped.push(d);
              if (!opts.json) o.err(o.e.yellow(`${d.kind === 'data' ? 'lost' : 'dropped'}: ${dropLine(d)}`));
            },
            onProgress: (p) => progress.update(p.bytes),
          });
        } catch (err) {
          progress.done();
          if (err instanceof RdbWriterError && err.code === 'options') throw usageError(describeError(err));
          if (opts.json && err instanceof RdbWriterError) {
            o.json({
              input,
              source,
              inputFormat: from,
              output,
              format: 'rdb',
              written: false,
              error: errorJson(err),
            });
          }
          if (err instanceof RdbWriterError && err.code === 'unsupported') {
            throw new CliExit(
              ExitCode.Problem,
              `${err.message}\nnothing was written; choose a newer --rdb-version, pass --lossy to write such keys without the newer metadata, or --drop-unsupported to leave them out`,
            );
          }
          throw err;
        }
        progress.done();
        const d = damaged();
        if (opts.json) {
          o.json({
            input,
            source,
            inputFormat: from,
            output,
            format: 'rdb',
            ...(d ? { error: damageJson(d) } : {}),
            rdbVersion: summary.rdbVersion,
            valkey: opts.valkey ?? false,
            keys: summary.keys,
            functions: summary.functions,
            bytes: summary.bytes,
            dropped: dropped.map(dropJson),
          });
        } else {
          o.out(
            `${o.c.green('wrote')} ${output}: RDB ${summary.rdbVersion}${opts.valkey ? ' (Valkey)' : ''}, ${summary.keys} keys, ${summary.functions} functions, ${summary.bytes} bytes` +
              (dropped.some((d) => d.kind !== 'data') ? o.c.yellow(`, ${dropped.filter((d) => d.kind !== 'data').length} dropped`) : '') +
              (dropped.some((d) => d.kind === 'data') ? o.c.yellow(`, ${dropped.filter((d) => d.kind === 'data').length} written without newer metadata`) : ''),
          );
        }
        // the RDB written holds the records before the damage (and ends with EOF and its own CRC64)
        if (d) throw new CliExit(ExitCode.Problem, damageMessage(d, output, true));
        return;
      }

      let keys = 0;
      let functions = 0;
      async function* counted(src: AsyncIterable<KeyspaceRecord>): AsyncGenerator<KeyspaceRecord> {
        for await (const r of src) {
          if ((r as KeyspacePiece).partial) {
            // more pieces of this key follow: counted once, with its last piece
          } else if (r.kind === 'key') keys++;
          else functions++;
          yield r;
        }
      }
      // canonical order: lines (or commands) encoded once and sorted as bytes (bounded memory)
      const file = await AtomicFile.create(output, policy);
      // a key in pieces cut by a damage is left out (the file cut back, when its bytes were written)
      const sink = new WholeKeyOutput({ kind: 'file', file });
      // a huge key comes in pieces, its elements sorted through temp files past the sort memory (16 MiB, dump's
      // default) and the pieces' garbage collected as it goes: peak RSS bounded whatever the size of a key
      keepHeapSmall();
      const chunks = keyspaceBytes(counted(toAsync(records)), { format: to, pieces: sink, memoryBudgetBytes: 16 * 1024 * 1024, signal: interruptSignal() });
      const progress = new Progress('converting', 0);
      try {
        for await (const c of chunks) {
          await sink.write(c);
          progress.update(file.bytesWritten);
        }
        await sink.finish();
        await file.commit();
      } catch (err) {
        await file.abort();
        throw err;
      } finally {
        progress.done();
        await sink.dispose();
      }
      const d = damaged();
      if (opts.json) o.json({ input, source, inputFormat: from, output, format: to, ...(d ? { error: damageJson(d) } : {}), keys, functions, bytes: file.bytesWritten, dropped: [] });
      else o.out(`${o.c.green('wrote')} ${output}: ${to === 'jsonl' ? 'keyspace JSON Lines' : 'RESP commands'}, ${keys} keys, ${functions} functions, ${file.bytesWritten} bytes`);
      if (d) throw new CliExit(ExitCode.Problem, damageMessage(d, output, true));
    });
}
