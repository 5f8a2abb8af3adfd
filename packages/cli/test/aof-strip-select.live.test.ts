// aof-tool strip with selectors: --at (places as cat prints them), --last, --since/--until, --key; exit codes of
// selections that do not apply (2: --at naming nothing, no #TS: annotations; 1: a command that cannot lose only
// some of its keys), and nothing changed then.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAvailable, startRedis } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/aof-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/aof-tool/main.js'));
if (!built) console.warn('[aof-tool strip selectors] packages/cli/dist is missing: run `pnpm build` first; skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-strip-sel-'));
  temps.push(d);
  return d;
}

function run(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', input: '', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const enc = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const flushall = join(root, 'examples/flushall/appendonlydir');

/** A single-file AOF built by hand; `at(i)` is where record i starts. */
function aof(records: string[]) {
  const offsets: number[] = [];
  let off = 0;
  for (const r of records) {
    offsets.push(off);
    off += Buffer.byteLength(r);
  }
  const bytes = Buffer.from(records.join(''));
  /** The bytes without the records at these indexes (and with replacements). */
  const without = (drop: number[], replace: Record<number, string> = {}) => Buffer.from(records.map((r, i) => (i in replace ? replace[i] : drop.includes(i) ? '' : r)).join(''));
  return { bytes, offsets, without };
}

const T1 = 1_767_225_600; // 2026-01-01T00:00:00Z
const RECORDS = [
  enc('SELECT', '0'), // 0: before any annotation
  enc('DEL', 'early'), // 1: no time
  `#TS:${T1}\r\n`, // 2
  enc('SET', 'user:1', 'a'), // 3
  enc('FLUSHALL'), // 4
  `#TS:${T1 + 60}\r\n`, // 5
  enc('SET', 'user:1', 'a'), // 6
  enc('DEL', 'user:1'), // 7: the accident
  enc('DEL', 'user:2', 'tmp:2'), // 8: partly matching
  enc('MULTI'), // 9
  enc('DEL', 'user:3'), // 10
  enc('EXEC'), // 11
  `#TS:${T1 + 120}\r\n`, // 12
  enc('RENAME', 'user:4', 'other:4'), // 13
  enc('FLUSHALL'), // 14
  enc('SET', 'z', '1'), // 15
];

describe.skipIf(!built)('aof-tool strip selectors', () => {
  it("--dry-run DEL --key 'user:*' lists exactly what goes and what is rewritten; -o writes exactly that", () => {
    const a = aof(RECORDS);
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    writeFileSync(path, a.bytes);
    const dry = run(['strip', '--dry-run', 'DEL', '--key', 'user:*', path]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.split('\n')).toEqual([
      `would remove ${path}:${a.offsets[7]} db=0 2026-01-01T00:01:00Z "DEL" "user:1"`,
      `would rewrite ${path}:${a.offsets[8]} db=0 2026-01-01T00:01:00Z "DEL" "user:2" "tmp:2" -> "DEL" "tmp:2" (the keys matching --key dropped)`,
      `would remove ${path}:${a.offsets[9]} db=0 2026-01-01T00:01:00Z "MULTI" (transaction left empty)`,
      `would remove ${path}:${a.offsets[10]} db=0 2026-01-01T00:01:00Z "DEL" "user:3"`,
      `would remove ${path}:${a.offsets[11]} db=0 2026-01-01T00:01:00Z "EXEC" (transaction left empty)`,
      'dry run: would remove 4 command(s) and rewrite 1 in 1 file(s)',
      `  ${path}: 4 removed, 1 rewritten, ${a.bytes.length} -> ${a.without([7, 9, 10, 11], { 8: enc('DEL', 'tmp:2') }).length} bytes`,
      '',
    ]);
    const out = join(d, 'out.aof');
    const r = run(['strip', 'DEL', '--key', 'user:*', path, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out).equals(a.without([7, 9, 10, 11], { 8: enc('DEL', 'tmp:2') }))).toBe(true);
    expect(readFileSync(path).equals(a.bytes)).toBe(true);
    expect(run(['check', out]).code).toBe(0);
    const json = run(['strip', '--dry-run', '--json', 'DEL', '--key', 'user:*', path]).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(json[1].removed).toMatchObject({ offset: a.offsets[8], args: ['DEL', 'user:2', 'tmp:2'], rewrittenTo: ['DEL', 'tmp:2'] });
    expect(json[0].removed.rewrittenTo).toBeNull();
    expect(json[json.length - 1].summary).toMatchObject({ removed: 4, rewritten: 1, untimed: 0 });
  });

  it('--at takes the place cat prints (the path as given, or the file name); --last the last occurrence; in place with --yes', () => {
    const a = aof(RECORDS);
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    writeFileSync(path, a.bytes);
    // the place as cat prints it
    const cat = run(['cat', '--command', 'flushall', path]).stdout.trim().split('\n');
    expect(cat).toHaveLength(2);
    const place = /\[0 (.*?) /.exec(cat[0])![1];
    expect(place).toBe(`${path}:${a.offsets[4]}`);
    const r = run(['strip', '--yes', 'FLUSHALL', '--at', place, path]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed 1 command\(s\) in 1 file\(s\)/);
    expect(readFileSync(path).equals(a.without([4]))).toBe(true);
    expect(readFileSync(`${path}.bak`).equals(a.bytes)).toBe(true);
    // relative to another directory, and by file name only: the same file
    writeFileSync(path, a.bytes);
    expect(run(['strip', '--dry-run', 'FLUSHALL', '--at', `appendonly.aof:${a.offsets[14]}`, 'appendonly.aof'], d).stdout).toMatch(new RegExp(`would remove appendonly\\.aof:${a.offsets[14]} `));
    expect(run(['strip', '--dry-run', 'FLUSHALL', '--at', `appendonly.aof:${a.offsets[14]}`, path]).code).toBe(0);
    // --last
    const last = run(['strip', '--yes', '--last', 'FLUSHALL', path]);
    expect(last.code, last.stderr).toBe(0);
    expect(readFileSync(path).equals(a.without([14]))).toBe(true);
  });

  it('--at on a multi-part AOF: the manifest name cat prints; -o leaves the input alone', () => {
    const cat = run(['cat', '--command', 'flushall', flushall]);
    const place = /\[0 (\S+)\]/.exec(cat.stdout.split('\n').find((l) => l.includes('FLUSHALL'))!)![1];
    expect(place).toBe('appendonly.aof.2.incr.aof:153');
    const out = join(tmp(), 'rescued');
    const r = run(['strip', 'FLUSHALL', '--at', place, flushall, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const incr = readFileSync(join(flushall, 'appendonly.aof.2.incr.aof'));
    expect(readFileSync(join(out, 'appendonly.aof.2.incr.aof')).equals(Buffer.concat([incr.subarray(0, 153), incr.subarray(153 + 18)]))).toBe(true);
  });

  it('an --at that names no occurrence: exit 2, why, nothing changed', () => {
    const a = aof(RECORDS);
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    writeFileSync(path, a.bytes);
    const cases: [string[], RegExp][] = [
      [['FLUSHALL', '--at', `${path}:${a.offsets[4] + 1}`], /no command starts there/],
      [['FLUSHALL', '--at', `${path}:${a.offsets[3]}`], /that is SET, not FLUSHALL/],
      [['FLUSHALL', '--at', `${path}:${a.offsets[2]}`], /that is an annotation line/],
      [['FLUSHALL', '--at', `other.aof:${a.offsets[4]}`], /no file other\.aof in this AOF/],
      [['FLUSHALL', '--at', 'nonsense'], /--at wants <file>:<offset>/],
      [['DEL', '--key', 'user:*', '--at', `${path}:${a.offsets[1]}`], /the DEL there touches no key matching --key \("early"\)/],
      [['DEL', '--since', String(T1), '--at', `${path}:${a.offsets[1]}`], /the DEL there comes before the first #TS: annotation/],
      [['FLUSHALL', '--until', String(T1 - 1), '--at', `${path}:${a.offsets[4]}`], /outside the --since\/--until window/],
    ];
    for (const [args, message] of cases) {
      const r = run(['strip', '--yes', ...args, path]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(path).equals(a.bytes)).toBe(true);
      expect(readdirSync(d)).toEqual(['appendonly.aof']);
    }
  });

  it('--since/--until: Unix seconds or ISO dates, the #TS: time in force; untimed occurrences noted; no annotations refused', () => {
    const a = aof(RECORDS);
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    writeFileSync(path, a.bytes);
    const first = run(['strip', '--dry-run', 'FLUSHALL', '--until', '2026-01-01T00:00:30Z', path]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`would remove ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${a.offsets[4]} `));
    expect(first.stdout).toMatch(/would remove 1 command/);
    const second = run(['strip', '--dry-run', 'FLUSHALL', '--since', String(T1 + 1), path]);
    expect(second.stdout).toMatch(new RegExp(`:${a.offsets[14]} db=0 2026-01-01T00:02:00Z "FLUSHALL"`));
    // DEL early has no time: left alone, and said so
    const dels = run(['strip', '--dry-run', 'DEL', '--until', String(T1 + 60), path]);
    expect(dels.stdout).toMatch(/dry run: would remove 5 command\(s\) in 1 file\(s\)/); // DEL x3, and the MULTI/EXEC left empty
    expect(dels.stdout).not.toMatch(new RegExp(`:${a.offsets[1]} `));
    expect(dels.stderr).toMatch(/1 occurrence\(s\) before the first #TS: annotation have no time/);
    // bad times, an empty window: usage errors
    expect(run(['strip', '--dry-run', 'FLUSHALL', '--since', 'yesterday-ish', path]).code).toBe(2);
    expect(run(['strip', '--dry-run', 'FLUSHALL', '--since', String(T1 + 10), '--until', String(T1), path]).code).toBe(2);
    // no annotations at all
    const plain = join(d, 'plain.aof');
    writeFileSync(plain, enc('SET', 'a', '1') + enc('FLUSHALL'));
    const r = run(['strip', '--yes', 'FLUSHALL', '--since', '0', plain]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no #TS: annotations.*aof-timestamp-enabled/);
    expect(readFileSync(plain).toString()).toBe(enc('SET', 'a', '1') + enc('FLUSHALL'));
  });

  it('a RENAME of which only one key matches --key: exit 1, the place named, nothing changed', () => {
    const a = aof(RECORDS);
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    writeFileSync(path, a.bytes);
    const r = run(['strip', '--yes', 'RENAME', '--key', 'user:*', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path}:${a.offsets[13]}: RENAME touches "user:4" (matching --key) and "other:4" (not matching): it cannot be cut in part`);
    expect(readFileSync(path).equals(a.bytes)).toBe(true);
    expect(readdirSync(d)).toEqual(['appendonly.aof']);
    // the place alone removes it whole
    const whole = run(['strip', '--yes', 'RENAME', '--at', `${path}:${a.offsets[13]}`, path]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(readFileSync(path).equals(a.without([13]))).toBe(true);
  });

  it.skipIf(!redisAvailable())('the accidental DEL of a real server, undone in place: Redis loads user:1 again, the meant DEL stays', async () => {
    const s = await startRedis({ config: { appendonly: 'yes', 'aof-timestamp-enabled': 'yes' } });
    try {
      await s.client.call('SET', 'user:1', 'alice');
      await s.client.call('SET', 'tmp:1', 'x');
      await s.client.call('SET', 'session:1', 's');
      await s.client.call('DEL', 'tmp:1');
      await s.client.call('DEL', 'user:1', 'session:1');
      await s.client.call('SET', 'after', 'yes');
    } finally {
      await s.stop({ keepFiles: true });
    }
    const dir = tmp();
    cpSync(s.dir, dir, { recursive: true });
    rmSync(s.dir, { recursive: true, force: true });
    const dry = run(['strip', '--dry-run', 'DEL', '--key', 'user:*', dir]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would rewrite appendonly\.aof\.1\.incr\.aof:\d+ db=0 \S+ "DEL" "user:1" "session:1" -> "DEL" "session:1"/);
    const r = run(['strip', '--yes', 'DEL', '--key', 'user:*', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/removed 0 command\(s\) and rewrote 1 in 1 file\(s\)/);
    expect(readdirSync(join(dir, 'appendonlydir')).some((n) => n.endsWith('.incr.aof.bak'))).toBe(true);
    const again = await startRedis({ dir, config: { appendonly: 'yes' } });
    try {
      expect(await again.client.callText('GET', 'user:1')).toBe('alice');
      expect(await again.client.callText('GET', 'session:1')).toBeNull();
      expect(await again.client.callText('GET', 'tmp:1')).toBeNull();
      expect(await again.client.callText('GET', 'after')).toBe('yes');
    } finally {
      await again.stop();
    }
  });
});
