// splitRdb / mergeRdb offline: random keyspaces written by rdb-writer are split by a slot map (verbatim, fed in
// tiny chunks so that keys arrive in parts, and re-encoded), every part holds exactly the keys of its slots, and
// merging the parts gives the input back. Duplicates, other dbs and failures leave nothing behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { checkRdb, rdbKeyspaceRecords } from '@redis-persist/rdb';
import { writeRdb } from '@redis-persist/rdb-writer';
import { ClusterError, KeyDigestSet, keyHashSlot, mergeRdb, slotMapFromRanges, splitKeyspace, splitRdb, slotOwner } from '@redis-persist/cluster';
import { keyspaceArb } from '../../rdb-writer/test/arbitraries.js';

const tmp = mkdtempSync(join(tmpdir(), 'cluster-split-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(tmp, `${name}-${n++}`);

async function rdbBytes(records: KeyspaceRecord[], rdbVersion = 10): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of writeRdb(records, { rdbVersion })) chunks.push(c);
  return Buffer.concat(chunks);
}

async function read(path: string): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of rdbKeyspaceRecords(path)) out.push(r);
  return out;
}

function* tiny(b: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.slice(i, i + size);
}

const map = slotMapFromRanges('0-5000,5001-9000+12000-16383,9001-11999');
const keys = (rs: KeyspaceRecord[]) => rs.filter((r) => r.kind === 'key');
const fns = (rs: KeyspaceRecord[]) => rs.filter((r) => r.kind === 'function');

describe('splitRdb', () => {
  it('every part holds exactly the keys of its slots, verbatim or re-encoded; merge gives the input back', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyspaceArb({ streams: { metadata: true, activeTime: false }, functions: true, dbs: [0], maxKeys: 25 }),
        fc.constantFrom(29, 1000, 1 << 20),
        fc.constantFrom(undefined, 11),
        async (records, chunk, rdbVersion) => {
          const input = await rdbBytes(records);
          const out = fresh('split');
          const res = await splitRdb(tiny(input, chunk), { map, output: out, rdbVersion, file: 'in.rdb' });
          expect(res.verbatim).toBe(rdbVersion === undefined);
          expect(res.rdbVersion).toBe(rdbVersion ?? 10);
          expect(readdirSync(out).sort()).toEqual(['0-5000.rdb', '5001-9000+12000-16383.rdb', '9001-11999.rdb']);
          const all: KeyspaceRecord[] = [];
          for (const p of res.parts) {
            const path = join(out, p.file);
            const report = await checkRdb(path);
            expect(report.ok, report.error?.message).toBe(true);
            expect(report.version).toBe(rdbVersion ?? 10);
            const got = await read(path);
            expect(sameKeyspace(fns(got), fns(records)).equal).toBe(true);
            for (const k of keys(got)) expect(slotOwner(map, keyHashSlot(k.key)).id).toBe(p.node.id);
            expect(keys(got).length).toBe(p.keys);
            all.push(...keys(got));
          }
          // RDB 11 gives stream consumers an active time (their seen time when the input had none)
          const ignore = rdbVersion === 11 ? (['streamConsumerTimes'] as const) : [];
          const cmp = sameKeyspace(all, keys(records), { ignore: [...ignore] });
          expect(cmp.equal, cmp.diff.join('\n')).toBe(true);
          expect(res.keys).toBe(keys(records).length);

          const merged = fresh('merged.rdb');
          const m = await mergeRdb(res.parts.map((p) => join(out, p.file)), { output: merged });
          expect(m.duplicates).toBe(0);
          const back = await read(merged);
          const cmp2 = sameKeyspace(back, records, { ignore: [...ignore] });
          expect(cmp2.equal, cmp2.diff.join('\n')).toBe(true);
          expect(m.rdbVersion).toBe(rdbVersion ?? 10);
          expect(m.inputs.every((i) => i.verbatim)).toBe(true);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('copies aux fields (not the replication ones) and a key bigger than many chunks', async () => {
    const big = randomBytes(3 << 20);
    const records: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: Buffer.from('big{a}'), type: 'string', expireAt: 4_000_000_000_000, value: big },
      { kind: 'key', db: 0, key: Buffer.from('list{a}'), type: 'list', expireAt: null, value: Array.from({ length: 3000 }, (_, i) => Buffer.from(`element-${i}-`.repeat(20))) },
      { kind: 'key', db: 0, key: Buffer.from('small'), type: 'string', expireAt: null, value: Buffer.from('v') },
    ];
    const chunks: Uint8Array[] = [];
    for await (const c of writeRdb(records, { rdbVersion: 10, aux: { 'repl-id': 'a'.repeat(40), 'repl-offset': '123', 'my-aux': 'kept' } })) chunks.push(c);
    const input = fresh('in.rdb');
    writeFileSync(input, Buffer.concat(chunks));
    const out = fresh('split');
    const res = await splitRdb(input, { map: slotMapFromRanges('0-8191,8192-16383'), output: out });
    const owner = res.parts.find((p) => p.keys === 2)!;
    expect(owner.expires).toBe(1);
    const report = await checkRdb(join(out, owner.file));
    expect(report.aux['my-aux']).toBe('kept');
    expect(report.aux['repl-id']).toBeUndefined();
    expect(report.aux['repl-offset']).toBeUndefined();
    expect(report.aux['redis-ver']).toBeDefined();
    const got = await read(join(out, owner.file));
    expect(sameKeyspace(got, records.slice(0, 2)).equal).toBe(true);
    // the big key went out verbatim: the part is about as big as the key
    expect(owner.bytes).toBeGreaterThan(3 << 20);
  });

  it('keys outside db 0 are refused (nothing is left), or one db is chosen and the others left out', async () => {
    const records: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: Buffer.from('a'), type: 'string', expireAt: null, value: Buffer.from('0') },
      { kind: 'key', db: 3, key: Buffer.from('b'), type: 'string', expireAt: null, value: Buffer.from('3') },
      { kind: 'key', db: 3, key: Buffer.from('c'), type: 'string', expireAt: null, value: Buffer.from('3') },
    ];
    const input = fresh('dbs.rdb');
    writeFileSync(input, await rdbBytes(records));
    const out = fresh('split');
    const err = await splitRdb(input, { map, output: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).code).toBe('other-db');
    expect((err as ClusterError).message).toContain('db 3 key "b"');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.startsWith('.'))).toEqual([]);
    const res = await splitRdb(input, { map, output: out, db: 3 });
    expect(res.keys).toBe(2);
    expect(res.skipped).toEqual([{ db: 0, keys: 1 }]);
    const all = (await Promise.all(res.parts.map((p) => read(join(out, p.file))))).flat();
    expect(all.map((r) => r.kind === 'key' && [r.db, Buffer.from(r.key).toString()])).toEqual(expect.arrayContaining([[0, 'b'], [0, 'c']]));
    // an existing non-empty output is refused; with force it is replaced and kept as .bak
    await expect(splitRdb(input, { map, output: out, db: 3 })).rejects.toThrow(/already exists/);
    const again = await splitRdb(input, { map, output: out, db: 0, force: true });
    expect(again.replacedBackup).toBe(`${out}.bak`);
    expect(readdirSync(`${out}.bak`).length).toBe(3);
  });

  it('splitKeyspace (a replayed AOF) writes the requested version', async () => {
    const records: KeyspaceRecord[] = [
      { kind: 'function', library: 'lib', engine: 'LUA', code: Buffer.from("#!lua name=lib\nredis.register_function('f', function() return 1 end)") },
      { kind: 'key', db: 0, key: Buffer.from('k1'), type: 'set', expireAt: null, value: [Buffer.from('1'), Buffer.from('x')] },
      { kind: 'key', db: 0, key: Buffer.from('k2'), type: 'zset', expireAt: 3_500_000_000_000, value: [[Buffer.from('m'), 1.5]] },
    ];
    const out = fresh('split');
    const res = await splitKeyspace(records, { map, output: out, rdbVersion: 9, dropUnsupported: true });
    expect(res.rdbVersion).toBe(9);
    expect(res.functions).toBe(0);
    expect(res.dropped.map((d) => d.library)).toEqual(['lib']);
    const all = (await Promise.all(res.parts.map((p) => read(join(out, p.file))))).flat();
    expect(sameKeyspace(all, records.slice(1)).equal).toBe(true);
  });
});

describe('mergeRdb', () => {
  const rec = (key: string, value: string, db = 0): KeyspaceRecord => ({ kind: 'key', db, key: Buffer.from(key), type: 'string', expireAt: null, value: Buffer.from(value) });
  const fn = (code: string): KeyspaceRecord => ({ kind: 'function', library: 'lib', engine: 'LUA', code: Buffer.from(`#!lua name=lib\n${code}`) });

  it('a key in two inputs is refused naming both files (nothing written), or the first/last one is kept', async () => {
    const a = fresh('a.rdb');
    const b = fresh('b.rdb');
    const c = fresh('c.rdb');
    writeFileSync(a, await rdbBytes([fn('-- same'), rec('x', 'from a'), rec('y', 'a'), rec('x', 'other db', 1)]));
    writeFileSync(b, await rdbBytes([fn('-- same'), rec('z', 'b')]));
    writeFileSync(c, await rdbBytes([rec('x', 'from c'), rec('w', 'c')], 9));
    const out = fresh('m.rdb');
    const err = await mergeRdb([a, b, c], { output: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).code).toBe('duplicate-key');
    expect((err as ClusterError).message).toBe(`db 0 key "x" is in both ${a} and ${c}; nothing was written (choose which one to keep: first or last)`);
    expect(existsSync(out)).toBe(false);

    const first = await mergeRdb([a, b, c], { output: out, onDuplicate: 'first' });
    expect(first.duplicates).toBe(1);
    expect(first.functions).toBe(1);
    expect(first.inputs.map((i) => [i.verbatim, i.keys, i.kept])).toEqual([[true, 3, 3], [true, 1, 1], [false, 2, 1]]);
    const got = await read(out);
    expect(sameKeyspace(got, [fn('-- same'), rec('x', 'from a'), rec('y', 'a'), rec('x', 'other db', 1), rec('z', 'b'), rec('w', 'c')]).equal).toBe(true);

    const last = await mergeRdb([a, b, c], { output: out, onDuplicate: 'last', force: true });
    expect(last.duplicateKeys.map((d) => [Buffer.from(d.key).toString(), d.kept, d.dropped])).toEqual([['x', c, a]]);
    expect(sameKeyspace(await read(out), [fn('-- same'), rec('x', 'from c'), rec('y', 'a'), rec('x', 'other db', 1), rec('z', 'b'), rec('w', 'c')]).equal).toBe(true);
    expect(existsSync(`${out}.bak`)).toBe(true);
  });

  it('function libraries: the same code once, different code refused unless first/last', async () => {
    const a = fresh('a.rdb');
    const b = fresh('b.rdb');
    writeFileSync(a, await rdbBytes([fn('-- one'), rec('k1', '1')]));
    writeFileSync(b, await rdbBytes([fn('-- two'), rec('k2', '2')]));
    const out = fresh('m.rdb');
    await expect(mergeRdb([a, b], { output: out })).rejects.toThrow(`function library "lib" differs between ${a} and ${b}`);
    expect(existsSync(out)).toBe(false);
    const r = await mergeRdb([a, b], { output: out, onDuplicate: 'last' });
    expect(r.duplicateFunctions).toEqual([{ library: 'lib', kept: b, dropped: a }]);
    const got = await read(out);
    expect(fns(got)).toEqual([expect.objectContaining({ code: Buffer.from('#!lua name=lib\n-- two') })]);
  });

  it('the aux fields of the first input, and its version unless asked', async () => {
    const a = fresh('a.rdb');
    const chunks: Uint8Array[] = [];
    for await (const c of writeRdb([rec('k', 'v')], { rdbVersion: 9, aux: { 'first-aux': '1', 'repl-id': 'b'.repeat(40) } })) chunks.push(c);
    writeFileSync(a, Buffer.concat(chunks));
    const b = fresh('b.rdb');
    writeFileSync(b, await rdbBytes([rec('k2', 'v')], 10));
    const out = fresh('m.rdb');
    const r = await mergeRdb([a, b], { output: out });
    expect(r.rdbVersion).toBe(9);
    const rep = await checkRdb(out);
    expect(rep.ok).toBe(true);
    expect(rep.aux['first-aux']).toBe('1');
    expect(rep.aux['repl-id']).toBeUndefined();
    expect(readFileSync(out).subarray(0, 9).toString()).toBe('REDIS0009');
  });
});

describe('KeyDigestSet', () => {
  it('finds every repeated key and no false ones among 300k', () => {
    const s = new KeyDigestSet(16);
    let seen = 0;
    for (let i = 0; i < 300_000; i++) if (s.add(i % 3, Buffer.from(`key:${i}`), i & 7) !== -1) seen++;
    expect(seen).toBe(0);
    expect(s.add(1, Buffer.from('key:1'), 9)).toBe(1);
    expect(s.add(0, Buffer.from('key:1'), 9)).toBe(-1);
    expect(s.size).toBe(300_001);
    expect(s.memory).toBeLessThan(300_001 * 30);
  });
});

describe('SLOT_INFO', () => {
  it('goes with the keys of its slot to their owner (RDB 12), and is left out for older targets', async () => {
    const { readRdbRaw } = await import('@redis-persist/cluster');
    const { readRdb } = await import('@redis-persist/rdb');
    const { Crc64 } = await import('@redis-persist/bytes');
    const a = Buffer.from('a'); // slot 15495
    const b = Buffer.from('b'); // slot 3300
    const records: KeyspaceRecord[] = [
      { kind: 'key', db: 0, key: a, type: 'string', expireAt: 4_000_000_000_000, value: Buffer.from('1') },
      { kind: 'key', db: 0, key: b, type: 'string', expireAt: null, value: Buffer.from('2') },
    ];
    // a cluster node's save: each slot's keys after a SLOT_INFO (slot, keys, expires)
    const raws = new Map<string, Buffer>();
    for await (const ev of readRdbRaw(await rdbBytes(records, 12))) {
      if (ev.kind === 'record' && ev.rec.kind === 'key') raws.set(Buffer.from(ev.rec.key).toString(), Buffer.concat(ev.raw));
    }
    const body = Buffer.concat([
      Buffer.from('REDIS0012'),
      Buffer.from([0xfe, 0x00]),
      Buffer.from([0xf4, 0x40 | (15495 >> 8), 15495 & 0xff, 1, 1]),
      raws.get('a')!,
      Buffer.from([0xf4, 0x40 | (3300 >> 8), 3300 & 0xff, 1, 0]),
      raws.get('b')!,
      Buffer.from([0xff]),
    ]);
    const crc = Buffer.alloc(8);
    new Crc64().update(body).writeLE(crc, 0);
    const input = fresh('slots.rdb');
    writeFileSync(input, Buffer.concat([body, crc]));
    expect(keyHashSlot(a)).toBe(15495);
    expect(keyHashSlot(b)).toBe(3300);
    const slotInfos = async (path: string) => {
      const out: [number, number, number][] = [];
      for await (const r of readRdb(path, { values: false })) if (r.kind === 'slot-info') out.push([r.slot, r.size, r.expires]);
      return out;
    };
    const m2 = slotMapFromRanges('0-8191,8192-16383');
    const out = fresh('split');
    const res = await splitRdb(input, { map: m2, output: out });
    expect(res.verbatim).toBe(true);
    expect(await slotInfos(join(out, '0-8191.rdb'))).toEqual([[3300, 1, 0]]);
    expect(await slotInfos(join(out, '8192-16383.rdb'))).toEqual([[15495, 1, 1]]);
    const merged = fresh('m.rdb');
    await mergeRdb([join(out, '0-8191.rdb'), join(out, '8192-16383.rdb')], { output: merged });
    expect(await slotInfos(merged)).toEqual([[3300, 1, 0], [15495, 1, 1]]);
    const old = fresh('split');
    const r11 = await splitRdb(input, { map: m2, output: old, rdbVersion: 11 });
    expect(r11.verbatim).toBe(false);
    expect(await slotInfos(join(old, '8192-16383.rdb'))).toEqual([]);
    expect(sameKeyspace(await read(join(old, '8192-16383.rdb')), records.slice(0, 1)).equal).toBe(true);
  });
});
