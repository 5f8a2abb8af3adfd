import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  CommandEncoder,
  RespDecoder,
  RespError,
  decodeAll,
  decodeStream,
  encodeCommand,
  encodeValue,
  type RespValue,
} from '@redis-persist/resp';

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);

const lineText = fc.string({ maxLength: 20, unit: 'grapheme' }).filter((s) => !/[\r\n]/.test(s));
const respValue: fc.Arbitrary<RespValue> = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ type: fc.constant('simple' as const), value: lineText }),
    fc.record({ type: fc.constant('error' as const), value: lineText }),
    fc.record({ type: fc.constant('integer' as const), value: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
    fc.record({
      type: fc.constant('bulk' as const),
      value: fc.option(fc.uint8Array({ maxLength: 40 }), { freq: 8 }),
    }),
    fc.record({
      type: fc.constant('array' as const),
      value: fc.option(fc.array(tie('value'), { maxLength: 5 }), { freq: 8 }),
    }),
  ),
})).value;

/** Decodes `input` fed as the given chunks; returns values or the thrown error. */
function decodeChunks(chunks: Uint8Array[]): RespValue[] {
  const d = new RespDecoder();
  const out: RespValue[] = [];
  for (const c of chunks) {
    d.push(c);
    for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
  }
  d.end();
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function errorOf(fn: () => unknown): RespError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RespError);
    return e as RespError;
  }
  throw new Error('expected a RespError');
}

describe('examples', () => {
  test('every type', () => {
    const input = bytes('+OK\r\n-ERR bad\r\n:-42\r\n$3\r\nfoo\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n');
    expect(decodeAll(input)).toEqual([
      { type: 'simple', value: 'OK' },
      { type: 'error', value: 'ERR bad' },
      { type: 'integer', value: -42n },
      { type: 'bulk', value: bytes('foo') },
      { type: 'bulk', value: null },
      { type: 'array', value: null },
      { type: 'array', value: [] },
      { type: 'array', value: [{ type: 'integer', value: 1n }, { type: 'array', value: [{ type: 'bulk', value: new Uint8Array(0) }] }] },
    ]);
  });

  test('int64 bounds', () => {
    expect(decodeAll(bytes(':9223372036854775807\r\n:-9223372036854775808\r\n'))).toEqual([
      { type: 'integer', value: 9223372036854775807n },
      { type: 'integer', value: -9223372036854775808n },
    ]);
    for (const bad of [':9223372036854775808\r\n', ':-9223372036854775809\r\n', ':\r\n', ':-\r\n', ':01\r\n', ':-0\r\n', ':1a\r\n', ':+1\r\n']) {
      expect(errorOf(() => decodeAll(bytes(bad))).code).toBe('corrupt');
    }
  });

  test('encodeCommand', () => {
    expect(new TextDecoder().decode(encodeCommand(['SET', 'k€', 12, 3n, new Uint8Array([0, 255])]))).toBe(
      '*5\r\n$3\r\nSET\r\n$4\r\nk€\r\n$2\r\n12\r\n$1\r\n3\r\n$2\r\n\u0000\ufffd\r\n',
    );
    expect(decodeAll(encodeCommand(['ZADD', 'z', Infinity, 'a', -Infinity, 'b', 1.5, 'c']))).toEqual([
      { type: 'array', value: ['ZADD', 'z', 'inf', 'a', '-inf', 'b', '1.5', 'c'].map((s) => ({ type: 'bulk', value: bytes(s) })) },
    ]);
  });

  test('CommandEncoder appends and reuses its buffer', () => {
    const e = new CommandEncoder(8);
    e.add(['PING']).add(['SET', 'a', 'b']);
    const first = e.take();
    expect(first).toEqual(concat([encodeCommand(['PING']), encodeCommand(['SET', 'a', 'b'])]));
    expect(e.length).toBe(0);
    e.add(['GET', 'a']);
    expect(e.take()).toEqual(encodeCommand(['GET', 'a']));
    expect(first).toEqual(concat([encodeCommand(['PING']), encodeCommand(['SET', 'a', 'b'])]));
  });

  test('decodeStream', async () => {
    async function* src() {
      yield bytes('*2\r\n$3\r\nfo');
      yield bytes('o\r\n:7');
      yield bytes('\r\n+x\r\n');
    }
    const out: RespValue[] = [];
    for await (const v of decodeStream(src())) out.push(v);
    expect(out).toEqual([
      { type: 'array', value: [{ type: 'bulk', value: bytes('foo') }, { type: 'integer', value: 7n }] },
      { type: 'simple', value: 'x' },
    ]);
    async function* cut() {
      yield bytes('+x\r\n*2\r\n:1\r\n');
    }
    await expect(async () => {
      for await (const _ of decodeStream(cut())) void _;
    }).rejects.toMatchObject({ name: 'RespError', code: 'truncated', offset: 4 });
  });
});

describe('errors', () => {
  test('unknown type byte is corrupt at its offset', () => {
    const e = errorOf(() => decodeAll(bytes('+OK\r\nPING\r\n')));
    expect(e.code).toBe('corrupt');
    expect(e.offset).toBe(5);
    expect(e.name).toBe('RespError');
  });

  test('inline commands are rejected before a line end arrives', () => {
    const d = new RespDecoder();
    d.push(bytes('P'));
    expect(() => d.next()).toThrow(RespError);
  });

  test('missing CR, bad bulk terminator', () => {
    expect(errorOf(() => decodeAll(bytes('+OK\n'))).code).toBe('corrupt');
    const e = errorOf(() => decodeAll(bytes('$3\r\nfooX\r\n')));
    expect(e).toMatchObject({ code: 'corrupt', offset: 7 });
    expect(errorOf(() => decodeAll(bytes('$3\r\nfoo\rX'))).offset).toBe(8);
  });

  test('huge lengths are errors, never allocations', () => {
    expect(errorOf(() => decodeAll(bytes('$9223372036854775808\r\n'))).code).toBe('corrupt');
    expect(errorOf(() => decodeAll(bytes('$9223372036854775807\r\n'))).code).toBe('limit');
    expect(errorOf(() => decodeAll(bytes('$99999999999999999999999\r\n'))).code).toBe('corrupt');
    expect(errorOf(() => decodeAll(bytes('*9223372036854775807\r\n'))).code).toBe('limit');
    expect(errorOf(() => decodeAll(bytes('$-2\r\n'))).code).toBe('corrupt');
    expect(errorOf(() => decodeAll(bytes('*-0\r\n'))).code).toBe('corrupt');
    expect(errorOf(() => decodeAll(bytes('$01\r\nx\r\n'))).code).toBe('corrupt');
  });

  test('a claimed 512 MiB bulk with 10 bytes of payload allocates little and reports truncated', () => {
    const d = new RespDecoder();
    d.push(bytes('+a\r\n$536870912\r\n0123456789'));
    expect(d.next()).toEqual({ type: 'simple', value: 'a' });
    expect(d.next()).toBeUndefined();
    const e = errorOf(() => d.end());
    expect(e).toMatchObject({ code: 'truncated', offset: 4 });
  });

  test('limits', () => {
    expect(errorOf(() => decodeAll(bytes('$5\r\nabcde\r\n'), { maxBulkLength: 4 })).code).toBe('limit');
    expect(decodeAll(bytes('$4\r\nabcd\r\n'), { maxBulkLength: 4 })).toHaveLength(1);
    expect(errorOf(() => decodeAll(bytes('*3\r\n'), { maxArrayLength: 2 })).code).toBe('limit');
    expect(errorOf(() => decodeAll(bytes('*1\r\n*1\r\n*1\r\n:1\r\n'), { maxDepth: 2 })).code).toBe('limit');
    expect(decodeAll(bytes('*1\r\n*1\r\n:1\r\n'), { maxDepth: 2 })).toHaveLength(1);
    expect(errorOf(() => decodeAll(bytes('+abcdef\r\n'), { maxLineLength: 5 })).code).toBe('limit');
    expect(decodeAll(bytes('+abcde\r\n'), { maxLineLength: 5 })).toHaveLength(1);
    // a line that never ends is a limit error once it passes maxLineLength, not an endless wait
    const d = new RespDecoder({ maxLineLength: 16 });
    d.push(bytes('+'));
    for (let i = 0; i < 17; i++) d.push(bytes('a'));
    expect(d.next()).toBeUndefined();
    d.push(bytes('aa'));
    expect(errorOf(() => d.next()).code).toBe('limit');
    // default depth 64: a deep nest fails cleanly
    expect(errorOf(() => decodeAll(bytes('*1\r\n'.repeat(100) + ':1\r\n'))).code).toBe('limit');
  });

  test('errors are sticky', () => {
    const d = new RespDecoder();
    d.push(bytes('?'));
    expect(() => d.next()).toThrow(RespError);
    expect(() => d.next()).toThrow(RespError);
  });

  test('encoding a simple string with CRLF is refused', () => {
    expect(() => encodeValue({ type: 'simple', value: 'a\r\nb' })).toThrow(RespError);
  });
});

describe('chunking (node-redis-parser style)', () => {
  const sample = concat([
    bytes('+OK\r\n-ERR x\r\n:123456789012345678\r\n$5\r\nhel\r\n\r\n$-1\r\n*-1\r\n*0\r\n'),
    encodeValue({ type: 'array', value: [{ type: 'bulk', value: new Uint8Array(300).fill(7) }, { type: 'array', value: [{ type: 'integer', value: -1n }, { type: 'simple', value: 'ü' }] }] }),
  ]);
  const whole = decodeAll(sample);

  test('split at every position', () => {
    for (let i = 0; i <= sample.length; i++) {
      expect(decodeChunks([sample.subarray(0, i), sample.subarray(i)])).toEqual(whole);
    }
  });

  test('byte by byte, and offset/buffered track the stream', () => {
    const d = new RespDecoder();
    const out: RespValue[] = [];
    for (let i = 0; i < sample.length; i++) {
      d.push(sample.subarray(i, i + 1));
      for (let v = d.next(); v !== undefined; v = d.next()) out.push(v);
      expect(d.offset + d.buffered).toBe(i + 1);
    }
    d.end();
    expect(out).toEqual(whole);
    expect(d.offset).toBe(sample.length);
    expect(d.buffered).toBe(0);
  });

  test('large bulk in many chunks', () => {
    const payload = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const encoded = encodeValue({ type: 'array', value: [{ type: 'bulk', value: payload }, { type: 'simple', value: 'end' }] });
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < encoded.length; i += 65521) chunks.push(encoded.slice(i, i + 65521));
    const [v] = decodeChunks(chunks);
    expect(v.type).toBe('array');
    const items = v.value as RespValue[];
    expect(Buffer.from(items[0].value as Uint8Array).equals(payload)).toBe(true);
    expect(items[1]).toEqual({ type: 'simple', value: 'end' });
  });
});

describe('properties', () => {
  test('decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(respValue, (v) => {
        expect(decodeAll(encodeValue(v))).toEqual([v]);
      }),
      { numRuns: 500 },
    );
  });

  test('any chunking gives the same values', () => {
    fc.assert(
      fc.property(fc.array(respValue, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 8 }), (vs, cuts) => {
        const encoded = concat(vs.map(encodeValue));
        const points = [...new Set(cuts.map((c) => c % (encoded.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(encoded.subarray(prev, p));
          prev = p;
        }
        chunks.push(encoded.subarray(prev));
        expect(decodeChunks(chunks)).toEqual(vs);
      }),
      { numRuns: 300 },
    );
  });

  test('every strict prefix needs more bytes and end() reports truncated at the value start', () => {
    fc.assert(
      fc.property(respValue, respValue, (a, b) => {
        const ea = encodeValue(a);
        const eb = encodeValue(b);
        const all = concat([ea, eb]);
        for (let i = ea.length + 1; i < all.length; i++) {
          const d = new RespDecoder();
          d.push(all.subarray(0, i));
          expect(d.next()).toEqual(a);
          expect(d.next()).toBeUndefined();
          const e = errorOf(() => d.end());
          expect(e.code).toBe('truncated');
          expect(e.offset).toBe(ea.length);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('encodeCommand: every argument becomes a bulk of its bytes; CommandEncoder = concatenation', () => {
    const arg = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.double({ noNaN: true }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    );
    const asBytes = (a: string | number | bigint | Uint8Array) =>
      a instanceof Uint8Array
        ? a
        : new Uint8Array(
            Buffer.from(
              typeof a === 'string' ? a : a === Infinity ? 'inf' : a === -Infinity ? '-inf' : Object.is(a, -0) ? '0' : String(a),
              'utf8',
            ),
          );
    fc.assert(
      fc.property(fc.array(fc.array(arg, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 }), (cmds) => {
        const e = new CommandEncoder(16);
        for (const c of cmds) e.add(c);
        const all = e.take();
        expect(all).toEqual(concat(cmds.map((c) => encodeCommand(c))));
        expect(decodeAll(all)).toEqual(cmds.map((c) => ({ type: 'array', value: c.map((a) => ({ type: 'bulk', value: asBytes(a) })) })));
      }),
      { numRuns: 300 },
    );
  });

  test('valueOffset is where the returned value started', () => {
    const d = new RespDecoder();
    d.push(bytes('+a\r\n*2\r\n:1\r\n$1\r\nx\r\n'));
    d.next();
    expect(d.valueOffset).toBe(0);
    d.next();
    expect(d.valueOffset).toBe(4);
  });

  test('end() on a garbage tail says corrupt, not truncated', () => {
    const d = new RespDecoder();
    d.push(bytes('+ok\r\nX'));
    expect(d.next()).toEqual({ type: 'simple', value: 'ok' });
    expect(errorOf(() => d.end())).toMatchObject({ code: 'corrupt', offset: 5 });
  });

  test('limits: a valid value decodes iff it is within every limit, else a limit error', () => {
    const stats = (v: RespValue, depth = 0): { bulk: number; arr: number; depth: number; line: number } => {
      const line = (t: string) => ({ bulk: 0, arr: 0, depth, line: t.length });
      switch (v.type) {
        case 'simple':
        case 'error':
          return line(Buffer.from(v.value, 'utf8').toString('latin1'));
        case 'integer':
          return line(v.value.toString());
        case 'bulk':
          return v.value === null ? line('-1') : { ...line(String(v.value.length)), bulk: v.value.length };
        case 'array': {
          if (v.value === null) return line('-1');
          let acc = { ...line(String(v.value.length)), arr: v.value.length, depth: depth + (v.value.length > 0 ? 1 : 0) };
          for (const x of v.value) {
            const s2 = stats(x, depth + 1);
            acc = { bulk: Math.max(acc.bulk, s2.bulk), arr: Math.max(acc.arr, s2.arr), depth: Math.max(acc.depth, s2.depth), line: Math.max(acc.line, s2.line) };
          }
          return acc;
        }
      }
    };
    fc.assert(
      fc.property(
        respValue,
        fc.record({ maxBulkLength: fc.nat(45), maxArrayLength: fc.nat(6), maxDepth: fc.nat(5), maxLineLength: fc.nat(22) }),
        fc.boolean(),
        (v, limits, byteByByte) => {
          const st = stats(v);
          const ok = st.bulk <= limits.maxBulkLength && st.arr <= limits.maxArrayLength && st.depth <= limits.maxDepth && st.line <= limits.maxLineLength;
          const encoded = encodeValue(v);
          const run = () => {
            const d = new RespDecoder(limits);
            const out: RespValue[] = [];
            const step = byteByByte ? 1 : encoded.length;
            for (let i = 0; i < encoded.length; i += step) {
              d.push(encoded.subarray(i, i + step));
              for (let x = d.next(); x !== undefined; x = d.next()) out.push(x);
            }
            d.end();
            return out;
          };
          if (ok) expect(run()).toEqual([v]);
          else expect(errorOf(run).code).toBe('limit');
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('random bytes: only RespError, never a hang', () => {
    const alphabet = fc.constantFrom(...bytes('+-:$*\r\n0123456789-aZ'), 0, 255);
    const junk = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.array(alphabet, { maxLength: 64 }).map((a) => Uint8Array.from(a)));
    fc.assert(
      fc.property(junk, fc.nat({ max: 64 }), (input, cut) => {
        for (const chunks of [[input], [input.subarray(0, cut), input.subarray(cut)]]) {
          try {
            decodeChunks(chunks);
          } catch (e) {
            expect(e).toBeInstanceOf(RespError);
            const err = e as RespError;
            expect(['truncated', 'corrupt', 'limit']).toContain(err.code);
            expect(err.offset).toBeGreaterThanOrEqual(0);
            expect(err.offset).toBeLessThanOrEqual(input.length);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('mutating one byte of a valid encoding is handled (value, truncated or corrupt)', () => {
    fc.assert(
      fc.property(respValue, fc.nat(), fc.integer({ min: 0, max: 255 }), (v, pos, byte) => {
        const e = encodeValue(v).slice();
        e[pos % e.length] = byte;
        try {
          decodeAll(e);
        } catch (err) {
          expect(err).toBeInstanceOf(RespError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
