// Inputs and outputs that are not plain files: FIFOs (with and without a writer), an empty input, an output that
// is the input, outputs where nothing can be written. Commands that can stream read a FIFO once and give the same
// report as for the file; commands that need a regular file refuse it up front (exit 2) without waiting for a
// writer; every failure names the file and says what went wrong.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ChunkCursor } from '@redis-persist/fsio';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { checkRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const aofTool = join(root, 'packages/cli/bin/aof-tool.js');
const rdbTool = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/common/source.js'));
if (!built) console.warn('[odd-inputs tests] packages/cli/dist is missing or old: run `pnpm build` first; skipped');
const example = join(root, 'examples/flushall/appendonlydir');
const BASE = join(example, 'appendonly.aof.2.base.rdb'); // an RDB of 21 keys
const INCR = join(example, 'appendonly.aof.2.incr.aof'); // RESP commands
const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;
const hasSetpriv = isRoot && spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;
const hasUnshare = isRoot && spawnSync('unshare', ['-rm', 'true']).status === 0;

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'odd-inputs-'));
  temps.push(d);
  return d;
}

// writers this file started: any still blocked on a FIFO nobody opened is killed (by its own pid)
const writers: ChildProcess[] = [];
afterEach(() => {
  for (const w of writers.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
});

function run(bin: string, args: string[], timeout = 60_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);
const noRawNodeError = (s: string) => expect(s).not.toMatch(/\bE[A-Z]{3,}: /);

function fifo(dir: string, name = 'pipe'): string {
  const p = join(dir, name);
  expect(spawnSync('mkfifo', [p]).status).toBe(0);
  return p;
}

/** A process that writes `src` into the FIFO (it blocks until a reader opens it). */
function writeInto(path: string, src: string): ChildProcess {
  const w = spawn('sh', ['-c', 'cat "$0" > "$1"', src, path], { stdio: 'ignore' });
  writers.push(w);
  return w;
}

async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}
async function collect(records: AsyncIterable<KeyspaceRecord>): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of records) out.push(r);
  return out;
}

/** Runs `args` (with `@` for the input) on a regular file and on a FIFO fed with the same bytes: same outcome. */
function sameOnFifo(bin: string, args: string[], content: string, opts: { code: number; json?: boolean } = { code: 0 }) {
  const d = tmp();
  const file = join(d, 'input');
  copyFileSync(content, file);
  const pipe = fifo(d, 'inpipe');
  const onFile = run(bin, args.map((a) => (a === '@' ? file : a)));
  writeInto(pipe, content);
  const onFifo = run(bin, args.map((a) => (a === '@' ? pipe : a)));
  expect(onFile.code).toBe(opts.code);
  expect(onFifo.code).toBe(opts.code);
  expect(onFifo.stderr).toContain(`${pipe} is a FIFO: waiting for a writer to open it`);
  noRawNodeError(onFifo.stderr);
  const norm = (s: string, p: string) => s.replaceAll(p, '<input>');
  expect(norm(onFifo.stdout, pipe)).toBe(norm(onFile.stdout, file));
  return onFifo;
}

describe.skipIf(!built || !hasMkfifo)('FIFO inputs', () => {
  const preamble = (() => {
    const d = mkdtempSync(join(tmpdir(), 'odd-inputs-'));
    temps.push(d);
    const p = join(d, 'preamble.aof');
    writeFileSync(p, Buffer.concat([readFileSync(BASE), readFileSync(INCR)]));
    const cut = join(d, 'cut.aof');
    writeFileSync(cut, readFileSync(p).subarray(0, 600));
    return { p, cut };
  })();

  it('aof-tool check / cat / stats read a single-file AOF from a FIFO with a writer, with the same report as from the file', () => {
    const r = sameOnFifo(aofTool, ['check', '@'], INCR);
    expect(r.stdout).toMatch(/valid: 9 commands in 1 file\(s\), 280 B/);
    // an RDB preamble is checked from the same stream, the commands continuing where it ends
    expect(sameOnFifo(aofTool, ['check', '--json', '@'], preamble.p).stdout).toMatch(/"commands": 9/);
    // a damaged one: the same verdict, size and cut
    expect(sameOnFifo(aofTool, ['check', '@'], preamble.cut, { code: 1 }).stdout).toMatch(/keep 576 of 600 bytes/);
    expect(sameOnFifo(aofTool, ['cat', '@'], preamble.p).stdout).toMatch(/RDB part of 553 bytes with 21 keys/);
    expect(sameOnFifo(aofTool, ['stats', '@'], preamble.p).stdout).toMatch(/1 file\(s\), 833 B, 9 commands/);
  });

  it('rdb-tool check / dump / info read an RDB from a FIFO; convert streams it from the read that looked at its head', async () => {
    expect(sameOnFifo(rdbTool, ['check', '@'], BASE).stdout).toMatch(/RDB looks OK/);
    const dump = sameOnFifo(rdbTool, ['dump', '@'], BASE);
    expect(dump.stdout.trim().split('\n')).toHaveLength(21);
    sameOnFifo(rdbTool, ['dump', '--format', 'resp', '--order', 'file', '@'], BASE);
    sameOnFifo(rdbTool, ['info', '@'], BASE);
    const d = tmp();
    const pipe = fifo(d);
    writeInto(pipe, BASE);
    const out = join(d, 'out.rdb');
    const conv = run(rdbTool, ['convert', pipe, out]);
    expect(conv.code).toBe(0);
    expect(conv.stdout).toMatch(/wrote .*out\.rdb: RDB 10, 21 keys/);
    expect(sameKeyspace(await collect(rdbKeyspaceRecords(out)), await collect(rdbKeyspaceRecords(BASE))).diff).toEqual([]);
    writeInto(pipe, BASE);
    const jsonl = run(rdbTool, ['convert', pipe, join(d, 'out.jsonl')]);
    expect(jsonl.code).toBe(0);
    expect(sameKeyspace(await collect(readKeyspaceJsonl(once(readFileSync(join(d, 'out.jsonl'), 'utf8')))), await collect(rdbKeyspaceRecords(BASE))).diff).toEqual([]);
  });

  it('a FIFO with no writer yet: a streaming command says it waits, then reads what a late writer sends', async () => {
    const d = tmp();
    const pipe = fifo(d);
    const child = spawn(process.execPath, [aofTool, 'check', pipe], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const noticed = new Promise<void>((resolveNotice) => {
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (stderr.includes('waiting for a writer')) resolveNotice();
      });
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await noticed;
      expect(stderr).toBe(`aof-tool: note: ${pipe} is a FIFO: waiting for a writer to open it\n`);
      writeInto(pipe, INCR);
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/valid: 9 commands/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('commands that need a regular file refuse a FIFO up front (exit 2, no wait for a writer)', () => {
    const d = tmp();
    const pipe = fifo(d, 'appendonly.aof');
    const cases: [string, string[], string][] = [
      [aofTool, ['fix', '--yes', pipe], 'a repair'],
      [aofTool, ['fix', '--salvage', '--yes', pipe], 'a repair'],
      [aofTool, ['rewrite', pipe], 'a rewrite'],
      [aofTool, ['to-rdb', pipe, join(d, 'x.rdb')], 'to-rdb'],
      [rdbTool, ['convert', pipe, join(d, 'y.rdb')], 'converting an AOF'],
    ];
    for (const [bin, args, what] of cases) {
      const r = run(bin, args, 20_000);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`${pipe} is a FIFO; ${what}`);
      expect(r.stderr).toContain('needs a regular file');
      expect(r.stderr).not.toContain('waiting for a writer');
      noStack(r.stderr);
    }
    expect(existsSync(join(d, 'x.rdb'))).toBe(false);
    expect(existsSync(join(d, 'y.rdb'))).toBe(false);
  });

  it('strip refuses a FIFO (exit 2); convert refuses a FIFO that turns out to hold an AOF (exit 2)', () => {
    const d = tmp();
    const pipe = fifo(d);
    writeInto(pipe, INCR); // strip checks the AOF before it looks at the file type: give it a writer
    const s = run(aofTool, ['strip', 'FLUSHALL', pipe, '-o', join(d, 'out.aof')], 20_000);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`${pipe} is a FIFO; strip needs a regular file`);
    expect(existsSync(join(d, 'out.aof'))).toBe(false);
    writeInto(pipe, INCR);
    const c = run(rdbTool, ['convert', pipe, join(d, 'z.rdb')], 20_000);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(`${pipe} is a FIFO; converting an AOF (the replay reads it twice: its RDB part, then its commands) needs a regular file`);
    expect(existsSync(join(d, 'z.rdb'))).toBe(false);
  });
});

describe.skipIf(!built)('empty inputs, outputs that are inputs, outputs that cannot be written', () => {
  it('convert refuses an empty input naming it (exit 1) and writes nothing, --json too', () => {
    const d = tmp();
    const empty = join(d, 'empty.rdb');
    writeFileSync(empty, '');
    for (const out of ['out.rdb', 'out.jsonl', 'out.aof']) {
      const r = run(rdbTool, ['convert', empty, join(d, out)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`rdb-tool: ${empty} is empty (0 bytes): nothing to convert; nothing was written\n`);
      expect(existsSync(join(d, out))).toBe(false);
    }
    const j = run(rdbTool, ['convert', '--json', empty, join(d, 'out.rdb')]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ input: empty, written: false, error: { code: 'empty' } });
    if (hasMkfifo) {
      const pipe = fifo(d);
      writeInto(pipe, empty);
      const f = run(rdbTool, ['convert', pipe, join(d, 'f.rdb')], 20_000);
      expect(f.code).toBe(1);
      expect(f.stderr).toContain(`${pipe} is empty (0 bytes)`);
      expect(existsSync(join(d, 'f.rdb'))).toBe(false);
    }
  });

  it('aof-tool strip -o onto its own input exits 2 (same path, a symlink, a hard link) and leaves it byte-identical', () => {
    const d = tmp();
    const aof = join(d, 'appendonly.aof');
    copyFileSync(INCR, aof);
    const before = readFileSync(aof);
    symlinkSync(aof, join(d, 'sym.aof'));
    linkSync(aof, join(d, 'hard.aof'));
    for (const out of [aof, join(d, 'sym.aof'), join(d, 'hard.aof')]) {
      for (const extra of [[], ['--force']]) {
        const r = run(aofTool, ['strip', 'FLUSHALL', aof, '-o', out, ...extra]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`refusing to write ${out}: it is the input ${aof}`);
      }
    }
    expect(readFileSync(aof).equals(before)).toBe(true);
  });

  it('to-aof / convert into a path under a regular file: exit 3 naming the directory and "not a directory"', () => {
    const d = tmp();
    writeFileSync(join(d, 'file'), 'x');
    for (const [args, dir] of [
      [['to-aof', BASE, join(d, 'file/sub/appendonlydir')], join(d, 'file/sub')],
      [['to-aof', BASE, join(d, 'file/out.aof')], join(d, 'file')],
      [['convert', BASE, join(d, 'file/out.rdb')], join(d, 'file')],
    ] as [string[], string][]) {
      const r = run(rdbTool, args);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(dir);
      expect(r.stderr).toMatch(/not a directory/);
      noRawNodeError(r.stderr);
    }
  });

  // As root, permissions do not bite: the command runs as nobody (setpriv) against a root-owned 0555 directory.
  it.skipIf(!hasSetpriv)('to-aof / convert into a directory nobody may write to: exit 3, naming the file and "permission denied"', () => {
    const d = tmp();
    chmodSync(d, 0o755);
    const ro = join(d, 'ro');
    mkdirSync(ro, { mode: 0o555 });
    const input = join(d, 'dump.rdb');
    copyFileSync(BASE, input);
    chmodSync(input, 0o644);
    for (const args of [['to-aof', input, join(ro, 'appendonlydir')], ['to-aof', input, join(ro, 'out.aof')], ['convert', input, join(ro, 'out.rdb')]]) {
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, rdbTool, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain(args[2]);
      expect(r.stderr).toContain('permission denied');
      noRawNodeError(r.stderr);
    }
    expect(spawnSync('ls', ['-A', ro], { encoding: 'utf8' }).stdout).toBe('');
  });

  // A read-only file system: a tmpfs mounted read-only in a private mount namespace (unshare -rm), host untouched.
  it.skipIf(!hasUnshare)('to-aof / convert onto a read-only file system: exit 3, naming the file and "read-only file system"', () => {
    const d = tmp();
    const mnt = join(d, 'mnt');
    mkdirSync(mnt);
    for (const args of [['to-aof', BASE, join(mnt, 'appendonlydir')], ['convert', BASE, join(mnt, 'out.rdb')]]) {
      const script = 'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"';
      const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, mnt, process.execPath, rdbTool, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain(args[2]);
      expect(r.stderr).toContain('read-only file system');
      noRawNodeError(r.stderr);
    }
  });

  it('a missing input: every command names it, exit 3, no raw Node error', () => {
    const d = tmp();
    const nope = join(d, 'nope');
    const cases: [string, string[]][] = [
      [aofTool, ['check', nope]],
      [aofTool, ['cat', nope]],
      [aofTool, ['stats', nope]],
      [aofTool, ['fix', '--yes', nope]],
      [aofTool, ['rewrite', nope]],
      [aofTool, ['to-rdb', nope, join(d, 'x.rdb')]],
      [rdbTool, ['check', nope]],
      [rdbTool, ['info', nope]],
      [rdbTool, ['dump', nope]],
      [rdbTool, ['convert', nope, join(d, 'x.rdb')]],
      [rdbTool, ['to-aof', nope, join(d, 'x.aof')]],
      [rdbTool, ['inspect-dir', nope]],
    ];
    for (const [bin, args] of cases) {
      const r = run(bin, args);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(`cannot open ${nope}: no such`);
      noRawNodeError(r.stderr);
    }
  });
});

describe('ChunkCursor: one read, a peeked head, bytes handed back', () => {
  /** `bytes` cut at random places (chunks of 1..max bytes), from a seeded generator. */
  async function* pieces(bytes: Uint8Array, seed: number, max: number): AsyncGenerator<Uint8Array> {
    let x = seed;
    for (let i = 0; i < bytes.length; ) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const n = 1 + (x % max);
      yield bytes.slice(i, i + n);
      i += n;
    }
  }
  async function rest(c: ChunkCursor): Promise<Buffer> {
    const out: Uint8Array[] = [];
    for await (const b of c.chunks()) out.push(b);
    return Buffer.concat(out);
  }

  it('an RDB preamble checked from the stream, then the commands from where it ends, at any chunk boundaries', async () => {
    const rdb = readFileSync(BASE);
    const aof = Buffer.concat([rdb, readFileSync(INCR)]);
    for (let seed = 1; seed <= 60; seed++) {
      const c = new ChunkCursor(pieces(aof, seed, seed % 3 === 0 ? 7 : 300));
      expect(Buffer.from(await c.peek(8)).equals(aof.subarray(0, 8))).toBe(true);
      const report = await checkRdb(c.chunks(), { stopAtEnd: true, file: 'x' });
      expect(report.ok).toBe(true);
      expect(report.endOffset).toBe(rdb.length);
      c.unread(report.endOffset!);
      expect(c.offset).toBe(rdb.length);
      expect((await rest(c)).equals(aof.subarray(rdb.length))).toBe(true);
      await c.close();
    }
  });

  it('unread to any offset within the last chunks handed out; further back is refused', async () => {
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff));
    for (let seed = 1; seed <= 40; seed++) {
      const c = new ChunkCursor(pieces(data, seed, 100), 4);
      const seen: number[] = [];
      for await (const b of c.chunks()) {
        seen.push(b.length);
        if (c.offset > 2000) break;
      }
      const last4 = seen.slice(-4).reduce((a, b) => a + b, 0);
      const back = c.offset - ((seed * 37) % (last4 + 1));
      c.unread(back);
      expect((await rest(c)).equals(data.subarray(back))).toBe(true);
      expect(() => c.unread(0)).toThrow(RangeError);
    }
  });
});
