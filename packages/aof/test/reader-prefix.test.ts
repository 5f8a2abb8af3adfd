// readAof never hides what came before the damage: every command complete before it is yielded (a transaction the
// damage cuts off marked inUnfinishedMulti), and only then the AofError (file, offset).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AofError, readAof, readAofBatches, type AofCommand } from '@redis-persist/aof';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'aof-prefix-'));
  temps.push(d);
  return d;
}

type Rec = { kind: 'cmd'; args: string[] } | { kind: 'ts'; ts: number } | { kind: 'tx'; cmds: string[][] };

function encodeCommand(args: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${Buffer.byteLength(a, 'latin1')}\r\n`), Buffer.from(a, 'latin1'), Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

interface Placed {
  args: string[];
  offset: number;
  end: number;
  /** Where its transaction ends (the end of its EXEC), for commands inside MULTI/EXEC (MULTI and EXEC included). */
  txEnd: number | null;
}

/** Bytes of an AOF built by hand, with every command's place known by construction. */
function build(recs: Rec[]): { bytes: Buffer; commands: Placed[]; records: [number, number, 'cmd' | 'ts' | 'tx'][] } {
  const parts: Buffer[] = [];
  const commands: Placed[] = [];
  const records: [number, number, 'cmd' | 'ts' | 'tx'][] = [];
  let off = 0;
  for (const r of recs) {
    const start = off;
    if (r.kind === 'ts') {
      const b = Buffer.from(`#TS:${r.ts}\r\n`);
      parts.push(b);
      off += b.length;
    } else {
      const list = r.kind === 'cmd' ? [r.args] : [['MULTI'], ...r.cmds, ['EXEC']];
      const placed: Placed[] = [];
      for (const args of list) {
        const b = encodeCommand(args);
        parts.push(b);
        placed.push({ args, offset: off, end: off + b.length, txEnd: null });
        off += b.length;
      }
      if (r.kind === 'tx') for (const p of placed) p.txEnd = off;
      commands.push(...placed);
    }
    records.push([start, off, r.kind]);
  }
  return { bytes: Buffer.concat(parts), commands, records };
}

async function readAll(path: string, options: { chunkSize?: number } = {}): Promise<{ cmds: AofCommand[]; error: AofError | null }> {
  const cmds: AofCommand[] = [];
  try {
    for await (const c of readAof(path, options)) cmds.push(c);
  } catch (err) {
    if (!(err instanceof AofError)) throw err;
    return { cmds, error: err };
  }
  return { cmds, error: null };
}

const str = (c: AofCommand) => c.args.map((a) => Buffer.from(a).toString('latin1'));

/** What a cut at `cut` must give: the commands complete before it, and whether an error follows them. */
function expectedAt(b: ReturnType<typeof build>, cut: number) {
  const complete = b.commands.filter((c) => c.end <= cut);
  const cmds = complete.map((c) => ({ args: c.args, offset: c.offset, unfinished: c.txEnd !== null && c.txEnd > cut }));
  // inside a command, or inside a transaction, is damage; inside an annotation (outside MULTI) is not
  const rec = b.records.find(([s, e]) => cut > s && cut < e);
  const damaged = rec !== undefined && rec[2] !== 'ts';
  return { cmds, damaged };
}

const SMALL: Rec[] = [
  { kind: 'ts', ts: 1700000000 },
  { kind: 'cmd', args: ['SELECT', '0'] },
  { kind: 'cmd', args: ['SET', 'k1', 'v1'] },
  { kind: 'cmd', args: ['FLUSHALL'] },
  { kind: 'ts', ts: 1700000005 },
  { kind: 'tx', cmds: [['SET', 'k2', 'v2'], ['DEL', 'k1', 'k3']] },
  { kind: 'cmd', args: ['SELECT', '3'] },
  { kind: 'cmd', args: ['LPUSH', 'list', 'a', 'b\r\nc'] },
];

describe('readAof: damage never hides what came before it', () => {
  it('the crashed example yields its 34 commands, then the error with file and offset', async () => {
    const path = join(root, 'examples/crashed/appendonly.aof');
    const { cmds, error } = await readAll(path);
    expect(cmds).toHaveLength(34);
    expect(cmds[cmds.length - 1].end).toBe(1987);
    expect(error).not.toBeNull();
    expect(error!.code).toBe('truncated');
    expect(error!.file).toBe(path);
    expect(error!.offset).toBe(2015);
    expect(error!.message).toMatch(/offset 2015: the file ends inside an argument of 56 bytes/);
  });

  it('a file cut at every byte offset yields exactly the commands complete before the cut (any read chunk size)', async () => {
    const b = build(SMALL);
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    for (let cut = 0; cut <= b.bytes.length; cut++) {
      writeFileSync(path, b.bytes.subarray(0, cut));
      const want = expectedAt(b, cut);
      for (const chunkSize of [1 << 20, 3]) {
        const { cmds, error } = await readAll(path, { chunkSize });
        const got = cmds.map((c) => ({ args: str(c), offset: c.offset, unfinished: c.inUnfinishedMulti === true }));
        expect(got, `cut at ${cut}, chunk ${chunkSize}`).toEqual(want.cmds);
        expect(error !== null, `cut at ${cut}: error ${error?.message}`).toBe(want.damaged);
        if (error) {
          expect(error.file).toBe(path);
          expect(error.offset).toBeGreaterThanOrEqual(want.cmds.length ? want.cmds[want.cmds.length - 1].offset : 0);
          expect(error.offset).toBeLessThanOrEqual(cut);
        }
      }
    }
  });

  it('random AOFs cut anywhere: the same rule (property)', async () => {
    const d = tmp();
    const path = join(d, 'appendonly.aof');
    const arg = fc.string({ maxLength: 12 }).map((s) => Buffer.from(s, 'utf8').toString('latin1'));
    const cmd = fc.tuple(fc.constantFrom('SET', 'DEL', 'INCR', 'FLUSHALL', 'sadd'), fc.array(arg, { maxLength: 3 })).map(([n, r]) => [n, ...r]);
    const rec: fc.Arbitrary<Rec> = fc.oneof(
      { weight: 5, arbitrary: cmd.map((args) => ({ kind: 'cmd' as const, args })) },
      { weight: 1, arbitrary: fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }).map((ts) => ({ kind: 'ts' as const, ts })) },
      { weight: 2, arbitrary: fc.array(cmd, { maxLength: 3 }).map((cmds) => ({ kind: 'tx' as const, cmds })) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(rec, { minLength: 1, maxLength: 12 }), fc.nat(), fc.constantFrom(1 << 20, 3, 16), async (recs, at, chunkSize) => {
        const b = build(recs);
        const cut = at % (b.bytes.length + 1);
        writeFileSync(path, b.bytes.subarray(0, cut));
        const want = expectedAt(b, cut);
        const { cmds, error } = await readAll(path, { chunkSize });
        expect(cmds.map((c) => ({ args: str(c), offset: c.offset, unfinished: c.inUnfinishedMulti === true }))).toEqual(want.cmds);
        expect(error !== null).toBe(want.damaged);
      }),
      { numRuns: 300 },
    );
  });

  it('a FLUSHALL 12 KB before a cut 5 bytes short is yielded before the error', async () => {
    const recs: Rec[] = [{ kind: 'cmd', args: ['SET', 'a', '1'] }, { kind: 'cmd', args: ['FLUSHALL'] }];
    for (let i = 0; i < 300; i++) recs.push({ kind: 'cmd', args: ['SET', `key:${i}`, 'x'.repeat(30)] });
    const b = build(recs);
    const path = join(tmp(), 'appendonly.aof');
    writeFileSync(path, b.bytes.subarray(0, b.bytes.length - 5));
    const { cmds, error } = await readAll(path);
    expect(error?.code).toBe('truncated');
    expect(cmds).toHaveLength(301);
    const flush = cmds.find((c) => str(c)[0] === 'FLUSHALL')!;
    expect(flush.offset).toBe(b.commands[1].offset);
    expect(b.bytes.length - flush.offset).toBeGreaterThan(12_000);
  });

  it('damage inside a transaction: its commands come marked, just before the error; a complete one is not marked', async () => {
    const b = build([
      { kind: 'tx', cmds: [['SET', 'a', '1'], ['SET', 'b', '2']] },
      { kind: 'cmd', args: ['SET', 'c', '3'] },
      { kind: 'tx', cmds: [['SET', 'd', '4'], ['DEL', 'a']] },
    ]);
    const path = join(tmp(), 'appendonly.aof');
    // cut just before the last EXEC
    writeFileSync(path, b.bytes.subarray(0, b.commands[b.commands.length - 1].offset));
    const { cmds, error } = await readAll(path, { chunkSize: 5 });
    expect(error?.message).toMatch(/MULTI transaction that starts at offset \d+ \(no EXEC\)/);
    expect(cmds.map((c) => [str(c)[0], c.inUnfinishedMulti ?? false])).toEqual([
      ['MULTI', false], ['SET', false], ['SET', false], ['EXEC', false], ['SET', false],
      ['MULTI', true], ['SET', true], ['DEL', true],
    ]);
    // garbage instead of the EXEC: the same
    writeFileSync(path, Buffer.concat([b.bytes.subarray(0, b.commands[b.commands.length - 1].offset), Buffer.from('garbage\r\n')]));
    const g = await readAll(path);
    expect(g.error?.code).toBe('corrupt');
    expect(g.cmds.filter((c) => c.inUnfinishedMulti).map((c) => str(c)[0])).toEqual(['MULTI', 'SET', 'DEL']);
    // a nested MULTI (redis-check-aof: "Unexpected MULTI"): the open transaction comes marked
    writeFileSync(path, Buffer.concat([b.bytes.subarray(0, b.commands[b.commands.length - 1].offset), encodeCommand(['MULTI']), encodeCommand(['EXEC'])]));
    const n = await readAll(path);
    expect(n.error?.message).toMatch(/MULTI inside the transaction/);
    expect(n.cmds.filter((c) => c.inUnfinishedMulti).map((c) => str(c)[0])).toEqual(['MULTI', 'SET', 'DEL']);
  });

  it('a transaction comes whole, in one batch, even when it spans many read chunks', async () => {
    const b = build([{ kind: 'cmd', args: ['SET', 'a', '1'] }, { kind: 'tx', cmds: [['SET', 'b', '2'], ['SET', 'c', '3'], ['INCR', 'n']] }, { kind: 'cmd', args: ['DEL', 'a'] }]);
    const path = join(tmp(), 'appendonly.aof');
    writeFileSync(path, b.bytes);
    const batches: string[][] = [];
    for await (const batch of readAofBatches(path, { chunkSize: 4 })) batches.push(batch.map((c) => str(c)[0]));
    expect(batches.flat()).toEqual(['SET', 'MULTI', 'SET', 'SET', 'INCR', 'EXEC', 'DEL']);
    expect(batches).toContainEqual(['MULTI', 'SET', 'SET', 'INCR', 'EXEC']);
  });

  it('a bad SELECT in the middle of a read chunk: the commands before it come first', async () => {
    const b = build([{ kind: 'cmd', args: ['SET', 'a', '1'] }, { kind: 'cmd', args: ['INCR', 'n'] }, { kind: 'cmd', args: ['SELECT', 'x'] }, { kind: 'cmd', args: ['SET', 'b', '2'] }]);
    const path = join(tmp(), 'appendonly.aof');
    writeFileSync(path, b.bytes);
    const { cmds, error } = await readAll(path);
    expect(cmds.map((c) => str(c)[0])).toEqual(['SET', 'INCR']);
    expect(error?.code).toBe('corrupt');
    expect(error?.offset).toBe(b.commands[2].offset);
  });

  it('multi-part: the earlier files and the damaged file up to its damage, then the error naming that file', async () => {
    const d = tmp();
    const dir = join(d, 'appendonlydir');
    mkdirSync(dir);
    const base = build([{ kind: 'cmd', args: ['SET', 'base', '1'] }]);
    const incr1 = build([{ kind: 'cmd', args: ['SELECT', '2'] }, { kind: 'cmd', args: ['SET', 'x', '1'] }]);
    const incr2 = build([{ kind: 'cmd', args: ['SET', 'y', '2'] }, { kind: 'cmd', args: ['FLUSHALL'] }, { kind: 'cmd', args: ['SET', 'z', '3'] }]);
    writeFileSync(join(dir, 'appendonly.aof.1.base.aof'), base.bytes);
    writeFileSync(join(dir, 'appendonly.aof.1.incr.aof'), incr1.bytes);
    writeFileSync(join(dir, 'appendonly.aof.2.incr.aof'), incr2.bytes.subarray(0, incr2.bytes.length - 3));
    writeFileSync(
      join(dir, 'appendonly.aof.manifest'),
      'file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n',
    );
    const { cmds, error } = await readAll(d);
    expect(cmds.map((c) => `${c.file}:${c.offset} db${c.db} ${str(c).join(' ')}`)).toEqual([
      'appendonly.aof.1.base.aof:0 db0 SET base 1',
      `appendonly.aof.1.incr.aof:0 db2 SELECT 2`,
      `appendonly.aof.1.incr.aof:${incr1.commands[1].offset} db2 SET x 1`,
      'appendonly.aof.2.incr.aof:0 db0 SET y 2',
      `appendonly.aof.2.incr.aof:${incr2.commands[1].offset} db0 FLUSHALL`,
    ]);
    expect(error?.file).toBe('appendonly.aof.2.incr.aof');
    expect(error?.code).toBe('truncated');
  });
});
