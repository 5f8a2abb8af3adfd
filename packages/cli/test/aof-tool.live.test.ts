import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/aof-tool/main.js'));
if (!built) console.warn('[aof-tool tests] packages/cli/dist is missing: run `pnpm build` first; CLI tests skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-tool-'));
  temps.push(d);
  return d;
}

function run(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const crashed = join(root, 'examples/crashed/appendonly.aof');
const flushall = join(root, 'examples/flushall/appendonlydir');
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);

describe.skipIf(!built)('aof-tool', () => {
  it('prints help and usage errors with exit 0 and 2', () => {
    expect(run(['--help']).code).toBe(0);
    expect(run(['check', '--help']).stdout).toMatch(/redis-check-aof/);
    const bad = run(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(run(['check']).code).toBe(2);
    expect(run(['strip', 'FLUSHALL']).code).toBe(2);
    expect(run(['fix', '--truncate-to-timestamp', 'soon', crashed]).code).toBe(2);
  });

  it('check: exit 0 for a valid AOF, 1 for a damaged one, 3 when the file cannot be read', () => {
    const ok = run(['check', flushall]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid: /);
    const bad = run(['check', crashed]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/TRUNCATED/);
    expect(bad.stdout).toMatch(/redis-check-aof: Expected to read 56 bytes, got 31 bytes/);
    expect(bad.stdout).toMatch(/cutting 59 bytes/);
    const missing = run(['check', join(tmp(), 'nope.aof')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nope\.aof: no such file or directory/);
    noStack(missing.stderr);
  });

  it('check --json: one machine-readable report, no colour', () => {
    const r = run(['check', '--json', crashed], { env: { FORCE_COLOR: '0' } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.repair).toMatchObject({ truncateTo: 1987, cutBytes: 59 });
    expect(report.files[0]).toMatchObject({ status: 'truncated', okUpTo: 1987, okUpToLine: 255 });
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('colour only when asked for, never with NO_COLOR', () => {
    expect(run(['check', crashed], { env: { FORCE_COLOR: '1', NO_COLOR: '' } }).stdout).toMatch(/\x1b\[/);
    expect(run(['check', crashed], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).not.toMatch(/\x1b\[/);
  });

  it('fix: shows the plan, acts only with --yes, keeps a backup, and the result checks valid', () => {
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    cpSync(crashed, path);
    const original = readFileSync(path);
    const dry = run(['fix', path]);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/cut at offset 1987: remove 59 bytes/);
    expect(dry.stderr).toMatch(/re-run with --yes/);
    expect(readFileSync(path).equals(original)).toBe(true);
    const done = run(['fix', '--yes', path]);
    expect(done.code).toBe(0);
    expect(readFileSync(path).equals(original.subarray(0, 1987))).toBe(true);
    expect(readFileSync(`${path}.bak`).equals(original)).toBe(true);
    expect(run(['check', path]).code).toBe(0);
    expect(run(['fix', '--yes', path]).stdout).toMatch(/nothing to repair/);
    // a second repair never overwrites the first backup
    writeFileSync(path, Buffer.concat([original.subarray(0, 1987), Buffer.from('*1\r\n$4\r\nPI')]));
    expect(run(['fix', '--yes', '--json', path]).code).toBe(0);
    expect(readFileSync(`${path}.bak`).equals(original)).toBe(true);
    expect(existsSync(`${path}.bak.1`)).toBe(true);
  });

  it('strip: removes FLUSHALL into -o, leaves the input alone, refuses to strip SELECT', () => {
    const out = join(tmp(), 'clean');
    const before = readFileSync(join(flushall, 'appendonly.aof.2.incr.aof'));
    const r = run(['strip', 'flushall', flushall, '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/removed 1 command\(s\) in 1 file\(s\)/);
    expect(readFileSync(join(flushall, 'appendonly.aof.2.incr.aof')).equals(before)).toBe(true);
    expect(run(['check', out]).code).toBe(0);
    const cat = run(['cat', '--json', out]);
    const names = cat.stdout.trim().split('\n').map((l) => JSON.parse(l).args[0].toUpperCase());
    expect(names).not.toContain('FLUSHALL');
    expect(names).toContain('LPUSH');
    const sel = run(['strip', 'SELECT', flushall, '--dry-run']);
    expect(sel.code).toBe(2);
    expect(sel.stderr).toMatch(/SELECT/);
    const json = run(['strip', '--dry-run', '--json', 'FLUSHALL', flushall]);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].removed).toMatchObject({ file: 'appendonly.aof.2.incr.aof', db: 0, args: ['FLUSHALL'] });
    expect(lines[1].summary.removed).toBe(1);
  });

  it('cat filters by command, db and key pattern; stats counts', () => {
    const all = run(['cat', flushall]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^# appendonly\.aof\.2\.base\.rdb: RDB part/m);
    expect(all.stdout).toMatch(/\[0 appendonly\.aof\.2\.incr\.aof:\d+\] "INCR" "visits"/);
    const incr = run(['cat', '--command', 'incr', flushall]).stdout.trim().split('\n');
    expect(incr.filter((l) => !l.startsWith('#')).every((l) => l.includes('"INCR"'))).toBe(true);
    const keyed = run(['cat', '--key-pattern', 'after:*', '--json', flushall]).stdout.trim().split('\n');
    // (a key filter keeps the keyless FLUSHALL, which empties the kept keys too: cat shows what aof-tool filter writes)
    expect(keyed.map((l) => (JSON.parse(l) as { args: string[] }).args.slice(0, 2).join(' '))).toEqual(['FLUSHALL', 'SET after:flush']);
    // nothing ran in db 5 but the FLUSHALL, which empties it too
    expect(run(['cat', '--db', '5', flushall]).stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['[0 appendonly.aof.2.incr.aof:153] "FLUSHALL"']);
    const stats = JSON.parse(run(['stats', '--json', flushall]).stdout);
    expect(stats.byCommand.INCR).toBe(5);
    expect(stats.byCommand.FLUSHALL).toBe(1);
    expect(stats.files).toHaveLength(2);
  });

  it('a run killed at any moment leaves the input whole: the original or the finished result, never half', async () => {
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    const cmd = (i: number) => `*3\r\n$3\r\nSET\r\n$${String(i).length + 4}\r\nkey:${i}\r\n$64\r\n${'v'.repeat(64)}\r\n`;
    const kept: string[] = [];
    const all: string[] = [];
    for (let i = 0; i < 300_000; i++) {
      const c = i % 1000 === 999 ? '*1\r\n$8\r\nFLUSHALL\r\n' : cmd(i);
      all.push(c);
      if (!c.includes('FLUSHALL')) kept.push(c);
    }
    const original = Buffer.from(all.join(''));
    const stripped = Buffer.from(kept.join(''));
    const outcomes = new Set<string>();
    for (const delay of [300, 700, 1100, 1500, 2500]) {
      writeFileSync(path, original);
      for (const n of readdirSync(d)) if (n !== 'appendonly.aof') rmSync(join(d, n));
      const child = spawn(process.execPath, [bin, 'strip', 'FLUSHALL', path], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r)); // registered now: the run may finish before the kill
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await exited;
      const now = readFileSync(path);
      const state = now.equals(original) ? 'original' : now.equals(stripped) ? 'stripped' : 'HALF-WRITTEN';
      outcomes.add(state);
      expect(state).not.toBe('HALF-WRITTEN');
      // besides the input: at most the fixed-name temp file and lock of the killed run, or the backup of a finished run
      for (const name of readdirSync(d)) expect(['appendonly.aof', 'appendonly.aof.bak', '.appendonly.aof.tmp', '.appendonly.aof.lock']).toContain(name);
      // nothing a rerun trips on: it finds the leftovers, says so, removes them and finishes the job
      const rerun = run(['strip', '--yes', 'FLUSHALL', path]);
      expect(rerun.code).toBe(0);
      noStack(rerun.stderr);
      if (state === 'original') expect(readFileSync(path).equals(stripped)).toBe(true);
      if (readdirSync(d).includes('.appendonly.aof.tmp')) throw new Error('the rerun left the stale temp file');
      expect(readdirSync(d).filter((n) => n.startsWith('.'))).toEqual([]);
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('random bytes and cut files: exit 0 or 1 with a one-line message, never a stack trace', () => {
    const d = tmp();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const path = join(d, 'random.aof');
        writeFileSync(path, bytes);
        for (const cmd of ['check', 'stats', 'cat']) {
          const r = run([cmd, path]);
          expect([0, 1]).toContain(r.code);
          noStack(r.stderr);
          if (r.code === 1 && cmd !== 'check') expect(r.stderr.trim().split('\n')).toHaveLength(1);
        }
      }),
      { numRuns: 6 },
    );
  });
});
