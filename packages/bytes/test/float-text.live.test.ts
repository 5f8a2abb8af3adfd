// The number text rules against a real redis-server (7.0.15 here): INCRBYFLOAT / HINCRBYFLOAT results and
// refusals byte for byte, ZADD's acceptance of score text (string2d) and ZSCORE's %.17g reply.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDoubleG17, incrByFloatText, parseRedisDouble, parseRedisRangeDouble, type IncrByFloatFailure } from '@redis-persist/bytes';
import { redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';
import type { RespValue } from '@redis-persist/resp';

const hasRedis = redisAvailable();
if (!hasRedis) console.warn('[bytes] redis-server is not on PATH: skipping the live number-text tests');

const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

const EDGE: [string, string][] = [
  ['0.1', '0.2'],
  ['1e10', '-0.000001'],
  ['1000000000000000', '0.25'],
  ['1', '0x1p-18'], // a tie at the 18th decimal
  ['3', '0x1p-60'],
  ['1', '0x1p-64'], // half an ulp of 1 in 64 bits: ties to even
  ['1', '0x3p-65'],
  ['1e308', '1e308'], // beyond double, fine in long double
  ['1e4932', '1e4932'], // beyond long double
  ['-1.18e4932', '1.18e4932'],
  ['1.18e4932', '0'],
  ['-0', '0'],
  ['-0', '-0'],
  ['0', '-1e-30'],
  ['-5', '4.999999999999999999'],
  ['0.1234567890123456789012345678901234567890', '0'],
  ['9007199254740993', '1'],
  ['18446744073709551615', '1'],
  ['18446744073709551617', '0'],
  ['123456789012345678901234567890', '1'],
  ['1e-4951', '0'],
  ['2e-4951', '0'],
  ['4e-4951', '1'],
  ['1e-5000', '1'],
  ['0e-99999', '1'],
  ['1e5000', '1'],
  ['inf', '1'],
  ['1', 'inf'],
  ['1', '-Infinity'],
  ['1', 'nan'],
  ['1', ' 1'],
  ['1', '1 '],
  ['1', '+1'],
  ['1', '.5'],
  ['1', '5.'],
  ['1', '.'],
  ['1', '0x1.8p1'],
  ['1', '0X.8'],
  ['1', '0x'],
  ['1', '1e'],
  ['1', '1e+'],
  ['1', '0xffffffffffffffffff'],
  ['abc', '1'],
  ['', '1'],
  ['1', ''],
  ['1', '1\u00002'],
  ['1', '1'.padEnd(5119, '0')],
  ['1', '1'.padEnd(5120, '0')],
  ['1', `1.${'0'.repeat(5117)}`],
  ['1', `1.${'0'.repeat(5118)}`],
];

/** A random number text of the kinds users and programs send: decimal of any length and exponent, some hex. */
const numberText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{1,25}$/), fc.option(fc.stringMatching(/^[0-9]{0,25}$/)), fc.option(fc.integer({ min: -330, max: 330 }))).map(([s, i, f, e]) => `${s}${i}${f === null ? '' : `.${f}`}${e === null ? '' : `e${e}`}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[1-9][0-9]{0,20}$/), fc.integer({ min: -4960, max: 4940 })).map(([s, i, e]) => `${s}${i}e${e}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', '-'), fc.bigInt({ min: 1n, max: 2n ** 80n }), fc.integer({ min: -100, max: 100 })).map(([s, m, e]) => `${s}0x${m.toString(16)}p${e}`) },
  { weight: 1, arbitrary: fc.double({ noNaN: true }).map((x) => String(x).replace('Infinity', 'inf')) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String) },
);

function replyText(r: RespValue): string {
  if (r.type === 'error') return `error: ${r.value.replace(/^ERR /, '')}`;
  if (r.type === 'bulk' && r.value !== null) return Buffer.from(r.value).toString('latin1');
  return `unexpected ${r.type}`;
}

function ourMessage(why: IncrByFloatFailure, hash: boolean): string {
  switch (why) {
    case 'current-not-float':
      return hash ? 'hash value is not a float' : 'value is not a valid float';
    case 'increment-not-float':
      return 'value is not a valid float';
    case 'increment-not-finite':
      return 'value is NaN or Infinity';
    case 'result-not-finite':
      return 'increment would produce NaN or Infinity';
  }
}

/** Our answers for `cur`, then `+ x`, then `+ y` on what the first left (the stored value read back). */
function ourChain(cur: string, x: string, y: string, hash: boolean): string[] {
  const out: string[] = [];
  let stored = cur;
  for (const by of [x, y]) {
    const r = incrByFloatText(b(stored), b(by), hash);
    if (r.ok) {
      out.push(r.text);
      stored = r.text;
    } else out.push(`error: ${ourMessage(r.why, hash)}`);
  }
  return out;
}

describe.skipIf(!hasRedis)('number text against a live redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ config: { save: '', appendonly: 'no' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const randomTriples = fc.sample(fc.tuple(numberText, numberText, numberText), { numRuns: 300, seed: 20261207 });
  const triples: [string, string, string][] = [...EDGE.map(([a, c]): [string, string, string] => [a, c, '0.1']), ...randomTriples];

  it.each([false, true])('INCRBYFLOAT / HINCRBYFLOAT (hash: %s) agree byte for byte, chained on their own result', async (hash) => {
    const cmds: string[][] = [];
    for (const [a, x, y] of triples) {
      if (hash) cmds.push(['DEL', 'h'], ['HSET', 'h', 'f', a], ['HINCRBYFLOAT', 'h', 'f', x], ['HINCRBYFLOAT', 'h', 'f', y]);
      else cmds.push(['DEL', 'k'], ['SET', 'k', a], ['INCRBYFLOAT', 'k', x], ['INCRBYFLOAT', 'k', y]);
    }
    const replies = await server.client.pipeline(cmds.map((c) => c.map(b)));
    const diffs: string[] = [];
    triples.forEach(([a, x, y], i) => {
      const theirs = [replyText(replies[4 * i + 2]!), replyText(replies[4 * i + 3]!)];
      const ours = ourChain(a, x, y, hash);
      if (theirs[0] !== ours[0] || theirs[1] !== ours[1]) diffs.push(`${JSON.stringify([a, x, y].map((t) => (t.length > 60 ? `${t.slice(0, 60)}…(${t.length})` : t)))}: redis ${JSON.stringify(theirs)} ours ${JSON.stringify(ours)}`);
    });
    expect(diffs).toEqual([]);
    // The run must have covered both outcomes, or it proves little.
    const texts = replies.map(replyText);
    expect(texts.filter((t) => t.startsWith('error:')).length).toBeGreaterThan(20);
    expect(texts.filter((t) => /^-?\d/.test(t)).length).toBeGreaterThan(300);
  });

  it("ZADD accepts exactly the score text string2d accepts, and ZSCORE's %.17g is ours", async () => {
    const scores = [
      ...EDGE.flat(),
      ...['1000000000000000.25', '1e16', '1e17', '4.9e-324', '2.5e-324', '2e-324', '1e-400', '1e309', '0x1p-1074', '-0', '0.1', '1.7976931348623157e308', '-inf', '+inf', 'infinity', 'nan', '1e-5'],
      ...fc.sample(numberText, { numRuns: 300, seed: 7 }),
      ...fc.sample(fc.double({ noNaN: true }), { numRuns: 200, seed: 8 }).map((x) => formatDoubleG17(x)),
    ];
    const cmds: string[][] = [];
    for (const s of scores) cmds.push(['DEL', 'z'], ['ZADD', 'z', s, 'm'], ['ZSCORE', 'z', 'm']);
    const replies = await server.client.pipeline(cmds.map((c) => c.map(b)));
    const diffs: string[] = [];
    scores.forEach((s, i) => {
      const added = replies[3 * i + 1]!;
      const v = parseRedisDouble(b(s));
      const theirs = added.type === 'error' ? `error: ${added.value.replace(/^ERR /, '')}` : replyText(replies[3 * i + 2]!);
      // A listpack holds an integral score as an integer, so -0 comes back as 0.
      const ours = v === null ? 'error: value is not a valid float' : formatDoubleG17(v === 0 ? 0 : v);
      if (theirs !== ours) diffs.push(`${JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s)}: redis ${theirs} ours ${ours}`);
    });
    expect(diffs).toEqual([]);
  });

  it('ZCOUNT takes score bounds by zslParseRange\'s looser strtod rule', async () => {
    const members: [string, number][] = [['-inf', -Infinity], ['-1', -1], ['0', 0], ['0.5', 0.5], ['1', 1], ['2', 2], ['1e308', 1e308], ['inf', Infinity]];
    const bounds = [
      ...['', '(', ' 1', '(  2', '1 ', '1e999', '(1e999', '-1e999', '1e-400', '0x1p-1', 'nan', 'inf', '(inf', '-inf', '+inf', '1\u00002', 'abc', '((1', '0x', '1e'],
      ...fc.sample(numberText, { numRuns: 150, seed: 9 }).map((t, i) => (i % 3 === 0 ? `(${t}` : i % 5 === 0 ? ` ${t}` : t)),
    ];
    const cmds: string[][] = [['DEL', 'r'], ['ZADD', 'r', ...members.flatMap(([s, _v], i) => [s, `m${i}`])]];
    for (const lo of bounds) cmds.push(['ZCOUNT', 'r', lo, '+inf']);
    const replies = await server.client.pipeline(cmds.map((c) => c.map(b)));
    const diffs: string[] = [];
    bounds.forEach((lo, i) => {
      const reply = replies[i + 2]!;
      const theirs = reply.type === 'error' ? `error: ${reply.value}` : reply.type === 'integer' ? String(reply.value) : `unexpected ${reply.type}`;
      const excl = lo.startsWith('(');
      const v = parseRedisRangeDouble(b(excl ? lo.slice(1) : lo));
      const ours = v === null ? 'error: ERR min or max is not a float' : String(members.filter(([, x]) => (excl ? x > v : x >= v)).length);
      if (theirs !== ours) diffs.push(`${JSON.stringify(lo)}: redis ${theirs} ours ${ours}`);
    });
    expect(diffs).toEqual([]);
  });
});
