// aof-tool cat on a damaged AOF: every command complete before the damage is printed (whole lines, flushed), then
// the error on stderr and exit 1; the same with --json, every stdout line valid JSON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/aof-tool/main.js'));
if (!built) console.warn('[aof-tool cat tests] packages/cli/dist is missing: run `pnpm build` first; skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-cat-'));
  temps.push(d);
  return d;
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: '', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cmd = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const crashed = join(root, 'examples/crashed/appendonly.aof');

describe.skipIf(!built)('aof-tool cat on damaged AOFs', () => {
  it('the crashed example: its 34 commands, then the error (file, offset, what was expected), exit 1', () => {
    const r = run(['cat', crashed]);
    expect(r.code).toBe(1);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const lines = r.stdout.split('\n').slice(0, -1);
    expect(lines).toHaveLength(34);
    for (const l of lines) expect(l).toMatch(/^\[0 .*appendonly\.aof:\d+\] "/);
    expect(lines[33]).toMatch(/:1906\] "ZADD" "scores"/);
    expect(r.stderr).toMatch(/appendonly\.aof: offset 2015: the file ends inside an argument of 56 bytes with its CRLF: only 31 present/);
    expect(r.stderr).not.toMatch(/\n\s+at /);

    const j = run(['cat', '--json', crashed]);
    expect(j.code).toBe(1);
    const records = j.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l));
    expect(records).toHaveLength(34);
    expect(records[33]).toMatchObject({ offset: 1906, args: ['ZADD', 'scores', '10', 'alice', '20', 'bob', '15', 'carol'] });
    expect(records.some((x) => 'inUnfinishedMulti' in x)).toBe(false);
    expect(j.stderr).toMatch(/offset 2015/);
  });

  it('cat --command flushall on an AOF cut 5 bytes short shows the FLUSHALL 12 KB before the cut', () => {
    const parts = [cmd('SELECT', '0'), cmd('SET', 'a', '1'), cmd('FLUSHALL')];
    for (let i = 0; i < 300; i++) parts.push(cmd('SET', `key:${i}`, 'x'.repeat(30)));
    const full = Buffer.from(parts.join(''));
    const flushAt = Buffer.byteLength(parts[0] + parts[1]);
    expect(full.length - flushAt).toBeGreaterThan(12_000);
    const path = join(tmp(), 'appendonly.aof');
    writeFileSync(path, full.subarray(0, full.length - 5));
    const r = run(['cat', '--command', 'flushall', path]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`[0 ${path}:${flushAt}] "FLUSHALL"\n`);
    expect(r.stderr).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: offset \\d+: `));
    const j = run(['cat', '--json', '--command', 'FLUSHALL', path]);
    expect(j.code).toBe(1);
    expect(j.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l))).toEqual([{ db: 0, args: ['FLUSHALL'], offset: flushAt, file: path, timestamp: null }]);
  });

  it('a transaction the damage cut off: its commands shown, marked (in unfinished MULTI) / "inUnfinishedMulti": true', () => {
    const text = cmd('SET', 'a', '1') + cmd('MULTI') + cmd('SET', 'b', '2') + cmd('INCR', 'n') + cmd('MULTI') + cmd('SET', 'c', '3') + cmd('EXEC');
    const path = join(tmp(), 'appendonly.aof');
    // a complete transaction, then one whose EXEC is missing (the file ends)
    const good = cmd('MULTI') + cmd('SET', 'x', '1') + cmd('EXEC');
    writeFileSync(path, cmd('SET', 'a', '1') + good + cmd('MULTI') + cmd('SET', 'b', '2') + cmd('INCR', 'n'));
    const r = run(['cat', path]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n').slice(0, -1);
    expect(lines.map((l) => l.replace(/^\[[^\]]*\] /, ''))).toEqual([
      '"SET" "a" "1"',
      '"MULTI"',
      '"SET" "x" "1"',
      '"EXEC"',
      '"MULTI" (in unfinished MULTI)',
      '"SET" "b" "2" (in unfinished MULTI)',
      '"INCR" "n" (in unfinished MULTI)',
    ]);
    expect(r.stderr).toMatch(/3 command\(s\) shown are marked \(in unfinished MULTI\)/);
    expect(r.stderr).toMatch(/ends inside the MULTI transaction that starts at offset \d+ \(no EXEC\)/);
    const j = run(['cat', '--json', path]);
    const records = j.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l));
    expect(records.map((x) => x.inUnfinishedMulti ?? false)).toEqual([false, false, false, false, true, true, true]);
    // a nested MULTI is damage too (redis-check-aof: Unexpected MULTI)
    writeFileSync(path, text);
    const n = run(['cat', '--json', path]);
    expect(n.code).toBe(1);
    expect(n.stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l)).filter((x) => x.inUnfinishedMulti).map((x) => x.args[0])).toEqual(['MULTI', 'SET', 'INCR']);
  });

  it('a valid AOF still prints everything with exit 0 (no marks)', () => {
    const path = join(tmp(), 'appendonly.aof');
    writeFileSync(path, cmd('MULTI') + cmd('SET', 'x', '1') + cmd('EXEC') + cmd('DEL', 'x'));
    const r = run(['cat', path]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, -1)).toHaveLength(4);
    expect(r.stdout).not.toMatch(/unfinished/);
    expect(readFileSync(path).length).toBeGreaterThan(0);
  });
});
