// The encodings the model predicts against what the real servers reported after loading the corpus files
// (`OBJECT ENCODING`, kept as "encoding" in the expected files): Redis 7.0.15, and Valkey 8.0.1, the one check of
// the valkey-8 model this machine allows (no valkey-server here to measure bytes). Files written under default limits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusDir } from '@redis-persist/testkit';
import { DEFAULT_MEMORY_CONFIG, rdbMemoryRecords, type MemoryServerModel } from '@redis-persist/analysis';

const corpus = corpusDir();
const cases: [string, MemoryServerModel, string][] = [];
for (const [dir, model] of [['redis-7.0.15', 'redis-7.0'], ['valkey-8.0.1', 'valkey-8']] as const) {
  for (const f of ['default', 'uncompressed', 'no-checksum', 'functions', 'dbs-ttl']) cases.push([dir, model, f]);
}

describe.skipIf(corpus === null || !existsSync(join(corpus ?? '', 'rdb')))('encodings after load, as the servers reported them', () => {
  test.each(cases)('%s %s %s', async (dir, model, name) => {
    const base = join(corpus!, 'rdb', dir, name);
    const expected = new Map<string, string>();
    for (const line of readFileSync(`${base}.expected.jsonl`, 'utf8').split('\n')) {
      if (line === '') continue;
      const r = JSON.parse(line) as { db?: number; key?: string | { base64: string }; encoding?: string };
      if (r.key === undefined || r.encoding === undefined) continue;
      const key = typeof r.key === 'string' ? Buffer.from(r.key, 'utf8') : Buffer.from(r.key.base64, 'base64');
      expected.set(`${r.db}:${key.toString('hex')}`, r.encoding);
    }
    const wrong: string[] = [];
    let keys = 0;
    for await (const r of rdbMemoryRecords(`${base}.rdb`, { server: model, config: DEFAULT_MEMORY_CONFIG, dropExpiredBefore: Date.now() })) {
      if (r.kind !== 'key') continue;
      keys++;
      const e = expected.get(`${r.db}:${Buffer.from(r.key).toString('hex')}`);
      if (e !== r.encoding) wrong.push(`${Buffer.from(r.key).toString()} (${r.type}, ${r.fileEncoding}): ${r.encoding}, server ${e}`);
    }
    expect(keys).toBe(expected.size);
    expect(wrong).toEqual([]);
  });
});
