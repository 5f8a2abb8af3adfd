import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readAof } from '@redis-persist/aof';
import { checkRdb } from '@redis-persist/rdb';
import { redisAvailable, redisToolAvailable, startRedis } from '@redis-persist/testkit';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../fixtures');
const built = existsSync(join(here, '../packages/aof/dist/index.js')) && existsSync(join(here, '../packages/analysis/dist/index.js'));
if (!built) console.warn('[examples] packages are not built (pnpm build): example scripts skipped');
const run = (script: string, ...args: string[]) => execFileSync(process.execPath, [join(here, script), ...args], { encoding: 'utf8' });
/** Runs a script that may exit non-zero: its status and output. */
const runStatus = (script: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [join(here, script), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tmp = mkdtempSync(join(tmpdir(), 'examples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The example scripts are the first code users copy: they must run as shipped, and say what they did.
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

  it('rdb-prefix-report.mjs groups keys and memory by prefix', () => {
    const rdb = join(fixtures, 'rdb/all-types.rdb');
    const report = JSON.parse(run('rdb-prefix-report.mjs', rdb, ':', '--json')) as { keys: number; memory: number; prefixes: { prefix: string; keys: number; memory: number }[] };
    expect(report.keys).toBe(16);
    expect(report.prefixes.reduce((n, p) => n + p.keys, 0)).toBe(16);
    expect(report.prefixes.reduce((n, p) => n + p.memory, 0)).toBe(report.memory);
    expect(report.prefixes.map((p) => p.prefix)).toEqual(expect.arrayContaining(['s:*', 'h:*', 'l:*', 'set:*', 'z:*']));
    expect(report.prefixes.find((p) => p.prefix === 's:*')?.keys).toBe(5);
    const memories = report.prefixes.map((p) => p.memory);
    expect(memories).toEqual([...memories].sort((a, b) => b - a));
    expect(run('rdb-prefix-report.mjs', rdb)).toMatch(/^16 keys, \d+ bytes in 7 prefixes\n/);
  });

  it('rdb-to-jsonl.mjs exports the keyspace as KEYSPACE-JSONL, never replacing a file', () => {
    const out = join(tmp, 'all-types.jsonl');
    expect(run('rdb-to-jsonl.mjs', join(fixtures, 'rdb/all-types.rdb'), out)).toMatch(/^16 keys, \d+ bytes written to /);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { key?: string; library?: string });
    expect(lines).toHaveLength(17); // a function library and 16 keys
    expect(lines[0]?.library).toBe('mylib');
    expect(lines.filter((l) => l.key !== undefined).map((l) => l.key)).toContain('h:small');
    // byte for byte what the CLI writes for the same export
    const cli = join(tmp, 'cli.jsonl');
    execFileSync(process.execPath, [join(here, '../packages/cli/bin/rdb-tool.js'), 'dump', join(fixtures, 'rdb/all-types.rdb'), '--format', 'jsonl', '--order', 'file', '-o', cli]);
    expect(readFileSync(out).equals(readFileSync(cli))).toBe(true);
    const again = runStatus('rdb-to-jsonl.mjs', join(fixtures, 'rdb/all-types.rdb'), out);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/exists/);
    const only = join(tmp, 'sets.jsonl');
    expect(run('rdb-to-jsonl.mjs', join(fixtures, 'rdb/all-types.rdb'), only, 'set:*')).toMatch(/^3 keys/);
  });

  it('rdb-migrate.mjs takes an RDB 11 down to RDB 9: refused, then with what was dropped reported', async () => {
    const v11 = join(tmp, 'v11.rdb');
    expect(run('rdb-migrate.mjs', join(fixtures, 'rdb/all-types.rdb'), v11, '11')).toMatch(/^wrote .*: RDB 11, 16 keys, 1 functions, 0 dropped/);
    expect((await checkRdb(v11)).version).toBe(11);

    const v9 = join(tmp, 'v9.rdb');
    const refused = runStatus('rdb-migrate.mjs', v11, v9, '9');
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^refused \(functions\): .*function library "mylib": functions need RDB 10/);
    expect(existsSync(v9)).toBe(false);

    const out = run('rdb-migrate.mjs', v11, v9, '9', '--drop');
    expect(out).toMatch(/^dropped \(functions\): function library "mylib"/m);
    expect(out).toMatch(/^dropped \(stream-metadata\): db 0 key "x"/m);
    expect(out).toMatch(/wrote .*: RDB 9, 15 keys, 0 functions, 2 dropped or altered/);
    const check = await checkRdb(v9);
    expect([check.ok, check.version, check.keys]).toEqual([true, 9, 15]);
  });

  it.skipIf(!redisAvailable() || !redisToolAvailable('redis-check-rdb'))('the migrated RDB 9 passes redis-check-rdb and loads in redis-server', async () => {
    const v9 = join(tmp, 'v9.rdb');
    if (!existsSync(v9)) run('rdb-migrate.mjs', join(fixtures, 'rdb/all-types.rdb'), v9, '9', '--drop');
    const checked = spawnSync('redis-check-rdb', [v9], { encoding: 'utf8' });
    expect(checked.status, checked.stdout).toBe(0);
    expect(checked.stdout).toMatch(/RDB looks OK/);
    const dir = join(tmp, 'load');
    mkdirSync(dir);
    copyFileSync(v9, join(dir, 'dump.rdb'));
    const server = await startRedis({ dir });
    try {
      const info = (await server.client.callText('INFO', 'keyspace')) ?? '';
      const keys = [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      expect(keys, info).toBe(15);
      expect(await server.client.callInt('EXISTS', 'x')).toBe(0n);
    } finally {
      await server.stop();
    }
  });

  it('aof-copy-without-keys.mjs copies an AOF directory without the matching keys (filterAof), #TS: kept', async () => {
    const input = join(fixtures, 'aof/timestamps-multipart/appendonlydir');
    const out = join(tmp, 'copy.aof');
    const text = run('aof-copy-without-keys.mjs', input, out, 'second:*', 'first:*');
    const m = /^(\d+) commands kept, (\d+) left out, (\d+) cut down; (\d+) #TS annotations; (\d+) bytes written to /m.exec(text);
    expect(m).not.toBeNull();
    // SELECTs aside (filterAof writes its own where the db changes), each command with its db and #TS time
    const shown = (c: { db: number; timestamp?: number; args: Uint8Array[] }) => `${c.db} ${c.timestamp ?? '-'} ${c.args.map((a) => Buffer.from(a).toString()).join(' ')}`;
    const isSelect = (c: { args: Uint8Array[] }) => Buffer.from(c.args[0] ?? []).toString().toUpperCase() === 'SELECT';
    const all: string[] = [];
    let selects = 0;
    for await (const c of readAof(input)) {
      if (isSelect(c)) selects++;
      else all.push(shown(c));
    }
    const copied: string[] = [];
    for await (const c of readAof(out)) if (!isSelect(c)) copied.push(shown(c));
    const isDropped = (line: string) => / SET (first|second):/.test(line);
    expect(all.filter(isDropped).length).toBeGreaterThan(0);
    expect(copied).toEqual(all.filter((l) => !isDropped(l)));
    expect(copied.every((l) => !l.includes(' - '))).toBe(true); // every command still has its time
    expect(Number(m?.[1])).toBe(copied.length);
    // (the input's SELECTs count as left out)
    expect(Number(m?.[2])).toBe(all.length - copied.length + selects);
    expect(Number(m?.[4])).toBeGreaterThan(0);
    expect(readFileSync(out, 'latin1')).toMatch(/^#TS:\d+\r\n/);
    if (redisToolAvailable('redis-check-aof')) {
      const checked = spawnSync('redis-check-aof', [out], { encoding: 'utf8' });
      expect(checked.stdout).toMatch(/is valid/);
    }
  });

  it('aof-copy-without-keys.mjs refuses a command naming a matching and another key unless --keep-mixed', () => {
    const resp = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`;
    const input = join(tmp, 'mixed.aof');
    writeFileSync(input, resp('SET', 'session:1', 'a') + resp('RENAME', 'session:1', 'user:1') + resp('DEL', 'session:2', 'user:2') + resp('SET', 'user:3', 'b'));
    const refused = runStatus('aof-copy-without-keys.mjs', input, join(tmp, 'mixed-out.aof'), 'session:*');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/mixed\.aof: offset 3\d: RENAME names keys the filter keeps and keys it drops.*nothing was written/);
    expect(existsSync(join(tmp, 'mixed-out.aof'))).toBe(false);
    const kept = runStatus('aof-copy-without-keys.mjs', input, join(tmp, 'mixed-out.aof'), 'session:*', '--keep-mixed');
    expect(kept.status, kept.stderr).toBe(0);
    expect(kept.stdout).toMatch(/^kept .*mixed\.aof:3\d: RENAME names matching and other keys$/m);
    expect(kept.stdout).toMatch(/^3 commands kept, 1 left out, 1 cut down;/m);
    // the DEL is cut down to user:2
    expect(readFileSync(join(tmp, 'mixed-out.aof'), 'latin1')).toContain(resp('DEL', 'user:2'));
  });

  it('aof-copy-without-keys.mjs refuses an AOF with an RDB base', () => {
    const r = runStatus('aof-copy-without-keys.mjs', join(here, 'flushall/appendonlydir'), join(tmp, 'never.aof'), 'x');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/appendonly\.aof\.2\.base\.rdb: holds an RDB part/);
    expect(existsSync(join(tmp, 'never.aof'))).toBe(false);
  });

  it('validate-backups.mjs checks every RDB and AOF of a directory tree, exit 1 on damage', () => {
    const backups = join(tmp, 'backups');
    mkdirSync(join(backups, 'node-a'), { recursive: true });
    mkdirSync(join(backups, 'node-b'), { recursive: true });
    copyFileSync(join(fixtures, 'rdb/all-types.rdb'), join(backups, 'node-a/dump.rdb'));
    cpSync(join(fixtures, 'aof/timestamps-multipart/appendonlydir'), join(backups, 'node-a/appendonlydir'), { recursive: true });
    const good = readFileSync(join(fixtures, 'rdb/all-types.rdb'));
    writeFileSync(join(backups, 'node-b/cut.rdb'), good.subarray(0, good.length - 100));
    const clean = JSON.parse(runStatus('validate-backups.mjs', join(backups, 'node-a'), '--json').stdout) as { ok: boolean; results: { kind: string; ok: boolean }[] };
    expect(clean).toMatchObject({ ok: true, results: [{ kind: 'aof', ok: true }, { kind: 'rdb', ok: true }] });
    expect(runStatus('validate-backups.mjs', join(backups, 'node-a')).status).toBe(0);

    copyFileSync(join(here, 'crashed/appendonly.aof'), join(backups, 'node-b/appendonly.aof'));
    const r = runStatus('validate-backups.mjs', backups);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^ok {2}rdb .*node-a\/dump\.rdb: RDB 10, 16 keys$/m);
    expect(r.stdout).toMatch(/^ok {2}aof .*node-a\/appendonlydir: multi-part AOF/m);
    expect(r.stdout).toMatch(/^BAD aof .*node-b\/appendonly\.aof: truncated after byte \d+ .*\(aof-tool fix can repair it\)$/m);
    expect(r.stdout).toMatch(/^BAD rdb .*node-b\/cut\.rdb: /m);
    expect(r.stdout).toMatch(/^4 backups checked, 2 damaged$/m);
    expect(runStatus('validate-backups.mjs').status).toBe(2);
  });
});
