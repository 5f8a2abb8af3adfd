// A list/set/zset/hash handed to respChunks in pieces (`partial: true`) of any sizes gives the bytes of the whole
// value: commands batched by 64 across piece boundaries, PEXPIREAT after the last piece (also when that piece is
// empty), a hash with field TTLs one field per command; a key whose pieces stop early is cut out with `pieces`.
import { describe, expect, it } from 'vitest';
import type { Bytes, KeyspacePiece, KeyspaceRecord } from '@redis-persist/keyspace';
import { respChunks, type PieceOutput } from '@redis-persist/converters';

type KeyRecord = Extract<KeyspaceRecord, { kind: 'key' }>;

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** `rec` cut into pieces of the given sizes (the rest in the last piece). */
function split(rec: KeyRecord, sizes: number[]): KeyspacePiece[] {
  const all = rec.value as readonly unknown[];
  const out: KeyspacePiece[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push({ ...rec, value: all.slice(at, at + n), partial: true } as KeyspacePiece);
    at += n;
  }
  out.push({ ...rec, value: all.slice(at) } as KeyspacePiece);
  return out;
}

const b = (s: string): Uint8Array => Buffer.from(s);
const small: KeyspaceRecord = { kind: 'key', db: 0, key: b('small'), expireAt: null, type: 'string', value: b('v') };

function keys(): KeyRecord[] {
  return [
    { kind: 'key', db: 0, key: b('list'), expireAt: 4102444800000, type: 'list', value: Array.from({ length: 1000 }, (_, i) => b(`e${i}`)) },
    { kind: 'key', db: 1, key: b('set'), expireAt: 4102444800001, type: 'set', value: Array.from({ length: 640 }, (_, i) => b(`m${i}`)) },
    { kind: 'key', db: 1, key: b('zset'), expireAt: null, type: 'zset', value: Array.from({ length: 333 }, (_, i): [Uint8Array, number] => [b(`z${i}`), i * 1.5]) },
    { kind: 'key', db: 2, key: b('hash'), expireAt: null, type: 'hash', value: Array.from({ length: 300 }, (_, i) => ({ field: b(`f${i}`), value: b(`v${i}`), expireAt: null })) },
    { kind: 'key', db: 2, key: b('hash-ttl'), expireAt: 4102444800002, type: 'hash', value: Array.from({ length: 300 }, (_, i) => ({ field: b(`f${i}`), value: b(`v${i}`), expireAt: i % 7 === 0 ? 4102444800000 + i : null })) },
  ];
}

describe('respChunks: a collection in pieces', () => {
  it('gives the bytes of the whole value, whatever the piece sizes', async () => {
    const whole = await bytesOf(respChunks([small, ...keys(), small]));
    for (const sizes of [[1], [63], [64], [65, 1, 127], [100, 100, 100], [7, 0, 250], [128, 128, 128, 128, 128, 64]]) {
      const pieces = keys().flatMap((k) => split(k, sizes));
      expect((await bytesOf(respChunks([small, ...pieces, small]))).equals(whole), sizes.join(',')).toBe(true);
    }
  });

  it('writes the PEXPIREAT after an empty last piece', async () => {
    const set = keys()[1]!;
    const text = (await bytesOf(respChunks(split(set, [320, 320])))).toString('latin1');
    expect(text.endsWith('*3\r\n$9\r\nPEXPIREAT\r\n$3\r\nset\r\n$13\r\n4102444800001\r\n')).toBe(true);
    expect(text.split('SADD').length - 1).toBe(10);
  });

  it('with `pieces`, leaves out a key whose pieces stop early (elements waiting included)', async () => {
    const list = keys()[0]!;
    const dropped: { key: string; at: number | null }[] = [];
    const sink: PieceOutput = { drop: (_db: number, key: Bytes, at: number | null) => void dropped.push({ key: Buffer.from(key).toString(), at }) };
    const unfinished = split(list, [100, 100]).slice(0, 2);
    const out = await bytesOf(respChunks([small, ...unfinished, small], { pieces: sink }));
    expect(out.equals(await bytesOf(respChunks([small, small])))).toBe(true);
    expect(dropped.map((d) => d.key)).toEqual(['list']);
    // without `pieces`, what came is written (elements waiting for a full command included)
    const all = (await bytesOf(respChunks([small, ...unfinished, small]))).toString('latin1');
    expect(all.split('$4\r\nlist\r\n').length - 1).toBe(4);
    expect(all.includes('$4\r\ne199\r\n')).toBe(true);
    expect(all.includes('$4\r\ne200\r\n')).toBe(false);
  });
});
