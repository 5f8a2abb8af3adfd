// globalSetup of the live tier (vitest.config.ts): build the packages before any live test runs, so the CLI
// binaries (packages/cli/bin -> dist/) and the example scripts never run a stale dist/. `tsc -b` rebuilds only what
// changed since the last build: about a second when everything is up to date.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildFirst(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const projects = readdirSync(join(root, 'packages'))
    .map((p) => join('packages', p, 'tsconfig.json'))
    .filter((p) => existsSync(join(root, p)));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-b', ...projects], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`[live tier] tsc -b of the packages failed (exit ${r.status ?? r.signal}); the live tests would run a stale dist/:\n${r.stdout}${r.stderr}`);
  }
  const ms = Date.now() - started;
  if (ms > 5000) console.log(`[live tier] built the packages (tsc -b) in ${(ms / 1000).toFixed(1)} s`);
}
