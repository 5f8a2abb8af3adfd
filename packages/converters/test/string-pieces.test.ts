// A big string handed over in pieces (`stringLength` on every piece: the RDB parser's stringPieceBytes) gives, in
// respChunks (to-aof), the bytes of the whole string: SET with the whole length, the bytes as they come, PEXPIREAT
// after; a string whose pieces stop early is cut out with `pieces`. And rdbToAof / convert → RDB read an RDB's big
// strings in pieces into the bytes they wrote whole.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { convertRecords, dumpRdb, keyspaceJsonlStream, keyspaceRespStream, rdbToAof, respChunks, type PieceOutput } from '@redis-persist/converters';
import { writeRdb, writeRdbFile } from '@redis-persist/rdb-writer';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';

type KeyRecord = Extract<KeyspaceRecord, { kind: 'key' }>;
const MiB = 1 << 20;

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

function split(rec: KeyRecord & { type: 'string' }, size: number): KeyspacePiece[] {
  const out: KeyspacePiece[] = [];
  for (let i = 0; i < rec.value.length; i += size) {
    const p: KeyspacePiece = { ...rec, value: rec.value.subarray(i, i + size), stringLength: rec.value.length };
    if (i + size < rec.value.length) p.partial = true;
    out.push(p);
  }
  return out;
}

const b = (s: string): Uint8Array => Buffer.from(s);
const str = (key: string, value: Uint8Array, db = 0, expireAt: number | null = null): KeyRecord & { type: 'string' } => ({ kind: 'key', db, key: b(key), expireAt, type: 'string', value });
const text = Buffer.from('pieces of a string, '.repeat(200_000));
let x = 3;
const random = Buffer.from(Array.from({ length: 3 * MiB + 1 }, () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
const keys = [str('small', b('v')), str('text', text, 0, 4102444800000), str('random', random, 2), str('after', b('w'), 2)];

describe('a string in pieces', () => {
  it('respChunks: the bytes of the whole string, whatever the piece sizes', async () => {
    const whole = await bytesOf(respChunks(keys));
    for (const size of [1000, 65_536, MiB, 5 * MiB]) {
      const pieces = keys.flatMap((k) => (k.value.length > 10 ? split(k, size) : [k]));
      expect((await bytesOf(respChunks(pieces))).equals(whole), `pieces of ${size}`).toBe(true);
    }
  });

  it('respChunks with `pieces`: a string whose pieces stop early is dropped from where its SET started', async () => {
    const got: [string, number | null][] = [];
    const out: PieceOutput = { drop: (_db, key, at) => got.push([Buffer.from(key).toString(), at]) };
    const early = split(keys[1]!, 100_000).slice(0, 5);
    const chunks: Buffer[] = [];
    for await (const c of respChunks([keys[0]!, ...early, keys[3]!], { pieces: out })) chunks.push(Buffer.from(c));
    const before = (await bytesOf(respChunks([keys[0]!]))).length;
    expect(got).toEqual([['text', before]]);
  });

  it('keyspaceRespStream (canonical order): the bytes of the whole strings; one whose pieces stop early is dropped', async () => {
    const unsorted = [keys[2]!, keys[3]!, keys[1]!, keys[0]!];
    const whole = await bytesOf(keyspaceRespStream(unsorted));
    for (const size of [1000, MiB]) {
      const pieces = unsorted.flatMap((k) => (k.value.length > 10 ? split(k, size) : [k]));
      expect((await bytesOf(keyspaceRespStream(pieces, { memoryBudgetBytes: 1 << 16 }))).equals(whole), `pieces of ${size}`).toBe(true);
    }
    const got: [string, number | null][] = [];
    const early = split(keys[1]!, 100_000).slice(0, 5);
    const out = await bytesOf(keyspaceRespStream([keys[0]!, ...early, keys[3]!], { pieces: { drop: (_db, key, at) => got.push([Buffer.from(key).toString(), at]) } }));
    expect(got).toEqual([['text', null]]);
    expect(out.equals(await bytesOf(keyspaceRespStream([keys[0]!, keys[3]!])))).toBe(true);
    await expect(bytesOf(keyspaceRespStream([keys[0]!, ...early]))).rejects.toThrow(/partial key/);
  });

  it('keyspaceJsonlStream (canonical order): the line of the whole string, text or base64, whatever the cuts', async () => {
    const multi = Buffer.from('é€😀 and \\ "quotes" \n tabs\t '.repeat(30_000));
    const lateBad = Buffer.concat([multi.subarray(0, 600_000), Buffer.from([0xff]), multi.subarray(0, 100_000)]);
    const cutEnd = Buffer.concat([multi.subarray(0, 200_000), Buffer.from([0xf0, 0x9f])]);
    const odd = random.subarray(0, 1_000_001);
    const strs = [str('multi', multi, 1), str('late-bad', lateBad, 1, 4102444800000), str('cut-end', cutEnd), str('odd', odd), ...keys];
    const whole = await bytesOf(keyspaceJsonlStream(strs));
    expect(whole.toString()).toContain('"key":"late-bad","type":"string","expireAt":4102444800000,"value":{"base64":"');
    expect(whole.toString()).toContain('"key":"multi","type":"string","expireAt":null,"value":"é€😀 and');
    for (const size of [1000, 1001, 1002, 1003, 65_537, MiB]) {
      const pieces = strs.flatMap((k) => (k.value.length > 10 ? split(k, size) : [k]));
      expect((await bytesOf(keyspaceJsonlStream(pieces, { memoryBudgetBytes: 1 << 16 }))).equals(whole), `pieces of ${size}`).toBe(true);
    }
    const got: [string, number | null][] = [];
    const early = split(keys[1]!, 100_000).slice(0, 5);
    const out = await bytesOf(keyspaceJsonlStream([keys[0]!, ...early, keys[3]!], { pieces: { drop: (_db, key, at) => got.push([Buffer.from(key).toString(), at]) } }));
    expect(got).toEqual([['text', null]]);
    expect(out.equals(await bytesOf(keyspaceJsonlStream([keys[0]!, keys[3]!])))).toBe(true);
  });

  it('rdbToAof and convert → RDB read big strings in pieces into the bytes of the whole strings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'string-pieces-'));
    try {
      const rdb = join(dir, 'in.rdb');
      await writeRdbFile(rdb, keys, { aux: { ctime: '0' } });
      // the parser does hand them out in pieces
      let partials = 0;
      for await (const r of convertRecords({ format: 'rdb', source: rdb }, 'rdb')) if ((r as KeyspacePiece).partial && r.kind === 'key' && r.type === 'string') partials++;
      expect(partials).toBeGreaterThan(2);
      const viaPieces = await bytesOf(writeRdb(convertRecords({ format: 'rdb', source: rdb }, 'rdb'), { aux: { ctime: '0' } }));
      const whole = await bytesOf(writeRdb(rdbKeyspaceRecords(rdb), { aux: { ctime: '0' } }));
      expect(viaPieces.equals(whole)).toBe(true);
      expect(viaPieces.equals(readFileSync(rdb))).toBe(true);
      await rdbToAof(rdb, join(dir, 'out.aof'), { layout: 'file', now: 0 });
      expect(readFileSync(join(dir, 'out.aof')).equals(await bytesOf(respChunks(rdbKeyspaceRecords(rdb))))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dumpRdb reads big strings in pieces (RESP, canonical JSON Lines) into the bytes of the whole strings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'string-pieces-'));
    try {
      const rdb = join(dir, 'in.rdb');
      await writeRdbFile(rdb, keys, { aux: { ctime: '0' } });
      const whole = () => rdbKeyspaceRecords(rdb);
      const forms: [string, AsyncIterable<Uint8Array>, AsyncIterable<Uint8Array>][] = [
        ['resp file', dumpRdb(rdb, { format: 'resp', order: 'file', now: 0 }), respChunks(whole())],
        ['resp canonical', dumpRdb(rdb, { format: 'resp', order: 'canonical', now: 0 }), keyspaceRespStream(whole())],
        ['jsonl canonical', dumpRdb(rdb, { format: 'jsonl', order: 'canonical', now: 0 }), keyspaceJsonlStream(whole())],
        ['jsonl file', dumpRdb(rdb, { format: 'jsonl', order: 'file', now: 0 }), keyspaceJsonlStream(whole(), { order: 'file' })],
      ];
      for (const [name, got, want] of forms) expect((await bytesOf(got)).equals(await bytesOf(want)), name).toBe(true);
      // they come in pieces: cut inside the 3 MiB string, its first pieces went out and are dropped (read whole, the
      // parser would fail before handing any of it out)
      const cut = join(dir, 'cut.rdb');
      const all = readFileSync(rdb);
      writeFileSync(cut, all.subarray(0, all.length - (3 * MiB) / 2));
      for (const [format, order] of [['resp', 'file'], ['resp', 'canonical'], ['jsonl', 'canonical']] as const) {
        const dropped: string[] = [];
        let damage = '';
        await bytesOf(dumpRdb(cut, { format, order, now: 0, pieces: { drop: (_db, key) => void dropped.push(Buffer.from(key).toString()) }, onDamage: (e) => void (damage = e.code) }));
        expect([format, order, damage, dropped]).toEqual([format, order, 'truncated', ['random']]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
