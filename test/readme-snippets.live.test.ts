// The code in the READMEs is the second thing users copy (after examples/): every ```ts / ```js block marked
// `<!-- snippet: run -->` (the line before its fence) in a public package's README.md or in the root README.md is
// written to a file inside the repository (so `@redis-persist/*` resolve to the workspace packages, as installed
// ones would), type-checked with tsc (strict, module nodenext, noUncheckedIndexedAccess; .js blocks with checkJs)
// and run with node (built code: hence a live test) in a scratch directory holding the files the snippets name:
// `dump.rdb` (fixtures/rdb/all-types.rdb, written by redis-server 7.0.15), `dump.jsonl` (its keyspace as JSON Lines)
// and `appendonlydir/` (a multi-part AOF with a FLUSHALL, examples/flushall); `/var/lib/redis` in a snippet means
// that directory. A snippet naming `REDIS_URL` gets a fresh redis-server there (skipped without one). The examples/*.mjs
// scripts (// @ts-check) are type-checked in the same tsc run. Also checked: each public package README has one
// runnable snippet and an API table naming every export of its src/index.ts.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyspaceJsonlChunks } from '@redis-persist/jsonl';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { redisAvailable, startRedis } from '@redis-persist/testkit';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const publicPackages = readdirSync(join(root, 'packages'))
  .filter((d) => existsSync(join(root, 'packages', d, 'package.json')))
  .filter((d) => !(JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')) as { private?: boolean }).private)
  .sort();

interface Snippet {
  readme: string;
  line: number;
  lang: 'ts' | 'js';
  code: string;
  run: boolean;
}

/** Every fenced ts/js block of a README, with whether it is marked runnable. */
/** Runs a script with node (asynchronously: a server the test started must go on answering). */
function runNode(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd, env, timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

function snippetsOf(readme: string): Snippet[] {
  const lines = readFileSync(join(root, readme), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts|js|typescript|javascript)\s*$/.exec(lines[i] ?? '');
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    out.push({ readme, line: start + 1, lang: m[1]?.startsWith('t') ? 'ts' : 'js', code: body.join('\n'), run: (lines[start - 1] ?? '').trim() === '<!-- snippet: run -->' });
  }
  return out;
}

/** The names a package's src/index.ts exports (it only has `export { ... } from` / `export type { ... } from`). */
function exportsOf(pkg: string): string[] {
  const text = readFileSync(join(root, 'packages', pkg, 'src/index.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const part of (m[1] ?? '').split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()?.trim();
      if (name) names.push(name);
    }
  }
  expect(text.replace(/export\s+(?:type\s+)?\{[^}]*\}\s*from\s*'[^']*';/g, '').trim(), `${pkg}/src/index.ts holds only export-from lines`).toBe('');
  return names;
}

const built = existsSync(join(root, 'packages/rdb/dist/index.js'));
const readmes = ['README.md', ...publicPackages.map((p) => `packages/${p}/README.md`)];
const runnable = readmes.flatMap((r) => (existsSync(join(root, r)) ? snippetsOf(r) : [])).filter((s) => s.run);
const work = join(root, '.tmp', `snippets-${process.pid}`);
const compiled = new Map<Snippet, string>();
let tscOutput = '';
let jsonl: Buffer = Buffer.alloc(0);

beforeAll(async () => {
  if (!built) return;
  const parts: Uint8Array[] = [];
  for await (const c of keyspaceJsonlChunks(rdbKeyspaceRecords(join(root, 'fixtures/rdb/all-types.rdb')))) parts.push(c);
  jsonl = Buffer.concat(parts);
  mkdirSync(work, { recursive: true });
  runnable.forEach((s, i) => {
    const name = `${String(i).padStart(2, '0')}-${s.readme.replace(/\/README\.md$|\.md$/, '').replace(/\W+/g, '-')}-L${s.line}`;
    const code = s.code.replaceAll('/var/lib/redis', '.');
    writeFileSync(join(work, `${name}.${s.lang === 'ts' ? 'ts' : 'mjs'}`), `// ${s.readme}:${s.line}\n${code}\nexport {};\n`);
    compiled.set(s, join(work, 'out', relative(root, work), `${name}.${s.lang === 'ts' ? 'js' : 'mjs'}`));
  });
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022', lib: ['ES2023'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true,
        noUncheckedIndexedAccess: true, allowJs: true, checkJs: true, skipLibCheck: true, outDir: 'out', rootDir: relative(work, root),
      },
      include: ['*.ts', '*.mjs', `${relative(work, root)}/examples/*.mjs`],
    }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', work], { encoding: 'utf8' });
  tscOutput = `${tsc.stdout}${tsc.stderr}`;
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('README snippets', () => {
  it('every public package README has a runnable example and an API table naming every export', () => {
    for (const p of publicPackages) {
      const readme = `packages/${p}/README.md`;
      expect(snippetsOf(readme).filter((s) => s.run).length, `${readme}: a block marked <!-- snippet: run -->`).toBeGreaterThan(0);
      const text = readFileSync(join(root, readme), 'utf8');
      const table = /<!-- api:start -->([\s\S]*?)<!-- api:end -->/.exec(text)?.[1] ?? '';
      const missing = exportsOf(p).filter((name) => !table.includes(`| \`${name}\``));
      expect(missing, `${readme}: exports missing from the API table (run node scripts/api-tables.mjs)`).toEqual([]);
    }
  });

  it.skipIf(!built)('type-check under strict nodenext (examples/*.mjs too)', () => {
    expect(tscOutput).toBe('');
  });

  describe.skipIf(!built)('run', () => {
    it.each(runnable.map((s) => [`${s.readme}:${s.line}`, s] as const))('%s', async (_, s) => {
      const needsServer = s.code.includes('REDIS_URL');
      if (needsServer && !redisAvailable()) return console.warn(`[readme] ${s.readme}:${s.line} needs redis-server: skipped`);
      const out = compiled.get(s);
      if (out === undefined || !existsSync(out)) throw new Error(`not compiled:\n${tscOutput}`);
      const scratch = mkdtempSync(join(tmpdir(), 'snippet-'));
      try {
        cpSync(join(root, 'fixtures/rdb/all-types.rdb'), join(scratch, 'dump.rdb'));
        cpSync(join(root, 'examples/flushall/appendonlydir'), join(scratch, 'appendonlydir'), { recursive: true });
        writeFileSync(join(scratch, 'dump.jsonl'), jsonl);
        const server = needsServer ? await startRedis() : null;
        try {
          const env = server ? { ...process.env, REDIS_URL: `redis://127.0.0.1:${server.port}/0` } : process.env;
          const r = await runNode(out, scratch, env);
          expect(r.status, `${s.readme}:${s.line} exited ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`).toBe(0);
        } finally {
          await server?.stop();
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  });
});
