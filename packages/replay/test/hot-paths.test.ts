// The replay's hot-path shortcuts against the plain computations they stand for: lower()'s cache of short
// arguments' text, and a ByteColumn past several full-size (4 MiB) segments, where new segments start full size.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteColumn } from '../src/column.js';
import { lower } from '../src/keyspace.js';

const plainLower = (b: Uint8Array): string => Buffer.from(b).toString('latin1').replace(/[A-Z]/g, (c) => c.toLowerCase());

describe('lower', () => {
  it('gives the lower-case text of every argument, whatever was asked before (cache hits, slot collisions, views)', () => {
    const word = fc.oneof(
      fc.constantFrom('SET', 'set', 'Set', 'sEt', 'HSET', 'hset', 'ZADD', 'PXAT', 'pxat', 'NX', 'xx', 'GET', 'MULTI', 'exec', 'SELECT'),
      fc.uint8Array({ minLength: 0, maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 400 }), fc.nat(8), (words, pad) => {
        for (const w of words) {
          // a view at an offset inside a bigger buffer, as the AOF reader hands arguments out
          const whole = Buffer.alloc(w.length + pad + 3, 0x41);
          whole.write(w, pad, 'latin1');
          const arg = whole.subarray(pad, pad + w.length);
          expect(lower(arg)).toBe(plainLower(arg));
          // the argument's buffer being reused for other bytes must not change a later answer
          whole.fill(0x5a);
          expect(lower(arg)).toBe(plainLower(arg));
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('ByteColumn across full-size segments', () => {
  it('keeps every element through 14 MB of pushes, overwrites and removals', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const col = new ByteColumn();
    const model: Uint8Array[] = [];
    const make = (i: number) => {
      const len = rnd(4) === 0 ? 100 + rnd(40000) : rnd(200);
      const b = new Uint8Array(len);
      for (let k = 0; k < len; k++) b[k] = (i * 31 + k) & 0xff;
      return b;
    };
    let bytes = 0;
    for (let i = 0; bytes < 14e6; i++) {
      const op = rnd(10);
      if (op < 7 || model.length === 0) {
        const b = make(i);
        col.push(b);
        model.push(b);
        bytes += b.length;
      } else if (op < 9) {
        const j = rnd(model.length);
        const b = make(i);
        col.set(j, b);
        model[j] = b;
        bytes += b.length;
      } else {
        const j = rnd(model.length);
        col.remove(j);
        model.splice(j, 1);
      }
    }
    expect(col.length).toBe(model.length);
    for (let j = 0; j < model.length; j++) expect(Buffer.compare(col.get(j), model[j])).toBe(0);
  });
});
