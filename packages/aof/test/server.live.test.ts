import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFix, checkAof, planFix, readAof, stripAof } from '@redis-persist/aof';
import { sameKeyspace } from '@redis-persist/keyspace';
import { dumpLiveKeyspace, randomTraffic, redisAvailable, redisToolAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';

const live = redisAvailable() && redisToolAvailable('redis-check-aof');
if (!live) console.warn('[aof live tests] redis-server / redis-check-aof not installed: skipped (.ci/run installs them)');

interface RefVerdict {
  exit: number;
  analyzed: { size: number; okUpTo: number; line: number; diff: number } | null;
}

function redisCheckAof(args: string[], input?: string): { exit: number; out: string } {
  const r = spawnSync('redis-check-aof', args, { input, encoding: 'latin1', timeout: 30_000 });
  return { exit: r.status ?? -1, out: r.stdout + r.stderr };
}

function refVerdict(path: string): RefVerdict {
  const r = redisCheckAof([path]);
  const m = /AOF analyzed: filename=.*, size=(\d+), ok_up_to=(\d+), ok_up_to_line=(\d+), diff=(\d+)/.exec(r.out);
  return { exit: r.exit, analyzed: m ? { size: +m[1], okUpTo: +m[2], line: +m[3], diff: +m[4] } : null };
}

/** redis-check-aof 7.0.x takes any file with a line starting "file" for a manifest (fixed in 7.2.5). */
const looksLikeManifestTo70 = (b: Buffer) => b.subarray(0, 4).toString('latin1') === 'file' || b.includes('\nfile');

const tmp = () => mkdtempSync(join(tmpdir(), 'aof-live-'));

function incrFile(dir: string): Buffer {
  const d = join(dir, 'appendonlydir');
  const name = readdirSync(d).filter((n) => n.endsWith('.incr.aof')).sort().pop()!;
  return readFileSync(join(d, name));
}

describe.skipIf(!live)('aof-tool against the real redis-server and redis-check-aof 7.0.15', () => {
  let aof: Buffer; // a single-file AOF written by Redis from random traffic
  const dirs: string[] = [];

  beforeAll(async () => {
    const server = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always' } });
    try {
      await randomTraffic(server.client, { seed: 7, commands: 1200, dbs: [0, 1, 5], multi: true, expiries: true });
    } finally {
      await server.stop({ keepFiles: true });
    }
    aof = incrFile(server.dir);
    dirs.push(server.dir);
  });

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('accepts the AOF Redis wrote, as redis-check-aof does', async () => {
    const dir = tmp();
    dirs.push(dir);
    const path = join(dir, 'appendonly.aof');
    writeFileSync(path, aof);
    const report = await checkAof(path);
    expect(report.ok).toBe(true);
    expect(refVerdict(path).exit).toBe(0);
    const ref = refVerdict(path).analyzed!;
    expect(report.files[0].okUpToLine).toBe(ref.line);
  });

  async function sameAsRedis(bytes: Buffer): Promise<boolean> {
    if (looksLikeManifestTo70(bytes)) return false;
    const dir = tmp();
    dirs.push(dir);
    const ours = join(dir, 'ours.aof');
    const theirs = join(dir, 'theirs.aof');
    writeFileSync(ours, bytes);
    writeFileSync(theirs, bytes);
    const ref = refVerdict(theirs);
    const report = await checkAof(ours);
    expect(report.ok, 'verdict').toBe(ref.exit === 0);
    if (ref.analyzed) {
      const f = report.files[0];
      expect({ size: f.size, okUpTo: f.okUpTo, line: f.okUpToLine, diff: f.diff }).toEqual(ref.analyzed);
    }
    // --fix: the same bytes left behind
    const { plan } = await planFix(ours);
    const fixed = redisCheckAof(['--fix', theirs], 'y\n');
    if (plan) {
      expect(fixed.exit).toBe(0);
      await applyFix(plan, { backup: false });
    }
    expect(readFileSync(ours).equals(readFileSync(theirs)), 'fixed bytes').toBe(true);
    rmSync(dir, { recursive: true, force: true });
    return true;
  }

  it('cut at random points: same verdict, ok_up_to, line and fixed bytes as redis-check-aof', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: aof.length - 1 }), async (cut) => {
        if (await sameAsRedis(aof.subarray(0, cut))) compared++;
      }),
      { numRuns: 60 },
    );
    expect(compared).toBeGreaterThan(40);
  });

  it('corrupted at random points (flips, inserted garbage, deletions): same verdicts and fixes', async () => {
    let compared = 0;
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: aof.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: aof.length }), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat({ max: aof.length - 1 }), n: fc.integer({ min: 1, max: 30 }) }),
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        let bytes: Buffer;
        if (m.kind === 'flip') {
          bytes = Buffer.from(aof);
          bytes[m.at] = m.byte;
        } else if (m.kind === 'insert') bytes = Buffer.concat([aof.subarray(0, m.at), Buffer.from(m.bytes), aof.subarray(m.at)]);
        else bytes = Buffer.concat([aof.subarray(0, m.at), aof.subarray(m.at + m.n)]);
        if (await sameAsRedis(bytes)) compared++;
      }),
      { numRuns: 80 },
    );
    expect(compared).toBeGreaterThan(50);
  });

  it('--salvage drops only the damaged region and keeps every command after it', async () => {
    const dir = tmp();
    dirs.push(dir);
    const path = join(dir, 'appendonly.aof');
    // garbage in the middle, at a record boundary
    const cmds: number[] = [];
    for await (const c of readAof((writeFileSync(path, aof), path))) cmds.push(c.offset);
    const at = cmds[Math.floor(cmds.length / 2)];
    writeFileSync(path, Buffer.concat([aof.subarray(0, at), Buffer.from('garbage!\x00\xff', 'latin1'), aof.subarray(at)]));
    const { plan } = await planFix(path, { salvage: true });
    expect(plan?.kind).toBe('salvage');
    expect(plan!.skipped).toEqual([expect.objectContaining({ start: at, end: at + 10 })]);
    await applyFix(plan!);
    expect(readFileSync(path).equals(aof)).toBe(true);
    expect(existsSync(`${path}.bak`)).toBe(true);
  });
});

/**
 * Sends the commands to a fresh server. Like Redis loading an AOF, a command that fails (e.g. an XADD whose ID
 * is no longer the top once a FLUSHALL is gone) is skipped when `tolerateErrors`; otherwise any error fails.
 */
async function replay(commands: Uint8Array[][], tolerateErrors = false): Promise<ReturnType<typeof dumpLiveKeyspace>> {
  const server = await startRedis();
  try {
    for (let i = 0; i < commands.length; i += 500) {
      const replies = await server.client.pipeline(commands.slice(i, i + 500));
      for (const r of replies) if (r.type === 'error' && !tolerateErrors) throw new Error(`replay failed: ${r.value}`);
    }
    return await dumpLiveKeyspace(server.client);
  } finally {
    await server.stop();
  }
}

async function loadAofDir(appendonlydir: string): Promise<Awaited<ReturnType<typeof dumpLiveKeyspace>>> {
  const dir = tmp();
  cpSync(appendonlydir, join(dir, 'appendonlydir'), { recursive: true });
  const server: RedisServer = await startRedis({ dir, config: { appendonly: 'yes' } });
  try {
    return await dumpLiveKeyspace(server.client);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!live)('aof-tool strip on a real multi-part AOF', () => {
  let source: string;
  beforeAll(async () => {
    const server = await startRedis({ config: { appendonly: 'yes', appendfsync: 'always', 'aof-use-rdb-preamble': 'no' } });
    try {
      await randomTraffic(server.client, { seed: 11, commands: 500, dbs: [0, 2], multi: true, expiries: true });
      await server.client.call('BGREWRITEAOF');
      for (let i = 0; i < 200; i++) {
        const info = await server.client.callText('INFO', 'persistence');
        if (info && /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await randomTraffic(server.client, { seed: 12, commands: 700, dbs: [0, 1, 2], multi: true, expiries: true, flushAll: true });
    } finally {
      await server.stop({ keepFiles: true });
    }
    source = server.dir;
  });
  afterAll(() => rmSync(source, { recursive: true, force: true }));

  it('removes FLUSHALL/FLUSHDB only, and the result loads with the keyspace of a replay without them', async () => {
    const aofDir = join(source, 'appendonlydir');
    const all: Uint8Array[][] = [];
    let flushes = 0;
    for await (const c of readAof(aofDir)) {
      const name = Buffer.from(c.args[0]).toString().toUpperCase();
      if (name === 'FLUSHALL' || name === 'FLUSHDB') flushes++;
      else all.push(c.args);
    }
    expect(flushes).toBeGreaterThan(0);
    const reference = await replay(all, true);

    const out = join(tmp(), 'stripped');
    const result = await stripAof(aofDir, { commands: ['flushall', 'FlushDB'], output: out });
    expect(result.removed).toBeGreaterThanOrEqual(flushes);
    expect((await checkAof(out)).ok).toBe(true);
    const loaded = await loadAofDir(out);
    const same = sameKeyspace(loaded, reference, { ignore: ['streamConsumerTimes'] });
    expect(same.diff).toEqual([]);

    // in place on a copy: same result, originals kept as backups, input of -o untouched
    const copy = tmp();
    cpSync(aofDir, copy, { recursive: true });
    const inPlace = await stripAof(copy, { commands: ['FLUSHALL', 'FLUSHDB'] });
    for (const f of inPlace.files.filter((x) => x.removed > 0)) {
      expect(f.backup).toBeTruthy();
      expect(readFileSync(f.backup!).equals(readFileSync(join(aofDir, f.file)))).toBe(true);
      expect(readFileSync(f.path).equals(readFileSync(join(out, f.file)))).toBe(true);
    }
    const dry = await stripAof(aofDir, { commands: ['FLUSHALL', 'FLUSHDB'], dryRun: true });
    expect(dry.removed).toBe(result.removed);
  });

  it('the reader yields what Redis loads: a replay of readAof equals the keyspace Redis loads from the files', async () => {
    const cmds: Uint8Array[][] = [];
    for await (const c of readAof(join(source, 'appendonlydir'))) cmds.push(c.args);
    const [replayed, loaded] = [await replay(cmds), await loadAofDir(join(source, 'appendonlydir'))];
    expect(sameKeyspace(replayed, loaded, { ignore: ['streamConsumerTimes'] }).diff).toEqual([]);
  });
});
