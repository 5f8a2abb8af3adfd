import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AtomicDir,
  AtomicFile,
  FsioError,
  acquireLock,
  checkOutput,
  findHolders,
  lockPathFor,
  readFileChunks,
  requireRegularFile,
  setNoticeHandler,
  writeFileAtomic,
} from '@redis-persist/fsio';

const root = mkdtempSync(join(tmpdir(), 'fsio-policy-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `case-${n++}`);
  mkdirSync(d);
  return d;
};

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FsioError);
    return (err as FsioError).code;
  }
  throw new Error('expected a refusal');
}

describe('the output policy', () => {
  it('refuses an existing output without force and changes nothing', async () => {
    const d = fresh();
    const out = join(d, 'dump.rdb');
    writeFileSync(out, 'precious');
    expect(await refusal(writeFileAtomic(out, Buffer.from('new')))).toBe('output-exists');
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(readdirSync(d)).toEqual(['dump.rdb']);
  });

  it('with force keeps the old output as .bak, then .bak.1, never overwriting a backup', async () => {
    const d = fresh();
    const out = join(d, 'dump.rdb');
    writeFileSync(out, 'v1');
    const f = await AtomicFile.create(out, { force: true });
    await f.write(Buffer.from('v2'));
    await f.commit();
    expect(f.replacedBackup).toBe(`${out}.bak`);
    await writeFileAtomic(out, Buffer.from('v3'), { force: true });
    expect(readFileSync(out, 'utf8')).toBe('v3');
    expect(readFileSync(`${out}.bak`, 'utf8')).toBe('v1');
    expect(readFileSync(`${out}.bak.1`, 'utf8')).toBe('v2');
    expect(readdirSync(d).sort()).toEqual(['dump.rdb', 'dump.rdb.bak', 'dump.rdb.bak.1']);
  });

  it('never writes over an input: same path, a symlink to it, a hard link, or a directory holding it, force or not', async () => {
    const d = fresh();
    const input = join(d, 'in.rdb');
    writeFileSync(input, 'input');
    symlinkSync(input, join(d, 'sym.rdb'));
    linkSync(input, join(d, 'hard.rdb'));
    for (const out of [input, join(d, 'sym.rdb'), join(d, 'hard.rdb'), join(d, '.', 'in.rdb'), d]) {
      for (const force of [false, true]) {
        expect(await refusal(checkOutput(out, { force, inputs: [input] }))).toBe('output-is-input');
      }
    }
    expect(readFileSync(input, 'utf8')).toBe('input');
  });

  it('writes through a symlink output to the real file, the backup beside the real file', async () => {
    const d = fresh();
    mkdirSync(join(d, 'real'));
    writeFileSync(join(d, 'real', 'a.aof'), 'old');
    symlinkSync(join(d, 'real', 'a.aof'), join(d, 'link.aof'));
    await writeFileAtomic(join(d, 'link.aof'), Buffer.from('new'), { force: true });
    expect(readFileSync(join(d, 'real', 'a.aof'), 'utf8')).toBe('new');
    expect(readFileSync(join(d, 'real', 'a.aof.bak'), 'utf8')).toBe('old');
    expect(readdirSync(d).sort()).toEqual(['link.aof', 'real']);
  });

  it('a directory output: built under .<name>.tmp, an existing one refused, with force moved whole to .bak', async () => {
    const d = fresh();
    const out = join(d, 'appendonlydir');
    const make = async (content: string, force?: boolean) => {
      const dir = await AtomicDir.create(out, { force });
      try {
        await writeFileAtomic(dir.path('x.aof'), Buffer.from(content), { lock: false });
        expect(existsSync(out) && readdirSync(out).length > 0 ? readFileSync(join(out, 'x.aof'), 'utf8') : null).not.toBe(content);
        await dir.commit();
      } catch (err) {
        await dir.abort();
        throw err;
      }
      return dir;
    };
    mkdirSync(out); // an empty directory counts as absent
    await make('one');
    expect(await refusal(make('two'))).toBe('output-exists');
    const second = await make('two', true);
    expect(second.replacedBackup).toBe(`${out}.bak`);
    expect(readFileSync(join(out, 'x.aof'), 'utf8')).toBe('two');
    expect(readFileSync(join(out + '.bak', 'x.aof'), 'utf8')).toBe('one');
    expect(readdirSync(d).sort()).toEqual(['appendonlydir', 'appendonlydir.bak']);
  });
});

describe('temp files and locks that cannot pile up', () => {
  it('a stale temp file of a killed run is reported and removed; a stale lock is taken over', async () => {
    const d = fresh();
    const out = join(d, 'out.rdb');
    writeFileSync(join(d, '.out.rdb.tmp'), 'half written');
    // a lock of a process that is gone (pid 2^22 - 1 is above Linux's default pid_max range in use here)
    writeFileSync(lockPathFor(out), JSON.stringify({ pid: 4194303, start: '1', purpose: 'rdb-tool convert', since: '2026-01-01T00:00:00Z' }));
    const notes: string[] = [];
    setNoticeHandler((m) => notes.push(m));
    try {
      await writeFileAtomic(out, Buffer.from('whole'));
    } finally {
      setNoticeHandler(() => undefined);
    }
    expect(readFileSync(out, 'utf8')).toBe('whole');
    expect(readdirSync(d)).toEqual(['out.rdb']);
    expect(notes.some((m) => m.includes('stale lock'))).toBe(true);
    expect(notes.some((m) => m.includes('.out.rdb.tmp') && m.includes('12 bytes'))).toBe(true);
  });

  it('a lock held by a live process refuses a second run, naming its pid', async () => {
    const d = fresh();
    const target = join(d, 'appendonlydir');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lockPathFor(target), JSON.stringify({ pid: child.pid, start: null, purpose: 'aof-tool strip', since: 'now' }));
      const err = await acquireLock(target).then(() => null, (e: unknown) => e as FsioError);
      expect(err?.code).toBe('locked');
      expect(err?.message).toContain(`pid ${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // re-entrant in one process, released when the last holder lets go
    const a = await acquireLock(target);
    const b = await acquireLock(target);
    await b.release();
    expect(existsSync(lockPathFor(target))).toBe(true);
    await a.release();
    expect(existsSync(lockPathFor(target))).toBe(false);
  });
});

describe('who holds a file open', () => {
  it('finds another process holding the file (by inode: a hard link counts), and nobody after it exits', async () => {
    const d = fresh();
    const path = join(d, 'appendonly.aof');
    writeFileSync(path, '');
    linkSync(path, join(d, 'other-name.aof'));
    const child = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(join(d, 'other-name.aof'))}, 'a'); process.stdout.write('ready'); setTimeout(() => {}, 20000)`], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      const r = await findHolders([path]);
      if (!r.supported) return; // not Linux: nothing to look at
      expect(r.holders.map((h) => h.pid)).toContain(child.pid);
      expect(r.holders.find((h) => h.pid === child.pid)?.command).toBe('node');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    expect((await findHolders([path])).holders).toEqual([]);
  });
});

describe('odd inputs', () => {
  it('a FIFO is read as a stream once a writer comes; commands that need a file refuse it', async () => {
    const d = fresh();
    const fifo = join(d, 'pipe');
    const mk = spawn('mkfifo', [fifo]);
    if ((await new Promise((r) => mk.once('exit', r))) !== 0) return;
    expect(await refusal(requireRegularFile(fifo, 'strip'))).toBe('not-regular');
    expect(await refusal(requireRegularFile(d, 'strip'))).toBe('not-regular');
    const notes: string[] = [];
    setNoticeHandler((m) => notes.push(m));
    const writer = spawn('sh', ['-c', `sleep 0.2; printf 'abcdefghij' > ${fifo}`]);
    try {
      const parts: Buffer[] = [];
      for await (const c of readFileChunks(fifo, { start: 3, chunkSize: 4 })) parts.push(Buffer.from(c));
      expect(Buffer.concat(parts).toString()).toBe('defghij');
    } finally {
      setNoticeHandler(() => undefined);
      writer.kill();
    }
    expect(notes.some((m) => m.includes('waiting for a writer'))).toBe(true);
  });

  it('an output under a regular file fails with a message naming it and what was being done', async () => {
    const d = fresh();
    const file = join(d, 'file');
    closeSync(openSync(file, 'w'));
    const err = await writeFileAtomic(join(file, 'out.rdb'), Buffer.from('x')).then(() => null, (e: unknown) => e as FsioError);
    expect(err?.code).toBe('io');
    expect(err?.message).toMatch(/cannot write .*out\.rdb.*not a directory/);
  });
});
