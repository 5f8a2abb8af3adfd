// Runs the reference tool redis-check-rdb: a helper of the live tier (see vitest.config.ts), imported only by
// *.live.test.ts files. Helpers any test may use are in helpers.ts.
import { execFile } from 'node:child_process';

/** redis-check-rdb's verdict: true when it exits 0. */
export function redisCheckRdb(path: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile('redis-check-rdb', [path], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: stdout + stderr });
    });
  });
}
