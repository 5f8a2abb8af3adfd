import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { readKeyspaceJsonl } from '@redis-persist/jsonl';
import { dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'packages/cli/bin/rdb-tool.js');
const built = existsSync(join(root, 'packages/cli/dist/rdb-tool/main.js'));
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

async function readJsonl(path: string): Promise<KeyspaceRecord[]> {
  const out: KeyspaceRecord[] = [];
  for await (const r of readKeyspaceJsonl(path)) out.push(r);
  return out;
}

// `rdb-tool convert` takes an AOF too (replayed as Redis would load it): every output loads back the same keyspace.
describe.skipIf(!built || !redisAvailable())('rdb-tool convert from an AOF', () => {
  it('AOF directory -> RDB, JSONL and RESP agree with what redis-server loads from the AOF itself', async () => {
    const aofDir = join(root, 'examples/flushall/appendonlydir');
    const d = mkdtempSync(join(tmpdir(), 'convert-aof-'));
    temps.push(d);
    for (const out of ['k.rdb', 'k.jsonl', 'k.aof']) expect(run(['convert', aofDir, join(d, out)]).status).toBe(0);

    // the oracle: redis-server loading the example AOF directory itself
    const aofServerDir = mkdtempSync(join(tmpdir(), 'convert-aofsrv-'));
    temps.push(aofServerDir);
    cpSync(aofDir, join(aofServerDir, 'appendonlydir'), { recursive: true });
    const aofServer = await startRedis({ dir: aofServerDir, config: { appendonly: 'yes' } });
    const fromAof = await dumpLiveKeyspace(aofServer.client).finally(() => aofServer.stop());
    expect(fromAof.length).toBe(2);

    const rdbDir = mkdtempSync(join(tmpdir(), 'convert-rdb-'));
    temps.push(rdbDir);
    writeFileSync(join(rdbDir, 'dump.rdb'), readFileSync(join(d, 'k.rdb')));
    const rdbServer = await startRedis({ dir: rdbDir });
    const fromRdb = await dumpLiveKeyspace(rdbServer.client).finally(() => rdbServer.stop());
    expect(sameKeyspace(fromRdb, fromAof).diff).toEqual([]);
    expect(sameKeyspace(await readJsonl(join(d, 'k.jsonl')), fromAof).diff).toEqual([]);

    const respDir = mkdtempSync(join(tmpdir(), 'convert-resp-'));
    temps.push(respDir);
    writeFileSync(join(respDir, 'appendonly.aof'), readFileSync(join(d, 'k.aof')));
    const respServer = await startRedis({ dir: respDir, config: { appendonly: 'yes' } });
    const fromResp = await dumpLiveKeyspace(respServer.client).finally(() => respServer.stop());
    expect(sameKeyspace(fromResp, fromAof).diff).toEqual([]);
  });

  it('a crashed AOF converts what Redis would load, with a warning', () => {
    const d = mkdtempSync(join(tmpdir(), 'convert-crashed-'));
    temps.push(d);
    const r = run(['convert', join(root, 'examples/crashed/appendonly.aof'), join(d, 'out.jsonl')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: .*appendonly\.aof ends early; commands from offset 1987 on were not replayed/);
    expect(readFileSync(join(d, 'out.jsonl'), 'utf8').trim().split('\n')).toHaveLength(32);
  });
});
