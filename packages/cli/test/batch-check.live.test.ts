// `rdb-tool check` and `aof-tool check` over a backup set, as CI runs them: many paths (files, directories,
// globs the shell left alone), one line per input and a summary, --quiet, one JSON document, a JUnit report, and
// the exit codes 0 (all valid) / 1 (damage) / 3 (something unreadable). The good files come from a real
// redis-server when there is one (SAVE, BGREWRITEAOF), else from fixtures/ and examples/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAvailable, startRedis, waitForPersistence } from '@redis-persist/testkit';
import { batchExitCode, expandGlob, globSegmentRegExp, hasGlobMagic, type BatchResult } from '../src/common/batch.js';
import { junitXml, xmlAttr } from '../src/common/junit.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/main.js')) && existsSync(join(root, 'packages/cli/dist/aof-tool/main.js'));
if (!built) console.warn('[batch-check tests] packages/cli/dist is missing: run `pnpm build` first; the binary tests are skipped');
const live = redisAvailable();
if (!live) console.warn('[batch-check tests] redis-server missing: the good files are copies of fixtures/ and examples/');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'batch-check-'));
  temps.push(d);
  return d;
}

type Tool = 'rdb-tool' | 'aof-tool';
function run(tool: Tool, args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [join(root, 'packages/cli/bin', `${tool}.js`), ...args], {
    encoding: 'utf8',
    input: '',
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*:\d+:\d+/);
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

// ---------------------------------------------------------------------------------------------------------------
// A tiny XML reader: enough to prove a JUnit report well-formed and to count what is in it.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function decodeEntities(s: string, where: string): string {
  return s.replace(/&([^;]*);/g, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (e in named) return named[e];
    const m = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(e);
    if (!m) throw new Error(`bad entity &${e}; in ${where}`);
    const cp = m[1][0] === 'x' ? parseInt(m[1].slice(1), 16) : Number(m[1]);
    return String.fromCodePoint(cp);
  });
}

/** Parses a document (declaration, one root element); throws unless well-formed (for what a JUnit report uses). */
function parseXml(doc: string): XmlElement {
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(doc)) throw new Error('a control character XML 1.0 does not allow');
  let rest = doc.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  if (rest === doc) throw new Error('no XML declaration');
  const stack: XmlElement[] = [];
  let rootEl: XmlElement | null = null;
  while (rest.length > 0) {
    const lt = rest.indexOf('<');
    const text = lt < 0 ? rest : rest.slice(0, lt);
    if (/[<>]/.test(text) || /&(?!(amp|lt|gt|quot|apos|#x?[0-9a-fA-F]+);)/.test(text)) throw new Error(`bad text: ${text}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text}`);
    if (stack.length > 0) stack[stack.length - 1].text += decodeEntities(text, 'text');
    if (lt < 0) break;
    const gt = rest.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = rest.slice(lt + 1, gt);
    rest = rest.slice(gt + 1);
    if (tag.startsWith('/')) {
      const open = stack.pop();
      if (!open || open.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open?.name}>`);
      continue;
    }
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)$/.exec(tag);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const el: XmlElement = { name: m[1], attrs: {}, children: [], text: '' };
    for (const a of m[2].matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (a[1] in el.attrs) throw new Error(`attribute ${a[1]} twice`);
      if (/&(?!(amp|lt|gt|quot|apos|#x?[0-9a-fA-F]+);)/.test(a[2])) throw new Error(`bad & in ${a[1]}="${a[2]}"`);
      el.attrs[a[1]] = decodeEntities(a[2], `${m[1]}@${a[1]}`);
    }
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else if (rootEl) throw new Error('a second root element');
    else rootEl = el;
    if (m[3] !== '/') stack.push(el);
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> not closed`);
  if (!rootEl) throw new Error('no root element');
  return rootEl;
}

/** The JUnit counts, checked for consistency between the attributes and the testcases. */
function junitCounts(xml: string, classname: string) {
  const top = parseXml(xml);
  expect(top.name).toBe('testsuites');
  expect(top.children).toHaveLength(1);
  const suite = top.children[0];
  expect(suite.name).toBe('testsuite');
  const cases = suite.children;
  for (const c of cases) {
    expect(c.name).toBe('testcase');
    expect(c.attrs.classname).toBe(classname);
    expect(Number(c.attrs.time)).toBeGreaterThanOrEqual(0);
  }
  const failures = cases.filter((c) => c.children.some((k) => k.name === 'failure'));
  const errors = cases.filter((c) => c.children.some((k) => k.name === 'error'));
  for (const el of [top, suite]) {
    expect(Number(el.attrs.tests)).toBe(cases.length);
    expect(Number(el.attrs.failures)).toBe(failures.length);
    expect(Number(el.attrs.errors)).toBe(errors.length);
  }
  for (const c of [...failures, ...errors]) expect(c.children[0].attrs.message.length).toBeGreaterThan(0);
  return {
    tests: cases.length,
    names: cases.map((c) => c.attrs.name),
    failures: failures.map((c) => c.attrs.name),
    errors: errors.map((c) => c.attrs.name),
    cases,
  };
}

/** Python's XML parser as a second opinion, when there is a python3. */
function pythonParses(file: string): boolean | null {
  const r = spawnSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])', file], { encoding: 'utf8' });
  if (r.error) return null;
  return r.status === 0;
}

// ---------------------------------------------------------------------------------------------------------------
// The backup set

/** A valid single-file AOF of `n` SETs (plain RESP). */
function respAof(n: number): Buffer {
  let s = '';
  for (let i = 0; i < n; i++) {
    const args = ['SET', `key:${i}`, `value number ${i}`];
    s += `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  }
  return Buffer.from(s);
}

let rdbGood: Buffer; // a dump.rdb (real server, else the all-types fixture)
let liveData: string | null = null; // a Redis data dir with dump.rdb and appendonlydir/ (real server only)
const WEIRD = 'we&ird <"name">\x01.rdb';

beforeAll(async () => {
  if (!live) {
    rdbGood = readFileSync(join(root, 'fixtures/rdb/all-types.rdb'));
    return;
  }
  const server = await startRedis({ config: { appendonly: 'yes', 'aof-use-rdb-preamble': 'yes' } });
  try {
    const c = server.client;
    for (let i = 0; i < 200; i++) await c.call('SET', `s:${i}`, `value ${i}`.repeat(1 + (i % 7)));
    await c.call('RPUSH', 'list', 'a', 'b', 'c');
    await c.call('HSET', 'hash', 'f1', 'v1', 'f2', 'v2');
    await c.call('ZADD', 'zset', '1', 'one', '2.5', 'two');
    await c.call('SADD', 'set', 'x', 'y', '42');
    await c.call('SAVE');
    await c.call('BGREWRITEAOF');
    await waitForPersistence(c);
    for (let i = 0; i < 50; i++) await c.call('INCR', `counter:${i % 5}`);
  } finally {
    await server.stop({ keepFiles: true });
  }
  liveData = server.dir;
  temps.push(server.dir);
  rdbGood = readFileSync(join(server.dir, 'dump.rdb'));
}, 120_000);

/** good / truncated / bit-flipped / empty RDB files, and a second good one in a subdirectory. */
function rdbSet(): { dir: string; good: string[]; damaged: string[] } {
  const dir = tmp();
  writeFileSync(join(dir, 'good.rdb'), rdbGood);
  mkdirSync(join(dir, 'older'));
  cpSync(join(root, 'fixtures/rdb/many-nodes.rdb'), join(dir, 'older/many-nodes.rdb'));
  writeFileSync(join(dir, 'truncated.rdb'), rdbGood.subarray(0, Math.floor(rdbGood.length * 0.6)));
  const flipped = Buffer.from(rdbGood);
  flipped[Math.floor(flipped.length / 2)] ^= 0x10; // in the middle of the keys: the CRC64 (or the structure) breaks
  writeFileSync(join(dir, 'flipped.rdb'), flipped);
  writeFileSync(join(dir, 'empty.rdb'), '');
  writeFileSync(join(dir, 'notes.txt'), 'not an RDB, not named *.rdb: not checked in a directory');
  return {
    dir,
    good: [join(dir, 'good.rdb'), join(dir, 'older/many-nodes.rdb')],
    damaged: [join(dir, 'truncated.rdb'), join(dir, 'flipped.rdb'), join(dir, 'empty.rdb')],
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe('globs and JUnit XML (units)', () => {
  it('expands *, ?, [...], ** and escapes like sh; hidden names only for a dotted pattern', async () => {
    const d = tmp();
    for (const f of ['a.rdb', 'b.rdb', 'c1.rdb', 'c2.rdb', '.hidden.rdb', 'x.aof', 'sub/d.rdb', 'sub/deep/e.rdb', '.dot/f.rdb', 'lit[1].rdb']) {
      mkdirSync(dirname(join(d, f)), { recursive: true });
      writeFileSync(join(d, f), '');
    }
    const g = async (p: string) => (await expandGlob(join(d, p))).matches.map((m) => m.slice(d.length + 1));
    expect(await g('*.rdb')).toEqual(['a.rdb', 'b.rdb', 'c1.rdb', 'c2.rdb', 'lit[1].rdb']);
    expect(await g('?.rdb')).toEqual(['a.rdb', 'b.rdb']);
    expect(await g('c[0-9].rdb')).toEqual(['c1.rdb', 'c2.rdb']);
    expect(await g('c[!1].rdb')).toEqual(['c2.rdb']);
    expect(await g('[ab].rdb')).toEqual(['a.rdb', 'b.rdb']);
    expect(await g('.*.rdb')).toEqual(['.hidden.rdb']);
    expect(await g('lit\\[1\\].rdb')).toEqual(['lit[1].rdb']);
    expect(await g('**/*.rdb')).toEqual(['a.rdb', 'b.rdb', 'c1.rdb', 'c2.rdb', 'lit[1].rdb', 'sub/d.rdb', 'sub/deep/e.rdb']);
    expect(await g('*/*.rdb')).toEqual(['sub/d.rdb']);
    expect(await g('nothing/*.rdb')).toEqual([]);
    expect(hasGlobMagic('a\\*b')).toBe(false);
    expect(hasGlobMagic('backups/*.rdb')).toBe(true);
    expect(globSegmentRegExp('[z-a]').test('[z-a]')).toBe(true); // an invalid class: the segment taken literally
    // relative patterns keep their spelling
    const rel = await expandGlob('./*.rdb'.replace('.', d));
    expect(rel.matches[0].startsWith(d)).toBe(true);
    await expect(expandGlob(join(d, '**/*'), { maxEntries: 3 })).rejects.toThrow(/narrow it/);
  });

  it('writes well-formed JUnit whatever the names and messages hold', () => {
    const xml = junitXml(
      'rdb-tool check',
      [
        { name: WEIRD, classname: 'rdb-tool check', seconds: 0.5 },
        { name: 'b&b.rdb', classname: 'rdb-tool check', seconds: 0.25, failure: { message: 'bad <tag> "quoted" & \x07bell\nnext', type: 'corrupt', text: 'line 1\n]]> <x> &\x1b' } },
        { name: 'c.rdb', classname: 'rdb-tool check', seconds: 0, error: { message: "it's gone", type: 'unreadable', text: 'gone' } },
      ],
      new Date(0),
    );
    const j = junitCounts(xml, 'rdb-tool check');
    expect(j).toMatchObject({ tests: 3, failures: ['b&b.rdb'], errors: ['c.rdb'] });
    expect(j.names[0]).toBe('we&ird <"name">.rdb'); // the control byte is dropped, the rest escaped and intact
    expect(j.cases[1].children[0].attrs.message).toBe('bad <tag> "quoted" & bell\nnext');
    expect(j.cases[1].children[0].text).toBe('line 1\n]]> <x> &');
    expect(xmlAttr('\ud800x')).toBe('x'); // a lone surrogate is dropped
    expect(xml).toMatch(/<testsuite name="rdb-tool check" tests="3" failures="1" errors="1" skipped="0" time="0.750" timestamp="1970-01-01T00:00:00">/);
  });

  it('exit code: 3 if anything is unreadable, else 1 if anything is damaged, else 0', () => {
    const r = (status: BatchResult['status']): BatchResult => ({ path: 'x', ok: status === 'valid', status, verdict: status, error: null, durationMs: 0 });
    expect(batchExitCode([r('valid'), r('valid')])).toBe(0);
    expect(batchExitCode([r('valid'), r('damaged')])).toBe(1);
    expect(batchExitCode([r('damaged'), r('unreadable'), r('valid')])).toBe(3);
  });
});

describe.skipIf(!built)('rdb-tool check on a backup set', () => {
  it('all valid: exit 0, one OK line per file and the summary; --quiet prints nothing', () => {
    const { dir, good } = rdbSet();
    const r = run('rdb-tool', ['check', ...good]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([expect.stringMatching(/^OK +\S+good\.rdb {2}\(RDB \d+, \d+ keys, /), expect.stringMatching(/^OK +\S+many-nodes\.rdb /), '2 files: 2 valid, 0 damaged, 0 unreadable']);
    const q = run('rdb-tool', ['check', '--quiet', ...good]);
    expect(q).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // a quoted glob, expanded by rdb-tool itself (** included)
    const g = run('rdb-tool', ['check', '--quiet', join(dir, '**/[gm]*.rdb')]);
    expect(g).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('a directory: every *.rdb below, sorted; damage is exit 1 with a reason and an offset on each line', () => {
    const { dir } = rdbSet();
    const r = run('rdb-tool', ['check', dir]);
    expect(r.code).toBe(1);
    noStack(r.stderr);
    const out = lines(r.stdout);
    expect(out).toHaveLength(6);
    const byName = (n: string) => out.filter((l) => l.includes(`${n}.rdb`));
    for (const n of ['empty', 'flipped', 'good', 'many-nodes', 'truncated']) expect(byName(n), n).toHaveLength(1);
    const pathOf = (l: string) => l.split(/\s+/)[1].replace(/:$/, '');
    expect(out.slice(0, 5).map(pathOf)).toEqual(['empty', 'flipped', 'good', 'older/many-nodes', 'truncated'].map((n) => join(dir, `${n}.rdb`)));
    expect(byName('empty')[0]).toMatch(/^DAMAGED +\S+: the file is empty \(0 bytes\)/);
    expect(byName('truncated')[0]).toMatch(/^DAMAGED +\S+: truncated at offset \d+: /);
    expect(byName('flipped')[0]).toMatch(/^DAMAGED +\S+: (checksum|corrupt|truncated) at offset \d+: /);
    expect(byName('good')[0]).toMatch(/^OK /);
    expect(out[5]).toBe('5 files: 2 valid, 3 damaged, 0 unreadable');
    // --quiet: the problems and the summary
    const q = run('rdb-tool', ['check', '-q', dir]);
    expect(q.code).toBe(1);
    expect(lines(q.stdout)).toHaveLength(4);
    expect(lines(q.stdout).slice(0, 3).every((l) => l.startsWith('DAMAGED'))).toBe(true);
  });

  it("a directory's redis.conf naming a dbfilename that is not *.rdb: that file is checked too", () => {
    const { good } = rdbSet();
    const dir = tmp();
    cpSync(good[0]!, join(dir, 'snapshot.db'));
    writeFileSync(join(dir, 'redis.conf'), 'port 0\ndbfilename "snapshot.db"\n');
    const r = run('rdb-tool', ['check', dir]);
    expect(r.code).toBe(0);
    expect(lines(r.stdout)).toEqual([expect.stringMatching(/^OK +\S+snapshot\.db {2}\(RDB \d+, \d+ keys, /), '1 file: 1 valid, 0 damaged, 0 unreadable']);
  });

  it('unreadable inputs (missing, a path into a file, a dangling link, an empty directory, a glob matching nothing): exit 3', () => {
    const { dir, good } = rdbSet();
    symlinkSync(join(dir, 'gone.rdb'), join(dir, 'link.rdb'));
    mkdirSync(join(dir, 'dir.rdb'));
    const args = [good[0], join(dir, 'missing.rdb'), join(good[0], 'x'), join(dir, 'link.rdb'), join(dir, 'dir.rdb'), join(dir, 'nothing-*.rdb'), join(dir, 'truncated.rdb')];
    const r = run('rdb-tool', ['check', ...args]);
    expect(r.code).toBe(3);
    noStack(r.stderr);
    const out = lines(r.stdout);
    expect(out).toHaveLength(args.length + 1);
    expect(out[0]).toMatch(/^OK /);
    expect(out[1]).toMatch(/^UNREADABLE +\S+missing\.rdb: no such file or directory$/);
    expect(out[2]).toMatch(/^UNREADABLE +\S+good\.rdb\/x: not a directory/);
    expect(out[3]).toMatch(/^UNREADABLE +\S+link\.rdb: dangling symbolic link/);
    expect(out[4]).toMatch(/^UNREADABLE +\S+dir\.rdb: nothing to check: no \*\.rdb file/);
    expect(out[5]).toMatch(/^UNREADABLE +\S+nothing-\*\.rdb: no file matches this glob$/);
    expect(out[6]).toMatch(/^DAMAGED /);
    expect(out[7]).toBe('7 files: 1 valid, 1 damaged, 5 unreadable');
    // the dangling link inside a directory is found and reported too
    expect(run('rdb-tool', ['check', '-q', dir]).stdout).toMatch(/UNREADABLE +\S+link\.rdb: dangling symbolic link/);
  });

  it('--json: one document, one entry per input, I/O errors as entries', () => {
    const { dir, good, damaged } = rdbSet();
    const args = [...good, ...damaged, join(dir, 'missing.rdb'), join(dir, 'none-*.rdb')];
    const r = run('rdb-tool', ['check', '--json', ...args]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['ok', 'summary', 'results']);
    expect(j.ok).toBe(false);
    expect(j.summary).toEqual({ files: 7, valid: 2, damaged: 3, unreadable: 2 });
    expect(j.results.map((x: { path: string }) => x.path)).toEqual(args);
    const [g, , trunc, , empty, missing, glob] = j.results;
    expect(g).toMatchObject({ ok: true, status: 'valid', verdict: 'valid', error: null, report: { ok: true, checksum: 'ok' } });
    expect(trunc).toMatchObject({ ok: false, status: 'damaged', verdict: 'truncated', error: { offset: expect.any(Number), message: expect.any(String) }, report: { ok: false } });
    expect(empty).toMatchObject({ verdict: 'empty', status: 'damaged', error: { offset: 0 } });
    expect(missing).toMatchObject({ ok: false, status: 'unreadable', verdict: 'unreadable', error: { message: 'no such file or directory' } });
    expect(missing.report).toBeUndefined();
    expect(glob).toMatchObject({ status: 'unreadable', verdict: 'no-match' });
    // a directory alone gives the multi-input document too (its shape does not depend on how many files it holds)
    const one = JSON.parse(run('rdb-tool', ['check', '--json', join(dir, 'older')]).stdout);
    expect(one.summary).toEqual({ files: 1, valid: 1, damaged: 0, unreadable: 0 });
    // one plain file keeps the single report of old
    const single = run('rdb-tool', ['check', '--json', good[0]]);
    expect(single.code).toBe(0);
    expect(JSON.parse(single.stdout)).toMatchObject({ ok: true, file: good[0], checksum: 'ok' });
  });

  it('--junit: a testcase per input, failures for damage, errors for unreadable; replaced on the next run', () => {
    const { dir, good, damaged } = rdbSet();
    writeFileSync(join(dir, WEIRD), rdbGood.subarray(0, 100));
    const report = join(tmp(), 'reports/rdb.xml');
    const args = [...good, ...damaged, join(dir, WEIRD), join(dir, 'missing.rdb')];
    const r = run('rdb-tool', ['check', '--quiet', '--junit', report, ...args]);
    expect(r.code).toBe(3);
    const xml = readFileSync(report, 'utf8');
    const j = junitCounts(xml, 'rdb-tool check');
    expect(j.tests).toBe(args.length);
    expect(j.failures).toEqual([...damaged, join(dir, WEIRD).replace('\x01', '')]);
    expect(j.errors).toEqual([join(dir, 'missing.rdb')]);
    expect(j.names.slice(0, 2)).toEqual(good);
    expect(pythonParses(report)).not.toBe(false);
    // the next run replaces the report (the previous one is kept as .bak)
    const again = run('rdb-tool', ['check', '--junit', report, ...good]);
    expect(again.code).toBe(0);
    expect(junitCounts(readFileSync(report, 'utf8'), 'rdb-tool check')).toMatchObject({ tests: 2, failures: [], errors: [] });
    expect(readFileSync(`${report}.bak`, 'utf8')).toBe(xml);
    // one input keeps its detailed output and still writes the report
    const single = run('rdb-tool', ['check', '--junit', report, damaged[0]]);
    expect(single.code).toBe(1);
    expect(single.stdout).toMatch(/--- RDB ERROR DETECTED ---/);
    expect(junitCounts(readFileSync(report, 'utf8'), 'rdb-tool check')).toMatchObject({ tests: 1, failures: [damaged[0]] });
    const gone = run('rdb-tool', ['check', '--junit', report, join(dir, 'missing.rdb')]);
    expect(gone.code).toBe(3);
    expect(lines(gone.stderr)).toHaveLength(1);
    expect(junitCounts(readFileSync(report, 'utf8'), 'rdb-tool check')).toMatchObject({ tests: 1, errors: [join(dir, 'missing.rdb')] });
    // a report that would overwrite an input is refused before any work: a usage error
    const clash = run('rdb-tool', ['check', '--junit', good[0], ...good]);
    expect(clash.code).toBe(2);
    expect(readFileSync(good[0])).toEqual(rdbGood);
  });

  it('one input: the detailed output of old, exit 3 and one line for an unreadable one', () => {
    const { dir, good, damaged } = rdbSet();
    const ok = run('rdb-tool', ['check', good[0]]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^\[offset 0\] Checking RDB file /);
    expect(ok.stdout).toMatch(/RDB looks OK\n$/);
    const q = run('rdb-tool', ['check', '--quiet', damaged[0]]);
    expect(q.code).toBe(1);
    expect(lines(q.stdout)).toEqual([expect.stringMatching(/^DAMAGED +\S+truncated\.rdb: truncated at offset \d+/)]);
    const missing = run('rdb-tool', ['check', join(dir, 'missing.rdb')]);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(lines(missing.stderr)).toEqual([expect.stringMatching(/^rdb-tool: .*missing\.rdb: no such file or directory$/)]);
  });

  it.skipIf(!live)("a real server's data directory: dump.rdb and the AOF's RDB base", () => {
    const r = run('rdb-tool', ['check', liveData!]);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^OK +\S+appendonlydir\/appendonly\.aof\.\d+\.base\.rdb /);
    expect(out[1]).toMatch(/^OK +\S+dump\.rdb {2}\(RDB \d+, 204 keys, /);
  });
});

describe.skipIf(!built)('aof-tool check on a backup set', () => {
  function aofSet() {
    const dir = tmp();
    if (liveData) cpSync(liveData, join(dir, 'node1'), { recursive: true }); // a data dir: dump.rdb, appendonlydir/
    else cpSync(join(root, 'examples/flushall'), join(dir, 'node1'), { recursive: true });
    cpSync(join(root, 'examples/flushall/appendonlydir'), join(dir, 'multi'), { recursive: true });
    writeFileSync(join(dir, 'good.aof'), respAof(100));
    cpSync(join(root, 'examples/crashed/appendonly.aof'), join(dir, 'crashed.aof'));
    const mid = respAof(100);
    mid.write('GARBAGE!', 800); // damage a quarter into the file: a cut would drop three quarters of it
    writeFileSync(join(dir, 'mid.aof'), mid);
    writeFileSync(join(dir, 'empty.aof'), '');
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs/redis.log'), 'not an AOF');
    return dir;
  }

  it('a directory of backups: its *.aof files and AOF directories, one line each; exit 1 for damage', () => {
    const dir = aofSet();
    const r = run('aof-tool', ['check', dir]);
    expect(r.code).toBe(1);
    noStack(r.stderr);
    const out = lines(r.stdout);
    expect(out.map((l) => l.split(/\s+/)[1].replace(/:$/, ''))).toEqual(
      ['crashed.aof', 'empty.aof', 'good.aof', 'mid.aof', 'multi', 'node1'].map((n) => join(dir, n)).concat('files'),
    );
    expect(out[0]).toMatch(/^DAMAGED +\S+crashed\.aof: truncated at offset 2015: /);
    expect(out[1]).toMatch(/^DAMAGED +\S+empty\.aof: the file is empty \(0 bytes\)$/);
    expect(out[2]).toMatch(/^OK +\S+good\.aof {2}\(100 commands in 1 file\(s\), /);
    expect(out[3]).toMatch(/^DAMAGED +\S+mid\.aof: corrupt at offset \d+: /);
    expect(out[4]).toMatch(/^OK +\S+multi {2}\(multi-part, 9 commands/);
    expect(out[5]).toMatch(/^OK +\S+node1 {2}\(multi-part, /);
    expect(out[6]).toBe('6 files: 3 valid, 3 damaged, 0 unreadable');
    // the valid ones alone: exit 0; --quiet says nothing
    const q = run('aof-tool', ['check', '--quiet', join(dir, 'good.aof'), join(dir, 'multi'), join(dir, 'node1')]);
    expect(q).toMatchObject({ code: 0, stdout: '', stderr: '' });
    // a directory with nothing to check, a missing path: exit 3
    const u = run('aof-tool', ['check', join(dir, 'logs'), join(dir, 'nope.aof'), join(dir, 'good.aof')]);
    expect(u.code).toBe(3);
    expect(lines(u.stdout)).toEqual([
      expect.stringMatching(/^UNREADABLE +\S+logs: nothing to check: not an AOF directory/),
      expect.stringMatching(/^UNREADABLE +\S+nope\.aof: no such file or directory$/),
      expect.stringMatching(/^OK /),
      '3 files: 1 valid, 0 damaged, 2 unreadable',
    ]);
  });

  it('--json and --junit over a quoted glob', () => {
    const dir = aofSet();
    const report = join(dir, 'aof-report.xml');
    const r = run('aof-tool', ['check', '--json', '--junit', report, join(dir, '*.aof'), join(dir, 'gone/appendonly.aof')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.summary).toEqual({ files: 5, valid: 1, damaged: 3, unreadable: 1 });
    expect(j.results.map((x: { verdict: string }) => x.verdict)).toEqual(['truncated', 'empty', 'valid', 'corrupt', 'unreadable']);
    expect(j.results[0]).toMatchObject({ error: { offset: 2015 }, report: { ok: false, repair: { cutBytes: 59 } } });
    expect(j.results[2].report).toMatchObject({ ok: true, layout: 'single', totals: { commands: 100 } });
    const x = junitCounts(readFileSync(report, 'utf8'), 'aof-tool check');
    expect(x.tests).toBe(5);
    expect(x.failures.map((n) => n.slice(dir.length + 1))).toEqual(['crashed.aof', 'empty.aof', 'mid.aof']);
    expect(x.errors.map((n) => n.slice(dir.length + 1))).toEqual(['gone/appendonly.aof']);
    expect(x.cases[0].children[0].text).toMatch(/repairable by cutting 59 bytes/); // the detailed report as the failure text
    expect(pythonParses(report)).not.toBe(false);
  });

  it('one input: the detailed output of old, the --salvage hint when a cut would drop more than a tenth', () => {
    const dir = aofSet();
    const mid = run('aof-tool', ['check', join(dir, 'mid.aof')]);
    expect(mid.code).toBe(1);
    expect(mid.stdout).toMatch(/CORRUPT/);
    expect(mid.stdout).toMatch(/\nhint: the damage at offset \d+ is in the middle of \S+mid\.aof, and cutting there drops \d+ bytes \(\d+% of the file\); .*: aof-tool fix --salvage \S+mid\.aof\n$/);
    const crashed = run('aof-tool', ['check', join(dir, 'crashed.aof')]);
    expect(crashed.code).toBe(1);
    expect(crashed.stdout).not.toMatch(/salvage/);
    expect(crashed.stdout).toMatch(/^\S+crashed\.aof: single-file AOF\n/);
    const empty = run('aof-tool', ['check', join(dir, 'empty.aof')]);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toMatch(/\ndamaged: the file is empty \(0 bytes\)/);
    expect(JSON.parse(run('aof-tool', ['check', '--json', join(dir, 'multi')]).stdout)).toMatchObject({ ok: true, layout: 'multi-part', input: join(dir, 'multi') });
    const gone = run('aof-tool', ['check', '--json', join(dir, 'nope.aof')]);
    expect(gone).toMatchObject({ code: 3, stdout: '' });
    expect(gone.stderr).toMatch(/nope\.aof: no such file or directory/);
  });
});
