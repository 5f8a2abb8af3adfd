import { lstat, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { describeIoError } from '@redis-persist/fsio';
import { checkRdb, type RdbCheckReport } from '@redis-persist/rdb';
import type { Command } from 'commander';
// the modules themselves, not ../common/index.js: that one loads the converters, aof and live for every command, and
// check, which needs none of them, would start 0.1 CPU s and ~6 MB heavier
import { formatBytes } from '@redis-persist/bytes';
import { createOutput, type Output } from '../common/output.js';
import { Progress } from '../common/progress.js';
import { interruptSignal } from '../common/run.js';
import { keepHeapSmall } from './memory.js';
import {
  captureOutput,
  expandInputs,
  listDirectory,
  runBatch,
  runSingle,
  type BatchOptions,
  type BatchTool,
  type Checked,
  type DirectoryPlan,
} from '../common/batch.js';

function typeCounts(byType: Record<string, number | undefined>): string {
  return Object.entries(byType)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
}

export function printRdbCheck(o: Output, r: RdbCheckReport): void {
  o.out(`[offset 0] Checking RDB file ${r.file ?? '<stdin>'} (${formatBytes(r.size)})`);
  if (r.version !== null) o.out(`[offset 9] RDB version ${r.version} (${r.magic} magic)`);
  for (const [k, v] of Object.entries(r.aux)) o.out(`  AUX ${k} = ${JSON.stringify(v)}`);
  for (const f of r.functions) o.out(`  function library ${f.library} (${f.engine})`);
  for (const m of r.modules) o.out(`  module AUX ${m.module} (encver ${m.encver}, when ${m.when})`);
  for (const d of r.dbs) {
    o.out(`  db ${d.db}: ${d.keys} keys, ${d.expires} with expiry (${d.alreadyExpired} already expired)${d.keys ? `; ${typeCounts(d.byType)}` : ''}`);
  }
  o.out(`  ${r.keys} keys in ${r.dbs.length} db(s)`);
  for (const w of r.warnings) o.out(`  ${o.c.yellow('warning')}: ${w}`);
  if (r.ok) {
    const crc = r.checksum === 'ok' ? 'checksum OK' : r.checksum === 'disabled' ? 'checksum disabled (stored as 0, not verified)' : 'no checksum (RDB version < 5)';
    o.out(`[offset ${r.endOffset}] ${crc}`);
    o.out(o.c.green(`[offset ${r.endOffset}] RDB looks OK`));
    return;
  }
  const e = r.error!;
  o.out(o.c.red(`--- RDB ERROR DETECTED ---`));
  o.out(o.c.red(`[offset ${e.offset}] ${e.code}: ${e.message.replace(/^.*?: offset \d+: [a-z]+: /, '')}`));
  if (r.failedKey) o.out(`  while reading key ${JSON.stringify(r.failedKey.key)} (type ${r.failedKey.type}) whose record starts at offset ${r.failedKey.offset}`);
  if (r.lastKey !== undefined) o.out(`  last key read completely: ${JSON.stringify(r.lastKey)}`);
  o.out(`  last record read completely ends at offset ${r.reachedOffset}`);
  if (e.code === 'checksum') o.out(`  stored CRC64 ${r.storedChecksum}, computed ${r.computedChecksum}`);
}

/** The message of an RDB error without the `file: offset N: code: ` its RdbError starts with. */
const bareMessage = (message: string) => message.replace(/^.*?: offset \d+: [a-z]+: /, '');

const MAX_DEPTH = 32;

/**
 * What `rdb-tool check <dir>` checks: every `*.rdb` file in it and below (sorted; symbolic links to directories
 * not followed; Redis's in-progress `temp-<pid>.rdb` skipped), plus the `dbfilename` of a `redis.conf` found in
 * it when that name does not end in `.rdb`.
 */
export async function planRdbDirectory(dir: string): Promise<DirectoryPlan> {
  const paths: string[] = [];
  const unreadable: { path: string; message: string }[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await listDirectory(d);
    } catch (err) {
      if (depth === 0) throw err;
      unreadable.push({ path: d, message: `cannot read the directory: ${describeIoError(err)}` });
      return;
    }
    for (const e of entries) {
      if (e.dir) {
        if (!e.link && depth < MAX_DEPTH) await walk(e.path, depth + 1);
      } else if (e.name.endsWith('.rdb') && !/^temp-\d+\.rdb$/.test(e.name)) paths.push(e.path);
    }
  };
  await walk(dir, 0);
  const conf = await readFile(join(dir, 'redis.conf'), 'utf8').catch(() => null);
  if (conf !== null) {
    const { parsePersistenceConfig } = await import('@redis-persist/converters');
    const name = parsePersistenceConfig(conf).dbfilename;
    const path = join(dir, name);
    if (!name.endsWith('.rdb') && !name.includes('/') && (await lstat(path).catch(() => null))) paths.push(path);
  }
  return { kind: 'list', paths, unreadable, nothing: 'nothing to check: no *.rdb file in this directory or below' };
}

/** One RDB file checked, for the batch report; `empty` when a regular file has no byte at all. */
export function rdbChecked(r: RdbCheckReport, emptyFile: boolean): Checked<RdbCheckReport> {
  const { o, lines } = captureOutput();
  printRdbCheck(o, r);
  if (r.ok) {
    const notes = [`RDB ${r.version ?? '?'}`, `${r.keys} keys`, formatBytes(r.size)];
    if (r.checksum === 'disabled') notes.push('checksum disabled');
    if (r.warnings.length) notes.push(`${r.warnings.length} warning(s)`);
    return { ok: true, verdict: 'valid', error: null, report: r, note: notes.join(', '), details: lines };
  }
  if (emptyFile && r.size === 0) {
    return { ok: false, verdict: 'empty', error: { message: 'the file is empty (0 bytes): not an RDB snapshot', offset: 0 }, report: r, note: '', details: lines };
  }
  const e = r.error;
  if (!e) return { ok: false, verdict: 'damaged', error: { message: 'not valid' }, report: r, note: '', details: lines };
  return { ok: false, verdict: e.code, error: { message: bareMessage(e.message), offset: e.offset }, report: r, note: '', details: lines };
}

export const rdbCheckTool: BatchTool<RdbCheckReport> = {
  name: 'rdb-tool check',
  planDirectory: planRdbDirectory,
  async check(file) {
    // the checker reports an unreadable file itself (FsioError, with today's message)
    const st = await stat(file).catch(() => null);
    const progress = new Progress(`checking ${file}`, st?.size ?? 0);
    try {
      const report = await checkRdb(file, { signal: interruptSignal(), onProgress: (p) => progress.update(p.bytes), checksumThread: 'auto' });
      return rdbChecked(report, st?.isFile() ?? false);
    } finally {
      progress.done();
    }
  },
};

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('verify RDB files as redis-check-rdb does (structure, every encoding, CRC64); exit 0 all valid, 1 damaged, 3 unreadable')
    .argument('<paths...>', 'RDB files (dump.rdb), directories (every *.rdb in them and below) or quoted globs (backups/*.rdb, backups/**/*.rdb)')
    .option('--json', 'one JSON document: the report of the file for one file, else { ok, summary, results }')
    .option('-q, --quiet', 'print only the problems (nothing when every file is valid)')
    .option('--junit <file>', 'also write a JUnit XML report to <file> (replaced on every run; the previous one kept as <file>.bak)')
    .action(async (paths: string[], opts: BatchOptions) => {
      keepHeapSmall('old');
      // Feedback from a function's first call (V8 otherwise starts collecting it after a few calls or loop turns):
      // the parser's main loop reads the first SELECTDB before it has any, and when the next database starts (the
      // loop long since compiled) that path deoptimises it and the whole loop is compiled again. With this and
      // checkRdb's small first pieces the loop is compiled once in a check of the bench RDB instead of 5 times.
      setFlagsFromString('--no-lazy-feedback-allocation');
      const o = createOutput();
      const { inputs, batch } = await expandInputs(paths, planRdbDirectory);
      if (batch) await runBatch(o, rdbCheckTool, inputs, opts);
      else await runSingle(o, rdbCheckTool, paths[0], opts, (c) => printRdbCheck(o, c.report));
    });
}
