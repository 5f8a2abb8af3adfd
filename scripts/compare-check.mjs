#!/usr/bin/env node
// Records or compares the verdicts of `rdb-tool check --json` (stdout and exit code, one process per file, as a
// user runs it) for every *.rdb of ../shared/corpus and fixtures/rdb (and any file given): for checking that a
// change to the checker keeps every report byte-identical.
//
//   node scripts/compare-check.mjs --save /tmp/before.json [extra.rdb ...]     (before the change, after pnpm build)
//   node scripts/compare-check.mjs --against /tmp/before.json [extra.rdb ...]  (after it: exits 1 when any differs)
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusAndFixtureRdbs } from './lib/rdb-files.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const args = process.argv.slice(2);
let save = null;
let against = null;
const extra = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--save') save = resolve(args[++i]);
  else if (args[i] === '--against') against = resolve(args[++i]);
  else extra.push(resolve(args[i]));
}
if (!save === !against) {
  process.stderr.write('compare-check: give one of --save <file.json> or --against <file.json>\n');
  process.exit(2);
}
const files = [...corpusAndFixtureRdbs(root), ...extra];
const tool = join(root, 'packages/cli/bin/rdb-tool.js');
// the report's file name is the path as given: relative to the repo root, so two worktrees give the same text
const check = (file) =>
  new Promise((res) => {
    execFile('node', [tool, 'check', '--json', relative(root, file)], { cwd: root, maxBuffer: 64 << 20, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout) => {
      res({ code: err ? (err.code ?? -1) : 0, stdout });
    });
  });
const results = {};
let next = 0;
await Promise.all(
  [0, 1].map(async () => {
    while (next < files.length) {
      const f = files[next++];
      results[relative(root, f)] = await check(f);
    }
  }),
);
const keys = Object.keys(results).sort();
if (save) {
  writeFileSync(save, JSON.stringify(Object.fromEntries(keys.map((k) => [k, results[k]])), null, 1));
  console.log(`compare-check: ${keys.length} reports saved to ${save}`);
} else {
  const before = JSON.parse(readFileSync(against, 'utf8'));
  let diff = 0;
  for (const k of new Set([...keys, ...Object.keys(before)])) {
    const a = before[k];
    const b = results[k];
    if (!a || !b || a.code !== b.code || a.stdout !== b.stdout) {
      diff++;
      console.log(`DIFFERS: ${k}${!a ? ' (new file)' : !b ? ' (missing now)' : a.code !== b.code ? ` (exit ${a.code} -> ${b.code})` : ''}`);
    }
  }
  console.log(`compare-check: ${keys.length} files, ${diff} differ`);
  process.exitCode = diff ? 1 : 0;
}
