// keyspaceRespStream: the commands of sortKeyspace + commandsForKey (SELECT when the db changes), byte for byte,
// with keys whole or in pieces (lists, sets, zsets, hashes and streams), with any sort memory.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalizeRecord,
  compareKeyspaceRecords,
  type KeyspacePiece,
  type KeyspaceRecord,
  type StreamGroup,
  type StreamValue,
} from '@redis-persist/keyspace';
import { commandsForFunction, commandsForKey, keyspaceRespStream } from '@redis-persist/converters';
import { hexOf, recordArb } from '../../keyspace/test/arbitraries.js';

async function bytesOf(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString('latin1');
}

function resp(cmd: Uint8Array[]): string {
  return `*${cmd.length}\r\n` + cmd.map((a) => `$${a.length}\r\n${Buffer.from(a).toString('latin1')}\r\n`).join('');
}

/** What respChunks(sortKeyspace(records)) writes. */
function expected(recs: KeyspaceRecord[]): string {
  let out = '';
  let db = -1;
  for (const r of recs.map((x) => canonicalizeRecord(x)).sort(compareKeyspaceRecords)) {
    if (r.kind === 'function') {
      out += commandsForFunction(r).map(resp).join('');
      continue;
    }
    const cmds = commandsForKey(r);
    if (cmds.length === 0) continue;
    if (r.db !== db) {
      db = r.db;
      out += resp([Buffer.from('SELECT'), Buffer.from(String(db))]);
    }
    out += cmds.map(resp).join('');
  }
  return out;
}

/** A stream whose pending entries all name one of its (distinct) consumers, as a parsed RDB's do. */
function owned(s: StreamValue): StreamValue {
  const groups: StreamGroup[] = s.groups.map((g) => {
    const seen = new Set<string>();
    const consumers = g.consumers.filter((c) => !seen.has(hexOf(c.name)) && seen.add(hexOf(c.name)) !== null);
    const ids = new Set<string>();
    const pending = consumers.length === 0 ? [] : g.pending.filter((p) => !ids.has(p.id) && ids.add(p.id) !== null).map((p, i) => ({ ...p, consumer: consumers[(i * 5) % consumers.length]!.name }));
    return { ...g, consumers, pending };
  });
  return { ...s, entries: s.entries.filter((e) => e.fields.length > 0 && e.id !== '0-0'), groups };
}

/** Each collection in pieces of `size` elements; a stream in pieces: its entries, then its groups' parts. */
function* inPieces(recs: KeyspaceRecord[], size: number): Generator<KeyspacePiece> {
  for (const r of recs) {
    if (r.kind === 'key' && r.type === 'stream') {
      const s = r.value;
      const parts: { entries: StreamValue['entries']; groups: StreamGroup[] }[] = [];
      for (let i = 0; i < s.entries.length; i += size) parts.push({ entries: s.entries.slice(i, i + size), groups: [] });
      if (parts.length === 0) parts.push({ entries: [], groups: [] });
      for (const g of s.groups) {
        // consumers then pending entries, `size` at a time, a group going on under its name
        const items = [...g.consumers.map((c) => ({ c })), ...g.pending.map((p) => ({ p }))];
        if (items.length === 0) parts[parts.length - 1]!.groups.push(g);
        for (let i = 0; i < items.length; i += size) {
          const slice = items.slice(i, i + size);
          const part = { ...g, consumers: slice.flatMap((x) => ('c' in x ? [x.c] : [])), pending: slice.flatMap((x) => ('p' in x ? [x.p] : [])) };
          if (i === 0) parts[parts.length - 1]!.groups.push(part);
          else parts.push({ entries: [], groups: [part] });
        }
      }
      const meta = { length: s.length, lastId: s.lastId, firstId: s.firstId, maxDeletedId: s.maxDeletedId, entriesAdded: s.entriesAdded, ...(s.unreported ? { unreported: s.unreported } : {}) };
      for (let i = 0; i < parts.length; i++) {
        const piece: KeyspacePiece = { ...r, value: { ...meta, ...parts[i]! } };
        if (i < parts.length - 1) piece.partial = true;
        yield piece;
      }
      continue;
    }
    if (r.kind !== 'key' || !(r.type === 'list' || r.type === 'set' || r.type === 'zset' || r.type === 'hash') || r.value.length <= size) {
      yield r;
      continue;
    }
    const all = r.value as unknown[];
    for (let i = 0; i < all.length; i += size) {
      const piece = { ...r, value: all.slice(i, i + size) } as KeyspacePiece;
      if (i + size < all.length) piece.partial = true;
      yield piece;
    }
  }
}

const recordsArb = fc
  .uniqueArray(
    // module values have no commands (commandsForKey refuses them)
    recordArb().filter((r) => r.kind !== 'key' || r.type !== 'module'),
    { maxLength: 40, selector: (r) => (r.kind === 'function' ? `f:${r.library}` : `k:${r.db}:${hexOf(r.key)}`) },
  )
  .map((rs) => rs.map((r) => (r.kind === 'key' && r.type === 'stream' ? { ...r, value: owned(r.value) } : r)));

describe('keyspaceRespStream', () => {
  it('writes what the sorted records give, whole or in pieces, with any sort memory; no temp files left', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-resp-stream-'));
    try {
      await fc.assert(
        fc.asyncProperty(recordsArb, fc.constantFrom(1, 2, 5), fc.constantFrom(1, 4096, 64 << 20), async (recs, size, budget) => {
          const want = expected(recs);
          expect(await bytesOf(keyspaceRespStream(recs, { tmpDir: tmp, memoryBudgetBytes: budget }))).toBe(want);
          expect(await bytesOf(keyspaceRespStream(inPieces(recs, size), { tmpDir: tmp, memoryBudgetBytes: budget }))).toBe(want);
        }),
        { numRuns: 120 },
      );
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('batches a huge list across its pieces as the whole list, and expires keys once', async () => {
    const value = Array.from({ length: 1000 }, (_, i) => Buffer.from(`e${i}`));
    const recs: KeyspaceRecord[] = [
      { kind: 'key', db: 3, key: Buffer.from('l'), expireAt: 4102444800000, type: 'list', value },
      { kind: 'key', db: 3, key: Buffer.from('h'), expireAt: 4102444800000, type: 'hash', value: value.map((v, i) => ({ field: v, value: v, expireAt: i === 500 ? 4102444800001 : null })) },
    ];
    expect(await bytesOf(keyspaceRespStream(inPieces(recs, 100)))).toBe(expected(recs));
  });

  it('reports a key given twice, and drops a key whose pieces stop early when told where pieces go', async () => {
    const k = (db: number, key: string, partial = false): KeyspacePiece => ({ kind: 'key', db, key: Buffer.from(key), expireAt: null, type: 'set', value: [Buffer.from(key)], ...(partial ? { partial: true } : {}) });
    const dups: string[] = [];
    await bytesOf(keyspaceRespStream([k(1, 'a'), k(0, 'b'), k(1, 'a')], { onDuplicateKey: (db, key) => dups.push(`${db}:${Buffer.from(key).toString()}`) }));
    expect(dups).toEqual(['1:a']);
    await expect(bytesOf(keyspaceRespStream([k(0, 'x', true), k(0, 'y')]))).rejects.toThrow(/partial record/);
    const dropped: string[] = [];
    const got = await bytesOf(keyspaceRespStream([k(0, 'x', true), k(0, 'y'), k(0, 'z', true)], { pieces: { drop: (db, key, at) => dropped.push(`${db}:${Buffer.from(key).toString()}:${at}`) } }));
    expect(dropped).toEqual(['0:x:null', '0:z:null']);
    expect(got).toBe(expected([k(0, 'y')]));
  });
});
