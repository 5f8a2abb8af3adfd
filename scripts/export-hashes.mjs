#!/usr/bin/env node
// Output fingerprints of `rdb-tool dump`: for every *.rdb of ../shared/corpus (recursively; skipped with a message
// when absent) and every file given as an argument, runs the given rdb-tool bin in the four combinations
// (--format jsonl|resp × --order file|canonical), stdout to a pipe, and records the sha256 of stdout and of stderr
// and the exit code. Prints the JSON map (or writes it with --out); --compare <old.json> reports every difference
// and exits 1 when there is one. Used to check that a speed-up keeps the output byte-identical.
//
//   node scripts/export-hashes.mjs --bin packages/cli/bin/rdb-tool.js [--out f.json] [--compare old.json]
//        [--jobs 2] [--no-corpus] [--orders file,canonical] [--formats jsonl,resp] [--bench-orders file] [bench.rdb ...]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rdbFilesUnder } from './lib/rdb-files.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
const opt = { bin: 'packages/cli/bin/rdb-tool.js', out: null, compare: null, jobs: 2, corpus: true, formats: ['jsonl', 'resp'], orders: ['file', 'canonical'], benchOrders: null };
const extra = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--bin') opt.bin = args[++i];
  else if (a === '--out') opt.out = args[++i];
  else if (a === '--compare') opt.compare = args[++i];
  else if (a === '--jobs') opt.jobs = Number(args[++i]);
  else if (a === '--no-corpus') opt.corpus = false;
  else if (a === '--formats') opt.formats = args[++i].split(',');
  else if (a === '--orders') opt.orders = args[++i].split(',');
  else if (a === '--bench-orders') opt.benchOrders = args[++i].split(',');
  else if (a.startsWith('--')) {
    process.stderr.write(`export-hashes: unknown option ${a}\n`);
    process.exit(2);
  } else extra.push(a);
}


const jobs = [];
const corpus = resolve(root, '../shared/corpus');
if (opt.corpus) {
  if (existsSync(corpus) && statSync(corpus).isDirectory()) {
    for (const f of rdbFilesUnder(corpus)) {
      for (const format of opt.formats) for (const order of opt.orders) jobs.push({ file: f, name: `corpus/${relative(corpus, f)}`, format, order });
    }
  } else process.stderr.write(`export-hashes: ${corpus} absent, corpus skipped\n`);
}
for (const f of extra) {
  for (const format of opt.formats) for (const order of opt.benchOrders ?? opt.orders) jobs.push({ file: resolve(f), name: relative(root, resolve(f)), format, order });
}

function run(job) {
  return new Promise((done, fail) => {
    const child = spawn(resolve(root, opt.bin), ['dump', job.file, '--format', job.format, '--order', job.order], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = createHash('sha256');
    const err = createHash('sha256');
    let bytes = 0;
    child.stdout.on('data', (c) => {
      bytes += c.length;
      out.update(c);
    });
    child.stderr.on('data', (c) => err.update(c));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ exit: code ?? signal, bytes, stdout: out.digest('hex'), stderr: err.digest('hex') }));
  });
}

const result = {};
let next = 0;
const started = Date.now();
async function worker() {
  while (next < jobs.length) {
    const job = jobs[next++];
    result[`${job.name} ${job.format} ${job.order}`] = await run(job);
  }
}
await Promise.all(Array.from({ length: Math.max(1, opt.jobs) }, worker));
const sorted = Object.fromEntries(Object.keys(result).sort().map((k) => [k, result[k]]));
const text = `${JSON.stringify(sorted, null, 1)}\n`;
if (opt.out) writeFileSync(opt.out, text);
else if (!opt.compare) process.stdout.write(text);
process.stderr.write(`export-hashes: ${jobs.length} runs in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

if (opt.compare) {
  const old = JSON.parse(readFileSync(opt.compare, 'utf8'));
  let diffs = 0;
  let same = 0;
  for (const [k, v] of Object.entries(sorted)) {
    const o = old[k];
    if (!o) continue;
    if (o.stdout !== v.stdout || o.exit !== v.exit || o.stderr !== v.stderr) {
      diffs++;
      const what = [o.stdout !== v.stdout ? `stdout (${o.bytes} -> ${v.bytes} bytes)` : '', o.exit !== v.exit ? `exit ${o.exit} -> ${v.exit}` : '', o.stderr !== v.stderr ? 'stderr' : ''].filter(Boolean).join(', ');
      process.stdout.write(`DIFF ${k}: ${what}\n`);
    } else same++;
  }
  process.stdout.write(`export-hashes: ${same} identical, ${diffs} different (of ${Object.keys(sorted).length} runs; ${Object.keys(old).length} in ${opt.compare})\n`);
  process.exitCode = diffs > 0 ? 1 : 0;
}
