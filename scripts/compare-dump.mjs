#!/usr/bin/env node
// Compares the output of `dumpRdb` (what `rdb-tool dump` writes) of two builds, in one process: every *.rdb of
// ../shared/corpus and fixtures/rdb (and any file given) in the four forms (jsonl/resp × file/canonical), with the
// sha256 of the bytes and the damage/skip/error reports. Far quicker than scripts/export-hashes.mjs (no process per
// file); for checking that a speed-up keeps the output byte-identical. Exits 1 when anything differs.
//
//   node scripts/compare-dump.mjs --base /path/to/other/worktree [--new .] [extra.rdb ...]
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { corpusAndFixtureRdbs } from './lib/rdb-files.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
let baseDir = null;
let newDir = root;
const extra = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base') baseDir = resolve(args[++i]);
  else if (args[i] === '--new') newDir = resolve(args[++i]);
  else extra.push(resolve(args[i]));
}
if (!baseDir) {
  process.stderr.write('compare-dump: --base <worktree> is required\n');
  process.exit(2);
}
const load = (dir) => import(pathToFileURL(join(dir, 'packages/converters/dist/index.js')).href);
const [base, neu] = [await load(baseDir), await load(newDir)];
const files = [...corpusAndFixtureRdbs(root), ...extra];
const now = Date.now();
async function run(mod, file, format, order) {
  const h = createHash('sha256');
  const notes = [];
  try {
    const chunks = mod.dumpRdb(file, {
      format,
      order,
      now,
      memoryBudgetBytes: 16 << 20,
      reuseChunks: true,
      onSkip: (s) => notes.push(`skip ${s.offset}`),
      onDamage: (e) => notes.push(`damage ${e.code} ${e.offset} ${e.message}`),
      onDuplicateKey: (db, key) => {
        throw new Error(`duplicated key ${Buffer.from(key).toString('hex')} in db ${db}`);
      },
    });
    for await (const c of chunks) h.update(c);
  } catch (e) {
    notes.push(`error ${e?.code ?? ''} ${e?.message}`);
  }
  return `${h.digest('hex')} ${notes.join('|')}`;
}
let n = 0;
let diff = 0;
for (const f of files) {
  for (const format of ['jsonl', 'resp']) {
    for (const order of ['file', 'canonical']) {
      const a = await run(base, f, format, order);
      const b = await run(neu, f, format, order);
      n++;
      if (a !== b) {
        diff++;
        console.log(`DIFF ${f} ${format} ${order}\n  base ${a.slice(0, 300)}\n  new  ${b.slice(0, 300)}`);
      }
    }
  }
}
console.log(`${n} combinations, ${diff} differences`);
process.exitCode = diff > 0 ? 1 : 0;
