// stripAof's selectors (at, last, since/until, keys) against a real redis-server 7.0.15 with appendonly yes and
// aof-timestamp-enabled yes: traffic with two FLUSHALLs and an accidental DEL; each selection removes exactly the
// intended bytes (the original minus those ranges, a partly matching DEL re-encoded), and redis-server loads the
// result with the keyspace of the same traffic without (or with the rewritten) commands.
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAof, readAof, stripAof, StripSelectionError, type StripOptions, type StrippedCommand } from '@redis-persist/aof';
import { sameKeyspace, type KeyspaceRecord } from '@redis-persist/keyspace';
import { dumpLiveKeyspace, redisAvailable, startRedis } from '@redis-persist/testkit';

const live = redisAvailable();
if (!live) console.warn('[strip selectors] redis-server not installed: skipped (.ci/run installs it)');

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'strip-select-'));
  temps.push(d);
  return d;
}

type Step = { args: string[] } | { tx: string[][] } | 'tick';
const c = (...args: string[]): Step => ({ args });

// Each 'tick' waits for the clock to move on, so the phases carry different #TS: annotations.
const TRAFFIC: Step[] = [
  c('SET', 'user:1', 'alice'), c('SET', 'tmp:1', 'x'), c('RPUSH', 'list', 'a', 'b'),
  c('FLUSHALL'), // the first FLUSHALL: meant (a reset before the real data)
  'tick',
  c('SET', 'user:1', 'alice'), c('SET', 'user:2', 'bob'), c('SET', 'user:3', 'carol'), c('SET', 'user:4', 'dan'),
  c('SET', 'user:5', 'eve'), c('SET', 'user:6', 'fay'), c('SET', 'tmp:1', 'x'), c('SET', 'tmp:2', 'y'), c('SET', 'tmp:3', 'z'),
  c('HSET', 'h', 'f', 'v'), c('MSET', 'user:8', 'gus', 'other:8', 'o8'),
  c('DEL', 'tmp:1'), // meant
  'tick',
  c('FLUSHALL'), // the second FLUSHALL: the stray one
  c('SET', 'user:1', 'alice'), c('SET', 'user:2', 'bob'), c('SET', 'user:3', 'carol'), c('SET', 'user:4', 'dan'),
  c('SET', 'user:5', 'eve'), c('SET', 'user:6', 'fay'), c('SET', 'tmp:2', 'y'), c('SET', 'tmp:3', 'z'),
  'tick',
  c('DEL', 'user:1'), // the accident
  c('DEL', 'user:2', 'tmp:2'), // partly matching user:*: rewritten to DEL tmp:2
  { tx: [['DEL', 'user:4'], ['SET', 'after:1', '1']] }, // the SET keeps the transaction alive
  { tx: [['DEL', 'user:5'], ['UNLINK', 'user:6']] }, // emptied when DEL and UNLINK both go
  c('RENAME', 'user:3', 'other:3'), // a RENAME cannot lose one of its keys
  c('SET', 'last', 'write'),
];

async function feed(client: { call(...a: string[]): Promise<unknown> }, steps: Step[]): Promise<void> {
  for (const s of steps) {
    if (s === 'tick') {
      await new Promise((r) => setTimeout(r, 1100));
    } else if ('tx' in s) {
      await client.call('MULTI');
      for (const a of s.tx) await client.call(...a);
      await client.call('EXEC');
    } else await client.call(...s.args);
  }
}

/** The keyspace a fresh redis-server ends with after these steps (no persistence involved). */
async function reference(steps: Step[]): Promise<KeyspaceRecord[]> {
  const s = await startRedis();
  try {
    await feed(s.client, steps.filter((x) => x !== 'tick'));
    return await dumpLiveKeyspace(s.client);
  } finally {
    await s.stop();
  }
}

/** The keyspace redis-server loads from an AOF directory (copied into a fresh data dir as appendonlydir/). */
async function loadAofDir(aofDir: string): Promise<KeyspaceRecord[]> {
  const dir = tmp();
  cpSync(aofDir, join(dir, 'appendonlydir'), { recursive: true });
  const s = await startRedis({ dir, config: { appendonly: 'yes' } });
  try {
    return await dumpLiveKeyspace(s.client);
  } finally {
    await s.stop();
  }
}

/** The traffic with some steps changed: `edit` returns the replacement steps (none to drop one). */
function edited(edit: (args: string[], path: string) => string[][] | null): Step[] {
  const out: Step[] = [];
  TRAFFIC.forEach((s, i) => {
    if (s === 'tick') return;
    if ('tx' in s) {
      const cmds = s.tx.flatMap((a, j) => edit(a, `${i}.${j}`) ?? [a]);
      if (cmds.length === 1) out.push({ args: cmds[0] });
      else if (cmds.length > 1) out.push({ tx: cmds });
    } else out.push(...(edit(s.args, String(i)) ?? [s.args]).map((args) => ({ args })));
  });
  return out;
}

interface Placed {
  file: string;
  offset: number;
  end: number;
  args: string[];
  timestamp?: number;
}

const encode = (args: string[]) => Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);

describe.skipIf(!live)('stripAof selectors on a real AOF with #TS: annotations', () => {
  let dataDir: string;
  let aofDir: string;
  let incrName: string;
  let original: Buffer;
  let commands: Placed[];
  const at = (name: string, nth = 0, key?: string) => {
    const found = commands.filter((x) => x.args[0].toUpperCase() === name && (key === undefined || x.args[1] === key));
    expect(found.length, `${name} ${key ?? ''} in the AOF`).toBeGreaterThan(nth);
    return found[nth];
  };

  beforeAll(async () => {
    const s = await startRedis({ config: { appendonly: 'yes', 'aof-timestamp-enabled': 'yes', appendfsync: 'always' } });
    try {
      await feed(s.client, TRAFFIC);
    } finally {
      await s.stop({ keepFiles: true });
    }
    dataDir = s.dir;
    temps.push(dataDir);
    aofDir = join(dataDir, 'appendonlydir');
    incrName = readdirSync(aofDir).find((n) => n.endsWith('.incr.aof'))!;
    original = readFileSync(join(aofDir, incrName));
    commands = [];
    for await (const x of readAof(aofDir)) commands.push({ file: x.file, offset: x.offset, end: x.end, timestamp: x.timestamp, args: x.args.map((a) => Buffer.from(a).toString()) });
    expect(commands.filter((x) => x.args[0].toUpperCase() === 'FLUSHALL')).toHaveLength(2);
    expect(commands.filter((x) => x.args[0].toUpperCase() === 'MULTI')).toHaveLength(2);
    expect(new Set(commands.map((x) => x.timestamp)).size).toBeGreaterThanOrEqual(4);
  }, 120_000);

  /** Strips into a new data dir; checks the incr file is the original with exactly these edits, and the rest copied. */
  async function strip(options: Omit<StripOptions, 'output'>, edits: { range: [number, number]; bytes?: Buffer }[]) {
    const reported: StrippedCommand[] = [];
    const dry = await stripAof(aofDir, { ...options, dryRun: true, onRemoved: (x) => reported.push(x) });
    const out = join(tmp(), 'appendonlydir');
    const result = await stripAof(aofDir, { ...options, output: out });
    expect(result.removed).toBe(dry.removed);
    const sorted = [...edits].sort((a, b) => a.range[0] - b.range[0]);
    const parts: Buffer[] = [];
    let cur = 0;
    for (const e of sorted) {
      parts.push(original.subarray(cur, e.range[0]));
      if (e.bytes) parts.push(e.bytes);
      cur = e.range[1];
    }
    parts.push(original.subarray(cur));
    expect(readFileSync(join(out, incrName)).equals(Buffer.concat(parts))).toBe(true);
    for (const n of readdirSync(aofDir)) if (n !== incrName && !n.endsWith('.manifest')) expect(readFileSync(join(out, n)).equals(readFileSync(join(aofDir, n)))).toBe(true);
    // the dry run lists exactly what goes: every removed range, every rewritten command
    expect(reported.map((r) => [r.offset, r.offset + r.length, r.rewrittenTo !== null])).toEqual(sorted.map((e) => [e.range[0], e.range[1], e.bytes !== undefined]));
    expect((await checkAof(out)).ok).toBe(true);
    expect(readFileSync(join(aofDir, incrName)).equals(original)).toBe(true);
    return { out, result, reported };
  }

  async function expectLoads(out: string, want: Step[]) {
    const [loaded, expected] = await Promise.all([loadAofDir(out), reference(want)]);
    expect(sameKeyspace(loaded, expected).diff).toEqual([]);
  }

  it('--last FLUSHALL removes only the stray second FLUSHALL; Redis loads everything written before it', async () => {
    const second = at('FLUSHALL', 1);
    const { out, reported } = await strip({ commands: ['flushall'], last: true }, [{ range: [second.offset, second.end] }]);
    expect(reported[0]).toMatchObject({ file: incrName, offset: second.offset, timestamp: second.timestamp });
    let n = 0;
    await expectLoads(out, edited((a) => (a[0] === 'FLUSHALL' && n++ === 1 ? [] : null)));
  });

  it('--at removes the occurrence at the place cat prints, nothing else', async () => {
    const first = at('FLUSHALL', 0);
    const { out } = await strip({ commands: ['FLUSHALL'], at: [`${incrName}:${first.offset}`] }, [{ range: [first.offset, first.end] }]);
    let n = 0;
    await expectLoads(out, edited((a) => (a[0] === 'FLUSHALL' && n++ === 0 ? [] : null)));
    // an --at that names no FLUSHALL is refused, nothing written
    const bad = join(tmp(), 'appendonlydir');
    const err = await stripAof(aofDir, { commands: ['FLUSHALL'], at: [`${incrName}:${first.offset + 1}`], output: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StripSelectionError);
    expect((err as StripSelectionError).reason).toBe('at');
    expect(existsSync(bad)).toBe(false);
    const del = at('DEL', 0);
    await expect(stripAof(aofDir, { commands: ['FLUSHALL'], at: [`${incrName}:${del.offset}`], dryRun: true })).rejects.toThrow(/that is DEL, not FLUSHALL/);
  });

  it('--since/--until select by the #TS: time in force: each FLUSHALL alone by its own second', async () => {
    const [first, second] = [at('FLUSHALL', 0), at('FLUSHALL', 1)];
    expect(first.timestamp).toBeDefined();
    expect(second.timestamp!).toBeGreaterThan(first.timestamp!);
    await strip({ commands: ['FLUSHALL'], until: first.timestamp }, [{ range: [first.offset, first.end] }]);
    await strip({ commands: ['FLUSHALL'], since: second.timestamp, until: second.timestamp }, [{ range: [second.offset, second.end] }]);
    await strip({ commands: ['FLUSHALL'], since: first.timestamp! + 1 }, [{ range: [second.offset, second.end] }]);
    const none = await stripAof(aofDir, { commands: ['FLUSHALL'], since: second.timestamp! + 1, dryRun: true });
    expect(none.removed).toBe(0);
  });

  it("DEL --key 'user:*' removes the accidental DELs, rewrites DEL user:2 tmp:2 to DEL tmp:2, keeps the transactions' other commands", async () => {
    const del1 = at('DEL', 0, 'user:1');
    const del2 = at('DEL', 0, 'user:2');
    const del4 = at('DEL', 0, 'user:4');
    const del5 = at('DEL', 0, 'user:5');
    const { out, result, reported } = await strip({ commands: ['DEL'], keys: ['user:*'] }, [
      { range: [del1.offset, del1.end] },
      { range: [del2.offset, del2.end], bytes: encode(['DEL', 'tmp:2']) },
      { range: [del4.offset, del4.end] },
      { range: [del5.offset, del5.end] },
    ]);
    expect(result).toMatchObject({ removed: 3, rewritten: 1 });
    expect(reported.find((r) => r.rewrittenTo)!.rewrittenTo!.map((a) => Buffer.from(a).toString())).toEqual(['DEL', 'tmp:2']);
    // Redis loads it: user:1, user:2, user:4, user:5 are back; tmp:2 is still deleted; DEL tmp:1 (no match) kept
    await expectLoads(out, edited((a) => {
      if (a[0] !== 'DEL') return null;
      const rest = a.slice(1).filter((k) => !k.startsWith('user:'));
      return rest.length === 0 ? [] : [['DEL', ...rest]];
    }));
    const loaded = await loadAofDir(out);
    const keys = loaded.flatMap((r) => (r.kind === 'key' ? [Buffer.from(r.key).toString()] : [])).sort();
    expect(keys).toEqual(expect.arrayContaining(['user:1', 'user:2', 'user:4', 'user:5']));
    expect(keys).not.toContain('tmp:2');
  });

  it('DEL and UNLINK --key: a transaction left empty goes with its MULTI and EXEC', async () => {
    const del5 = at('DEL', 0, 'user:5');
    const unlink6 = at('UNLINK', 0, 'user:6');
    const multi = commands.filter((x) => x.args[0].toUpperCase() === 'MULTI' && x.offset < del5.offset).pop()!;
    const exec = commands.find((x) => x.args[0].toUpperCase() === 'EXEC' && x.offset > unlink6.offset)!;
    const { out, reported } = await strip({ commands: ['DEL', 'UNLINK'], keys: ['user:5', 'user:6'] }, [
      { range: [multi.offset, multi.end] },
      { range: [del5.offset, del5.end] },
      { range: [unlink6.offset, unlink6.end] },
      { range: [exec.offset, exec.end] },
    ]);
    expect(reported.filter((r) => r.emptiedTransaction)).toHaveLength(2);
    await expectLoads(out, edited((a) => (['user:5', 'user:6'].includes(a[1]) && (a[0] === 'DEL' || a[0] === 'UNLINK') ? [] : null)));
  });

  it('selectors combine: DEL --key user:* --last is the last matching DEL; --until before the accident selects none', async () => {
    const del5 = at('DEL', 0, 'user:5');
    const { out } = await strip({ commands: ['DEL'], keys: ['user:*'], last: true }, [{ range: [del5.offset, del5.end] }]);
    await expectLoads(out, edited((a) => (a[0] === 'DEL' && a[1] === 'user:5' ? [] : null)));
    const before = at('DEL', 0, 'user:1').timestamp! - 1;
    const none = await stripAof(aofDir, { commands: ['DEL'], keys: ['user:*'], until: before, dryRun: true });
    expect(none.removed + none.rewritten).toBe(0);
    // DEL tmp:1 is the only DEL before the accident
    const tmp1 = at('DEL', 0, 'tmp:1');
    await strip({ commands: ['DEL'], until: before }, [{ range: [tmp1.offset, tmp1.end] }]);
    // the accident by place, and by key: the same bytes
    const del1 = at('DEL', 0, 'user:1');
    await strip({ commands: ['DEL'], keys: ['user:1'], at: [`${incrName}:${del1.offset}`] }, [{ range: [del1.offset, del1.end] }]);
  });

  it('a RENAME of which only one key matches cannot be cut in part: refused, naming the place; nothing written', async () => {
    const rename = at('RENAME', 0);
    const out = join(tmp(), 'appendonlydir');
    const err = await stripAof(aofDir, { commands: ['RENAME'], keys: ['user:*'], output: out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StripSelectionError);
    expect((err as StripSelectionError).reason).toBe('partial-keys');
    expect((err as Error).message).toContain(`${incrName}:${rename.offset}`);
    expect((err as Error).message).toMatch(/"user:3" \(matching `keys`\) and "other:3" \(not matching\)/);
    expect(existsSync(out)).toBe(false);
    // both keys matching: it goes whole
    await strip({ commands: ['RENAME'], keys: ['user:*', 'other:*'] }, [{ range: [rename.offset, rename.end] }]);
  });

  it('MSET with one pair matching is rewritten without it; Redis loads the other pair', async () => {
    const mset = at('MSET', 0);
    const { out } = await strip({ commands: ['MSET'], keys: ['user:8'] }, [{ range: [mset.offset, mset.end], bytes: encode(['MSET', 'other:8', 'o8']) }]);
    // (a FLUSHALL follows it: load the result without the second FLUSHALL too, so the MSET's effect is visible)
    const both = join(tmp(), 'appendonlydir');
    expect((await stripAof(out, { commands: ['FLUSHALL'], last: true, output: both })).removed).toBe(1);
    let n = 0;
    await expectLoads(both, edited((a) => {
      if (a[0] === 'MSET') return [['MSET', 'other:8', 'o8']];
      if (a[0] === 'FLUSHALL' && n++ === 1) return [];
      return null;
    }));
  });

  it('--since/--until on an AOF without #TS: annotations is refused, saying so', async () => {
    const s = await startRedis({ config: { appendonly: 'yes' } });
    try {
      await s.client.call('SET', 'a', '1');
      await s.client.call('FLUSHALL');
    } finally {
      await s.stop({ keepFiles: true });
    }
    temps.push(s.dir);
    const err = await stripAof(s.dir, { commands: ['FLUSHALL'], since: 0, dryRun: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StripSelectionError);
    expect((err as StripSelectionError).reason).toBe('no-timestamps');
    expect((err as Error).message).toMatch(/no #TS: annotations/);
  });
});
