import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const built = existsSync(join(here, '../packages/aof/dist/index.js'));
if (!built) console.warn('[examples] packages are not built (pnpm build): example scripts skipped');
const run = (script: string, ...args: string[]) => execFileSync(process.execPath, [join(here, script), ...args], { encoding: 'utf8' });

// The example scripts are the first code users copy: they must run as shipped.
describe.skipIf(!built)('examples', () => {
  it('aof-key-activity.mjs counts writes per key', () => {
    const out = run('aof-key-activity.mjs', join(here, 'flushall/appendonlydir'));
    expect(out).toMatch(/^\d+ commands; busiest keys:/);
    expect(out).toMatch(/db0:visits {2}5/);
  });

  it('aof-undo-flushall.mjs strips FLUSHALL into a new directory', () => {
    const out = mkdtempSync(join(tmpdir(), 'undo-'));
    try {
      rmSync(out, { recursive: true });
      const text = run('aof-undo-flushall.mjs', join(here, 'flushall/appendonlydir'), out);
      expect(text).toMatch(/1 command\(s\) removed/);
      expect(existsSync(join(out, 'appendonly.aof.manifest'))).toBe(true);
      expect(run('aof-undo-flushall.mjs', join(here, 'flushall/appendonlydir'))).toMatch(/would be removed/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
