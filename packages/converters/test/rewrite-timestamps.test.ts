// aof-tool rewrite --base aof of an AOF with #TS: annotations: the RESP base starts with one, as a Redis rewrite's
// does (the time of the last annotation replayed); without annotations there is none; an RDB base has none.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readAof } from '@redis-persist/aof';
import { rewriteAof } from '@redis-persist/converters';

const fixture = fileURLToPath(new URL('../../../fixtures/aof/timestamps-multipart/appendonlydir', import.meta.url));
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function copy(): string {
  const d = mkdtempSync(join(tmpdir(), 'rewrite-ts-'));
  temps.push(d);
  cpSync(fixture, join(d, 'appendonlydir'), { recursive: true });
  return join(d, 'appendonlydir');
}

describe('rewrite keeps the #TS: time', () => {
  it('a RESP base starts with #TS:<the last time replayed>', async () => {
    let last = 0;
    for await (const c of readAof(fixture)) if (c.timestamp !== undefined) last = Math.max(last, c.timestamp);
    expect(last).toBeGreaterThan(0);
    const dir = copy();
    await rewriteAof(dir, { base: 'aof', backup: false });
    const base = readdirSync(dir).find((n) => n.endsWith('.base.aof'))!;
    const text = readFileSync(join(dir, base), 'latin1');
    expect(text.startsWith(`#TS:${last}\r\n*`)).toBe(true);
    expect(text.match(/#TS:/g)!.length).toBe(1);
    // the rewritten AOF reads back with that time on every command
    const times = new Set<number | undefined>();
    for await (const c of readAof(dir)) times.add(c.timestamp);
    expect([...times]).toEqual([last]);
  });

  it('no annotation in, none out; an RDB base carries none', async () => {
    const d = mkdtempSync(join(tmpdir(), 'rewrite-ts-'));
    temps.push(d);
    const single = join(d, 'appendonly.aof');
    writeFileSync(single, '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n');
    await rewriteAof(single, { base: 'aof', backup: false });
    expect(readFileSync(single, 'latin1').startsWith('*')).toBe(true);
    const dir = copy();
    await rewriteAof(dir, { base: 'rdb', backup: false });
    const base = readdirSync(dir).find((n) => n.endsWith('.base.rdb'))!;
    expect(readFileSync(join(dir, base), 'latin1').startsWith('REDIS')).toBe(true);
  });
});
