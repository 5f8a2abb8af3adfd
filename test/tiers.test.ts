// The tier rule of vitest.config.ts, enforced. Unit tier: fast, no Redis, no build.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = 'test/tiers.test.ts';

/** What makes a file live, each with the reason given in a failure. */
const LIVE: [RegExp, string][] = [
  [/\b(startRedis|startCluster|startSentinels|startMasterReplica)\b/, 'starts a redis-server, cluster or sentinels (testkit)'],
  [/['"`]redis-(server|cli|sentinel|benchmark|check-aof|check-rdb)['"`]/, 'runs a Redis binary'],
  [/\b(redisAvailable|redisToolAvailable)\s*\(/, 'asks whether Redis binaries are installed (redisAvailable/redisToolAvailable)'],
  [/[/'"`](dist|cli\/bin)[/'"`]/, 'runs built code (dist/ or packages/cli/bin)'],
  [/['"`]\.{1,2}\/[^'"`]*\.live(\.test)?\.(js|ts)['"`]/, 'imports a *.live.ts helper'],
];

/** The code without comments (a comment may name redis-server or dist/ freely). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
}

function liveReasons(file: string): string[] {
  const text = code(readFileSync(join(root, file), 'utf8'));
  return LIVE.filter(([re]) => re.test(text)).map(([re, why]) => `${why}: ${text.match(re)![0]}`);
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(root, p));
  }
  return out;
}

const packages = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'tsconfig.json')));
const files = [...packages.flatMap((p) => walk(join(root, 'packages', p, 'test'))), ...walk(join(root, 'examples')), ...walk(join(root, 'test'))]
  .filter((f) => f !== self)
  .sort();
const isLive = (f: string) => /\.live(\.test)?\.ts$/.test(f);

describe('test tiers (see vitest.config.ts)', () => {
  it('finds the test files', () => {
    expect(files.filter((f) => f.endsWith('.test.ts')).length).toBeGreaterThan(50);
    expect(files.some((f) => f.endsWith('.live.test.ts'))).toBe(true);
  });

  it('no unit-tier file (test or helper) starts a server, runs a Redis binary or runs built code', () => {
    const wrong = files
      .filter((f) => !isLive(f))
      .flatMap((f) => {
        const why = liveReasons(f);
        if (why.length === 0) return [];
        const to = f.endsWith('.test.ts') ? f.replace(/\.test\.ts$/, '.live.test.ts') : f.replace(/\.ts$/, '.live.ts');
        return [`${f}: ${why.join('; ')}\n    -> it belongs to the live tier: git mv ${f} ${to}`];
      });
    expect(wrong, `live-tier code in unit-tier files:\n${wrong.join('\n')}\n`).toEqual([]);
  });

  it('every *.live.test.ts file needs the live tier', () => {
    const wrong = files
      .filter((f) => f.endsWith('.live.test.ts') && liveReasons(f).length === 0)
      .map((f) => `${f}: starts no server, runs no Redis binary nor built code\n    -> it belongs to the unit tier: git mv ${f} ${f.replace(/\.live\.test\.ts$/, '.test.ts')}`);
    expect(wrong, `unit-tier tests named *.live.test.ts:\n${wrong.join('\n')}\n`).toEqual([]);
  });

  it('tsconfig.test.json type-checks the tests of every package', () => {
    const config = readFileSync(join(root, 'tsconfig.test.json'), 'utf8');
    const missing = packages.filter((p) => !config.includes(`"packages/${p}"`));
    expect(missing, `add { "path": "packages/<name>" } to the references of tsconfig.test.json`).toEqual([]);
  });
});
