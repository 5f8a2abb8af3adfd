// Key filters over AOF commands: readAof's `filter` and filterAof (the file aof-tool filter writes).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AofError, filterAof, parseAof, readAof, type AofCommand } from '@redis-persist/aof';

const dir = mkdtempSync(join(tmpdir(), 'aof-filter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const resp = (...args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
let n = 0;
function aof(text: string): string {
  const p = join(dir, `in${n++}.aof`);
  writeFileSync(p, text);
  return p;
}
const show = (cmds: AofCommand[]) => cmds.map((c) => (c.timestamp !== undefined ? `@${c.timestamp} ` : '') + `${c.db}:` + c.args.map((a) => Buffer.from(a).toString()).join(' '));
async function filtered(input: string, options: Parameters<typeof filterAof>[2]): Promise<{ text: string; lines: string[] }> {
  const out = join(dir, `out${n++}.aof`);
  await filterAof(input, out, options);
  const bytes = readFileSync(out);
  // the output parses (annotations skipped), and its commands are these
  return { text: bytes.toString('latin1'), lines: show(parseAof(bytes)) };
}

const MIXED =
  resp('SELECT', '0') +
  resp('SET', 'a:1', 'x') +
  resp('SET', 'b:1', 'y') +
  resp('DEL', 'a:1', 'b:1', 'a:2') +
  resp('MSET', 'b:2', '1', 'a:3', '2', 'b:3', '3') +
  resp('MULTI') +
  resp('SET', 'b:4', '1') +
  resp('INCR', 'b:5') +
  resp('EXEC') +
  resp('MULTI') +
  resp('SET', 'b:6', '1') +
  resp('SET', 'a:6', '1') +
  resp('EXEC') +
  resp('SELECT', '2') +
  resp('SET', 'a:7', 'z') +
  resp('FLUSHDB') +
  resp('SELECT', '0') +
  resp('FLUSHALL');

describe('filterAof', () => {
  it('keeps the kept keys, cuts DEL/MSET, keeps transactions well-formed, SELECTs where needed', async () => {
    const { lines } = await filtered(aof(MIXED), { filter: { keys: ['a:*'] } });
    expect(lines).toEqual([
      '0:SELECT 0',
      '0:SET a:1 x',
      '0:DEL a:1 a:2',
      '0:MSET a:3 2',
      '0:MULTI',
      '0:SET a:6 1',
      '0:EXEC',
      '2:SELECT 2',
      '2:SET a:7 z',
      '2:FLUSHDB',
      '0:SELECT 0',
      '0:FLUSHALL',
    ]);
  });

  it('exclusion and databases', async () => {
    const { lines } = await filtered(aof(MIXED), { filter: { excludeKeys: ['a:*'], dbs: [0] } });
    expect(lines).toEqual([
      '0:SELECT 0',
      '0:SET b:1 y',
      '0:DEL b:1',
      '0:MSET b:2 1 b:3 3',
      '0:MULTI',
      '0:SET b:4 1',
      '0:INCR b:5',
      '0:EXEC',
      '0:MULTI',
      '0:SET b:6 1',
      '0:EXEC',
      '0:FLUSHALL',
    ]);
  });

  it('a mixed command that cannot be cut: an error by default (nothing written), else kept whole or dropped', async () => {
    const input = aof(resp('SET', 'a:1', 'x') + resp('RENAME', 'a:1', 'b:1') + resp('SET', 'a:2', 'y'));
    const out = join(dir, 'refused.aof');
    const err = await filterAof(input, out, { filter: { keys: ['a:*'] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AofError);
    expect((err as AofError).message).toMatch(/RENAME names keys the filter keeps and keys it drops/);
    expect((err as AofError).offset).toBe(Buffer.byteLength(resp('SET', 'a:1', 'x')));
    expect(existsSync(out)).toBe(false);
    const decided: string[] = [];
    const kept = await filtered(input, { filter: { keys: ['a:*'] }, partial: 'keep', onPartial: (p) => decided.push(p.decision) });
    expect(kept.lines).toEqual(['0:SELECT 0', '0:SET a:1 x', '0:RENAME a:1 b:1', '0:SET a:2 y']);
    const dropped = await filtered(input, { filter: { keys: ['a:*'] }, partial: 'drop', onPartial: (p) => decided.push(p.decision) });
    expect(dropped.lines).toEqual(['0:SELECT 0', '0:SET a:1 x', '0:SET a:2 y']);
    expect(decided).toEqual(['kept', 'dropped']);
    // SWAPDB with a database criterion needs a decision too
    await expect(filterAof(aof(resp('SWAPDB', '0', '1')), join(dir, 'swap.aof'), { filter: { dbs: [0] } })).rejects.toThrow(/SWAPDB/);
  });

  it('#TS: annotations are kept: each kept command under the time it had', async () => {
    const input = aof(`#TS:100\r\n${resp('SET', 'a:1', 'x')}${resp('SET', 'b:1', 'x')}#TS:200\r\n${resp('SET', 'b:2', 'x')}#TS:300\r\n${resp('SET', 'a:2', 'x')}${resp('DEL', 'a:2', 'b:1')}`);
    const { text } = await filtered(input, { filter: { keys: ['a:*'] } });
    expect(text).toBe(`#TS:100\r\n${resp('SELECT', '0')}${resp('SET', 'a:1', 'x')}#TS:300\r\n${resp('SET', 'a:2', 'x')}${resp('DEL', 'a:2')}`);
    const cmds: AofCommand[] = [];
    for await (const c of readAof(input, { filter: { keys: ['a:*'] } })) cmds.push(c);
    expect(show(cmds)).toEqual(['@100 0:SET a:1 x', '@300 0:SET a:2 x', '@300 0:DEL a:2']);
    expect(cmds[2].cut).toBe(true);
  });

  it('refuses type/expiry/size criteria and an RDB preamble', async () => {
    await expect(filterAof(aof(resp('SET', 'a', 'b')), join(dir, 'x1.aof'), { filter: { types: ['string'] } })).rejects.toThrow(/types, expiry and sizes/);
    const rdbPreamble = readFileSync(new URL('../../../fixtures/rdb/all-types.rdb', import.meta.url));
    const p = join(dir, 'preamble.aof');
    writeFileSync(p, Buffer.concat([rdbPreamble, Buffer.from(resp('SET', 'a', 'b'))]));
    await expect(filterAof(p, join(dir, 'x2.aof'), { filter: { keys: ['a'] } })).rejects.toThrow(/RDB part/);
    expect(existsSync(join(dir, 'x2.aof'))).toBe(false);
  });

  it('readAof with a filter: a mixed command comes whole, marked', async () => {
    const cmds: AofCommand[] = [];
    for await (const c of readAof(aof(resp('RENAME', 'a:1', 'b:1') + resp('SET', 'b:1', 'x')), { filter: { keyRegexes: ['^a:\\d$'] } })) cmds.push(c);
    expect(show(cmds)).toEqual(['0:RENAME a:1 b:1']);
    expect(cmds[0].partialKeys).toBe(true);
  });
});
