// DUMP/RESTORE against the real redis-server 7.0.15, and encoding choices checked with OBJECT ENCODING.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyRecord, type KeyspaceRecord } from '@redis-persist/keyspace';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { dumpLiveKeyspace, randomTraffic, redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';
import { decodeDumpPayload, encodeDumpPayload, writeRdb, type RdbThresholds } from '@redis-persist/rdb-writer';
import { keyspaceArb } from './arbitraries.js';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[rdb-writer] redis-server is not on PATH: skipping DUMP/RESTORE and encoding checks');

async function* source(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

function valueOf(r: KeyRecord) {
  const { db: _db, key: _key, expireAt: _e, encoding: _enc, ...value } = r as KeyRecord & { kind?: string };
  delete (value as { kind?: string }).kind;
  return value as Parameters<typeof encodeDumpPayload>[0];
}

describe.skipIf(!hasRedis)('DUMP / RESTORE with redis-server 7.0.15', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('DUMP payloads of a random live keyspace decode to exactly the live values', async () => {
    const c = server.client;
    await c.call('FLUSHALL');
    await randomTraffic(c, { seed: 7, commands: 3000 });
    // a stream with a group, consumers and pending entries
    await c.call('XADD', 'dump:stream', '1-1', 'f', 'v');
    await c.call('XADD', 'dump:stream', '2-0', 'g', 'w');
    await c.call('XGROUP', 'CREATE', 'dump:stream', 'grp', '0');
    await c.call('XREADGROUP', 'GROUP', 'grp', 'alice', 'COUNT', '1', 'STREAMS', 'dump:stream', '>');
    const live = (await dumpLiveKeyspace(c)).filter((r): r is KeyspaceRecord & { kind: 'key' } => r.kind === 'key');
    expect(live.length).toBeGreaterThan(50);
    const types = new Set(live.map((r) => r.type));
    expect([...types].sort()).toEqual(expect.arrayContaining(['hash', 'list', 'set', 'stream', 'string', 'zset']));
    let current = -1;
    for (const r of live) {
      if (r.db !== current) {
        await c.call('SELECT', String(r.db));
        current = r.db;
      }
      const payload = (await c.callBuffer('DUMP', r.key))!;
      const { rdbVersion, value } = decodeDumpPayload(payload);
      expect(rdbVersion).toBe(10);
      expect(sameKeyspace([r], [{ ...r, ...value } as KeyspaceRecord]).diff).toEqual([]);
    }
    await c.call('SELECT', '0');
  });

  it('our payloads are accepted by RESTORE and give the same value', async () => {
    const c = server.client;
    await fc.assert(
      fc.asyncProperty(keyspaceArb({ streams: { metadata: true, activeTime: false }, maxKeys: 12 }), fc.boolean(), async (records, compress) => {
        await c.call('FLUSHALL');
        const keys = records.filter((r): r is KeyspaceRecord & { kind: 'key' } => r.kind === 'key');
        for (const r of keys) {
          await c.call('SELECT', String(r.db));
          const payload = encodeDumpPayload(valueOf(r), 10, { compress });
          if (r.expireAt === null) await c.call('RESTORE', r.key, '0', payload);
          else await c.call('RESTORE', r.key, String(r.expireAt), payload, 'ABSTTL');
        }
        await c.call('SELECT', '0');
        expect(sameKeyspace(keys, await dumpLiveKeyspace(c)).diff).toEqual([]);
      }),
      { numRuns: 15 },
    );
  });

  it('a 7.0 server refuses a payload claiming RDB 11 (the version field is checked)', async () => {
    const c = server.client;
    const v11 = encodeDumpPayload({ type: 'string', value: Buffer.from('x') }, 11);
    await expect(c.call('RESTORE', 'v11', '0', v11)).rejects.toThrow(/payload version or checksum are wrong/);
    const v10 = encodeDumpPayload({ type: 'string', value: Buffer.from('x') }, 10);
    await expect(c.call('RESTORE', 'v10', '0', v10)).resolves.toBeDefined();
  });
});

// The encoding the writer picks (as our parser reads it back from the file) must be the one a 7.0.15 server
// configured with the same limits reports with OBJECT ENCODING after loading.
const CONFIGS: { name: string; thresholds: Partial<RdbThresholds>; config: Record<string, string> }[] = [
  { name: 'defaults', thresholds: {}, config: {} },
  {
    name: 'tiny limits',
    thresholds: { hashMaxListpackEntries: 2, hashMaxListpackValue: 4, setMaxIntsetEntries: 3, zsetMaxListpackEntries: 2, zsetMaxListpackValue: 4 },
    config: { 'hash-max-listpack-entries': '2', 'hash-max-listpack-value': '4', 'set-max-intset-entries': '3', 'zset-max-listpack-entries': '2', 'zset-max-listpack-value': '4' },
  },
  {
    name: 'huge limits',
    thresholds: { hashMaxListpackEntries: 5000, hashMaxListpackValue: 20000, setMaxIntsetEntries: 5000, zsetMaxListpackEntries: 5000, zsetMaxListpackValue: 20000 },
    config: { 'hash-max-listpack-entries': '5000', 'hash-max-listpack-value': '20000', 'set-max-intset-entries': '5000', 'zset-max-listpack-entries': '5000', 'zset-max-listpack-value': '20000' },
  },
];

describe.skipIf(!hasRedis)('encodings follow the thresholds like redis-server 7.0.15 (OBJECT ENCODING)', () => {
  for (const cfg of CONFIGS) {
    it(cfg.name, async () => {
      await fc.assert(
        fc.asyncProperty(keyspaceArb({ maxKeys: 20 }), async (records) => {
          const parts: Uint8Array[] = [];
          for await (const c of writeRdb(records, { rdbVersion: 10, thresholds: cfg.thresholds })) parts.push(c);
          const rdb = Buffer.concat(parts);
          const ours = new Map<string, string>();
          for await (const r of rdbKeyspaceRecords(source(rdb), { encoding: true })) {
            if (r.kind === 'key' && r.type !== 'string') ours.set(`${r.db}:${Buffer.from(r.key).toString('latin1')}`, r.encoding!);
          }
          const dir = mkdtempSync(join(tmpdir(), 'rdbw-enc-'));
          try {
            writeFileSync(join(dir, 'dump.rdb'), rdb);
            const server = await startRedis({ dir, config: cfg.config });
            try {
              const live = await dumpLiveKeyspace(server.client, { encoding: true });
              for (const r of live) {
                if (r.kind !== 'key' || r.type === 'string') continue;
                expect(`${r.type} ${ours.get(`${r.db}:${Buffer.from(r.key).toString('latin1')}`)}`).toBe(`${r.type} ${r.encoding}`);
              }
            } finally {
              await server.stop();
            }
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
        { numRuns: 8 },
      );
    });
  }
});
