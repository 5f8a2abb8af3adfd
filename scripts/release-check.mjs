#!/usr/bin/env node
// `pnpm release:check`: is every public package ready to publish? Fails (exit 1) on the first problem.
//
//   1. builds the packages (tsc -b),
//   2. packs each public package (not `private`) with `pnpm pack`, as `pnpm publish` would: `workspace:*` becomes the
//      version, and the tarball must hold package.json, README.md, LICENSE, dist/index.js, dist/index.d.ts and the
//      src/ the source maps point to, and no .d.ts may name a typed-array generic (`Uint8Array<ArrayBuffer>`: TypeScript
//      before 5.7 refuses it),
//   3. runs publint (strict: warnings fail) and @arethetypeswrong/cli (profile esm-only: the packages are ESM only;
//      require() of them works through Node's require(esm), unflagged from Node 20.19) on each tarball,
//   4. the API documentation: typedoc over the public packages with --treatWarningsAsErrors (an export without a
//      TSDoc summary, a {@link} that resolves nowhere, a public type referencing one that is not exported fail),
//      and the READMEs' API tables (scripts/api-tables.mjs --check) name every export with its current summary,
//   5. consumer smoke test: a fresh project in a temp dir, `npm install --offline` of the tarballs (the CLI's
//      third-party dependencies are packed from node_modules beside them), a TypeScript script compiled under
//      `module: nodenext` + `strict` + `noUncheckedIndexedAccess` and run with node, a CommonJS require() of a
//      package, and the CLI binaries.
//
// Options: --keep (leave the temp dir and print its path), --skip-build.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const started = Date.now();

function log(msg) {
  console.log(`[release-check ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}
function fail(msg) {
  console.error(`[release-check] FAILED: ${msg}`);
  process.exit(1);
}
/** Runs a command; on failure prints its output and fails. Returns stdout. */
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts, env: { ...process.env, FORCE_COLOR: '0', ...opts.env } });
  if (r.status !== 0) {
    fail(`${cmd} ${argv.join(' ')} (in ${opts.cwd ?? root}) exited ${r.status ?? r.signal}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r.stdout;
}
const bin = (pkg, file) => join(realpathSync(join(root, 'node_modules', pkg)), file);
const tsc = bin('typescript', 'bin/tsc');
const publint = bin('publint', 'src/cli.js');
const attw = bin('@arethetypeswrong/cli', 'dist/index.js');
const pnpm = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['pnpm'];
const npm = 'npm';

const tmp = mkdtempSync(join(tmpdir(), 'redis-persist-release-'));
const tarballs = join(tmp, 'tarballs');
mkdirSync(tarballs);
process.on('exit', (code) => {
  if (args.has('--keep') || code !== 0) console.log(`[release-check] temp dir kept: ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
});

// 1. Build.
const packagesDir = join(root, 'packages');
const dirs = readdirSync(packagesDir).filter((d) => existsSync(join(packagesDir, d, 'package.json'))).sort();
if (!args.has('--skip-build')) {
  run(process.execPath, [tsc, '-b', ...dirs.map((d) => join('packages', d, 'tsconfig.json'))], { cwd: root });
  log('built');
}

// 2. Pack (one `pnpm -r pack` over the public packages), then look inside each tarball.
const pkgs = [];
for (const d of dirs) {
  const json = JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8'));
  if (!json.private) pkgs.push({ dir: d, name: json.name });
}
run(pnpm[0], [...pnpm.slice(1), '-r', ...pkgs.flatMap((p) => ['--filter', p.name]), 'pack', '--pack-destination', tarballs], { cwd: root });
const unpacked = join(tmp, 'unpacked');
for (const p of pkgs) {
  const tgzName = `${p.name.replace(/^@/, '').replace('/', '-')}-${JSON.parse(readFileSync(join(packagesDir, p.dir, 'package.json'), 'utf8')).version}.tgz`;
  p.tgz = join(tarballs, tgzName);
  if (!existsSync(p.tgz)) fail(`pnpm pack made no ${tgzName}`);
  const into = join(unpacked, p.dir);
  mkdirSync(into, { recursive: true });
  run('tar', ['-xzf', p.tgz, '-C', into]);
  const pkgRoot = join(into, 'package');
  const files = new Set(readdirSync(pkgRoot, { recursive: true }).map(String).filter((f) => statSync(join(pkgRoot, f)).isFile()));
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'src/index.ts']) {
    if (!files.has(f)) fail(`${tgzName} has no ${f}`);
  }
  for (const f of files) {
    if (/(^|\/)(test|node_modules)\//.test(f) || f.endsWith('.tsbuildinfo')) fail(`${tgzName} ships ${f}`);
    // TypeScript before 5.7 knows no typed-array generics: a declaration `Uint8Array<ArrayBuffer>` (what tsc 5.9 infers
    // for `new Uint8Array(n)`) fails a consumer on TS 5.4 with skipLibCheck off ("Type 'Uint8Array' is not generic").
    if (f.endsWith('.d.ts')) {
      const m = /\b(?:Uint8Array|Uint16Array|Uint32Array|Int8Array|Int16Array|Int32Array|Float32Array|Float64Array|BigInt64Array|BigUint64Array|Buffer|DataView)<[^>]*>/.exec(readFileSync(join(pkgRoot, f), 'utf8'));
      if (m) fail(`${tgzName}: ${f} declares ${m[0]}, which TypeScript before 5.7 refuses: annotate the export with the plain type`);
    }
    // Every source map (.js.map, .d.ts.map) must point at files that ship.
    if (f.endsWith('.map')) {
      const map = JSON.parse(readFileSync(join(pkgRoot, f), 'utf8'));
      for (const s of map.sources) {
        if (!existsSync(join(pkgRoot, dirname(f), map.sourceRoot ?? '', s))) fail(`${tgzName}: ${f} points at ${s}, which is not in the tarball`);
      }
    }
  }
  const packed = readFileSync(join(pkgRoot, 'package.json'), 'utf8');
  if (packed.includes('workspace:')) fail(`${tgzName}: package.json still has a workspace: range\n${packed}`);
  p.json = JSON.parse(packed);
}
log(`packed ${pkgs.length} packages (no workspace: ranges, README, LICENSE, dist, src with its maps, no typed-array generics in the .d.ts)`);

// 3. publint and attw on each tarball, two at a time.
async function lint(p) {
  const { promisify } = await import('node:util');
  const { execFile } = await import('node:child_process');
  const exec = promisify(execFile);
  const env = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  const out = [];
  for (const [what, argv] of [
    ['publint', [publint, 'run', p.tgz, '--strict']],
    ['attw', [attw, p.tgz, '--profile', 'esm-only', '--no-definitely-typed', '--format', 'ascii', '--no-emoji']],
  ]) {
    try {
      const r = await exec(process.execPath, argv, { env, maxBuffer: 16 << 20 });
      const text = r.stdout + r.stderr;
      out.push(`${what} ${p.name}: ${what === 'publint' ? text.trim().split('\n').pop() : /No problems found/.test(text) ? 'No problems found' : text.includes('(ignored)') ? 'no problems (ignored for ESM-only: node10, node16-cjs)' : text.trim()}`);
    } catch (err) {
      fail(`${what} ${p.name}:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
    }
  }
  return out;
}
const queue = [...pkgs];
const lintResults = [];
await Promise.all([0, 1].map(async () => {
  for (let p = queue.shift(); p; p = queue.shift()) lintResults.push(...(await lint(p)));
}));
for (const line of lintResults.sort()) console.log(`  ${line}`);
log('publint (strict) and attw (esm-only) pass on every package');

// 4. API documentation (the HTML itself is `pnpm run docs`, into docs/api/).
const typedoc = bin('typedoc', 'bin/typedoc');
run(process.execPath, [typedoc, '--emit', 'none', '--treatWarningsAsErrors', '--logLevel', 'Warn'], { cwd: root });
run(process.execPath, [join(root, 'scripts/api-tables.mjs'), '--check'], { cwd: root });
log('typedoc: every export documented, every link resolves; README API tables up to date');

// 5. Consumer smoke test.
const consumer = join(tmp, 'consumer');
mkdirSync(consumer);
// Third-party runtime dependencies (and theirs) are packed from the workspace's node_modules, so the install is offline.
const own = new Set(pkgs.map((p) => p.name));
const external = new Map();
// [name, the node_modules folder it is found in]; a dependency's own dependencies sit beside it (pnpm's layout)
const todo = [];
for (const p of pkgs) for (const dep of Object.keys(p.json.dependencies ?? {})) todo.push([dep, join(packagesDir, p.dir, 'node_modules')]);
while (todo.length > 0) {
  const [dep, modules] = todo.shift();
  if (own.has(dep) || external.has(dep)) continue;
  const depDir = realpathSync(join(modules, dep));
  const depJson = JSON.parse(readFileSync(join(depDir, 'package.json'), 'utf8'));
  const besides = dep.startsWith('@') ? dirname(dirname(depDir)) : dirname(depDir);
  for (const sub of Object.keys(depJson.dependencies ?? {})) todo.push([sub, besides]);
  const name = run(npm, ['pack', depDir, '--pack-destination', join(tmp, 'tarballs'), '--ignore-scripts', '--silent'], { cwd: tmp }).trim().split('\n').pop();
  external.set(dep, join(tarballs, name));
}
writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', ...pkgs.map((p) => p.tgz), ...external.values()], { cwd: consumer });
// TypeScript and @types/node come from this workspace (no registry): tsc is run from here, @types/node is linked in.
const typesNode = realpathSync(join(root, 'node_modules', '@types', 'node'));
mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
cpSync(typesNode, join(consumer, 'node_modules', '@types', 'node'), { recursive: true });
const undici = join(typesNode, '..', '..', 'undici-types');
if (existsSync(undici)) cpSync(realpathSync(undici), join(consumer, 'node_modules', 'undici-types'), { recursive: true });
log(`installed ${pkgs.length} tarballs${external.size ? ` (+ ${[...external.keys()].join(', ')})` : ''} into a fresh project`);

cpSync(join(root, 'fixtures', 'rdb', 'all-types.rdb'), join(consumer, 'all-types.rdb'));
writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
  compilerOptions: {
    target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true, types: ['node'], outDir: 'out', skipLibCheck: false,
  },
  include: ['smoke.ts'],
}, null, 2));
writeFileSync(join(consumer, 'smoke.ts'), `\
import assert from 'node:assert/strict';
import { checkRdb, readRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { writeRdb, encodeDumpPayload, decodeDumpPayload } from '@redis-persist/rdb-writer';
import { parseAof } from '@redis-persist/aof';
import { encodeCommand, decodeAll, type RespValue } from '@redis-persist/resp';
import { isRedisPersistError } from '@redis-persist/bytes';
import type { KeyspaceRecord } from '@redis-persist/keyspace';

const enc = new TextEncoder();
const dec = new TextDecoder();

// A fixture RDB written by redis-server.
const report = await checkRdb('all-types.rdb');
assert.equal(report.ok, true, JSON.stringify(report.warnings));
assert.ok(report.keys > 0);
let keys = 0;
for await (const rec of readRdb('all-types.rdb')) if (rec.kind === 'key') keys++;
assert.equal(keys, report.keys);

// Write an RDB, read it back.
const records: KeyspaceRecord[] = [
  { kind: 'key', db: 0, key: enc.encode('greeting'), type: 'string', expireAt: null, value: enc.encode('hello') },
  { kind: 'key', db: 2, key: enc.encode('list'), type: 'list', expireAt: null, value: [enc.encode('a'), enc.encode('b')] },
];
const chunks: Uint8Array[] = [];
for await (const chunk of writeRdb(records, { rdbVersion: 11 })) chunks.push(chunk);
const rdb = Buffer.concat(chunks);
const back: KeyspaceRecord[] = [];
for await (const rec of rdbKeyspaceRecords(rdb)) back.push(rec);
assert.equal(back.length, 2);
const first = back[0];
assert.ok(first && first.kind === 'key' && first.type === 'string');
assert.equal(dec.decode(first.value), 'hello');
const payload = encodeDumpPayload({ type: 'string', value: enc.encode('v') }, 10);
assert.equal(decodeDumpPayload(payload).rdbVersion, 10);

// An AOF made of RESP commands.
const aof = Buffer.concat([encodeCommand(['SELECT', '3']), encodeCommand(['SET', 'k', 'v']), encodeCommand(['DEL', 'k'])]);
const cmds = parseAof(aof);
const name = cmds[1]?.args[0];
assert.ok(name);
assert.equal(dec.decode(name), 'SET');
assert.equal(cmds[1]?.db, 3);
const values: RespValue[] = decodeAll(aof);
assert.equal(values.length, 3);

// Errors share one base class.
try {
  parseAof(enc.encode('*2\\r\\n$3\\r\\nDEL'));
  assert.fail('a truncated AOF parsed');
} catch (err) {
  assert.ok(isRedisPersistError(err), String(err));
  assert.equal(err.kind, 'data');
}
console.log(\`smoke ok: \${report.keys} fixture keys, \${rdb.length}-byte RDB round trip, \${cmds.length} AOF commands\`);
`);
run(process.execPath, [tsc, '-p', consumer], { cwd: consumer });
log('smoke.ts compiles (nodenext, strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, skipLibCheck off)');
const out = run(process.execPath, [join(consumer, 'out', 'smoke.js')], { cwd: consumer }).trim();
log(out);

// CommonJS: require() of the ESM packages (require(esm), unflagged from Node 20.19 / 22.12).
writeFileSync(join(consumer, 'smoke.cjs'), `\
const { crc64 } = require('@redis-persist/bytes');
const { checkRdb } = require('@redis-persist/rdb');
if (typeof crc64 !== 'function' || typeof checkRdb !== 'function') throw new Error('require() gave no exports');
console.log('require ok');
`);
const [major, minor] = process.versions.node.split('.').map(Number);
const flags = major === 20 && minor < 19 ? ['--experimental-require-module'] : [];
log(run(process.execPath, [...flags, '--no-warnings', join(consumer, 'smoke.cjs')], { cwd: consumer }).trim());

// The CLI binaries, as npm linked them.
for (const b of ['aof-tool', 'rdb-tool']) {
  const help = run(join(consumer, 'node_modules', '.bin', b), ['--help'], { cwd: consumer });
  if (!/Usage/i.test(help)) fail(`${b} --help printed no usage:\n${help}`);
}
const info = run(join(consumer, 'node_modules', '.bin', 'rdb-tool'), ['check', 'all-types.rdb'], { cwd: consumer });
log(`aof-tool and rdb-tool run (rdb-tool check: ${info.trim().split('\n')[0]})`);
log('release check passed');
