// `rdb-tool memory`: the estimated memory of each key as the server that loads the file would hold it. The
// estimate is @redis-persist/analysis' (accuracy: bench/memory-accuracy.md); this file parses options and formats.
import { readFile, stat } from 'node:fs/promises';
import { parseMemoryConfig, rdbMemoryRecords, type KeyMemory, type MemoryConfig, type MemoryServerModel, type MemorySummary } from '@redis-persist/analysis';
import { AtomicFile, FsioError, checkOutput, describeIoError } from '@redis-persist/fsio';
import type { Command } from 'commander';
import { keepHeapSmall } from './memory.js';
import { CliExit, ExitCode, addKeyFilterOptions, bytesToDisplay, createOutput, dataDirSource, formatBytes, keyFilterFrom, otherFileHint, usageError, type KeyFilterCliOptions, type Output, interruptSignal } from '../common/index.js';

interface MemoryOpts {
  format: string;
  config?: string;
  server: string;
  output?: string;
  force?: boolean;
  json?: boolean;
  keepExpired?: boolean;
}

const SERVERS: readonly MemoryServerModel[] = ['redis-7.0', 'valkey-8'];

function keyLine(k: KeyMemory): Record<string, unknown> {
  return {
    db: k.db,
    key: bytesToDisplay(k.key),
    type: k.type,
    encoding: k.encoding,
    memory: k.memory,
    expiresOverhead: k.expiresOverhead,
    allocated: k.allocated,
    elements: k.elements,
    fileEncoding: k.fileEncoding,
    expireAt: k.expireAt,
  };
}

const CSV_HEADER = 'db,key,type,encoding,memory,expiresOverhead,allocated,elements,fileEncoding,expireAt\n';

/** RFC 4180 quoting when needed; a key that is not UTF-8 is written as its JSON form {"base64":"..."}. */
function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function csvLine(k: KeyMemory): string {
  const key = bytesToDisplay(k.key);
  const keyText = typeof key === 'string' ? key : JSON.stringify(key);
  return `${k.db},${csvField(keyText)},${k.type},${k.encoding},${k.memory},${k.expiresOverhead},${k.allocated},${k.elements},${k.fileEncoding},${k.expireAt ?? ''}\n`;
}

function summaryText(s: MemorySummary, o: ReturnType<typeof createOutput>): string[] {
  const lines = [
    `${s.totals.keys} keys: ${formatBytes(s.totals.memory)} as MEMORY USAGE counts them, ${formatBytes(s.totals.expiresOverhead)} of expires entries, ${formatBytes(s.dbOverhead)} of db tables`,
    `used_memory after loading (${s.server}, ${s.encodings === 'config' ? 'encodings from --config' : "the file's encodings"}): about ${o.e.bold(formatBytes(s.usedMemory))} more than an empty server`,
  ];
  for (const [enc, t] of Object.entries(s.byEncoding).sort((a, b) => b[1].memory - a[1].memory)) {
    lines.push(`  ${enc.padEnd(22)} ${String(t.keys).padStart(9)} keys  ${formatBytes(t.memory).padStart(11)}`);
  }
  return lines;
}

/**
 * The RDB file an analysis command (memory, report, export) reads for `input`: the file itself, or a data
 * directory's dbfilename when that is what Redis loads (exit 2, with what to run instead, when Redis loads the AOF).
 */
export async function analysisRdbFile(input: string, config: string | undefined, o: Output, why: string): Promise<string> {
  const src = await dataDirSource('rdb-tool', input, { config }, o, {
    kind: 'rdb',
    why,
    instead: (s) => `${otherFileHint(s)}; or convert the AOF first: rdb-tool convert ${s.path} dump.rdb`,
  });
  return src?.path ?? input;
}

/** The size of an input file, or an FsioError naming it: a missing input fails before any output is written. */
export async function inputFileSize(file: string): Promise<number> {
  const st = await stat(file).catch((err: unknown) => {
    throw new FsioError('io', `cannot open ${file}: ${describeIoError(err)}`, { file, cause: err });
  });
  return st.size;
}

/** `--server` checked and `--config` read (the loading server's encoding limits), for `memory` and `export`. */
export async function memoryModelOptions(opts: { server: string; config?: string }): Promise<MemoryConfig | null> {
  if (!SERVERS.includes(opts.server as MemoryServerModel)) throw usageError(`--server must be one of ${SERVERS.join(', ')}, got ${JSON.stringify(opts.server)}`);
  if (opts.config === undefined) return null;
  let text: string;
  try {
    text = await readFile(opts.config, 'utf8');
  } catch (err) {
    throw usageError(`--config ${opts.config}: ${(err as Error).message}`);
  }
  return parseMemoryConfig(text);
}

export function registerMemory(program: Command): void {
  addKeyFilterOptions(
    program
      .command('memory')
    .description('estimate the memory each key takes in the server that loads the file (what MEMORY USAGE reports), per key and in total')
    .argument('<file>', 'the RDB file, or a data directory (its dbfilename, when that is what Redis loads)')
    .option('--format <fmt>', 'jsonl (a line per key, then a {"summary":...} line) or csv (a header, a row per key; the summary goes to stderr)', 'jsonl')
    .option('--config <redis.conf>', "the loading server's redis.conf: its encoding limits decide the encodings, as Redis converts on load (default: the file's own encodings stand)")
    .option(
      '--server <model>',
      'redis-7.0 (measured against redis-server 7.0.15: bench/memory-accuracy.md) or valkey-8 (Valkey 8.0 from its source: keys embedded in dict entries, listpack sets and lists, bare set members; NOT validated against a Valkey server, and Valkey 8.1\'s new hashtable is not modelled)',
      'redis-7.0',
    )
    .option('-o, --output <file>', 'write to this file (atomically: temp file, fsync, rename) instead of stdout')
    .option('--force', 'with -o: replace an existing file (the old one is kept as <file>.bak)')
    .option('--json', 'print only the summary, as one JSON document')
    .option('--keep-expired', 'count keys whose expiry is already past (default: left out, as a loading master drops them)'),
  ).action(async (input: string, opts: MemoryOpts & KeyFilterCliOptions) => {
      const filter = keyFilterFrom(opts);
      if (opts.format !== 'jsonl' && opts.format !== 'csv') throw usageError(`--format must be jsonl or csv, got ${JSON.stringify(opts.format)}`);
      const config = await memoryModelOptions(opts);
      const o = createOutput();
      const file = await analysisRdbFile(input, opts.config, o, 'memory estimates the keys of an RDB file');
      const policy = { force: opts.force, inputs: [file] };
      if (opts.output) await checkOutput(opts.output, policy);
      const out = opts.output && !opts.json ? await AtomicFile.create(opts.output, policy) : null;
      const enc = new TextEncoder();
      // lines are batched into ~64 KiB writes: one write per key costs more than the estimate itself
      let pending = '';
      const flush = async () => {
        if (pending === '') return;
        const chunk = enc.encode(pending);
        pending = '';
        if (out) await out.write(chunk);
        else await o.write(chunk);
      };
      const emit = async (text: string) => {
        if (opts.json) return;
        pending += text;
        if (pending.length >= 65536) await flush();
      };
      let summary: MemorySummary | null = null;
      // pieces of big collections die young: keep the young generation small as check and dump do. Measured on a
      // 25 MB RDB of a 2M-element list and a 1M-field hash: peak RSS 178 -> 101 MB, 8.8 -> 4.4 s (check: 97 MB, 2.4 s)
      keepHeapSmall();
      try {
        if (opts.format === 'csv') await emit(CSV_HEADER);
        for await (const r of rdbMemoryRecords(file, {
          signal: interruptSignal(),
          config,
          server: opts.server as MemoryServerModel,
          file,
          dropExpiredBefore: opts.keepExpired || filter?.expired === true ? undefined : Date.now(),
          filter,
        })) {
          if (r.kind === 'summary') {
            summary = r.summary;
            if (opts.format === 'jsonl') await emit(JSON.stringify({ summary: r.summary }) + '\n');
          } else {
            await emit(opts.format === 'jsonl' ? JSON.stringify(keyLine(r)) + '\n' : csvLine(r));
          }
        }
        await flush();
        await out?.commit();
      } catch (err) {
        await out?.abort();
        throw err;
      }
      if (summary === null) throw new CliExit(ExitCode.Problem, `${file}: no summary (the file ended early)`);
      if (opts.json) {
        o.json(summary);
        return;
      }
      // the human summary goes to stderr when stdout carries the records, so pipes get clean JSONL / CSV
      if (opts.format === 'csv' || opts.output) for (const l of summaryText(summary, o)) o.err(l);
      if (opts.output) o.err(`wrote ${opts.output}`);
    });
}
