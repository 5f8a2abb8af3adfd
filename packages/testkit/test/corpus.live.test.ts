// dumpLiveKeyspace checked against the corpus oracle: a 7.0.15 server loads each corpus file it can read, and
// our dump of it must equal the file's expected keyspace (made by the corpus authors with their own dumper).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { corpusDir, dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';
import { normalize, parseKeyspaceLine } from './helpers.js';

interface CorpusEntry {
  path: string;
  server: string;
  version: string;
  kind: string;
  rdbVersion: number | null;
  expected: string;
  expectedByRedis70?: string;
}

const corpus = corpusDir();
const hasRedis = redisAvailable();
if (corpus === null) console.warn('[testkit] ../shared/corpus is absent: skipping the corpus cross-check');
if (!hasRedis) console.warn('[testkit] redis-server is not on PATH: skipping the corpus cross-check');

function entries(): CorpusEntry[] {
  if (corpus === null) return [];
  const all = JSON.parse(readFileSync(join(corpus, 'index.json'), 'utf8')) as CorpusEntry[];
  return all.filter(
    (e) =>
      // what the installed 7.0.15 loads, with an expected keyspace as 7.0.15 reports it
      (e.kind === 'rdb' && (e.version === '7.0.15' || (e.rdbVersion !== null && e.rdbVersion < 10))) ||
      (e.kind === 'aof-multipart' && e.version === '7.0.15'),
  );
}

function expectedOf(e: CorpusEntry) {
  const text = readFileSync(join(corpus!, e.expectedByRedis70 ?? e.expected), 'utf8');
  return text.split('\n').filter((l) => l !== '').map(parseKeyspaceLine);
}

describe.skipIf(corpus === null || !hasRedis)('dumpLiveKeyspace agrees with the corpus expected files', () => {
  const list = entries();
  test('the corpus has files 7.0.15 can load', () => {
    expect(list.length).toBeGreaterThan(10);
  });

  test.each(list.map((e) => [e.path, e] as const))('%s', async (_path, e) => {
    const dir = mkdtempSync(join(tmpdir(), 'tk-corpus-'));
    try {
      const src = join(corpus!, e.path);
      const isAof = e.kind === 'aof-multipart';
      if (isAof) cpSync(join(src, 'appendonlydir'), join(dir, 'appendonlydir'), { recursive: true });
      else cpSync(src, join(dir, 'dump.rdb'));
      const server = await startRedis({ dir, config: isAof ? { appendonly: 'yes' } : {} });
      try {
        const dump = await dumpLiveKeyspace(server.client);
        // After an AOF replay, consumer seen/active times are the load time (see corpus MANIFEST.md).
        const o = { dropConsumerTimes: isAof };
        expect(normalize(dump, o)).toEqual(normalize(expectedOf(e), o));
      } finally {
        await server.stop();
      }
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });
});
