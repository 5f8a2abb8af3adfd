#!/usr/bin/env node
// Compares the outputs of the conversions of two builds, in one process, with a fixed clock (the RDB writer's
// `ctime` AUX field and expiry decisions are then the same): every *.rdb of ../shared/corpus and fixtures/rdb (and
// any file given) converted RDB → RDB (10, 9, and 7 without compression), RDB → AOF as `rdb-tool to-aof` writes it
// (file order) and RDB → canonical RESP / JSON Lines as `rdb-tool convert` writes them; sha256 of each output (or
// the error). For checking that a change to the writers keeps their outputs byte-identical. Exits 1 when anything
// differs.
//
//   node scripts/compare-convert.mjs --base /path/to/other/worktree [--new .] [--only rdb,aof,resp,jsonl] [extra.rdb ...]
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { corpusAndFixtureRdbs } from './lib/rdb-files.mjs';

const NOW = 1_765_000_000_000;
Date.now = () => NOW;
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
let baseDir = null;
let newDir = root;
let only = null;
let noCorpus = false;
const extra = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base') baseDir = resolve(args[++i]);
  else if (args[i] === '--new') newDir = resolve(args[++i]);
  else if (args[i] === '--only') only = new Set(args[++i].split(','));
  else if (args[i] === '--no-corpus') noCorpus = true;
  else extra.push(resolve(args[i]));
}
if (!baseDir) {
  process.stderr.write('compare-convert: --base <worktree> is required\n');
  process.exit(2);
}
const load = async (dir) => ({
  conv: await import(pathToFileURL(join(dir, 'packages/converters/dist/index.js')).href),
  writer: await import(pathToFileURL(join(dir, 'packages/rdb-writer/dist/index.js')).href),
});
const builds = { base: await load(baseDir), new: await load(newDir) };
const files = noCorpus ? extra : [...corpusAndFixtureRdbs(root), ...extra];
const tmp = mkdtempSync(join(tmpdir(), 'compare-convert-'));

async function hashOf(chunks) {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of chunks) {
    h.update(c);
    n += c.length;
  }
  return `${h.digest('hex').slice(0, 24)} ${n}`;
}

const conversions = {
  'rdb': (b, f) => hashOf(b.writer.writeRdb(b.conv.convertRecords({ format: 'rdb', source: f, file: f }, 'rdb'), {})),
  'rdb9': (b, f) => hashOf(b.writer.writeRdb(b.conv.convertRecords({ format: 'rdb', source: f, file: f }, 'rdb'), { rdbVersion: 9, lossy: true, dropUnsupported: true })),
  'rdb7-raw': (b, f) => hashOf(b.writer.writeRdb(b.conv.convertRecords({ format: 'rdb', source: f, file: f }, 'rdb'), { rdbVersion: 7, compress: false, lossy: true, dropUnsupported: true })),
  'aof': async (b, f) => {
    const out = join(tmp, 'out.aof');
    rmSync(out, { force: true });
    await b.conv.rdbToAof(f, out, { layout: 'file', now: NOW, force: true });
    const h = createHash('sha256');
    const bytes = readFileSync(out);
    return `${h.update(bytes).digest('hex').slice(0, 24)} ${bytes.length}`;
  },
  'resp': (b, f) => hashOf(b.conv.keyspaceBytes(b.conv.convertRecords({ format: 'rdb', source: f, file: f }, 'resp'), { format: 'resp', memoryBudgetBytes: 16 << 20 })),
  'jsonl': (b, f) => hashOf(b.conv.keyspaceBytes(b.conv.convertRecords({ format: 'rdb', source: f, file: f }, 'jsonl'), { format: 'jsonl', memoryBudgetBytes: 16 << 20 })),
};

let differ = 0;
let same = 0;
for (const f of files) {
  for (const [name, run] of Object.entries(conversions)) {
    if (only && !only.has(name)) continue;
    const got = {};
    for (const [which, b] of Object.entries(builds)) {
      try {
        got[which] = await run(b, f);
      } catch (err) {
        got[which] = `error ${err?.code ?? ''} ${err?.message ?? err}`.slice(0, 200);
      }
    }
    if (got.base === got.new) same++;
    else {
      differ++;
      process.stdout.write(`DIFFERS ${name} ${f}\n  base ${got.base}\n  new  ${got.new}\n`);
    }
    if (extra.includes(f)) process.stdout.write(`${name} ${f}: ${got.new}\n`);
  }
}
rmSync(tmp, { recursive: true, force: true });
process.stdout.write(`${files.length} files, ${same} outputs identical, ${differ} differ\n`);
process.exit(differ ? 1 : 0);
