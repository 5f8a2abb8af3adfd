// Files redis-server 7.0.15 wrote under non-default settings (the shared corpus), loaded by a 7.0.15 server with
// the same settings: multi-node quicklists with LZF-compressed inner nodes (list-compress-depth 1), every per-key
// estimate against MEMORY USAGE.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusDir, redisAvailable, startRedis } from '@redis-persist/testkit';
import { parseMemoryConfig, rdbMemoryRecords } from '@redis-persist/analysis';

const dir = corpusDir() === null ? null : join(corpusDir()!, 'rdb/redis-7.0.15');
const ok = redisAvailable() && dir !== null && existsSync(dir);

const FILES: Record<string, Record<string, string>> = {
  'many-nodes': { 'list-max-listpack-size': '4', 'list-compress-depth': '1' },
  default: {},
  uncompressed: {},
};

describe.skipIf(!ok)('corpus files of redis-server 7.0.15 under their own settings (live)', () => {
  test.each(Object.keys(FILES))('%s', async (name) => {
    const config = FILES[name];
    const file = join(dir!, `${name}.rdb`);
    const server = await startRedis({ config });
    try {
      copyFileSync(file, join(server.dir, 'dump.rdb'));
      await server.restart({ save: false });
      const cfg = parseMemoryConfig(Object.entries(config).map(([k, v]) => `${k} ${v}`).join('\n'));
      const byType = new Map<string, { keys: number; within: number; misses: string[] }>();
      const c = server.client;
      for await (const r of rdbMemoryRecords(file, { config: cfg, dropExpiredBefore: Date.now() })) {
        if (r.kind !== 'key') continue;
        await c.call('SELECT', r.db);
        const actual = Number(await c.callInt('MEMORY', 'USAGE', r.key, 'SAMPLES', '0'));
        const g = `${r.type}/${r.encoding}`;
        const row = byType.get(g) ?? { keys: 0, within: 0, misses: [] };
        row.keys++;
        if (Math.abs(r.memory - actual) <= 0.1 * actual) row.within++;
        else row.misses.push(`${Buffer.from(r.key).toString()}: ${r.memory} vs ${actual}`);
        byType.set(g, row);
      }
      for (const [g, row] of byType) expect({ g, share: row.within / row.keys >= 0.95, misses: row.within / row.keys >= 0.95 ? [] : row.misses.slice(0, 5) }).toEqual({ g, share: true, misses: [] });
    } finally {
      await server.stop();
    }
  });
});
