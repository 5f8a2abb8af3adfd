import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyFilter, KeyspaceError, keyElements, type KeyFilterSpec } from '@redis-persist/keyspace';

const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const u = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));

/** A reference translation of a glob over the small alphabet below into a JS regex on the latin1 key. */
function globToRegex(tokens: string[]): RegExp {
  const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  const src = tokens
    .map((t) => {
      if (t === '*') return '[\\s\\S]*';
      if (t === '?') return '[\\s\\S]';
      if (t.startsWith('\\')) return esc(t[1]);
      if (t.startsWith('[^')) return `[^${[...t.slice(2, -1)].map(esc).join('')}]`;
      if (t.startsWith('[')) return `[${[...t.slice(1, -1)].map(esc).join('')}]`;
      return esc(t);
    })
    .join('');
  return new RegExp(`^${src}$`);
}

const tokenArb = fc.constantFrom('a', 'b', ':', '*', '?', '[ab]', '[^a]', '[:b]', '\\*', '\\?', '\\[');
const keyArb = fc.array(fc.constantFrom('a', 'b', ':', '*', '?', '[', 'é', '\u0000'), { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));

describe('KeyFilter', () => {
  it('an empty filter passes everything', () => {
    const f = KeyFilter.from({});
    expect(f.passesAll).toBe(true);
    expect(f.matches(3, b('x'), 'hash', 0)).toBe(true);
  });

  it('includes: any glob or regex; excludes: none may match', () => {
    const f = KeyFilter.from({ keys: ['user:*'], keyRegexes: ['^session:\\d+$'], excludeKeys: ['user:tmp:*'], excludeKeyRegexes: ['9$'] });
    expect(f.passKey(b('user:1'))).toBe(true);
    expect(f.passKey(b('session:12'))).toBe(true);
    expect(f.passKey(b('session:x'))).toBe(false);
    expect(f.passKey(b('user:tmp:1'))).toBe(false);
    expect(f.passKey(b('user:19'))).toBe(false);
    expect(f.passKey(b('other'))).toBe(false);
    // only excludes: everything else passes
    const g = KeyFilter.from({ excludeKeys: ['a*'] });
    expect(g.passKey(b('b'))).toBe(true);
    expect(g.passKey(b('abc'))).toBe(false);
  });

  it('regexes see one character per byte; non-ASCII text in a string regex stands for its UTF-8 bytes', () => {
    expect(KeyFilter.from({ keyRegexes: ['^caf\u00e9$'] }).passKey(u('café'))).toBe(true);
    expect(KeyFilter.from({ keyRegexes: ['^caf\u00e9$'] }).passKey(b('caf\u00e9'))).toBe(false); // latin1 é is one byte 0xe9
    expect(KeyFilter.from({ keyRegexes: ['^caf..$'] }).passKey(u('café'))).toBe(true); // two bytes
    expect(KeyFilter.from({ keyRegexes: ['^\\xff\\x00'] }).passKey(new Uint8Array([0xff, 0, 1]))).toBe(true);
    expect(KeyFilter.from({ keyRegexes: ['^[\\xc3][\\xa9]$'] }).passKey(u('é'))).toBe(true);
    expect(() => KeyFilter.from({ keyRegexes: ['[é]'] })).toThrow(/inside a \[\.\.\.\] class/);
    expect(KeyFilter.from({ keyRegexes: [/^A/gi] }).passKey(b('abc'))).toBe(true);
    const g = KeyFilter.from({ keyRegexes: [/a/g] });
    expect([g.passKey(b('a')), g.passKey(b('a')), g.passKey(b('a'))]).toEqual([true, true, true]); // no lastIndex state
  });

  it('bad input is a usage error', () => {
    for (const spec of [{ keyRegexes: ['('] }, { types: ['blob'] }, { dbs: [-1] }, { minBytes: 1.5 }, { now: NaN }] as KeyFilterSpec[]) {
      let err: unknown;
      try {
        KeyFilter.from(spec);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyspaceError);
      expect((err as KeyspaceError).kind).toBe('usage');
    }
    expect(() => KeyFilter.from({ keyRegexes: ['('] })).toThrow(/invalid regular expression "\("/);
  });

  it('types, databases, expiry and size', () => {
    const f = KeyFilter.from({ types: ['hash', 'set'], dbs: [0, 2] });
    expect(f.passMeta(0, 'hash', null)).toBe(true);
    expect(f.passMeta(1, 'hash', null)).toBe(false);
    expect(f.passMeta(2, 'list', null)).toBe(false);
    const exp = KeyFilter.from({ expired: true, now: 1000 });
    const live = KeyFilter.from({ expired: false, now: 1000 });
    for (const [at, isExpired] of [[null, false], [999, true], [1000, false], [1001, false]] as const) {
      expect(exp.passMeta(0, 'string', at)).toBe(isExpired);
      expect(live.passMeta(0, 'string', at)).toBe(!isExpired);
    }
    const size = KeyFilter.from({ minBytes: 10, minElements: 3 });
    expect(size.needsSize).toBe(true);
    expect(size.passSize(10, 3)).toBe(true);
    expect(size.passSize(9, 3)).toBe(false);
    expect(size.passSize(10, 2)).toBe(false);
    expect(size.matchesRecord({ db: 0, key: b('k'), expireAt: null, type: 'list', value: [b('a'), b('b'), b('c')] })).toBe(true);
    expect(size.matchesRecord({ db: 0, key: b('k'), expireAt: null, type: 'string', value: b('abc') })).toBe(false);
    expect(keyElements({ type: 'string', value: b('abc') })).toBe(1);
  });

  it('property: an exclude is the complement of the same include', () => {
    fc.assert(
      fc.property(fc.array(tokenArb, { minLength: 1, maxLength: 6 }), fc.uint8Array({ maxLength: 12 }), keyArb, (tokens, raw, text) => {
        const glob = tokens.join('');
        for (const key of [raw, b(text)]) {
          const inc = KeyFilter.from({ keys: [glob] }).passKey(key);
          const exc = KeyFilter.from({ excludeKeys: [glob] }).passKey(key);
          expect(exc).toBe(!inc);
          const re = globToRegex(tokens).source;
          expect(KeyFilter.from({ excludeKeyRegexes: [re] }).passKey(key)).toBe(!KeyFilter.from({ keyRegexes: [re] }).passKey(key));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: a glob matches as its reference regex translation does (non-empty keys)', () => {
    fc.assert(
      fc.property(fc.array(tokenArb, { minLength: 1, maxLength: 6 }), keyArb, (tokens, text) => {
        const key = b(text);
        expect(KeyFilter.from({ keys: [tokens.join('')] }).passKey(key)).toBe(globToRegex(tokens).test(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('property: include/exclude sets combine as documented', () => {
    const patterns = fc.array(fc.array(tokenArb, { minLength: 1, maxLength: 4 }).map((t) => t.join('')), { maxLength: 3 });
    fc.assert(
      fc.property(patterns, patterns, keyArb, (inc, exc, text) => {
        const key = b(text);
        const one = (g: string) => KeyFilter.from({ keys: [g] }).passKey(key);
        const want = (inc.length === 0 || inc.some(one)) && !exc.some(one);
        expect(KeyFilter.from({ keys: inc, excludeKeys: exc }).passKey(key)).toBe(want);
      }),
      { numRuns: 500 },
    );
  });
});
