// "No command ever destroys data": in-place edits refused while a Redis server uses the files, outputs never
// overwritten without --force (and then kept), the input never an output, symlinks and odd manifests, runs
// killed at any moment leave nothing a rerun trips on. Against a real redis-server 7.0.15.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { redisAvailable, startRedis } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/aof-tool/main.js'));
if (!built) console.warn('[safety tests] packages/cli/dist is missing: run `pnpm build` first; CLI tests skipped');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'safety-'));
  temps.push(d);
  return d;
}

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: '', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const aof = (...args: string[]) => run(aofTool, args);
const rdb = (...args: string[]) => run(rdbTool, args);
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);

/** Every file below `dir` (names, kinds and content hashes): a refused command must leave it exactly so. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = join(dir, name);
    const s = lstatSync(p);
    out[name] = s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

const flushallExample = join(root, 'examples/flushall/appendonlydir');

describe.skipIf(!built || !redisAvailable())('in-place edits while a server runs', () => {
  it('strip, fix and rewrite refuse while redis-server holds the AOF; after SHUTDOWN NOSAVE strip saves the data and no write is lost', async () => {
    const s = await startRedis({ config: { appendonly: 'yes', 'appendfsync': 'always' } });
    try {
      await s.client.call('SET', 'before', '1');
      await s.client.call('FLUSHALL');
      await s.client.call('SET', 'after:flush', '2');
      const before = snapshot(s.dir);
      // fix finds nothing to repair in a running server's AOF (exit 0, nothing touched); the editing commands refuse
      expect(aof('fix', '--yes', s.dir).code).toBe(0);
      expect(snapshot(s.dir)).toEqual(before);
      for (const args of [['strip', '--yes', 'FLUSHALL', s.dir], ['rewrite', s.dir]]) {
        const r = aof(...args);
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(1);
        noStack(r.stderr);
        expect(r.stderr).toMatch(/redis-server \(pid \d+\)/);
        expect(r.stderr).toContain('SHUTDOWN NOSAVE');
        expect(r.stderr).toContain('--force');
        // nothing changed, nothing added (no lock, no temp file, no backup)
        expect(snapshot(s.dir)).toEqual(before);
      }
      // the server goes on: a write after the refused strip is kept
      await s.client.call('SET', 'written:after:strip', 'yes');
      const dir = s.dir;
      await s.stop({ keepFiles: true });
      temps.push(dir);
      const r = aof('strip', '--yes', 'FLUSHALL', dir);
      expect(r.code, r.stderr).toBe(0);
      const again = await startRedis({ dir, config: { appendonly: 'yes' } });
      try {
        expect(await again.client.callText('GET', 'before')).toBe('1');
        expect(await again.client.callText('GET', 'written:after:strip')).toBe('yes');
        expect(await again.client.callText('GET', 'after:flush')).toBe('2');
      } finally {
        await again.stop();
      }
    } finally {
      if (s.alive()) await s.stop();
    }
  });

  it('fix refuses while any process holds the damaged AOF open, naming it', async () => {
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    spawnSync('cp', [join(root, 'examples/crashed/appendonly.aof'), path]);
    const holder = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(path)}, 'a'); process.stdout.write('ready'); setTimeout(() => {}, 30000)`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((res) => holder.stdout!.once('data', () => res()));
      const before = snapshot(d);
      const r = aof('fix', '--yes', path);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`node (pid ${holder.pid})`);
      expect(snapshot(d)).toEqual(before);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((res) => holder.once('exit', res));
    }
    expect(aof('fix', '--yes', path).code).toBe(0);
  });

  it('a server answering on the port of the data dir\'s redis.conf is refused too (and --force goes past it)', async () => {
    // a server elsewhere answers on the port that the data dir's redis.conf names
    const s = await startRedis();
    try {
      const d = tmp();
      const copy = join(d, 'data');
      mkdirSync(copy);
      spawnSync('cp', ['-r', flushallExample, join(copy, 'appendonlydir')]);
      writeFileSync(join(copy, 'redis.conf'), `port ${s.port}\ndir ${copy}\nappendonly yes\n`);
      const before = snapshot(copy);
      const r = aof('strip', '--yes', 'FLUSHALL', copy);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`port ${s.port}`);
      expect(snapshot(copy)).toEqual(before);
      // the same through --config, for a config kept elsewhere
      const conf = join(d, 'other.conf');
      writeFileSync(conf, `port ${s.port}\ndir ${copy}\n`);
      rmSync(join(copy, 'redis.conf'));
      expect(aof('strip', '--yes', '--config', conf, 'FLUSHALL', copy).code).toBe(1);
      // fix too, on a damaged AOF in a data dir that the server's config names
      const crashedDir = join(d, 'crashed');
      mkdirSync(crashedDir);
      spawnSync('cp', [join(root, 'examples/crashed/appendonly.aof'), crashedDir]);
      writeFileSync(join(crashedDir, 'redis.conf'), `port ${s.port}\ndir ${crashedDir}\n`);
      const crashedBefore = snapshot(crashedDir);
      const fix = aof('fix', '--yes', crashedDir);
      expect(fix.code, fix.stderr).toBe(1);
      expect(fix.stderr).toContain(`port ${s.port}`);
      expect(snapshot(crashedDir)).toEqual(crashedBefore);
      const forced = aof('strip', '--yes', '--force', '--config', conf, 'FLUSHALL', copy);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toContain('--force');
    } finally {
      await s.stop();
    }
  });
});

describe.skipIf(!built)('one output policy for every writing command', () => {
  it('an existing output is refused (exit 2, nothing changed); --force keeps it as .bak; the input is never an output', () => {
    const d = tmp();
    spawnSync('cp', ['-r', flushallExample, join(d, 'appendonlydir')]);
    const aofDir = join(d, 'appendonlydir');
    const toRdb = aof('to-rdb', aofDir, join(d, 'dump.rdb'));
    expect(toRdb.code, toRdb.stderr).toBe(0);
    const input = join(d, 'dump.rdb');
    const cases: { name: string; out: string; cmd: (out: string, ...extra: string[]) => ReturnType<typeof run> }[] = [
      { name: 'aof-tool to-rdb', out: join(d, 'o1.rdb'), cmd: (out, ...x) => aof('to-rdb', ...x, aofDir, out) },
      { name: 'aof-tool strip -o (dir)', out: join(d, 'o2'), cmd: (out, ...x) => aof('strip', ...x, 'FLUSHALL', aofDir, '-o', out) },
      { name: 'rdb-tool convert', out: join(d, 'o3.aof'), cmd: (out, ...x) => rdb('convert', ...x, input, out) },
      { name: 'rdb-tool convert to rdb', out: join(d, 'o4.rdb'), cmd: (out, ...x) => rdb('convert', ...x, input, out) },
      { name: 'rdb-tool dump -o', out: join(d, 'o5.jsonl'), cmd: (out, ...x) => rdb('dump', ...x, input, '-o', out) },
      { name: 'rdb-tool to-aof (file)', out: join(d, 'o6.aof'), cmd: (out, ...x) => rdb('to-aof', ...x, input, out) },
      { name: 'rdb-tool to-aof (dir)', out: join(d, 'o7'), cmd: (out, ...x) => rdb('to-aof', ...x, input, out) },
    ];
    for (const c of cases) {
      const first = c.cmd(c.out);
      expect(first.code, `${c.name}: ${first.stderr}`).toBe(0);
      const before = snapshot(d);
      const again = c.cmd(c.out);
      expect(again.code, `${c.name} over an existing output`).toBe(2);
      expect(again.stderr).toContain('already exists');
      expect(again.stderr).toContain('--force');
      noStack(again.stderr);
      expect(snapshot(d), c.name).toEqual(before);
      const forced = c.cmd(c.out, '--force');
      expect(forced.code, `${c.name} --force: ${forced.stderr}`).toBe(0);
      expect(existsSync(`${c.out}.bak`), `${c.name} keeps the old output`).toBe(true);
      expect(readdirSync(d).filter((n) => n.startsWith('.'))).toEqual([]);
    }
    // the input, by path, through a hard link or a symlink, is refused with or without --force
    linkSync(input, join(d, 'hard.rdb'));
    symlinkSync(input, join(d, 'sym.rdb'));
    const inputBefore = readFileSync(input);
    for (const out of [input, join(d, 'hard.rdb'), join(d, 'sym.rdb')]) {
      for (const extra of [[], ['--force']]) {
        for (const r of [rdb('convert', ...extra, input, out, '--to', 'rdb'), rdb('dump', ...extra, '--format', 'resp', '-o', out, input)]) {
          expect(r.code, r.stderr).toBe(2);
          expect(r.stderr).toMatch(/is the input/);
        }
      }
    }
    expect(readFileSync(input).equals(inputBefore)).toBe(true);
    const onItself = aof('strip', 'FLUSHALL', aofDir, '-o', aofDir);
    expect(onItself.code).toBe(2);
    const single = join(d, 'single.aof');
    writeFileSync(single, '*1\r\n$8\r\nFLUSHALL\r\n');
    expect(aof('strip', 'FLUSHALL', single, '-o', single).code).toBe(2);
    expect(aof('to-rdb', single, single).code).toBe(2);
  });

  it('in-place edits follow a symlink to the real AOF, keep the backup beside it, and leave the link a link', () => {
    const d = tmp();
    mkdirSync(join(d, 'real'));
    const real = join(d, 'real', 'appendonly.aof');
    writeFileSync(real, '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*1\r\n$8\r\nFLUSHALL\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*3\r\n$3\r\nSET');
    const link = join(d, 'link.aof');
    symlinkSync(real, link);
    const fixed = aof('fix', '--yes', link);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(existsSync(`${real}.bak`)).toBe(true);
    const stripped = aof('strip', '--yes', 'FLUSHALL', link);
    expect(stripped.code, stripped.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'latin1')).toBe('*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n');
    expect(readdirSync(d).sort()).toEqual(['link.aof', 'real']);
  });

  it('a manifest that lists a file twice is refused by every command that edits, with nothing changed', () => {
    const d = tmp();
    const dir = join(d, 'appendonlydir');
    spawnSync('cp', ['-r', flushallExample, dir]);
    const manifest = join(dir, 'appendonly.aof.manifest');
    const text = readFileSync(manifest, 'utf8');
    // the same file again under a later sequence number: redis-check-aof 7.0.15 accepts it, Redis loads it twice
    const incr = text.split('\n').find((l) => l.includes('type i'))!;
    writeFileSync(manifest, `${text.trimEnd()}\n${incr.replace(/seq (\d+)/, (_m, n: string) => `seq ${Number(n) + 1}`)}\n`);
    expect(spawnSync('redis-check-aof', [manifest], { encoding: 'utf8' }).stdout).toContain('valid');
    const check = (commands: string[][], why = /lists .* twice/) => {
      const before = snapshot(d);
      for (const args of commands) {
        const r = aof(...args);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(why);
        expect(snapshot(d)).toEqual(before);
      }
    };
    check([['strip', '--yes', 'FLUSHALL', dir], ['strip', 'FLUSHALL', dir, '-o', join(d, 'out')], ['rewrite', dir]]);
    // with a torn tail, fix has something to cut: refused too
    const incrName = /file (\S+) seq \d+ type i/.exec(incr)![1];
    writeFileSync(join(dir, incrName), Buffer.concat([readFileSync(join(dir, incrName)), Buffer.from('*2\r\n$3\r\nDEL')]));
    check([['fix', '--yes', dir]], /lists .* twice|cannot repair/);
  });

  it('a second run on the same AOF while one holds the lock is refused, naming the pid', async () => {
    const d = tmp();
    const dir = join(d, 'appendonlydir');
    spawnSync('cp', ['-r', flushallExample, dir]);
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(d, '.appendonlydir.lock'), JSON.stringify({ pid: holder.pid, start: null, purpose: 'aof-tool strip', since: new Date().toISOString() }));
      const before = snapshot(d);
      const r = aof('strip', '--yes', 'FLUSHALL', dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`locked by another run (pid ${holder.pid}, aof-tool strip`);
      expect(snapshot(d)).toEqual(before);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((res) => holder.once('exit', res));
    }
    // the holder is gone: its lock is stale, taken over with a note
    const r = aof('strip', '--yes', 'FLUSHALL', dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('stale lock');
    expect(readdirSync(d).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe.skipIf(!built)('runs killed at any moment', () => {
  it('convert, to-aof, to-rdb, strip -o and dump -o: input intact, output absent or complete, a rerun finishes with nothing left over', async () => {
    const d = tmp();
    const input = join(d, 'big.aof');
    const parts: string[] = [];
    for (let i = 0; i < 120_000; i++) parts.push(i % 997 === 0 ? '*1\r\n$8\r\nFLUSHALL\r\n' : `*3\r\n$3\r\nSET\r\n$${String(i).length + 4}\r\nkey:${i}\r\n$48\r\n${'v'.repeat(48)}\r\n`);
    writeFileSync(input, parts.join(''));
    const rdbInput = join(d, 'big.rdb');
    expect(aof('to-rdb', input, rdbInput).code).toBe(0);
    const inputs = { [input]: readFileSync(input), [rdbInput]: readFileSync(rdbInput) };
    const commands: { name: string; out: string; args: string[]; bin: string }[] = [
      { name: 'convert', out: join(d, 'out.jsonl'), bin: rdbTool, args: ['convert', rdbInput, join(d, 'out.jsonl')] },
      { name: 'to-aof dir', out: join(d, 'outdir'), bin: rdbTool, args: ['to-aof', rdbInput, join(d, 'outdir')] },
      { name: 'to-rdb', out: join(d, 'out.rdb'), bin: aofTool, args: ['to-rdb', input, join(d, 'out.rdb')] },
      { name: 'strip -o', out: join(d, 'stripped.aof'), bin: aofTool, args: ['strip', 'FLUSHALL', input, '-o', join(d, 'stripped.aof')] },
      { name: 'dump -o', out: join(d, 'dump.resp'), bin: rdbTool, args: ['dump', '--format', 'resp', rdbInput, '-o', join(d, 'dump.resp')] },
    ];
    for (const c of commands) {
      const complete = run(c.bin, c.args);
      expect(complete.code, `${c.name}: ${complete.stderr}`).toBe(0);
      // an RDB holds its creation time and the writer's memory use (AUX ctime, used-mem): compare what it holds
      const shape = (p: string) =>
        statSync(p).isDirectory() ? snapshot(p) : { '': createHash('sha256').update(p.endsWith('.rdb') ? rdb('dump', p).stdout : readFileSync(p)).digest('hex') };
      const want = shape(c.out);
      for (const delay of [200, 700]) {
        rmSync(c.out, { recursive: true, force: true });
        const child = spawn(process.execPath, [c.bin, ...c.args], { stdio: 'ignore' });
        const exited = new Promise((r) => child.once('exit', r));
        await new Promise((r) => setTimeout(r, delay));
        child.kill('SIGKILL');
        await exited;
        if (existsSync(c.out)) expect(JSON.stringify(shape(c.out)), `${c.name} killed after ${delay} ms: a partial output`).toBe(JSON.stringify(want));
        for (const [p, bytes] of Object.entries(inputs)) expect(readFileSync(p).equals(bytes)).toBe(true);
        // only the fixed-name temp and lock of the killed run may be left, and a rerun clears them
        for (const n of readdirSync(d).filter((x) => x.startsWith('.'))) expect(n).toMatch(/^\.(out\.jsonl|outdir|out\.rdb|stripped\.aof|dump\.resp)\.(tmp|lock)$/);
        rmSync(c.out, { recursive: true, force: true });
        const rerun = run(c.bin, c.args);
        expect(rerun.code, `${c.name} rerun: ${rerun.stderr}`).toBe(0);
        expect(JSON.stringify(shape(c.out)), `${c.name} rerun after a kill at ${delay} ms`).toBe(JSON.stringify(want));
        expect(readdirSync(d).filter((x) => x.startsWith('.'))).toEqual([]);
      }
    }
  });
});
