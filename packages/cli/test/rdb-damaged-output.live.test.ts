// rdb-tool dump / convert / to-aof on a damaged RDB (a real redis-server 7.0.15 file cut at many offsets, a flipped
// byte inside a ziplist, a flipped checksum): the output holds exactly the records complete before the damage, in
// whole lines / commands (never part of a key, even one streamed in pieces), the error names the offset, exit 1.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicFile } from '@redis-persist/fsio';
import { canonicalizeRecord, compareKeyspaceRecords, sameKeyspace, type KeyspacePiece, type KeyspaceRecord } from '@redis-persist/keyspace';
import { parseKeyspaceLine } from '@redis-persist/jsonl';
import { keyspaceJsonlStream } from '@redis-persist/converters';
import { DONE, NEED_MORE, RdbError, RdbParser, readRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { replayAof } from '@redis-persist/replay';
import { respChunks } from '@redis-persist/converters';
import { WholeKeyOutput } from '../src/rdb-tool/damage.js';
import { redisAvailable, repoRoot, startRedis, randomTraffic } from '@redis-persist/testkit';

const root = repoRoot()!;
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/main.js'));
if (!built) console.warn('[cli] packages/cli/dist is missing (run pnpm build): skipping the rdb-tool damaged-output tests');
const tmp = mkdtempSync(join(tmpdir(), 'rdbdamage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  out: Buffer;
  err: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out: Buffer.concat(out), err: Buffer.concat(err).toString('utf8') }));
  });
}

/** Runs jobs two at a time (two cores). */
async function all<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

/** Every record of a whole file with the offset just past it, in file order. */
interface Placed {
  /** The record's first byte (a key's first prefix opcode) and the offset just past it. */
  start: number;
  end: number;
  rec: KeyspaceRecord;
  key?: string;
  encoding?: string;
}
function placedRecords(data: Uint8Array): Placed[] {
  const p = new RdbParser({ values: true, skipEmpty: true });
  p.push(data);
  p.end();
  const out: Placed[] = [];
  for (;;) {
    const r = p.next();
    if (r === DONE) break;
    if (r === NEED_MORE) throw new Error('whole file wants more');
    if (r.kind === 'key' && r.value) {
      expect(r.offset + r.size).toBe(p.offset);
      const rec = { kind: 'key', db: r.db, key: r.key, expireAt: r.expireAt, ...r.value } as KeyspaceRecord;
      out.push({ start: r.offset, end: p.offset, rec, key: Buffer.from(r.key).toString(), encoding: r.encoding });
    } else if (r.kind === 'function') out.push({ start: r.offset, end: p.offset, rec: { kind: 'function', ...r.function } });
  }
  return out;
}

/** The error the library reports for `data` (a damaged file). */
async function libraryError(data: Uint8Array): Promise<RdbError> {
  try {
    for await (const r of readRdb(data, { values: false, file: 'x.rdb' })) void r;
  } catch (err) {
    if (err instanceof RdbError) return err;
    throw err;
  }
  throw new Error('no error');
}

function jsonlRecords(out: Buffer): KeyspaceRecord[] {
  const text = out.toString('utf8');
  if (text.length === 0) return [];
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      JSON.parse(line);
      return parseKeyspaceLine(line);
    });
}

async function respRecords(out: Uint8Array, name: string): Promise<KeyspaceRecord[]> {
  const path = join(tmp, `${name}.aof`);
  writeFileSync(path, out);
  const r = await replayAof(path);
  // every command whole (a torn one would be a truncated tail) and accepted
  expect(r.truncated).toBeNull();
  expect(r.failed).toBe(0);
  return [...r.keyspace.records()];
}

function same(got: KeyspaceRecord[], want: KeyspaceRecord[]): void {
  const s = sameKeyspace(got, want, { ignore: ['streamConsumerTimes'] });
  expect(s.diff).toEqual([]);
  expect(got.length).toBe(want.length);
}

let full: Buffer;
let placed: Placed[];
let big: { key: string; start: number; end: number }[] = [];

async function makeRdb(path: string): Promise<void> {
  const server = await startRedis({ config: { save: '', 'list-max-listpack-size': '16' } });
  try {
    const c = server.client;
    await randomTraffic(c, { seed: 4242, commands: 800, dbs: [0, 3], expiries: true, keysPerType: 12 });
    await c.call('FUNCTION', 'LOAD', "#!lua name=dmglib\nredis.register_function('dmgf', function(keys, args) return 1 end)");
    // collections of more than 1000 elements: dump hands them out in pieces
    const cmds: string[][] = [];
    for (let i = 0; i < 2600; i++) cmds.push(['RPUSH', 'big:list', `item-${i}-${'x'.repeat(i % 40)}`]);
    for (let i = 0; i < 2300; i++) cmds.push(['SADD', 'big:set', `member-${(i * 7919) % 10007}`]);
    for (let i = 0; i < 2100; i++) cmds.push(['ZADD', 'big:zset', String(((i * 37) % 1001) / 7), `z-${i}`]);
    for (let i = 0; i < 2200; i++) cmds.push(['HSET', 'big:hash', `field-${i}`, `value-${i}-${'y'.repeat(i % 30)}`]);
    cmds.push(['SELECT', '3']);
    for (let i = 0; i < 1500; i++) cmds.push(['RPUSH', 'big:list3', `e${i}`]);
    await c.pipeline(cmds);
    await c.call('SELECT', '0');
    await c.call('SAVE');
    copyFileSync(join(server.dir, 'dump.rdb'), path);
  } finally {
    await server.stop();
  }
}

beforeAll(async () => {
  const path = join(tmp, 'full.rdb');
  if (redisAvailable()) await makeRdb(path);
  else copyFileSync(join(root, 'fixtures/rdb/all-types.rdb'), path);
  full = readFileSync(path);
  placed = placedRecords(full);
  for (const p of placed) if (p.key?.startsWith('big:')) big.push({ key: p.key, start: p.start, end: p.end });
});

/** The records complete within the first `cut` bytes. */
function before(cut: number): KeyspaceRecord[] {
  return placed.filter((p) => p.end <= cut).map((p) => p.rec);
}

/**
 * Offsets to cut at: the header, aux fields, inside every big key (which dump streams in pieces: near its start,
 * its middle, its last bytes), right after one, a record boundary, the EOF and CRC, and seeded random ones.
 */
function cuts(): number[] {
  const set = new Set<number>([5, 160]);
  big.forEach((b, i) => {
    set.add([b.start + 30, Math.floor((b.start + b.end) / 2), b.end - 3][i % 3]!);
    if (i === 0) set.add(b.end); // exactly after the big key
  });
  set.add(placed[Math.floor(placed.length / 3)]!.end);
  set.add(full.length - 9); // the EOF opcode is the last byte read
  set.add(full.length - 3); // inside the CRC
  let s = 99;
  for (let i = 0; i < 2; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    set.add(10 + (s % (full.length - 20)));
  }
  return [...set].filter((c) => c > 0 && c < full.length).sort((a, b) => a - b);
}

describe.skipIf(!built)('rdb-tool on a cut RDB: every record complete before the cut, nothing else', () => {
  it('dump: jsonl and resp, file and canonical order, stdout and -o', async () => {
    if (redisAvailable()) expect(big.length).toBe(5);
    const variants: { name: string; args: string[]; format: 'jsonl' | 'resp'; file: boolean }[] = [
      { name: 'jsonl-canonical', args: [], format: 'jsonl', file: false },
      { name: 'jsonl-file', args: ['--order', 'file'], format: 'jsonl', file: false },
      { name: 'resp-canonical', args: ['--format', 'resp'], format: 'resp', file: false },
      { name: 'resp-file', args: ['--format', 'resp', '--order', 'file'], format: 'resp', file: false },
      { name: 'jsonl-canonical-o', args: [], format: 'jsonl', file: true },
      { name: 'jsonl-file-o', args: ['--order', 'file'], format: 'jsonl', file: true },
      { name: 'resp-file-o', args: ['--format', 'resp', '--order', 'file'], format: 'resp', file: true },
    ];
    const offsets = cuts();
    expect(offsets.length).toBeGreaterThanOrEqual(redisAvailable() ? 12 : 6);
    const jobs: (() => Promise<void>)[] = [];
    for (const cut of offsets) {
      const path = join(tmp, `cut-${cut}.rdb`);
      writeFileSync(path, full.subarray(0, cut));
      const want = before(cut);
      const error = await libraryError(full.subarray(0, cut));
      for (const v of variants) {
        jobs.push(async () => {
          const outPath = join(tmp, `out-${cut}-${v.name}`);
          const r = await run(['dump', '--keep-expired', ...v.args, ...(v.file ? ['-o', outPath] : []), path]);
          const where = `cut at ${cut}, ${v.name}: ${r.err}`;
          expect(r.code, where).toBe(1);
          expect(r.err, where).toContain(`offset ${error.offset}: ${error.code}`);
          expect(r.err, where).toMatch(/holds only the records before offset \d+/);
          const out = v.file ? readFileSync(outPath) : r.out;
          if (v.file) expect(r.out.length).toBe(0);
          const got = v.format === 'jsonl' ? jsonlRecords(out) : await respRecords(out, `${cut}-${v.name}`);
          same(got, want);
          if (v.name === 'jsonl-file') {
            // file order is kept
            expect(got.map((g) => (g.kind === 'key' ? `${g.db}:${Buffer.from(g.key).toString()}` : g.library))).toEqual(
              want.map((g) => (g.kind === 'key' ? `${g.db}:${Buffer.from(g.key).toString()}` : g.library)),
            );
          }
          if (v.name === 'jsonl-canonical') {
            const sorted = want.map(canonicalizeRecord).sort(compareKeyspaceRecords);
            expect(got.map((g) => (g.kind === 'key' ? Buffer.from(g.key).toString() : g.library))).toEqual(sorted.map((g) => (g.kind === 'key' ? Buffer.from(g.key).toString() : g.library)));
          }
        });
      }
    }
    await all(jobs);
  }, 300_000);

  it('convert (rdb, jsonl, resp) and to-aof (file and dir): committed, valid, the records before the cut', async () => {
    const offsets = cuts().filter((_, i) => i % 3 === 1);
    const jobs: (() => Promise<void>)[] = [];
    for (const cut of offsets) {
      const path = join(tmp, `ccut-${cut}.rdb`);
      writeFileSync(path, full.subarray(0, cut));
      const want = before(cut);
      const error = await libraryError(full.subarray(0, cut));
      for (const kind of ['rdb', 'jsonl', 'resp', 'to-aof', 'to-aof-dir'] as const) {
        jobs.push(async () => {
          const out = join(tmp, `conv-${cut}-${kind}${kind === 'to-aof-dir' ? '' : kind === 'to-aof' ? '.aof' : `.${kind}`}`);
          const r = await run(kind.startsWith('to-aof') ? ['to-aof', path, out] : ['convert', path, out]);
          const where = `cut at ${cut}, ${kind}: ${r.err}`;
          expect(r.code, where).toBe(1);
          expect(r.err, where).toContain(`offset ${error.offset}: ${error.code}`);
          expect(r.err, where).toMatch(/holds only the records before offset \d+ \(written completely and renamed into place\)/);
          let got: KeyspaceRecord[];
          if (kind === 'rdb') {
            // a valid RDB: EOF and a checksum that matches
            got = [];
            for await (const rec of rdbKeyspaceRecords(out)) got.push(rec);
          } else if (kind === 'jsonl') got = jsonlRecords(readFileSync(out));
          else if (kind === 'to-aof-dir') {
            const rr = await replayAof(out);
            expect(rr.truncated).toBeNull();
            got = [...rr.keyspace.records()];
          } else got = await respRecords(readFileSync(out), `conv-${cut}-${kind}`);
          same(got, want);
        });
      }
    }
    await all(jobs);
  }, 300_000);
});

describe.skipIf(!built)('rdb-tool dump --salvage and --ignore-checksum', () => {
  it('a corrupt ziplist inside a key: --salvage skips exactly that key and goes on (exit 1); without it the output stops there', async () => {
    // an RDB 6 (ziplist) fixture: the intset of "set:int" gets a bad element size
    const data = Buffer.from(readFileSync(join(root, 'fixtures/rdb/all-types.rdb')));
    const recs = placedRecords(data);
    const at = recs.findIndex((p) => p.key === 'set:int');
    const { start, end } = recs[at]!;
    const flipped = Buffer.from(data);
    flipped[start + 1 + 8 + 1] = 0xfb; // the intset's encoding byte (type, key "set:int", blob length, then the intset)
    const path = join(tmp, 'intset.rdb');
    writeFileSync(path, flipped);
    const want = recs.filter((_, i) => i !== at).map((p) => p.rec);
    for (const args of [[], ['--order', 'file'], ['--format', 'resp'], ['--format', 'resp', '--order', 'file']]) {
      const r = await run(['dump', '--keep-expired', '--salvage', ...args, path]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`skipped offsets ${start}-${end} (key "set:int", type set-intset): intset element size`);
      const got = args.includes('resp') ? await respRecords(r.out, `salvage-${args.join('')}`) : jsonlRecords(r.out);
      same(got, want);
    }
    const plain = await run(['dump', '--keep-expired', '--order', 'file', path]);
    expect(plain.code).toBe(1);
    same(jsonlRecords(plain.out), recs.slice(0, at).map((p) => p.rec));
  });

  it('a corrupt listpack inside a key of a redis-server file: skipped, the rest whole', async () => {
    if (!redisAvailable()) return;
    // a listpack-encoded small hash or sorted set stored without LZF: its 0xFF terminator (the record's last byte) flipped
    // (no expiry prefix: type byte, key length, key, blob length, then the listpack, whose header holds its size)
    const victim = placed.find((p) => {
      if (p.encoding !== 'listpack' || p.rec.kind !== 'key' || p.rec.expireAt !== null) return false;
      const k = p.key!.length;
      const lp = p.end - p.start - 3 - k;
      return k < 64 && lp > 7 && lp < 64 && full[p.start + 2 + k] === lp && full.readUInt32LE(p.start + 3 + k) === lp && full[p.end - 1] === 0xff;
    })!;
    expect(victim).toBeDefined();
    const data = Buffer.from(full);
    data[victim.end - 1] ^= 0xff;
    const path = join(tmp, 'listpack.rdb');
    writeFileSync(path, data);
    const want = placed.filter((p) => p !== victim).map((p) => p.rec);
    for (const args of [['--order', 'file'], [], ['--format', 'resp', '--order', 'file']]) {
      const o = join(tmp, `lp-${args.join('')}.out`);
      const r = await run(['dump', '--keep-expired', '--salvage', ...args, '-o', o, path]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(new RegExp(`skipped offsets \\d+-${victim.end} \\(key "${victim.key}", type (hash|zset)-listpack\\): listpack`));
      // the checksum cannot match: said, and the output still holds every other record
      expect(r.err).toMatch(/1 damaged key\(s\) skipped/);
      same(args.includes('resp') ? await respRecords(readFileSync(o), `lp-${args.join('')}`) : jsonlRecords(readFileSync(o)), want);
    }
  });

  it('--ignore-checksum: a flipped CRC64 is no error (exit 0, everything); without it exit 1 with everything and the two values', async () => {
    const data = Buffer.from(full);
    data[data.length - 1] ^= 0x5a;
    const path = join(tmp, 'crc.rdb');
    writeFileSync(path, data);
    const ok = await run(['dump', '--keep-expired', '--ignore-checksum', path]);
    expect(ok.code).toBe(0);
    expect(ok.err).toBe('');
    same(jsonlRecords(ok.out), placed.map((p) => p.rec));
    const bad = await run(['dump', '--keep-expired', '--format', 'resp', '--order', 'file', path]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/wrong RDB checksum: file says [0-9a-f]{16}, content gives [0-9a-f]{16}/);
    expect(bad.err).toMatch(/holds every record of the file/);
    same(await respRecords(bad.out, 'crc'), placed.map((p) => p.rec));
  });
});

describe.skipIf(!built || !redisAvailable())('a key whose line is more than stdout holds in memory (1 MiB)', () => {
  it('stdout keeps it in a temp file until its last piece: whole, the same bytes as -o; cut inside, left out; no temp file stays', async () => {
    const path = join(tmp, 'huge.rdb');
    const server = await startRedis({ config: { save: '' } });
    try {
      const c = server.client;
      await c.call('SET', 'a:first', 'x');
      // about 12 MiB of JSON in one line: 3000 list elements of 4 KiB that LZF cannot shrink
      const cmds: string[][] = [];
      let seed = 1;
      for (let i = 0; i < 3000; i++) {
        const parts: string[] = [];
        for (let k = 0; k < 512; k++) {
          seed = (seed * 1103515245 + 12345) % 2147483648;
          parts.push(seed.toString(36).padStart(8, '0').slice(-8));
        }
        cmds.push(['RPUSH', 'huge:list', parts.join('')]);
      }
      await c.pipeline(cmds);
      await c.call('SET', 'z:last', 'y');
      await c.call('SAVE');
      copyFileSync(join(server.dir, 'dump.rdb'), path);
    } finally {
      await server.stop();
    }
    const data = readFileSync(path);
    const recs = placedRecords(data);
    const huge = recs.find((p) => p.key === 'huge:list')!;
    const keyTmp = mkdtempSync(join(tmp, 'keytmp-'));
    const env = { TMPDIR: keyTmp };

    const whole = await run(['dump', '--order', 'file', path], env);
    expect(whole.code).toBe(0);
    expect(whole.out.length).toBeGreaterThan(9 * 1024 * 1024);
    const viaFile = join(tmp, 'huge.jsonl');
    expect((await run(['dump', '--order', 'file', '-o', viaFile, path], env)).code).toBe(0);
    expect(whole.out.equals(readFileSync(viaFile))).toBe(true);
    same(jsonlRecords(whole.out), recs.map((p) => p.rec));

    const cutPath = join(tmp, 'huge-cut.rdb');
    writeFileSync(cutPath, data.subarray(0, huge.end - 5000));
    for (const args of [['--order', 'file'], ['--format', 'resp', '--order', 'file']]) {
      const r = await run(['dump', ...args, cutPath], env);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/while reading key "huge:list" \(type quicklist-v2\) whose record starts at offset \d+: left out/);
      const want = recs.filter((p) => p.end <= huge.end - 5000).map((p) => p.rec);
      same(args.includes('resp') ? await respRecords(r.out, 'huge-cut') : jsonlRecords(r.out), want);
    }
    expect(readdirSync(keyTmp)).toEqual([]);
  }, 120_000);
});

describe('WholeKeyOutput behind the producers: a key whose pieces stop is never in the output', () => {
  /** A key: whole, in complete pieces, or in pieces that stop before the last (what a damaged input leaves). */
  const keyArb = fc.record({
    db: fc.integer({ min: 0, max: 2 }),
    pieces: fc.array(fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
    unfinished: fc.boolean(),
  });
  const records = (keys: { db: number; pieces: number[][]; unfinished: boolean }[], withUnfinished: boolean): KeyspacePiece[] => {
    const out: KeyspacePiece[] = [];
    keys.forEach((k, i) => {
      if (k.unfinished && !withUnfinished) return;
      const key = Buffer.from(`key-${i}`);
      const n = k.pieces.length;
      k.pieces.forEach((els, p) => {
        if (k.unfinished && p === n - 1) return; // its last piece never comes
        const rec = { kind: 'key', db: k.db, key, type: 'list', expireAt: null, value: els.map((len, e) => Buffer.alloc(len, 97 + ((i + e) % 26))) } as KeyspacePiece;
        if (p < n - 1) rec.partial = true;
        out.push(rec);
      });
    });
    return out;
  };
  const collect = async (chunks: AsyncIterable<Uint8Array>, sink: WholeKeyOutput): Promise<void> => {
    try {
      for await (const c of chunks) await sink.write(c);
      await sink.finish();
    } finally {
      await sink.dispose();
    }
  };
  // (stdout gets reused chunks, as dump does; AtomicFile keeps the chunks it is given: fresh ones)
  const produce = (kind: 'jsonl' | 'resp', recs: KeyspacePiece[], sink?: WholeKeyOutput, reuseChunks = false) =>
    kind === 'jsonl' ? keyspaceJsonlStream(recs, { order: 'file', pieces: sink, reuseChunks }) : respChunks(recs, { pieces: sink });
  const plain = async (kind: 'jsonl' | 'resp', recs: KeyspacePiece[]): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of produce(kind, recs)) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  };

  it('stdout (held) and a file (cut back): the bytes of the same records without the unfinished keys', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(keyArb, { minLength: 1, maxLength: 6 }), fc.constantFrom('jsonl' as const, 'resp' as const), async (keys, kind) => {
        const want = await plain(kind, records(keys, false));
        const got: Buffer[] = [];
        const stream = new WholeKeyOutput({ kind: 'stream', write: async (c) => void got.push(Buffer.from(c)) });
        await collect(produce(kind, records(keys, true), stream, true), stream);
        expect(Buffer.concat(got).equals(want)).toBe(true);
        const path = join(tmp, `whole-${n++}.out`);
        const file = await AtomicFile.create(path);
        const onFile = new WholeKeyOutput({ kind: 'file', file });
        try {
          await collect(produce(kind, records(keys, true), onFile), onFile);
          await file.commit();
        } catch (err) {
          await file.abort();
          throw err;
        }
        expect(readFileSync(path).equals(want)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});

describe.skipIf(!existsSync('/proc/self/fd'))('no file left open when the records fail inside a key in pieces', () => {
  const sortFiles = () =>
    readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((l) => l.includes('keyspace-sort-'));
  it('canonical JSON Lines: the sort run of the key in pieces is closed (it was left open, deleted, before)', async () => {
    async function* failing(): AsyncGenerator<KeyspacePiece> {
      for (let p = 0; p < 3; p++) yield { kind: 'key', db: 0, key: Buffer.from('big'), type: 'set', expireAt: null, value: [Buffer.from(`m${p}`)], partial: true } as KeyspacePiece;
      throw new RdbError('truncated', 'expected a set member', { offset: 123, file: 'x.rdb' });
    }
    await expect(async () => {
      for await (const c of keyspaceJsonlStream(failing(), { order: 'canonical' })) void c;
    }).rejects.toThrow(/truncated/);
    expect(sortFiles()).toEqual([]);
  });
});
