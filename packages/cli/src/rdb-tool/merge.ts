// rdb-tool merge: several RDBs (a cluster's per-node snapshots, or any) into one, streaming; a key in two inputs is
// refused naming both files unless --on-duplicate says which one to keep.
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterError, mergeRdb, type MergeResult } from '@redis-persist/cluster';
import { isRedisPersistError } from '@redis-persist/bytes';
import { FsioError, describeIoError, requireRegularFile } from '@redis-persist/fsio';
import { RdbWriterError, type DropInfo } from '@redis-persist/rdb-writer';
import type { Command } from 'commander';
import { CliExit, ExitCode, Progress, bytesToDisplay, createOutput, formatBytes, usageError, type Output, interruptSignal } from '../common/index.js';
import { dropJson, errorJson } from '../common/index.js';
import { rdbTargetOptions, unsupportedExit } from './split.js';

interface MergeOpts {
  output: string;
  onDuplicate?: string;
  rdbVersion?: string;
  valkey?: boolean;
  compress: boolean;
  dropUnsupported?: boolean;
  lossy?: boolean;
  force?: boolean;
  json?: boolean;
}

/** The files to merge: files as given, a directory as its *.rdb files by name; each must start like an RDB. */
async function inputFiles(args: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const a of args) {
    let st;
    try {
      st = await stat(a);
    } catch (err) {
      throw new FsioError('io', `cannot open ${a}: ${describeIoError(err)}`, { file: a, cause: err });
    }
    if (st.isDirectory()) {
      const names = (await readdir(a)).filter((n) => n.endsWith('.rdb') && !n.startsWith('.')).sort();
      if (names.length === 0) throw usageError(`${a} is a directory without .rdb files`);
      files.push(...names.map((n) => join(a, n)));
    } else files.push(a);
  }
  const seen = new Map<string, string>();
  for (const f of files) {
    await requireRegularFile(f, 'merge (the first input is read twice: its head, then its keys)');
    const real = await realpath(f);
    const earlier = seen.get(real);
    if (earlier !== undefined) throw usageError(earlier === f ? `${f} is given twice` : `${earlier} and ${f} are the same file`);
    seen.set(real, f);
    const fh = await open(f, 'r').catch((err: unknown) => {
      throw new FsioError('io', `cannot open ${f}: ${describeIoError(err)}`, { file: f, cause: err });
    });
    let head: string;
    try {
      const b = Buffer.alloc(6);
      const { bytesRead } = await fh.read(b, 0, 6, 0);
      head = b.subarray(0, bytesRead).toString('latin1');
    } finally {
      await fh.close();
    }
    if (head === '') throw new CliExit(ExitCode.Problem, `${f} is empty (0 bytes); nothing was written`);
    if (!head.startsWith('REDIS') && head !== 'VALKEY') throw usageError(`${f} is not an RDB file (no REDIS/VALKEY magic)`);
  }
  return files;
}

function printResult(o: Output, r: MergeResult, mode: string): void {
  const verbatim = r.inputs.filter((i) => i.verbatim).length;
  const how = verbatim === r.inputs.length ? 'keys copied verbatim' : verbatim === 0 ? 're-encoded' : `${verbatim} of ${r.inputs.length} inputs copied verbatim, the others re-encoded`;
  const fns = r.functions > 0 ? `, ${r.functions} function librar${r.functions === 1 ? 'y' : 'ies'}` : '';
  o.out(`${o.c.green('wrote')} ${r.output}: RDB ${r.rdbVersion}${r.magic === 'VALKEY' ? ' (Valkey)' : ''} (${how}), ${r.keys} keys from ${r.inputs.length} inputs${fns}, ${formatBytes(r.bytes)}`);
  for (const i of r.inputs) o.out(`  ${i.file}: RDB ${i.rdbVersion}, ${i.keys} keys${i.kept !== i.keys ? `, ${i.kept} kept` : ''}`);
  if (r.duplicates > 0) {
    o.out(o.c.yellow(`  ${r.duplicates} key(s) in more than one input: the ${mode} one kept`));
    for (const d of r.duplicateKeys) o.out(o.c.yellow(`    db ${d.db} key ${JSON.stringify(bytesToDisplay(d.key))}: kept from ${d.kept}, left out of ${d.dropped}`));
  }
  for (const f of r.duplicateFunctions) o.out(o.c.yellow(`  function library ${JSON.stringify(f.library)} differs: kept from ${f.kept}, left out of ${f.dropped}`));
  if (r.replacedBackup) o.out(`  the file that was there is now ${r.replacedBackup}`);
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description("merge RDB files (a cluster's per-node snapshots, or any) into one, streaming: every key once (a key in two inputs is refused naming both files, unless --on-duplicate), function libraries once, the AUX fields of the first input")
    .argument('<inputs...>', 'RDB files; a directory stands for its *.rdb files in name order')
    .requiredOption('-o, --output <out.rdb>', 'the RDB file to write (atomically; an existing one only with --force, kept as .bak)')
    .option('--on-duplicate <first|last>', 'a key (same db and name) in two inputs: keep the one of the first / last input that has it, instead of refusing (likewise a function library whose code differs)')
    .option('--rdb-version <n>', "write this RDB version; default: the first input's (inputs of that version are copied verbatim, others re-encoded)")
    .option('--valkey', 'with --rdb-version: write for Valkey (1-11, or 80 = Valkey 9)')
    .option('--no-compress', 'when re-encoding: do not LZF-compress strings')
    .option('--drop-unsupported', 'when re-encoding: leave out keys/functions the target version cannot hold (each is reported) instead of refusing')
    .option('--lossy', 'when re-encoding: keep keys whose only problem is metadata the target lacks, written without it (each is reported)')
    .option('--force', 'replace an existing output (the old one is kept as <out>.bak)')
    .option('--json', 'print one JSON document describing the result')
    .action(async (args: string[], opts: MergeOpts) => {
      const o = createOutput();
      const mode = opts.onDuplicate ?? 'error';
      if (mode !== 'error' && mode !== 'first' && mode !== 'last') throw usageError(`--on-duplicate must be first or last, got ${JSON.stringify(opts.onDuplicate)}`);
      const target = rdbTargetOptions(opts);
      const files = await inputFiles(args);
      let total = 0;
      for (const f of files) total += (await stat(f)).size;
      const progress = new Progress('merging', total);
      const dropped: DropInfo[] = [];
      const base = { inputs: files, output: opts.output, onDuplicate: mode };
      let result: MergeResult;
      try {
        result = await mergeRdb(files, {
          signal: interruptSignal(),
          output: opts.output,
          force: opts.force,
          onDuplicate: mode,
          ...target,
          compress: opts.compress,
          dropUnsupported: opts.dropUnsupported ?? false,
          lossy: opts.lossy ?? false,
          onDrop: (d) => {
            dropped.push(d);
            if (!opts.json) o.err(o.e.yellow(`${d.kind === 'data' ? 'lost' : 'dropped'}: ${d.message}`));
          },
          onProgress: (p) => progress.update(p.bytes),
        });
      } catch (err) {
        progress.done();
        if (err instanceof RdbWriterError && err.code === 'options') throw usageError(err.message);
        const known = err instanceof ClusterError || (isRedisPersistError(err) && err.kind === 'data');
        if (opts.json && known) o.json({ ...base, written: false, error: errorJson(err) });
        if (err instanceof RdbWriterError && err.code === 'unsupported') throw unsupportedExit(err);
        if (err instanceof ClusterError) {
          const hint = err.code === 'duplicate-key' || err.code === 'duplicate-function' ? '' : '\nnothing was written';
          throw new CliExit(ExitCode.Problem, `${err.message.replace('(choose which one to keep: first or last)', '(pass --on-duplicate first or last to keep one)')}${hint}`);
        }
        throw err;
      }
      progress.done();
      if (opts.json) {
        o.json({
          ...base,
          written: true,
          rdbVersion: result.rdbVersion,
          magic: result.magic,
          keys: result.keys,
          expires: result.expires,
          functions: result.functions,
          aux: result.aux,
          bytes: result.bytes,
          inputs: result.inputs,
          duplicates: result.duplicates,
          duplicateKeys: result.duplicateKeys,
          duplicateFunctions: result.duplicateFunctions,
          replacedBackup: result.replacedBackup,
          dropped: dropped.map(dropJson),
        });
      } else printResult(o, result, mode);
    });
}
