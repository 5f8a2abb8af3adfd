import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchGlob } from '@redis-persist/bytes';
import { seededRandom, redisAvailable, startRedis, type RedisServer } from '@redis-persist/testkit';
import type { RespValue } from '@redis-persist/resp';

// Strings here are byte strings: one char per byte (latin1), so '\xff' is the byte 0xff.
const b = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const str = (u: Uint8Array) => Buffer.from(u).toString('latin1');
const match = (p: string, s: string, nocase = false) => matchGlob(b(p), b(s), nocase);

// [pattern, subject, expected, nocase?]. Each case-sensitive row is also checked against a live KEYS below.
const CASES: [string, string, boolean, 'nocase'?][] = [
  // empty subject / empty pattern
  ['', '', true],
  ['', 'a', false],
  ['a', '', false],
  ['*', '', true], // KEYS/SCAN take a lone `*` as "all keys" without matching
  ['**', '', false], // ...but the matcher itself never matches an empty subject against a non-empty pattern
  ['?', '', false],
  ['[^', '', false],
  // stars and question marks
  ['*', 'abc', true],
  ['**', 'abc', true],
  ['a*', 'a', true],
  ['a**', 'a', true],
  ['a*b', 'ab', true],
  ['a*b', 'axxb', true],
  ['a*b', 'axxbc', false],
  ['*b*', 'abc', true],
  ['*a*a*b', 'aaab', true],
  ['*a*a*b', 'aaba', false],
  ['h?llo', 'hello', true],
  ['h?llo', 'hllo', false],
  ['??', 'a', false],
  ['a', 'ab', false],
  ['ab', 'a', false],
  // classes
  ['h[ae]llo', 'hallo', true],
  ['h[ae]llo', 'hillo', false],
  ['h[^e]llo', 'hallo', true],
  ['h[^e]llo', 'hello', false],
  ['h[a-b]llo', 'hbllo', true],
  ['h[a-b]llo', 'hcllo', false],
  ['[z-a]', 'm', true], // reversed range: ends swapped
  ['[z-a]', 'A', false],
  ['[-a]', '-', true], // `-` first: a plain byte
  ['[-a]', 'a', true],
  ['[-a]', 'b', false],
  ['[a-]', ']', true], // `a-]` is the range `]`..`a`, and the class runs to the end
  ['[a-]', '_', true],
  ['[a-]', 'a', true],
  ['[a-]', '-', false],
  ['[a-]b', 'b', true], // one class {`]`..`a`, `b`}, never closed
  ['[a-]b', 'ab', false],
  ['[a-b-c]', '-', true], // the range `a-b`, then `-` and `c` as plain bytes
  ['[a-b-c]', 'c', true],
  ['[]]', ']', false], // `[]` is an empty class: never matches
  ['[]]', '', false],
  ['[^]]', 'x]', true], // `[^]` is any byte, then a literal `]`
  ['[^]]', ']', false],
  ['[ab', 'b', true], // never closed: runs to the end of the pattern
  ['[ab', 'c', false],
  ['[ab', 'ab', false],
  ['[', '[', false], // a lone `[` never matches
  ['[', '', false],
  ['x[', 'x[', false],
  ['x[', 'x', false],
  ['[^', 'q', true], // `[^` never closed: any one byte
  ['[^', 'qq', false],
  ['[^a', 'a', false],
  ['[^a', 'b', true],
  // escapes in classes
  ['[a\\]]', 'a', true],
  ['[a\\]]', ']', true],
  ['[a\\]]', '\\', false],
  ['[a\\]]', 'a]', false],
  ['[a\\]', 'a', true], // `\]` is an escaped `]`, so the class is never closed
  ['[a\\]', ']', true],
  ['[a\\]', '\\', false],
  ['[\\]]', ']', true],
  ['[\\]', ']', true],
  ['[a\\', '\\', true], // a `\` as the last pattern byte is a plain `\`
  ['[a\\', 'a', true],
  ['[\\-a]', '-', true],
  ['[\\-a]', 'b', false],
  ['[\\^a]', '^', true],
  ['[^\\]]', ']', false],
  ['[^\\]]', 'x', true],
  // escapes outside classes
  ['\\', '\\', true], // trailing `\`: a plain `\`
  ['\\', '', false],
  ['a\\', 'a\\', true],
  ['a\\', 'a', false],
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['\\?', '?', true],
  ['\\?', 'a', false],
  ['\\\\', '\\', true],
  ['\\[a]', '[a]', true],
  ['\\[a]', 'a', false],
  ['\\a', 'a', true],
  ['*\\', 'ab\\', true],
  // bytes: NUL is an ordinary byte; ranges compare signed chars (x86), so 0x80..0xff sort before NUL
  ['a\x00b', 'a\x00b', true],
  ['a?b', 'a\x00b', true],
  ['[\x00]', '\x00', true],
  ['[a-\xff]', '\xff', true], // -1..0x61
  ['[a-\xff]', '\x00', true],
  ['[a-\xff]', 'a', true],
  ['[a-\xff]', 'b', false],
  ['[a-\xff]', '\x80', false],
  ['[a-\xff]', '\xfe', false],
  ['[\x80-\xff]', '\x90', true],
  ['[\x80-\xff]', 'a', false],
  ['[\x01-\x80]', '\xc0', true], // -128..1
  ['[\x01-\x80]', '\x00', true],
  ['[\x01-\x80]', '\x02', false],
  ['\xe9', '\xc9', false],
  // nocase (ASCII only; escapes inside classes stay exact; range ends are lowered after the swap)
  ['HELLO', 'hello', true, 'nocase'],
  ['hello', 'HELLO', true, 'nocase'],
  ['HELLO', 'hello', false],
  ['h[AE]llo', 'HeLLO', true, 'nocase'],
  ['[A-C]', 'b', true, 'nocase'],
  ['[a-c]', 'B', true, 'nocase'],
  ['[^a-c]', 'B', false, 'nocase'],
  ['\\A', 'a', true, 'nocase'],
  ['[\\A]', 'a', false, 'nocase'],
  ['[\\A]', 'A', true, 'nocase'],
  ['[Z-a]', '_', true],
  ['[Z-a]', '_', false, 'nocase'], // `Z`..`a` lowers to `z`..`a`: empty
  ['[Z-a]', 'z', false, 'nocase'],
  ['[[-a]', 'A', true, 'nocase'], // `[`..`a` -> `[`..`a`; `A` lowers to `a`
  ['[[-a]', 'B', false, 'nocase'],
  ['\xc9', '\xe9', false, 'nocase'],
  // Redis' give-up limit: at most 1000 `*` runs may be passed (a run ending the pattern is free)
  ['*a'.repeat(1000), 'a'.repeat(1000), true],
  ['*a'.repeat(1001), 'a'.repeat(1001), false],
  ['*a'.repeat(1001), 'a'.repeat(1000), false],
  ['a*'.repeat(1001), 'a'.repeat(1001), true],
  ['a*'.repeat(1001), 'a'.repeat(1100), true],
  ['a*'.repeat(1002), 'a'.repeat(1002), false],
  ['*?'.repeat(50000), 'a'.repeat(50000), false],
  ['**'.repeat(5000) + 'a', 'ba', true],
];

describe('matchGlob: hand cases', () => {
  it.each(CASES.map(([p, s, want, nc], i) => ({ i, p: p.length > 40 ? `${p.slice(0, 20)}...(${p.length})` : JSON.stringify(p), s: JSON.stringify(s.length > 40 ? s.slice(0, 20) : s), want, nc: nc === 'nocase', pat: p, sub: s })))(
    '#$i $p ~ $s (nocase $nc) -> $want',
    ({ pat, sub, want, nc }) => {
      expect(match(pat, sub, nc)).toBe(want);
    },
  );
});

describe('matchGlob: no exponential blow-up (CVE-2022-36021)', () => {
  // [pattern, subject tail, expected on the 10 KB key]. Subjects are `a` * n + tail. Short keys first, so an
  // exponential matcher fails on a 20-60 byte key instead of hanging on the 10 KB one.
  const nasty: [string, string, boolean][] = [
    ['*a*a*a*a*a*a*a*a*b', '', false],
    ['*a'.repeat(30) + 'b', '', false],
    ['*a'.repeat(30) + '*', '', true],
    ['*?'.repeat(30) + 'b', '', false],
    ['*[a-z]'.repeat(30) + '[^a]', '', false],
    ['a*'.repeat(500) + 'b', '', false],
    ['*' + 'a'.repeat(200) + 'b', '', false],
    ['*a*a*a*a*a*a*a*a*b', 'b', true],
    ['*a'.repeat(1000), '', true],
  ];
  const lengths = [8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 96, 128, 10_000];
  it.each(nasty.map(([p, tail, want], i) => ({ i, p, tail, want, label: p.length > 30 ? `${p.slice(0, 24)}...(${p.length})` : p })))(
    '#$i $label on keys of `a`s up to 10 KB finishes in milliseconds',
    ({ p, tail, want }) => {
      const pat = b(p);
      for (const n of lengths) {
        const sub = b('a'.repeat(n) + tail);
        const t0 = performance.now();
        const got = matchGlob(pat, sub);
        const ms = performance.now() - t0;
        expect({ n, slow: ms >= 200 }).toEqual({ n, slow: false });
        if (n === 10_000) expect(got).toBe(want);
      }
    },
  );
});

// An independent reference written from the rules (tokenise, then plain exhaustive backtracking), for
// patterns with at most 1000 `*` runs. Exponential, so only for short inputs.
type Tok =
  | { k: 'star' }
  | { k: 'any' }
  | { k: 'lit'; c: number }
  | { k: 'set'; not: boolean; exact: number[]; plain: number[]; ranges: [number, number][] };

function tokenize(p: Uint8Array): Tok[] {
  const n = p.length;
  const out: Tok[] = [];
  let i = 0;
  while (i < n) {
    const c = p[i];
    if (c === 0x2a) {
      out.push({ k: 'star' });
      i++;
    } else if (c === 0x3f) {
      out.push({ k: 'any' });
      i++;
    } else if (c === 0x5b) {
      let j = i + 1;
      const not = j < n && p[j] === 0x5e;
      if (not) j++;
      const set: Tok = { k: 'set', not, exact: [], plain: [], ranges: [] };
      for (;;) {
        if (j < n && p[j] === 0x5c && j + 1 < n) {
          set.exact.push(p[j + 1]);
          j += 2;
        } else if (j < n && p[j] === 0x5d) {
          j++;
          break;
        } else if (j >= n) {
          break;
        } else if (j + 2 < n && p[j + 1] === 0x2d) {
          set.ranges.push([p[j], p[j + 2]]);
          j += 3;
        } else {
          set.plain.push(p[j]);
          j++;
        }
      }
      out.push(set);
      i = j;
    } else if (c === 0x5c && i + 1 < n) {
      out.push({ k: 'lit', c: p[i + 1] });
      i += 2;
    } else {
      out.push({ k: 'lit', c });
      i++;
    }
  }
  return out;
}

const tolower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
const sch = (c: number) => (c > 127 ? c - 256 : c);

function tokMatches(t: Tok, c: number, nocase: boolean): boolean {
  if (t.k === 'any') return true;
  if (t.k === 'lit') return nocase ? tolower(t.c) === tolower(c) : t.c === c;
  if (t.k !== 'set') return false;
  let hit = t.exact.includes(c) || t.plain.some((x) => (nocase ? tolower(x) === tolower(c) : x === c));
  for (const [x, y] of t.ranges) {
    let lo = Math.min(sch(x), sch(y));
    let hi = Math.max(sch(x), sch(y));
    let v = sch(c);
    if (nocase) [lo, hi, v] = [tolower(lo), tolower(hi), tolower(v)];
    if (v >= lo && v <= hi) hit = true;
  }
  return hit !== t.not;
}

function reference(p: Uint8Array, s: Uint8Array, nocase: boolean): boolean {
  if (p.length === 1 && p[0] === 0x2a) return true;
  if (s.length === 0) return p.length === 0;
  const toks = tokenize(p);
  const go = (ti: number, si: number): boolean => {
    if (ti === toks.length) return si === s.length;
    const t = toks[ti];
    if (t.k === 'star') {
      for (let k = si; k <= s.length; k++) if (go(ti + 1, k)) return true;
      return false;
    }
    return si < s.length && tokMatches(t, s[si], nocase) && go(ti + 1, si + 1);
  };
  return go(0, 0);
}

describe('matchGlob: properties', () => {
  it('never throws on random bytes (and agrees with itself on copies)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), fc.boolean(), (p, s, nc) => {
        const r = matchGlob(p, s, nc);
        expect(typeof r).toBe('boolean');
        expect(matchGlob(p.slice(), s.slice(), nc)).toBe(r);
      }),
      { numRuns: 2000, seed: 36021 },
    );
  });

  const meta = fc.constantFrom(...[...'ab*?[]^-\\Az'].map((ch) => ch.charCodeAt(0)), 0, 0x80, 0xff);
  it('agrees with an exhaustive reference on short patterns over a glob-heavy alphabet', () => {
    fc.assert(
      fc.property(
        fc.array(meta, { maxLength: 10 }),
        fc.array(fc.constantFrom(0x61, 0x62, 0x41, 0x5d, 0x5c, 0x2d, 0x5e, 0x2a, 0, 0x80, 0xff), { maxLength: 8 }),
        fc.boolean(),
        (p, s, nc) => {
          const pat = Uint8Array.from(p);
          const sub = Uint8Array.from(s);
          expect(matchGlob(pat, sub, nc)).toBe(reference(pat, sub, nc));
        },
      ),
      { numRuns: 20_000, seed: 2022 },
    );
  });

  it('matches every hand case by the reference too (where it applies)', () => {
    for (const [p, s, want, nc] of CASES) {
      if ((p.match(/\*+/g) ?? []).length > 500 || p.length > 2000) continue;
      expect([p, s, reference(b(p), b(s), nc === 'nocase')]).toEqual([p, s, want]);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Against a live redis-server (7.0.15: CVE-2022-36021 fix and the CVE-2024-31228 nesting limit).


function bulkList(v: RespValue): string[] {
  if (v.type !== 'array' || v.value === null) throw new Error(`expected an array reply, got ${JSON.stringify(v)}`);
  return v.value.map((x) => {
    if (x.type !== 'bulk' || x.value === null) throw new Error(`expected bulk strings, got ${x.type}`);
    return str(x.value);
  });
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe.skipIf(!redisAvailable())('matchGlob against a live redis-server', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('every case-sensitive hand case equals KEYS on a db holding just that key', async () => {
    const c = server.client;
    const rows = CASES.filter(([, , , nc]) => nc !== 'nocase');
    const cmds: (string | Uint8Array)[][] = [['SELECT', '2']];
    for (const [p, s] of rows) cmds.push(['FLUSHDB'], ['SET', b(s), '1'], ['KEYS', b(p)]);
    cmds.push(['FLUSHDB'], ['SELECT', '0']);
    const replies = await c.pipeline(cmds);
    rows.forEach(([p, s, want], i) => {
      const live = bulkList(replies[1 + i * 3 + 2]).length === 1;
      const label = p.length > 40 ? `${p.slice(0, 20)}...(${p.length})` : p;
      expect({ p: label, s: s.slice(0, 40), live }).toEqual({ p: label, s: s.slice(0, 40), live: want });
      expect(match(p, s)).toBe(live);
    });
  });

  it('a few hundred random patterns: KEYS and SCAN MATCH give exactly the keys matchGlob picks', async () => {
    const c = server.client;
    const rnd = seededRandom(0x36021);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const keyAlphabet = ['a', 'a', 'b', 'b', 'A', 'z', '*', '?', '[', ']', '^', '-', '\\', '_', '\x00', '\x80', '\xff'];
    const patAlphabet = [...keyAlphabet, '*', '*', '?', '[', '[', ']', '\\', '-', '^'];
    const keys = new Set<string>(['']);
    while (keys.size < 300) {
      const n = Math.floor(rnd() * 9);
      let k = '';
      for (let i = 0; i < n; i++) k += pick(keyAlphabet);
      keys.add(k);
    }
    const keyList = [...keys];
    const mutate = (k: string): string => {
      let out = '';
      for (const ch of k) {
        const r = rnd();
        if (r < 0.1) out += '?';
        else if (r < 0.2) out += '*' + ch;
        else if (r < 0.25) out += `[${ch}${pick(keyAlphabet)}]`;
        else if (r < 0.3) out += `[^${pick(keyAlphabet)}]`;
        else if (r < 0.35) out += `[${pick(keyAlphabet)}-${pick(keyAlphabet)}]`;
        else if (r < 0.4) out += '\\' + ch;
        else if (r < 0.43) out += '*';
        else out += ch;
      }
      if (rnd() < 0.2) out += '*';
      if (rnd() < 0.1) out = '*' + out;
      return out;
    };
    const patterns: string[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 2 === 0) {
        patterns.push(mutate(pick(keyList)));
      } else {
        const n = Math.floor(rnd() * 11);
        let p = '';
        for (let j = 0; j < n; j++) p += pick(patAlphabet);
        patterns.push(p);
      }
    }

    await c.call('SELECT', '0');
    await c.call('FLUSHDB');
    await c.pipeline(keyList.map((k) => ['SET', b(k), '1']));
    expect(Number(await c.callInt('DBSIZE'))).toBe(keyList.length);

    const cmds: Uint8Array[][] = [];
    for (const p of patterns) cmds.push([b('KEYS'), b(p)], [b('SCAN'), b('0'), b('MATCH'), b(p), b('COUNT'), b('100000')]);
    const replies = await c.pipeline(cmds);
    let pairs = 0;
    let hitPatterns = 0;
    patterns.forEach((p, i) => {
      const mine = sorted(keyList.filter((k) => match(p, k)));
      const viaKeys = sorted(bulkList(replies[2 * i]));
      const scan = replies[2 * i + 1];
      if (scan.type !== 'array' || scan.value === null || scan.value.length !== 2) throw new Error('bad SCAN reply');
      expect(bulkList({ type: 'array', value: [scan.value[0]] })).toEqual(['0']);
      const viaScan = sorted(bulkList(scan.value[1]));
      expect({ p, keys: viaKeys }).toEqual({ p, keys: mine });
      expect({ p, scan: viaScan }).toEqual({ p, scan: mine });
      pairs += mine.length;
      if (mine.length > 0) hitPatterns++;
    });
    // the comparison is only worth something when plenty of patterns match something (and not everything)
    expect(hitPatterns).toBeGreaterThan(patterns.length / 3);
    expect(pairs).toBeLessThan(patterns.length * keyList.length / 4);
    await c.call('FLUSHDB');
  });

  it('nocase: COMMAND LIST FILTERBY PATTERN (stringmatchlen nocase) gives exactly the names matchGlob picks', async () => {
    const c = server.client;
    const names = bulkList(await c.call('COMMAND', 'LIST'));
    expect(names.length).toBeGreaterThan(200);
    const rnd = seededRandom(0x2024);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const flip = (ch: string) => (rnd() < 0.5 ? ch.toUpperCase() : ch.toLowerCase());
    const extra = ['A', 'z', 'Z', '_', '`', '[', '|', '-', 'G', 'm', 'S'];
    const patterns: string[] = [];
    for (let i = 0; i < 200; i++) {
      let out = '';
      for (const ch of pick(names)) {
        const r = rnd();
        if (r < 0.1) out += '?';
        else if (r < 0.15) out += '*';
        else if (r < 0.22) out += `[${flip(ch)}${pick(extra)}]`;
        else if (r < 0.27) out += `[^${flip(pick(extra))}]`;
        else if (r < 0.35) out += `[${pick(extra)}-${pick(extra)}]`;
        else if (r < 0.4) out += `[\\${flip(ch)}]`;
        else if (r < 0.45) out += '\\' + flip(ch);
        else if (r < 0.5) out += '*' + flip(ch);
        else out += flip(ch);
      }
      if (rnd() < 0.3) out = out.slice(0, Math.floor(rnd() * out.length)) + '*';
      patterns.push(out);
    }
    const replies = await c.pipeline(patterns.map((p) => ['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', b(p)]));
    let hitPatterns = 0;
    patterns.forEach((p, i) => {
      const mine = sorted(names.filter((n) => match(p, n, true)));
      expect({ p, names: sorted(bulkList(replies[i])) }).toEqual({ p, names: mine });
      if (mine.length > 0) hitPatterns++;
    });
    expect(hitPatterns).toBeGreaterThan(patterns.length / 4);
  });
});
