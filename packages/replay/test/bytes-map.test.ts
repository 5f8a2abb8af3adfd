import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BytesMap } from '../src/bytes-map.js';

describe('BytesMap', () => {
  it('behaves like a Map keyed by the bytes, through any mix of sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 3 }), fc.integer()), { maxLength: 400 }), (ops) => {
        const m = new BytesMap<number>();
        const ref = new Map<string, number>();
        for (const [del, k, v] of ops) {
          const id = Buffer.from(k).toString('hex');
          if (del) expect(m.delete(k)).toBe(ref.get(id));
          else expect(m.set(k, v)).toBe(!ref.has(id));
          if (del) ref.delete(id);
          else ref.set(id, v);
          expect(m.size).toBe(ref.size);
        }
        for (const [id, v] of ref) expect(m.get(Buffer.from(id, 'hex'))).toBe(v);
        const seen = new Map(m.keys.map((k, i) => [Buffer.from(k).toString('hex'), m.values[i]]));
        expect(seen).toEqual(ref);
      }),
      { numRuns: 300 },
    );
  });
});
