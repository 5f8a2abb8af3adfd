import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstRepeatIndex } from '@redis-persist/keyspace';

/** The reference: a Set of latin1 strings, the first item seen before. */
function reference(items: Uint8Array[]): number {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const k = Buffer.from(items[i]).toString('latin1');
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}

describe('firstRepeatIndex', () => {
  it('finds the first item equal to an earlier one, as a Set of strings does', () => {
    // a small alphabet and short items, so repeats are common
    const item = fc.uint8Array({ maxLength: 4 }).map((a) => a.map((x) => x % 3));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 60 }), (items) => {
        expect(firstRepeatIndex(items)).toBe(reference(items));
      }),
      { numRuns: 500 },
    );
  });

  it('tells distinct items from equal ones whatever their hashes (many items, one late repeat)', () => {
    const items = Array.from({ length: 5000 }, (_, i) => new Uint8Array(Buffer.from(`member:${i}`)));
    expect(firstRepeatIndex(items)).toBe(-1);
    items.push(new Uint8Array(Buffer.from('member:4321')));
    expect(firstRepeatIndex(items)).toBe(5000);
    expect(firstRepeatIndex([new Uint8Array(0), new Uint8Array(0)])).toBe(1);
    expect(firstRepeatIndex([])).toBe(-1);
  });
});
