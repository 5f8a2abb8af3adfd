// `rdb-tool export`: one row per key (source, db, key, type, encoding, expiry, elements, bytes, memory) of each RDB
// file as Parquet or CSV, one output file per input in the output directory. The rows and the writer are
// @redis-persist/analysis' (exportRdb); this file parses options, applies the output policy and formats.
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { exportRdb, type ExportFormat, type MemoryServerModel } from '@redis-persist/analysis';
import { AtomicFile, checkOutput } from '@redis-persist/fsio';
import type { Command } from 'commander';
import { keepHeapSmall } from './memory.js';
import { analysisRdbFile, inputFileSize, memoryModelOptions } from './memory-estimate.js';
import { addKeyFilterOptions, createOutput, keyFilterFrom, usageError, type KeyFilterCliOptions, interruptSignal } from '../common/index.js';

interface ExportOpts {
  format: string;
  output: string;
  config?: string;
  server: string;
  force?: boolean;
  json?: boolean;
  rowGroupSize: string;
}


/** `dump.rdb` -> `dump.parquet`; a name without `.rdb` keeps its extension (`dump.rdb.1` -> `dump.rdb.1.parquet`). */
function outputName(file: string, format: ExportFormat): string {
  const base = basename(file);
  const stem = extname(base).toLowerCase() === '.rdb' ? base.slice(0, -4) : base;
  return `${stem}.${format}`;
}

export function registerExport(program: Command): void {
  addKeyFilterOptions(
    program
      .command('export')
    .description(
      'one row per key (source, db, key, type, encoding, expiry, elements, bytes, memory) of each RDB file, as Parquet or CSV for DuckDB, Spark or BigQuery: <basename>.parquet (or .csv) per input in the output directory',
    )
    .argument('<files...>', 'RDB files (or data directories: their dbfilename, when that is what Redis loads)')
    .requiredOption('-o, --output <dir>', 'the output directory (created when missing); an existing <basename>.parquet in it is refused without --force')
    .option('--format <fmt>', 'parquet (row groups of --row-group-size rows, expiry as TIMESTAMP(ms, UTC)) or csv (a header, expiry as Unix ms)', 'parquet')
    .option('--config <redis.conf>', "the loading server's redis.conf: its encoding limits decide `encoding` and `memory`, as in rdb-tool memory")
    .option('--server <model>', 'redis-7.0 or valkey-8 (the memory model, as in rdb-tool memory)', 'redis-7.0')
    .option('--row-group-size <n>', 'Parquet rows per row group (what is held in memory at once)', '65536')
    .option('--force', 'replace existing output files (each old one is kept as <file>.bak)')
    .option('--json', 'print one JSON document: the files written and their rows'),
  ).action(async (inputs: string[], opts: ExportOpts & KeyFilterCliOptions) => {
      const filter = keyFilterFrom(opts);
      if (opts.format !== 'parquet' && opts.format !== 'csv') throw usageError(`--format must be parquet or csv, got ${JSON.stringify(opts.format)}`);
      const format: ExportFormat = opts.format;
      const rowGroupSize = Number(opts.rowGroupSize);
      if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1) throw usageError(`--row-group-size must be a positive integer, got ${JSON.stringify(opts.rowGroupSize)}`);
      const o = createOutput();
      const config = await memoryModelOptions(opts);
      // every input resolved and every output checked before anything is written: a refusal leaves nothing behind
      const jobs: { input: string; file: string; out: string }[] = [];
      const byOut = new Map<string, string>();
      for (const input of inputs) {
        const file = await analysisRdbFile(input, opts.config, o, 'export reads the keys of an RDB file');
        // a missing input fails before any output is written, not after the ones before it
        await inputFileSize(file);
        const out = join(opts.output, outputName(file, format));
        const other = byOut.get(out);
        if (other !== undefined) throw usageError(`${other} and ${file} would both be written to ${out}: export them into different directories`);
        byOut.set(out, file);
        jobs.push({ input, file, out });
      }
      const allInputs = jobs.map((j) => j.file);
      for (const j of jobs) await checkOutput(j.out, { force: opts.force, inputs: allInputs });
      await mkdir(opts.output, { recursive: true });
      keepHeapSmall();
      const files: { input: string; file: string; output: string; rows: number; bytes: number; seconds: number }[] = [];
      for (const j of jobs) {
        const t0 = performance.now();
        const out = await AtomicFile.create(j.out, { force: opts.force, inputs: allInputs });
        let r;
        try {
          r = await exportRdb(j.file, out, { signal: interruptSignal(), format, config, server: opts.server as MemoryServerModel, file: j.file, source: j.file, rowGroupSize, filter });
          await out.commit();
        } catch (err) {
          await out.abort();
          throw err;
        }
        const seconds = (performance.now() - t0) / 1000;
        files.push({ input: j.input, file: j.file, output: j.out, rows: r.rows, bytes: r.written, seconds: Math.round(seconds * 100) / 100 });
        if (!opts.json) o.out(`wrote ${j.out}: ${r.rows} rows from ${j.file} (${seconds.toFixed(1)} s)`);
      }
      if (opts.json) o.json({ format, files, rows: files.reduce((s, f) => s + f.rows, 0) });
    });
}
