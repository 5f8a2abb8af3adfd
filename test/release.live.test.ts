// `pnpm release:check` (scripts/release-check.mjs) as a test: every public package packs without `workspace:`
// ranges and with README, LICENSE, dist and the src its maps point at; publint and attw pass on each tarball; a fresh
// project installs the tarballs offline, compiles a nodenext + strict TypeScript script against them and runs it,
// require()s a package from CommonJS and runs the CLI binaries; typedoc finds every export documented and every
// link resolved, and the README API tables are current. Live tier: it packs and runs the built dist/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

it('every public package is ready to publish (pnpm release:check)', () => {
  // test/build-first.ts has built the packages; the script packs what is there.
  expect(existsSync(join(root, 'packages', 'bytes', 'dist', 'index.js'))).toBe(true);
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'release-check.mjs'), '--skip-build'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout).toContain('release check passed');
}, 600_000);

it('pnpm -r publish --dry-run goes through for every public package (what `pnpm release` would upload)', () => {
  // No login needed for a dry run; it packs each package with its workspace: ranges replaced and stops before the
  // upload. testkit is private and skipped.
  const pnpm = spawnSync('pnpm', ['-r', 'publish', '--dry-run', '--no-git-checks'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(pnpm.status, `${pnpm.stdout}\n${pnpm.stderr}`).toBe(0);
  const published = [...`${pnpm.stdout}\n${pnpm.stderr}`.matchAll(/^\+ (@redis-persist\/[a-z-]+)@/gm)].map((m) => m[1]);
  expect(published).toHaveLength(16);
  expect(published).not.toContain('@redis-persist/testkit');
}, 300_000);
