// A stream whose consumer group has thousands of consumers and pending entries, made by redis-server when it is
// installed (XADD, XGROUP CREATE, an XREADGROUP per consumer) or else by our writer. Read in pieces (chunkElements,
// the bounded-memory path of `rdb-tool dump`) it gives what the whole value gives: the same records, the same
// canonical JSON Lines (in both orders, with a sort budget small enough to spill) and the same RESP. The checks
// Redis makes on a group's PEL and consumers (compact tables here) keep redis-check-rdb's verdict, also on orders
// Redis never writes but loads, and on broken PELs. A large group (the bench has the 1M-consumer file) runs too.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crc64 } from '@redis-persist/bytes';
import {
  canonicalizeRecord,
  type KeyRecord,
  type KeyspacePiece,
  type KeyspaceRecord,
  type StreamConsumer,
  type StreamEntry,
  type StreamPendingEntry,
  type StreamValue,
} from '@redis-persist/keyspace';
import { sortKeyspace } from '@redis-persist/extsort';
import { keyspaceJsonlStream, keyspaceRespStream } from '@redis-persist/converters';
import { checkRdb, rdbKeyspaceRecords, type RdbKeyspaceOptions } from '@redis-persist/rdb';
import { writeRdbFile } from '@redis-persist/rdb-writer';
import { respChunks } from '@redis-persist/converters';
import { redisAvailable, redisToolAvailable, startRedis } from '@redis-persist/testkit';
import { joinStreamPiece } from './helpers.js';
import { redisCheckRdb } from './reference.live.js';

const hasRedis = redisAvailable();
const hasCheck = redisToolAvailable('redis-check-rdb');
const KEY = 'stream:big-group';

/** Pending entries of consumer `i` (one, every 8th three; every 16th none: XGROUP CREATECONSUMER). */
const owned = (i: number): number => (i % 16 === 15 ? 0 : i % 8 === 7 ? 3 : 1);
/** Consumer names in an order the server has to sort. */
const consumerName = (i: number, n: number): string => `consumer:${((i * 7919) % n).toString(36)}`;

/** The fixture, written by redis-server: `consumers` consumers of group `workers` (and an empty group `idle`). */
async function redisStreamRdb(consumers: number): Promise<Uint8Array> {
  const server = await startRedis();
  try {
    const c = server.client;
    let entries = 0;
    for (let i = 0; i < consumers; i++) entries += owned(i);
    for (let done = 0; done < entries; done += 2000) {
      const batch: string[][] = [];
      for (let i = done; i < Math.min(entries, done + 2000); i++) batch.push(['XADD', KEY, `${1700000000000 + Math.floor(i / 4)}-${i % 4}`, 'n', String(i)]);
      await c.pipeline(batch);
    }
    await c.call('XGROUP', 'CREATE', KEY, 'workers', '0');
    await c.call('XGROUP', 'CREATE', KEY, 'idle', '$');
    for (let done = 0; done < consumers; done += 2000) {
      const batch: string[][] = [];
      for (let i = done; i < Math.min(consumers, done + 2000); i++) {
        const name = consumerName(i, consumers);
        batch.push(owned(i) === 0 ? ['XGROUP', 'CREATECONSUMER', KEY, 'workers', name] : ['XREADGROUP', 'GROUP', 'workers', name, 'COUNT', String(owned(i)), 'STREAMS', KEY, '>']);
      }
      await c.pipeline(batch);
    }
    expect(await c.callText('SAVE')).toBe('OK');
    return readFileSync(join(server.dir, 'dump.rdb'));
  } finally {
    await server.stop();
  }
}

/** The same shape written by our writer (RDB 11: consumers with active times). */
async function writerStreamRdb(consumers: number, path: string): Promise<Uint8Array> {
  const entries: StreamEntry[] = [];
  const pending: StreamPendingEntry[] = [];
  const cons: StreamConsumer[] = [];
  let next = 0;
  for (let i = 0; i < consumers; i++) {
    const name = Buffer.from(consumerName(i, consumers));
    for (let k = 0; k < owned(i); k++, next++) {
      const id = `${1700000000000 + Math.floor(next / 4)}-${next % 4}`;
      entries.push({ id, fields: [[Buffer.from('n'), Buffer.from(String(next))]] });
      pending.push({ id, consumer: name, deliveryTime: 1796645979000 + (next % 977), deliveryCount: 1 + (next % 3) });
    }
    cons.push({ name, seenTime: 1796645979000 + (i % 501), activeTime: 1796645979000 + (i % 499) });
  }
  const last = entries.at(-1)!.id;
  const value: StreamValue = {
    entries,
    length: entries.length,
    lastId: last,
    firstId: entries[0]!.id,
    maxDeletedId: '0-0',
    entriesAdded: entries.length,
    groups: [
      { name: Buffer.from('workers'), lastDeliveredId: last, entriesRead: entries.length, pending, consumers: cons },
      { name: Buffer.from('idle'), lastDeliveredId: last, entriesRead: entries.length, pending: [], consumers: [] },
    ],
  };
  await writeRdbFile(path, [{ kind: 'key', db: 0, key: Buffer.from(KEY), expireAt: null, type: 'stream', value }], { rdbVersion: 11 });
  return readFileSync(path);
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function bytesOf(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out).toString('latin1');
}

/** The key records of the file, pieces of one stream joined into one. */
function joinPieces(records: KeyspaceRecord[]): KeyspaceRecord[] {
  const out: KeyspaceRecord[] = [];
  let acc: StreamValue | null = null;
  for (const r of records) {
    if (r.kind !== 'key' || r.type !== 'stream') {
      out.push(r);
      continue;
    }
    acc = joinStreamPiece(acc, r.value);
    if ((r as KeyspacePiece).partial) continue;
    out.push({ ...r, value: acc });
    acc = null;
  }
  return out;
}

const show = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v));

describe('a stream group of thousands of consumers', () => {
  let dir: string;
  let file: string;
  let data: Uint8Array;
  const consumers = 5000;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stream-consumers-'));
    file = join(dir, 'group.rdb');
    data = hasRedis ? await redisStreamRdb(consumers) : await writerStreamRdb(consumers, file);
    writeFileSync(file, data);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is valid for redis-check-rdb and for us', async () => {
    if (hasCheck) expect((await redisCheckRdb(file)).ok).toBe(true);
    const r = await checkRdb(file);
    expect(r.error ?? null).toBeNull();
    expect(r.ok).toBe(true);
  });

  const base: RdbKeyspaceOptions = { streamMeta: 'file' };

  it('in pieces (both pending orders) adds up to the whole value', async () => {
    const whole = await collect(rdbKeyspaceRecords(file, base));
    const s = whole.find((r) => r.kind === 'key' && r.type === 'stream') as KeyRecord & { type: 'stream' };
    expect(s.value.groups.map((g) => [Buffer.from(g.name).toString(), g.consumers.length])).toEqual([
      ['idle', 0],
      ['workers', consumers],
    ]);
    for (const order of ['pel', 'consumer'] as const) {
      const pieces = await collect(rdbKeyspaceRecords(file, { ...base, chunkElements: 7, streamPendingOrder: order }));
      expect(pieces.filter((r) => (r as KeyspacePiece).partial).length).toBeGreaterThan(1000);
      const joined = joinPieces(pieces);
      // 'pel': the pending entries in the group PEL's order, as in the whole value; 'consumer': the same set
      if (order === 'pel') expect(show(joined)).toBe(show(whole));
      else expect(show(joined.map((r) => canonicalizeRecord(r)))).toBe(show(whole.map((r) => canonicalizeRecord(r))));
    }
  });

  it('gives the same JSON Lines in pieces as whole, in both orders, sorting with little memory', async () => {
    const want = await bytesOf(keyspaceJsonlStream(rdbKeyspaceRecords(file, base)));
    expect(want.split('\n').length).toBe(2);
    for (const pendingOrder of ['pel', 'consumer'] as const) {
      for (const order of ['canonical', 'file'] as const) {
        const pieces = rdbKeyspaceRecords(file, { ...base, chunkElements: 50, streamPendingOrder: pendingOrder });
        // 256 KiB of sort memory: a group's pending entries by consumer spill runs
        const got = await bytesOf(keyspaceJsonlStream(pieces, { order, memoryBudgetBytes: 256 * 1024, tmpDir: dir }));
        expect(got === want, `${pendingOrder} pieces, ${order} order`).toBe(true);
      }
    }
  });

  it('gives the same RESP in pieces (consumer by consumer) as whole, in file and canonical order', async () => {
    const opts: RdbKeyspaceOptions = { streamMeta: 'derived' };
    const want = await bytesOf(respChunks(rdbKeyspaceRecords(file, opts)));
    const got = await bytesOf(respChunks(rdbKeyspaceRecords(file, { ...opts, chunkElements: 7, streamPendingOrder: 'consumer' })));
    expect(got === want).toBe(true);
    const wantSorted = await bytesOf(respChunks(sortKeyspace(rdbKeyspaceRecords(file, opts))));
    const pieces = rdbKeyspaceRecords(file, { ...opts, chunkElements: 7, streamPendingOrder: 'consumer' });
    expect((await bytesOf(keyspaceRespStream(pieces, { memoryBudgetBytes: 256 * 1024, tmpDir: dir }))) === wantSorted).toBe(true);
    expect(want.split('XCLAIM').length - 1).toBe(data.length > 0 ? countPending(consumers) : 0);
  });

  describe('orders Redis never writes, and broken groups: the verdict of redis-check-rdb', () => {
    const cases: [string, (g: GroupLayout, b: Buffer) => Buffer, boolean][] = [
      ['the group PEL reversed', reversePel, true],
      ['the consumers reversed', reverseConsumers, true],
      ["a consumer's own PEL reversed", reverseOwnPel, true],
      ['a PEL entry twice', (g, b) => copyBytes(b, g.pel[0]!, g.pel[5]!, 16), false],
      ["a consumer's PEL entry not in the group PEL", (g, b) => setByte(b, g.consumers[3]!.ids[0]! + 15, 0xee), false],
      ['an entry owned by two consumers', (g, b) => copyBytes(b, g.consumers[1]!.ids[0]!, g.consumers[2]!.ids[0]!, 16), false],
      ['the same consumer name twice', sameName, false],
    ];
    for (const [what, mutate, valid] of cases) {
      it(what, async () => {
        const g = groupLayout(Buffer.from(data), 'workers');
        const b = withCrc(mutate(g, Buffer.from(data)));
        const path = join(dir, `mutated-${what.replace(/\W+/g, '-')}.rdb`);
        writeFileSync(path, b);
        if (hasCheck) expect((await redisCheckRdb(path)).ok).toBe(valid);
        const ours = await checkRdb(path);
        expect(ours.ok, ours.error?.message).toBe(valid);
        if (!valid) return;
        // the same keyspace as the file Redis wrote, whole and in pieces
        const want = await bytesOf(keyspaceJsonlStream(rdbKeyspaceRecords(file, base)));
        expect((await bytesOf(keyspaceJsonlStream(rdbKeyspaceRecords(path, base)))) === want).toBe(true);
        const pieces = rdbKeyspaceRecords(path, { ...base, chunkElements: 13 });
        expect((await bytesOf(keyspaceJsonlStream(pieces, { memoryBudgetBytes: 256 * 1024, tmpDir: dir }))) === want).toBe(true);
      });
    }
  });
});

describe('a large group', () => {
  it('of 100k consumers is checked and dumped in pieces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stream-consumers-large-'));
    try {
      const path = join(dir, 'large.rdb');
      await writerStreamRdb(100_000, path);
      const r = await checkRdb(path);
      expect(r.ok).toBe(true);
      let lines = 0;
      let last = '';
      for await (const c of keyspaceJsonlStream(rdbKeyspaceRecords(path, { chunkElements: 1000 }), { tmpDir: dir })) {
        const t = Buffer.from(c).toString('latin1');
        lines += t.split('\n').length - 1;
        last = (last + t).slice(-200);
      }
      expect(lines).toBe(1);
      expect(last.endsWith('}]}]}}\n')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

function countPending(consumers: number): number {
  let n = 0;
  for (let i = 0; i < consumers; i++) n += owned(i);
  return n;
}

// ---- where a group lies in the file (to rearrange it) ----

interface GroupLayout {
  /** Offsets of the group PEL entries (16-byte ID, 8-byte time, 1-byte count each). */
  pel: number[];
  pelEnd: number;
  /** Each consumer: where it starts and ends, where its name is, and its PEL IDs. */
  consumers: { start: number; end: number; name: number; nameLen: number; ids: number[] }[];
}

/** A length as Redis encodes it (6, 14, 32 or 64 bits). */
function readLen(b: Buffer, p: number): [number, number] {
  const c = b[p]!;
  if (c >> 6 === 0) return [c & 0x3f, p + 1];
  if (c >> 6 === 1) return [((c & 0x3f) << 8) | b[p + 1]!, p + 2];
  if (c === 0x80) return [b.readUInt32BE(p + 1), p + 5];
  if (c === 0x81) return [Number(b.readBigUInt64BE(p + 1)), p + 9];
  throw new Error(`unexpected length byte ${c} at ${p}`);
}

function groupLayout(b: Buffer, group: string): GroupLayout {
  // the group name as a string: its length byte, then the name, then last ID and entries-read
  const marker = Buffer.concat([Buffer.from([group.length]), Buffer.from(group)]);
  const at = b.indexOf(marker, b.indexOf(Buffer.from(KEY)) + KEY.length);
  let p = at + marker.length;
  const v3 = b.subarray(5, 9).toString() >= '0011';
  for (let k = 0; k < 3; k++) p = readLen(b, p)[1]; // last delivered ms, seq; entries-read
  let n: number;
  [n, p] = readLen(b, p);
  const pel: number[] = [];
  for (let k = 0; k < n; k++) {
    pel.push(p);
    p += 24;
    const c = b[p]!;
    if (c >= 64) throw new Error('delivery counts of one byte only');
    p += 1;
  }
  const pelEnd = p;
  [n, p] = readLen(b, p);
  const consumers: GroupLayout['consumers'] = [];
  for (let k = 0; k < n; k++) {
    const start = p;
    const [nameLen, q] = readLen(b, p);
    const name = q;
    p = q + nameLen + 8 + (v3 ? 8 : 0);
    let m: number;
    [m, p] = readLen(b, p);
    const ids: number[] = [];
    for (let j = 0; j < m; j++, p += 16) ids.push(p);
    consumers.push({ start, end: p, name, nameLen, ids });
  }
  return { pel, pelEnd, consumers };
}

function withCrc(b: Buffer): Buffer {
  const crc = new Crc64();
  crc.update(b.subarray(0, b.length - 8));
  crc.writeLE(b, b.length - 8);
  return b;
}

function reversePel(g: GroupLayout, b: Buffer): Buffer {
  const entries = g.pel.map((p) => Buffer.from(b.subarray(p, p + 25)));
  entries.reverse().forEach((e, k) => e.copy(b, g.pel[k]!));
  return b;
}

function reverseConsumers(g: GroupLayout, b: Buffer): Buffer {
  const cs = g.consumers;
  const from = cs[0]!.start;
  const to = cs.at(-1)!.end;
  Buffer.concat(cs.map((c) => Buffer.from(b.subarray(c.start, c.end))).reverse()).copy(b, from);
  expect(to - from).toBe(cs.reduce((n, c) => n + c.end - c.start, 0));
  return b;
}

function reverseOwnPel(g: GroupLayout, b: Buffer): Buffer {
  const c = g.consumers.find((x) => x.ids.length === 3)!;
  const ids = c.ids.map((p) => Buffer.from(b.subarray(p, p + 16)));
  ids.reverse().forEach((id, k) => id.copy(b, c.ids[k]!));
  return b;
}

function sameName(g: GroupLayout, b: Buffer): Buffer {
  // two consumers whose names have the same length: the second gets the first's name
  const cs = g.consumers;
  for (let i = 0; i < cs.length; i++) {
    for (let j = i + 1; j < Math.min(cs.length, i + 50); j++) {
      if (cs[i]!.nameLen === cs[j]!.nameLen) {
        b.copy(b, cs[j]!.name, cs[i]!.name, cs[i]!.name + cs[i]!.nameLen);
        return b;
      }
    }
  }
  throw new Error('no two names of one length');
}

function copyBytes(b: Buffer, from: number, to: number, n: number): Buffer {
  b.copy(b, to, from, from + n);
  return b;
}

function setByte(b: Buffer, at: number, v: number): Buffer {
  b[at] = v;
  return b;
}
