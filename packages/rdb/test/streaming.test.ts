// Memory stays bounded by what the caller asks to hold: a structural pass over huge values never buffers them.
import { describe, expect, it } from 'vitest';
import { Crc64 } from '@redis-persist/bytes';
import { canonicalizeRecord, type StreamValue } from '@redis-persist/keyspace';
import { DONE, NEED_MORE, RdbParser, readRdb, type RdbRecord } from '@redis-persist/rdb';
import { joinStreamPiece } from './helpers.js';

const MiB = 1024 * 1024;

/** An RDB 10 file made of generated chunks: one huge raw string key and one linked list of many elements. */
function* hugeRdb(stringBytes: number, listElements: number): Generator<Uint8Array> {
  const crc = new Crc64();
  const emit = (b: Uint8Array) => {
    crc.update(b);
    return b;
  };
  const len32 = (n: number) => Buffer.from([0x80, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  yield emit(Buffer.concat([Buffer.from('REDIS0010'), Buffer.from([0xfe, 0x00, 0x00, 0x03]), Buffer.from('big'), len32(stringBytes)]));
  const block = Buffer.alloc(MiB, 0x61);
  for (let left = stringBytes; left > 0; left -= MiB) yield emit(left >= MiB ? block : block.subarray(0, left));
  yield emit(Buffer.concat([Buffer.from([0x01, 0x04]), Buffer.from('list'), len32(listElements)]));
  const el = Buffer.from([0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
  const perChunk = 100_000;
  for (let done = 0; done < listElements; done += perChunk) yield emit(Buffer.concat(Array(Math.min(perChunk, listElements - done)).fill(el)));
  yield emit(Buffer.from([0xff]));
  const trailer = Buffer.alloc(8);
  crc.writeLE(trailer, 0);
  yield trailer;
}

describe('bounded memory', () => {
  it('checks a 256 MiB string and a 2M-element list in 1 MiB chunks holding about one chunk', () => {
    const p = new RdbParser({ values: false });
    const recs: RdbRecord[] = [];
    let maxCap = 0;
    const src = hugeRdb(256 * MiB, 2_000_000);
    for (;;) {
      const r = p.next();
      if (r === DONE) break;
      if (r === NEED_MORE) {
        const n = src.next();
        if (n.done) p.end();
        else p.push(n.value);
        maxCap = Math.max(maxCap, p.bufferCapacity);
        continue;
      }
      recs.push(r);
    }
    const keys = recs.filter((r) => r.kind === 'key');
    expect(keys.map((k) => k.kind === 'key' && [Buffer.from(k.key).toString(), k.type, k.elements])).toEqual([
      ['big', 'string', 1],
      ['list', 'list', 2_000_000],
    ]);
    expect(recs.at(-1)).toMatchObject({ kind: 'end', checksum: 'ok' });
    expect(maxCap).toBeLessThanOrEqual(4 * MiB);
  });

  it('readRdb over an async iterable of chunks gives values when asked', async () => {
    async function* src() {
      yield* hugeRdb(3 * MiB, 10);
    }
    const got: RdbRecord[] = [];
    for await (const r of readRdb(src(), { values: true })) got.push(r);
    const big = got.find((r) => r.kind === 'key' && r.type === 'string');
    expect(big?.kind === 'key' && big.value?.type === 'string' && big.value.value.length).toBe(3 * MiB);
  });

  it('reads a web ReadableStream and a Node Readable', async () => {
    const { Readable } = await import('node:stream');
    const chunks = [...hugeRdb(1000, 3)];
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
    const a: string[] = [];
    for await (const r of readRdb(web)) a.push(r.kind);
    const b: string[] = [];
    for await (const r of readRdb(Readable.from(chunks))) b.push(r.kind);
    expect(a).toEqual(['header', 'db', 'key', 'key', 'end']);
    expect(b).toEqual(a);
  });
});

describe('chunkElements', () => {
  it('hands big collections out in pieces that add up to the whole value', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { repoRoot } = await import('@redis-persist/testkit');
    const data = readFileSync(join(repoRoot()!, 'fixtures/rdb/tiny-limits.rdb'));
    const whole: RdbRecord[] = [];
    for await (const r of readRdb([data])) whole.push(r);
    const pieces: RdbRecord[] = [];
    for await (const r of readRdb([data], { chunkElements: 3 })) pieces.push(r);
    expect(pieces.some((r) => r.kind === 'key' && r.partial)).toBe(true);
    expect(pieces.some((r) => r.kind === 'key' && r.partial && r.type === 'stream')).toBe(true);
    const merged: RdbRecord[] = [];
    let acc: unknown[] = [];
    let stream: StreamValue | null = null;
    for (const r of pieces) {
      if (r.kind !== 'key') {
        merged.push(r);
        continue;
      }
      if (r.value!.type === 'stream') {
        stream = joinStreamPiece(stream, r.value!.value);
        if (r.partial) continue;
        merged.push({ ...r, value: { type: 'stream', value: stream } });
        stream = null;
        continue;
      }
      const v = r.value!.value as unknown[];
      acc.push(...(Array.isArray(v) ? v : [v]));
      if (r.partial) expect(Array.isArray(v) && v.length > 0).toBe(true);
      if (r.partial) continue;
      merged.push(Array.isArray(r.value!.value) ? ({ ...r, value: { ...r.value!, value: acc } } as RdbRecord) : r);
      acc = [];
    }
    // a stream's pending entries come in pieces by consumer, in whole values in the group PEL's order
    const canon = (r: RdbRecord): unknown => (r.kind === 'key' && r.value?.type === 'stream' ? { ...r, value: canonicalizeRecord({ kind: 'key', db: 0, key: r.key, expireAt: null, ...r.value }).value } : r);
    const strip = (rs: RdbRecord[]) => JSON.stringify(rs.map(canon), (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    expect(strip(merged)).toBe(strip(whole));
  });
});
