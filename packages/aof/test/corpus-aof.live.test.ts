import { closeSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aofStats, checkAof, readAof, type AofRdbPart } from '@redis-persist/aof';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';
import { corpus, hasCorpus } from './corpus-helpers.js';

/**
 * Redis 6.x does not report the stream fields 7.0 added (first id, max deleted id, entries added/read, active
 * time); the 6.2 expected files hold null there (corpus MANIFEST.md). Blank them on both sides for 6.2 files.
 */
function withoutStreamMeta(records: KeyspaceRecord[]): KeyspaceRecord[] {
  return records.map((r) => {
    if (r.kind !== 'key' || r.type !== 'stream') return r;
    const v = r.value;
    return {
      ...r,
      value: {
        ...v,
        firstId: null,
        maxDeletedId: '0-0',
        entriesAdded: 0,
        unreported: undefined,
        groups: v.groups.map((g) => ({ ...g, entriesRead: null, consumers: g.consumers.map((c) => ({ ...c, activeTime: null })) })),
      },
    };
  });
}

const cases = hasCorpus
  ? readdirSync(join(corpus, 'aof')).flatMap((server) => readdirSync(join(corpus, 'aof', server)).map((c) => ({ server, name: c, dir: join(corpus, 'aof', server, c) })))
  : [];

function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

// Every AOF in ../shared/corpus/aof (Redis 6.2 to 8.0, Valkey 8): valid, readable, and where the Debian
// redis-server 7.0.15 can take the data, a replay of what we read gives exactly the expected keyspace.
describe.skipIf(!hasCorpus)('corpus AOFs from Redis 6.2-8.0 and Valkey 8', () => {
  for (const c of cases) {
    it(`${c.server}/${c.name}`, async () => {
      const input = existsSync(join(c.dir, 'appendonlydir')) ? join(c.dir, 'appendonlydir') : join(c.dir, 'appendonly.aof');
      const report = await checkAof(input);
      expect(report.ok, JSON.stringify(report.files.map((f) => [f.file, f.status, f.error]))).toBe(true);
      const commands: Uint8Array[][] = [];
      let rdb: AofRdbPart | null = null;
      for await (const cmd of readAof(input, { onRdbPart: (p) => (rdb = p) })) commands.push(cmd.args);
      const stats = await aofStats(input);
      expect(stats.commands).toBe(commands.length);
      expect(stats.commands).toBe(report.totals.commands);
      if (c.name === 'timestamps') expect(stats.annotations).toBeGreaterThan(0);

      if (!redisAvailable()) return;
      const part = rdb as AofRdbPart | null;
      if (part && (part.version ?? 99) > 10) {
        console.info(`[corpus-aof] ${c.server}/${c.name}: RDB v${part.version} base: redis-server 7.0.15 cannot load it; replay skipped`);
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'corpus-aof-'));
      try {
        if (part) writeFileSync(join(dir, 'dump.rdb'), head(part.path, part.end));
        const server = await startRedis({ dir });
        try {
          const replies = [];
          for (let i = 0; i < commands.length; i += 500) replies.push(...(await server.client.pipeline(commands.slice(i, i + 500))));
          const unknown = replies.find((r) => r.type === 'error' && /unknown command|unknown subcommand/i.test(String(r.value)));
          if (unknown) {
            console.info(`[corpus-aof] ${c.server}/${c.name}: uses commands redis-server 7.0.15 lacks (${String(unknown.value).slice(0, 60)}); replay skipped`);
            return;
          }
          expect(replies.filter((r) => r.type === 'error')).toEqual([]);
          const live = await dumpLiveKeyspace(server.client);
          const expected: KeyspaceRecord[] = [];
          for await (const r of readKeyspaceJsonl(join(c.dir, 'expected.jsonl'))) expected.push(r);
          const old = c.server.startsWith('redis-6.');
          const [a, b] = old ? [withoutStreamMeta(live), withoutStreamMeta(expected)] : [live, expected];
          expect(sameKeyspace(a, b, { ignore: ['encoding', 'streamConsumerTimes'] }).diff).toEqual([]);
        } finally {
          await server.stop();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
