import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { AofError, checkAof, readAof, readAofBatches, type AofCommand, type AofSource } from '@redis-persist/aof';
import { openFileDescriptors } from '@redis-persist/testkit';
import { corpus, hasCorpus } from './corpus-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'aof-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const resp = (...args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const value = 'v'.repeat(300);
// annotations, a SELECT, a transaction, and a tail cut inside a record: offsets, timestamps and the repair all show
const lines: string[] = [];
for (let i = 0; i < 2000; i++) {
  if (i % 500 === 0) lines.push(`#TS:${1700000000 + i}\r\n`);
  if (i === 700) lines.push(resp('SELECT', '3'));
  if (i === 900) lines.push(resp('MULTI'), resp('INCR', 'counter'), resp('EXEC'));
  lines.push(resp('SET', `k${i}`, value));
}
const resp1 = Buffer.from(lines.join('') + resp('SET', 'cut', value).slice(0, 40));
const respPath = join(dir, 'single.aof');
writeFileSync(respPath, resp1);

// a single file with an RDB preamble: the corpus' base RDB then its incr commands, as Redis 4-6 wrote them
const preambleDir = join(corpus, 'aof', 'redis-7.0.15', 'preamble', 'appendonlydir');
const preamblePath = join(dir, 'preamble.aof');
const havePreamble = hasCorpus && existsSync(preambleDir);
if (havePreamble) {
  writeFileSync(preamblePath, Buffer.concat([readFileSync(join(preambleDir, 'appendonly.aof.2.base.rdb')), readFileSync(join(preambleDir, 'appendonly.aof.2.incr.aof'))]));
}

/** The same file as every kind of source: a path, a Node Readable, a web stream, an async iterable, bytes. */
function sources(path: string): [string, () => AofSource][] {
  const bytes = readFileSync(path);
  const pieces = (size: number) => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
    return out;
  };
  return [
    ['path', () => path],
    ['Node Readable', () => createReadStream(path, { highWaterMark: 7777 })],
    ['web ReadableStream', () => Readable.toWeb(createReadStream(path, { highWaterMark: 4096 })) as ReadableStream<Uint8Array>],
    [
      'async iterable',
      () =>
        (async function* () {
          for (const p of pieces(1000)) yield p;
        })(),
    ],
    ['bytes', () => new Uint8Array(bytes)],
    ['iterable of 61-byte chunks', () => pieces(61)],
  ];
}

type Flat = Omit<AofCommand, 'file' | 'args'> & { args: string };

async function commands(source: AofSource, file: string): Promise<{ cmds: Flat[]; error: unknown; rdb: number[] }> {
  const cmds: Flat[] = [];
  const rdb: number[] = [];
  let error: unknown = null;
  try {
    for await (const c of readAof(source, { file, onRdbPart: (p) => rdb.push(p.end, p.keys) })) {
      if (c.file !== file) throw new Error(`file ${c.file}`);
      const { file: _f, args, ...rest } = c;
      cmds.push({ ...rest, args: Buffer.concat(args.flatMap((a) => [a, Buffer.from('\0')])).toString('latin1') });
    }
  } catch (err) {
    error = err;
  }
  return { cmds, error, rdb };
}

describe('readAof / readAofBatches / checkAof take every kind of source', () => {
  for (const [label, path, skip] of [
    ['plain RESP, annotations, MULTI, cut tail', respPath, false],
    ['RDB preamble + RESP', preamblePath, !havePreamble],
  ] as const) {
    describe.skipIf(skip)(label, () => {
      it('the same commands, offsets, timestamps and error from each source', async () => {
        const ref = await commands(path, path);
        expect(ref.cmds.length).toBeGreaterThan(300);
        if (path === respPath) {
          expect(ref.error).toBeInstanceOf(AofError);
          expect(ref.cmds.at(-1)!.args).toBe(`SET\0k1999\0${value}\0`);
          expect(ref.cmds.some((c) => c.db === 3 && c.timestamp === 1700001500)).toBe(true);
        } else {
          expect(ref.error).toBeNull();
          expect(ref.rdb[0]).toBeGreaterThan(0);
        }
        for (const [kind, make] of sources(path).slice(1)) {
          const fds = openFileDescriptors();
          const got = await commands(make(), path);
          expect(got.cmds, kind).toEqual(ref.cmds);
          expect(got.rdb, kind).toEqual(ref.rdb);
          expect(String(got.error), kind).toBe(String(ref.error));
          if (ref.error instanceof AofError) expect((got.error as AofError).offset, kind).toBe(ref.error.offset);
          expect(openFileDescriptors(), kind).toBe(fds);
        }
      });

      it('readAofBatches: the same commands in batches', async () => {
        const ref = (await commands(path, path)).cmds.length;
        for (const [kind, make] of sources(path)) {
          let n = 0;
          try {
            for await (const b of readAofBatches(make(), { file: path })) n += b.length;
          } catch (err) {
            expect(err, kind).toBeInstanceOf(AofError);
          }
          expect(n, kind).toBe(ref);
        }
      });

      it('the same check report (sizes, offsets, lines, repair) from each source', async () => {
        const ref = await checkAof(path);
        expect(ref.files).toHaveLength(1);
        if (path === respPath) {
          expect(ref.ok).toBe(false);
          expect(ref.repair).toMatchObject({ truncateTo: resp1.length - 40, cutBytes: 40 });
          expect(ref.files[0]).toMatchObject({ status: 'truncated', annotations: 4, firstTimestamp: 1700000000, lastTimestamp: 1700001500 });
        } else {
          expect(ref.ok).toBe(true);
          expect(ref.files[0].format).toBe('rdb');
          expect(ref.files[0].respStart).toBeGreaterThan(0);
        }
        for (const [kind, make] of sources(path).slice(1)) {
          const fds = openFileDescriptors();
          const got = await checkAof(make(), { file: path });
          expect(got, kind).toEqual(ref);
          expect(openFileDescriptors(), kind).toBe(fds);
        }
      });
    });
  }

  it('a stream is named <stream> unless options.file names it', async () => {
    const r = await checkAof(readFileSync(respPath));
    expect(r.input).toBe('<stream>');
    expect(r.files[0].file).toBe('<stream>');
    const first = await readAof([readFileSync(respPath)]).next();
    expect(first.value?.file).toBe('<stream>');
  });

  it('a manifest arriving by stream is refused with AofError unsupported (a stream cannot be multi-part)', async () => {
    const manifest = Buffer.from('# a comment\nfile appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n');
    for (const src of [manifest, Readable.from([manifest.subarray(0, 5), manifest.subarray(5)])]) {
      await expect(checkAof(src, { file: 'm' })).rejects.toMatchObject({ name: 'AofError', code: 'unsupported', file: 'm' });
      await expect(readAof(src === manifest ? manifest : Readable.from([manifest]), { file: 'm' }).next()).rejects.toMatchObject({ code: 'unsupported' });
    }
    // an AOF that starts with annotations is not taken for a manifest
    const r = await checkAof(Buffer.from(`#TS:1\r\n${resp('SET', 'a', 'b')}`));
    expect(r.ok).toBe(true);
    expect(r.totals.commands).toBe(1);
  });

  it('truncateToTimestamp needs a path: a stream is refused', async () => {
    await expect(checkAof(readFileSync(respPath), { truncateToTimestamp: 1700000001 })).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('a stream input is aborted like a file: signal.reason, stream closed', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    const stream = createReadStream(respPath, { highWaterMark: 4096 });
    let n = 0;
    await expect(
      (async () => {
        for await (const _ of readAof(stream, { signal: ac.signal })) if (n++ === 0) ac.abort(reason);
      })(),
    ).rejects.toBe(reason);
    expect(n).toBeLessThan(50);
    expect(stream.destroyed).toBe(true);
  });
});
