// A stream handed out in pieces (`partial: true`, as the RDB parser makes them with chunkElements) is written as
// the same JSON line as the whole stream, whatever the order of its parts (entries, groups, pending entries and
// consumers are sorted by external sorts of their own: in order they go straight to a run file, out of order they
// are held and spilled) and however small the sort memory; and as the same commands, piece by piece.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type KeyRecord,
  type KeyspacePiece,
  type StreamGroup,
  type StreamPendingEntry,
  type StreamValue,
} from '@redis-persist/keyspace';
import { StreamPieceCommands, commandsForKey, keyspaceJsonlStream } from '@redis-persist/converters';
import { bytesArb, hexOf, looseStreamArb, streamIdArb } from '../../keyspace/test/arbitraries.js';

async function bytesOf(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const time = fc.integer({ min: 0, max: 2 ** 42 });

/** A stream with more of everything than looseStreamArb, IDs repeated at times (stable sorts keep input order). */
const bigStreamArb: fc.Arbitrary<StreamValue> = fc
  .tuple(
    looseStreamArb(),
    fc.array(fc.tuple(fc.oneof(streamIdArb(), fc.constantFrom('1-1', '1-2', '2-0')), fc.array(fc.tuple(bytesArb(4), bytesArb(4)), { minLength: 1, maxLength: 2 })), { maxLength: 40 }),
    fc.uniqueArray(
      fc.record({
        name: bytesArb(6),
        lastDeliveredId: streamIdArb(),
        entriesRead: fc.option(fc.nat(), { nil: null }),
        pending: fc.array(fc.record({ id: fc.oneof(streamIdArb(), fc.constantFrom('5-5', '5-6')), consumer: bytesArb(3), deliveryTime: time, deliveryCount: fc.nat() }), { maxLength: 30 }),
        consumers: fc.array(fc.record({ name: bytesArb(3), seenTime: time, activeTime: fc.option(time, { nil: null }) }), { maxLength: 25 }),
      }),
      { maxLength: 4, selector: (g) => hexOf(g.name) },
    ),
  )
  .map(([s, entries, groups]) => ({ ...s, entries: [...s.entries, ...entries.map(([id, fields]) => ({ id, fields }))], groups: [...s.groups.filter((g) => !groups.some((h) => hexOf(h.name) === hexOf(g.name))), ...groups] }));

/** Cut points: a sorted list of distinct positions in 1..n-1. */
const cutsArb = (n: number): fc.Arbitrary<number[]> => (n < 2 ? fc.constant([]) : fc.uniqueArray(fc.integer({ min: 1, max: n - 1 }), { maxLength: 6 }).map((c) => c.sort((a, b) => a - b)));

function cut<T>(items: T[], cuts: number[]): T[][] {
  const out: T[][] = [];
  let at = 0;
  for (const c of [...cuts, items.length]) {
    out.push(items.slice(at, c));
    at = c;
  }
  return out;
}

/**
 * Pieces as the parser hands them out: the entries, then group by group parts of its consumers and pending entries
 * (a group going on in the next piece under the same name); the metadata from the first piece with a group on.
 */
function pieces(rec: KeyRecord & { kind: 'key'; type: 'stream' }, entryCuts: number[], groupCuts: number[][]): KeyspacePiece[] {
  const s = rec.value;
  const meta = { length: s.length, lastId: s.lastId, firstId: s.firstId, maxDeletedId: s.maxDeletedId, entriesAdded: s.entriesAdded, ...(s.unreported ? { unreported: s.unreported } : {}) };
  const none = { length: 0, lastId: '0-0', firstId: null, maxDeletedId: '0-0', entriesAdded: 0 };
  const out: { entries: StreamValue['entries']; groups: StreamGroup[]; meta: boolean }[] = cut(s.entries, entryCuts).map((entries) => ({ entries, groups: [], meta: false }));
  s.groups.forEach((g, gi) => {
    // consumers first, then pending entries, cut anywhere
    const items: (['c', StreamGroup['consumers'][number]] | ['p', StreamPendingEntry])[] = [...g.consumers.map((c) => ['c', c] as ['c', typeof c]), ...g.pending.map((p) => ['p', p] as ['p', StreamPendingEntry])];
    cut(items, (groupCuts[gi] ?? []).filter((c) => c < items.length)).forEach((part, k) => {
      const piece = { ...g, consumers: part.filter((x) => x[0] === 'c').map((x) => x[1] as StreamGroup['consumers'][number]), pending: part.filter((x) => x[0] === 'p').map((x) => x[1] as StreamPendingEntry) };
      if (k === 0) out[out.length - 1]!.groups.push(piece);
      else out.push({ entries: [], groups: [piece], meta: true });
      out[out.length - 1]!.meta = true;
    });
  });
  return out.map((p, i) => {
    const last = i === out.length - 1;
    const value: StreamValue = { ...(p.meta || last ? meta : none), entries: p.entries, groups: p.groups };
    const piece: KeyspacePiece = { ...rec, value };
    if (!last) piece.partial = true;
    return piece;
  });
}

const recordOf = (value: StreamValue, expireAt: number | null = null): KeyRecord & { kind: 'key'; type: 'stream' } => ({ kind: 'key', db: 2, key: Buffer.from('s'), expireAt, type: 'stream', value });

describe('a stream in pieces, as JSON Lines', () => {
  it('is the line of the whole stream, in both orders, with any sort memory; no temp files left', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ks-stream-pieces-'));
    try {
      await fc.assert(
        fc.asyncProperty(
          bigStreamArb.chain((s) => fc.tuple(fc.constant(s), cutsArb(s.entries.length), fc.array(cutsArb(60), { minLength: s.groups.length, maxLength: s.groups.length }), fc.constantFrom(1, 300, 64 << 20))),
          async ([s, entryCuts, groupCuts, budget]) => {
            const rec = recordOf(s);
            for (const order of ['canonical', 'file'] as const) {
              const want = await bytesOf(keyspaceJsonlStream([rec], { order }));
              const got = await bytesOf(keyspaceJsonlStream(pieces(rec, entryCuts, groupCuts), { order, memoryBudgetBytes: budget, tmpDir: tmp }));
              expect(got.toString('latin1')).toBe(want.toString('latin1'));
            }
          },
        ),
        { numRuns: 80 },
      );
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('holds a group of more than 1 MiB that comes out of name order in a run of its own', async () => {
    const consumers = Array.from({ length: 30000 }, (_, i) => ({ name: Buffer.from(`c${String(i).padStart(6, '0')}`), seenTime: i, activeTime: null }));
    const s: StreamValue = {
      entries: [],
      length: 0,
      lastId: '9-9',
      firstId: null,
      maxDeletedId: '0-0',
      entriesAdded: 0,
      groups: [
        { name: Buffer.from('z'), lastDeliveredId: '1-1', entriesRead: null, pending: [], consumers: consumers.slice().reverse() },
        { name: Buffer.from('a'), lastDeliveredId: '1-1', entriesRead: 3, pending: [], consumers },
      ],
    };
    const rec = recordOf(s, 4102444800000);
    const want = await bytesOf(keyspaceJsonlStream([rec]));
    expect(want.length).toBeGreaterThan(2 << 20);
    const cuts = [[5000, 15000, 29999], [1, 20000]];
    // 4 MiB: the consumers of each group spill a few runs
    expect((await bytesOf(keyspaceJsonlStream(pieces(rec, [], cuts), { memoryBudgetBytes: 4 << 20 }))).equals(want)).toBe(true);
  });
});

describe('a stream in pieces, as commands', () => {
  /** Pending entries grouped by consumer, in consumer order (as the parser's 'consumer' order gives them). */
  const byConsumerArb = bigStreamArb.map((s) => ({
    ...s,
    groups: s.groups.map((g) => {
      const names = new Map<string, Uint8Array>();
      for (const c of g.consumers) if (!names.has(hexOf(c.name))) names.set(hexOf(c.name), c.name);
      const consumers = [...names.values()].map((name, i) => ({ name, seenTime: i, activeTime: null }));
      const ids = new Set<string>();
      const pending = g.pending.filter((p) => !ids.has(p.id) && ids.add(p.id) !== null);
      // each pending entry to one of the consumers, grouped by them in their order
      const owned = consumers.length === 0 ? [] : pending.map((p, i) => ({ ...p, consumer: consumers[(i * 7) % consumers.length]!.name }));
      owned.sort((a, b) => consumers.findIndex((c) => c.name === a.consumer) - consumers.findIndex((c) => c.name === b.consumer));
      return { ...g, consumers, pending: owned };
    }),
  }));

  /** Pieces in consumer order: a piece may end anywhere but between a consumer and its first pending entry. */
  function consumerPieces(rec: KeyRecord & { kind: 'key'; type: 'stream' }, seed: number): KeyspacePiece[] {
    const s = rec.value;
    const meta = { length: s.length, lastId: s.lastId, firstId: s.firstId, maxDeletedId: s.maxDeletedId, entriesAdded: s.entriesAdded };
    const out: { entries: StreamValue['entries']; groups: StreamGroup[] }[] = [{ entries: [], groups: [] }];
    let r = seed;
    const coin = (): boolean => ((r = (r * 1103515245 + 12345) & 0x7fffffff) & 3) === 0;
    for (const e of s.entries) {
      if (coin()) out.push({ entries: [], groups: [] });
      out[out.length - 1]!.entries.push(e);
    }
    for (const g of s.groups) {
      let part: StreamGroup = { ...g, pending: [], consumers: [] };
      out[out.length - 1]!.groups.push(part);
      const more = (): void => {
        part = { ...g, pending: [], consumers: [] };
        out.push({ entries: [], groups: [part] });
      };
      for (const c of g.consumers) {
        if (coin()) more();
        part.consumers.push(c);
        const own = g.pending.filter((p) => p.consumer === c.name);
        own.forEach((p, k) => {
          if (k > 0 && coin()) more();
          part.pending.push(p);
        });
      }
    }
    return out.map((p, i) => {
      const last = i === out.length - 1;
      const piece: KeyspacePiece = { ...rec, value: { ...(p.groups.length > 0 || last ? meta : { length: 0, lastId: '0-0', firstId: null, maxDeletedId: '0-0', entriesAdded: 0 }), entries: p.entries, groups: p.groups } };
      if (!last) piece.partial = true;
      return piece;
    });
  }

  it('add up to the commands of the whole stream', () => {
    fc.assert(
      fc.property(byConsumerArb, fc.nat(), fc.option(fc.integer({ min: 1, max: 2 ** 42 }), { nil: null }), (s, seed, expireAt) => {
        const ok = s.entries.every((e) => e.fields.length > 0 && e.id !== '0-0');
        if (!ok) return;
        const rec = recordOf(s, expireAt);
        const want = commandsForKey(rec);
        const ps = consumerPieces(rec, seed);
        const cmds = new StreamPieceCommands(rec.db, rec.key);
        const got = ps.flatMap((p, i) => {
          expect(cmds.matches(p)).toBe(true);
          return cmds.piece(p as KeyRecord, i === ps.length - 1);
        });
        const text = (cs: Uint8Array[][]) => cs.map((c) => c.map((a) => Buffer.from(a).toString('latin1')).join(' ')).join('\n');
        expect(text(got)).toBe(text(want));
      }),
      { numRuns: 300 },
    );
  });
});
