// @ts-check
// Validate every backup in a directory tree, as a nightly CI job would: each RDB snapshot (*.rdb) is checked like
// `redis-check-rdb`, each AOF (a *.aof file, or a directory holding an appendonly manifest) like `redis-check-aof`.
// Prints one line per backup and exits 1 if any is damaged (0 when all are valid, 2 on a usage error).
//   node examples/validate-backups.mjs /var/backups/redis [--json]
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAof } from '@redis-persist/aof';
import { checkRdb } from '@redis-persist/rdb';

const args = process.argv.slice(2);
const json = args.includes('--json');
const [root] = args.filter((a) => a !== '--json');
if (!root) {
  console.error('usage: node examples/validate-backups.mjs <dir> [--json]');
  process.exit(2);
}

/** @typedef {{ path: string, kind: 'rdb' | 'aof', ok: boolean, detail: string }} Result */
/** @type {Result[]} */
const results = [];

/** @param {string} dir */
async function walk(dir) {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.isFile() && e.name.endsWith('.manifest'))) return checkAofInput(dir); // appendonlydir/
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await walk(path);
    else if (e.isFile() && e.name.endsWith('.rdb')) await checkRdbFile(path);
    else if (e.isFile() && e.name.endsWith('.aof')) await checkAofInput(path);
  }
}

/** @param {string} path */
async function checkRdbFile(path) {
  const r = await checkRdb(path);
  results.push({ path, kind: 'rdb', ok: r.ok, detail: r.ok ? `RDB ${r.version}, ${r.keys} keys` : (r.error?.message ?? 'invalid') });
}

/** @param {string} path */
async function checkAofInput(path) {
  const r = await checkAof(path);
  const bad = r.files.find((f) => f.status !== 'valid');
  const problem = r.manifestError ?? (bad ? `${bad.status} after byte ${bad.okUpTo} of ${bad.file}` : (r.unrepairable ?? 'invalid'));
  results.push({ path, kind: 'aof', ok: r.ok, detail: r.ok ? `${r.layout} AOF, ${r.totals.commands} commands` : `${problem}${r.repair ? ' (aof-tool fix can repair it)' : ''}` });
}

await walk(root);
const bad = results.filter((r) => !r.ok).length;
if (json) console.log(JSON.stringify({ ok: bad === 0, results }));
else {
  for (const r of results) console.log(`${r.ok ? 'ok ' : 'BAD'} ${r.kind} ${r.path}: ${r.detail}`);
  console.log(`${results.length} backups checked, ${bad} damaged`);
}
process.exit(bad > 0 ? 1 : 0);
