// checkRdb's checksum thread (checksumThread: true) runs only from the built package (the thread's entry is
// dist/crc-thread.js), so this test imports packages/rdb/dist: the report must be identical with and without it,
// on every RDB (and RDB-preamble AOF) of ../shared/corpus and on files damaged here (CRC mismatch, CRC disabled,
// bytes after the end, truncated, a CRC ending past the thread's first guess).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { corpusDir } from '@redis-persist/testkit';
import { walk } from './helpers.js';

type Check = (source: string, options?: Record<string, unknown>) => Promise<unknown>;
const dist = await import(new URL('../dist/index.js', import.meta.url).href);
const checkRdb = dist.checkRdb as Check;
const fileCrc = await import(new URL('../dist/file-crc.js', import.meta.url).href);

const corpus = corpusDir();
if (!corpus) console.warn('[rdb] ../shared/corpus is absent: skipping the corpus part of the checksum-thread test');
// the RDB files and the AOFs that start with an RDB preamble (the others fail at the header, before any CRC)
const files = corpus ? walk(corpus).filter((f) => f.endsWith('.rdb') || (f.endsWith('.aof') && readFileSync(f).subarray(0, 5).toString() === 'REDIS')) : [];
const tmp = mkdtempSync(join(tmpdir(), 'crc-thread-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const both = async (f: string) => {
  const opts = { now: 1.8e12 };
  const plain = await checkRdb(f, opts);
  const threaded = await checkRdb(f, { ...opts, checksumThread: true });
  return { plain, threaded };
};

describe('checkRdb checksum thread', () => {
  it('is available from the built package', () => {
    expect(fileCrc.fileCrcThreadAvailable()).toBe(true);
  });

  it.skipIf(!corpus)('gives the same report on every corpus file', async () => {
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) {
      const { plain, threaded } = await both(f);
      expect(JSON.stringify(threaded), f).toBe(JSON.stringify(plain));
    }
  }, 600_000);

  it('gives the same report on damaged files', async () => {
    // an RDB of 12 MiB of strings (so the thread reads several chunks), written by hand: REDIS0009, keys, EOF, CRC
    const parts: Buffer[] = [Buffer.from('REDIS0009'), Buffer.from([0xfe, 0x00])];
    for (let k = 0; k < 200; k++) {
      const v = Buffer.alloc(60000, k);
      parts.push(Buffer.from([0x00, 0x04]), Buffer.from(`k${String(k).padStart(3, '0')}`), Buffer.from([0x80]), Buffer.from([0, 0, 0xea, 0x60]), v);
    }
    parts.push(Buffer.from([0xff]));
    const body = Buffer.concat(parts);
    const { Crc64 } = await import('@redis-persist/bytes');
    const crc = Buffer.alloc(8);
    new Crc64().update(body).writeLE(crc, 0);
    const good = Buffer.concat([body, crc]);
    const cases: Record<string, Buffer> = {
      good,
      mismatch: Buffer.concat([body, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])]),
      disabled: Buffer.concat([body, Buffer.alloc(8)]),
      trailing: Buffer.concat([good, Buffer.alloc(3 << 20, 7)]),
      trailingMismatch: Buffer.concat([body, Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]), Buffer.alloc(100, 1)]),
      truncated: good.subarray(0, good.length - 5),
      flipped: Buffer.from(good.map((b, i) => (i === 5_000_000 ? b ^ 1 : b))),
    };
    const seen = new Set<string>();
    for (const [name, bytes] of Object.entries(cases)) {
      const f = join(tmp, `${name}.rdb`);
      writeFileSync(f, bytes);
      const { plain, threaded } = await both(f);
      expect(JSON.stringify(threaded), name).toBe(JSON.stringify(plain));
      const r = plain as { ok: boolean; checksum: string | null; error?: { code: string } };
      seen.add(`${r.ok}:${r.checksum}:${r.error?.code ?? ''}`);
    }
    // the cases reach the different verdicts (so the comparisons above test something)
    expect([...seen].sort()).toEqual(['false:mismatch:checksum', 'false:null:truncated', 'true:disabled:', 'true:ok:'].sort());
    expect(readFileSync(join(tmp, 'good.rdb')).length).toBe(good.length);
  }, 120_000);
});
