// Ctrl-C during a long conversion: SIGINT aborts the running library call through the runner's one
// AbortController. The tool exits 130 and leaves the directory as it was: no output, no temp file, no spilled sort
// run. The grace period after which the runner would exit by itself is set far away, so the clean-up seen is the
// abort's (a call that ignored the signal would hang here and fail the test by its timeout), and the runner
// prints the call's rejection (REDIS_PERSIST_DEBUG): the signal's AbortError.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringKeysRdb, treeListing } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/common/run.js'));
if (!built) console.warn('[interrupt tests] packages/cli/dist is missing: run `pnpm build` first; skipped');

const dir = mkdtempSync(join(tmpdir(), 'cli-interrupt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a tool, sends SIGINT once `ready()` says the work is under way, and resolves to its exit code and stderr. */
function interrupted(tool: string, args: string[], ready: (pid: number) => boolean, spill: string): Promise<{ code: number | null; signal: string | null; stderr: string; sentAfterMs: number }> {
  const child = spawn(process.execPath, [tool, ...args], { env: { ...process.env, TMPDIR: spill, REDIS_PERSIST_INTERRUPT_GRACE_MS: '600000', REDIS_PERSIST_DEBUG: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const t0 = Date.now();
  let sentAfterMs = -1;
  const poll = setInterval(() => {
    if (sentAfterMs < 0 && child.pid !== undefined && ready(child.pid)) {
      sentAfterMs = Date.now() - t0;
      child.kill('SIGINT');
    }
  }, 5);
  return new Promise((res) => {
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      res({ code, signal, stderr, sentAfterMs });
    });
  });
}

/** Whether process `pid` has `path` open (its work is under way: the runner and its SIGINT handler are set up). */
function hasOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe.skipIf(!built)('SIGINT during a long run', () => {
  it('rdb-tool convert (RDB to JSON Lines): exit 130, no output, no temp file, no spill', async () => {
    const work = join(dir, 'convert');
    const spill = join(work, 'spill');
    mkdirSync(spill, { recursive: true });
    const input = join(work, 'in.rdb');
    writeFileSync(input, stringKeysRdb(4000, 10_000)); // 40 MB
    const before = treeListing(work);
    // interrupted once the input is being read and the output's temp file is there
    const r = await interrupted(rdbTool, ['convert', input, join(work, 'out.jsonl')], (pid) => readdirSync(work).length > 2 && hasOpen(pid, input), spill);
    expect(r.sentAfterMs, r.stderr).toBeGreaterThanOrEqual(0);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    // the library call rejected with the runner's abort reason (printed with REDIS_PERSIST_DEBUG)
    expect(r.stderr).toMatch(/AbortError\]?: interrupted \(SIGINT\)/);
    expect(treeListing(work)).toEqual(before);
  }, 120_000);

  it('aof-tool to-rdb (interrupted during the replay): exit 130, no output, no temp file', async () => {
    const work = join(dir, 'to-rdb');
    mkdirSync(work);
    const input = join(work, 'appendonly.aof');
    const resp = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`;
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) lines.push(resp('RPUSH', `list:${i % 5000}`, `element-${i}`));
    writeFileSync(input, lines.join(''));
    const before = treeListing(work);
    // interrupted once the replay reads the AOF
    const r = await interrupted(aofTool, ['to-rdb', input, join(work, 'out.rdb')], (pid) => hasOpen(pid, input), work);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/AbortError\]?: interrupted \(SIGINT\)/);
    expect(treeListing(work)).toEqual(before);
  }, 120_000);
});
