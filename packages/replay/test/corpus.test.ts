// Every AOF of ../shared/corpus/aof replays to exactly the keyspace the writing server loaded from it.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { replayAof } from '@redis-persist/replay';
import { aofToRdb, rewriteAof } from '@redis-persist/converters';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { corpusDir } from '@redis-persist/testkit';

const corpus = corpusDir();
if (!corpus) console.warn('[replay] ../shared/corpus is absent: skipping the corpus AOF tests');

function cases(): [string, string, string][] {
  if (!corpus) return [];
  const out: [string, string, string][] = [];
  const root = join(corpus, 'aof');
  for (const server of readdirSync(root).sort()) {
    for (const name of readdirSync(join(root, server)).sort()) {
      const dir = join(root, server, name);
      const expected = join(dir, 'expected.jsonl');
      if (!existsSync(expected)) continue;
      const input = existsSync(join(dir, 'appendonlydir')) ? join(dir, 'appendonlydir') : join(dir, 'appendonly.aof');
      out.push([`${server}/${name}`, input, expected]);
    }
  }
  return out;
}

/**
 * A 6.x server reports no firstId / maxDeletedId / entriesAdded / group entriesRead (null in its expected file): those members of our
 * streams (what Redis 7 would hold) are not compared there; every other member is.
 */
function adoptUnreported(theirs: KeyspaceRecord[], ours: KeyspaceRecord[]): void {
  const byKey = new Map<string, KeyspaceRecord>();
  for (const r of ours) if (r.kind === 'key') byKey.set(`${r.db}:${Buffer.from(r.key).toString('latin1')}`, r);
  for (const r of theirs) {
    if (r.kind !== 'key' || r.type !== 'stream') continue;
    const o = byKey.get(`${r.db}:${Buffer.from(r.key).toString('latin1')}`);
    if (o === undefined || o.kind !== 'key' || o.type !== 'stream') continue;
    if (r.value.firstId === null) r.value.firstId = o.value.firstId;
    for (const f of r.value.unreported ?? []) (r.value as unknown as Record<string, unknown>)[f] = o.value[f];
    delete r.value.unreported;
    for (const g of r.value.groups) {
      const og = o.value.groups.find((x) => Buffer.compare(x.name, g.name) === 0);
      if (g.entriesRead === null && og !== undefined) g.entriesRead = og.entriesRead;
    }
  }
}

async function collect(it: AsyncIterable<KeyspaceRecord> | Iterable<KeyspaceRecord>): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe.skipIf(!corpus)('corpus/aof: replay equals what the server loaded', () => {
  const all = cases();
  it('has the cases', () => expect(all.length).toBeGreaterThanOrEqual(18));
  it.each(all)('%s', async (_name, input, expected) => {
    const result = await replayAof(input);
    expect(result.skipped).toBe(0);
    expect(result.failures).toEqual([]);
    const ours = [...result.keyspace.records({ dropExpiredBefore: Date.now() })];
    const theirs = await collect(readKeyspaceJsonl(expected));
    if (_name.startsWith('redis-6.')) adoptUnreported(theirs, ours);
    const same = sameKeyspace(ours, theirs, { ignore: ['encoding', 'streamConsumerTimes'] });
    expect(same.diff).toEqual([]);
    expect(same.equal).toBe(true);
  });
});

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(!corpus)('corpus/aof: rewrite (RDB and RESP base) and to-rdb keep the keyspace', () => {
  it.each(cases())('%s', async (name, input, expected) => {
    const theirs = await collect(readKeyspaceJsonl(expected));
    const check = (ours: KeyspaceRecord[]) => {
      const copy = structuredClone(theirs);
      if (name.startsWith('redis-6.')) adoptUnreported(copy, ours);
      const same = sameKeyspace(ours, copy, { ignore: ['encoding', 'streamConsumerTimes'] });
      expect(same.diff).toEqual([]);
    };
    for (const base of ['rdb', 'aof'] as const) {
      const d = mkdtempSync(join(tmpdir(), 'replay-corpus-'));
      temps.push(d);
      const target = join(d, input.endsWith('appendonlydir') ? 'appendonlydir' : 'appendonly.aof');
      cpSync(input, target, { recursive: true });
      await rewriteAof(target, { base, backup: false });
      const again = await replayAof(target);
      check([...again.keyspace.records({ dropExpiredBefore: Date.now() })]);
      if (base === 'rdb') {
        const rdb = join(d, 'out.rdb');
        await aofToRdb(target, rdb);
        check(await collect(rdbKeyspaceRecords(rdb, { dropExpiredBefore: Date.now() })));
      }
    }
  });
});
