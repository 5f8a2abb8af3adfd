import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aofBaseFileName, aofIncrFileName, aofManifestFileName, appendFilenameOf, nextAofFileNames, parseManifest, type AofManifest } from '@redis-persist/aof';
import { redisAvailable, startRedis, waitForPersistence } from '@redis-persist/testkit';

const live = redisAvailable();
if (!live) console.warn('[aof names live test] redis-server not installed: skipped (.ci/run installs it)');

describe('multi-part AOF file names', () => {
  it('follows Redis 7 naming', () => {
    expect(aofBaseFileName('appendonly.aof', 3, 'rdb')).toBe('appendonly.aof.3.base.rdb');
    expect(aofBaseFileName('a b.aof', 1, 'aof')).toBe('a b.aof.1.base.aof');
    expect(aofIncrFileName('appendonly.aof', 12)).toBe('appendonly.aof.12.incr.aof');
    expect(aofManifestFileName('x.aof')).toBe('x.aof.manifest');
    expect(appendFilenameOf('x.aof.manifest')).toBe('x.aof');
  });

  it('numbers a fresh directory from 1 and steps past names already taken', () => {
    expect(nextAofFileNames('appendonly.aof', null, 'rdb', new Set())).toEqual({
      baseName: 'appendonly.aof.1.base.rdb', baseSeq: 1, incrName: 'appendonly.aof.1.incr.aof', incrSeq: 1,
    });
    const m: AofManifest = {
      base: { name: 'appendonly.aof.4.base.rdb', seq: 4, type: 'base', line: 1 },
      history: [{ name: 'appendonly.aof.3.base.aof', seq: 3, type: 'history', line: 2 }, { name: 'appendonly.aof.9.incr.aof', seq: 9, type: 'history', line: 3 }],
      incr: [{ name: 'appendonly.aof.7.incr.aof', seq: 7, type: 'incr', line: 4 }],
    };
    // an interrupted earlier attempt left 5.base.aof and 10.incr.aof unlisted: never reused, whatever the format
    const taken = new Set(['appendonly.aof.5.base.aof', 'appendonly.aof.10.incr.aof']);
    expect(nextAofFileNames('appendonly.aof', m, 'rdb', taken)).toEqual({
      baseName: 'appendonly.aof.6.base.rdb', baseSeq: 6, incrName: 'appendonly.aof.11.incr.aof', incrSeq: 11,
    });
  });

  it.skipIf(!live)('names the next generation as redis-server 7 does after BGREWRITEAOF', async () => {
    const server = await startRedis({ config: { appendonly: 'yes', appendfilename: '"my.aof"', 'aof-use-rdb-preamble': 'yes' } });
    try {
      const adir = join(server.dir, 'appendonlydir');
      const manifest = () => parseManifest(readFileSync(join(adir, 'my.aof.manifest')));
      await waitForPersistence(server.client);
      for (let round = 0; round < 3; round++) {
        await server.client.call('SET', `k${round}`, 'v');
        const before = manifest();
        const predicted = nextAofFileNames('my.aof', before, 'rdb', new Set(readdirSync(adir)));
        await server.client.call('BGREWRITEAOF');
        await waitForPersistence(server.client);
        const after = manifest();
        expect(after.base?.name).toBe(predicted.baseName);
        expect(after.base?.seq).toBe(predicted.baseSeq);
        expect(after.incr.map((e) => e.name)).toEqual([predicted.incrName]);
        expect(after.incr[0]?.seq).toBe(predicted.incrSeq);
      }
    } finally {
      await server.stop();
    }
  }, 60_000);
});
