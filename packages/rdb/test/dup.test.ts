// DupCheck (the duplicate-member check of check mode) agrees with a plain Set on any collection: the first
// duplicate found at the same index, whether the count it is reset with is exact, too small (the table grows) or
// too large, one member at a time (seenRange) or queued in runs (queueRange + flush), and across reuse.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DUP_QUEUE, DupCheck } from '../src/dup.js';
import { firstDuplicate } from './helpers.js';

function oneByOne(d: DupCheck, members: Uint8Array[], claimed: number): number {
  d.reset(claimed);
  for (let i = 0; i < members.length; i++) if (d.seenRange(members[i], 0, members[i].length)) return i;
  return -1;
}

function queued(d: DupCheck, members: Uint8Array[], claimed: number): number {
  d.reset(claimed);
  // flush gives the offset of the duplicate: here the member's index (base + its start in the queue)
  const starts = new Int32Array(DUP_QUEUE);
  let base = 0;
  for (let i = 0; i < members.length; i++) {
    const n = d.queueRange(members[i], 0, members[i].length);
    if (n > 0) starts[n - 1] = i - base;
    if (n === DUP_QUEUE || i === members.length - 1) {
      const at = d.flush(starts, base);
      if (at >= 0) return at;
      base = i + 1;
    }
  }
  return -1;
}

const members = fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 400 });

describe('DupCheck', () => {
  it('finds the first duplicate as a Set does, for exact, low and high claimed counts, reused', () => {
    const d = new DupCheck(1_000_000);
    fc.assert(
      fc.property(members, fc.constantFrom(0.1, 0.5, 1, 3), (m, f) => {
        const want = m.length > 1 ? firstDuplicate(m) : -1;
        const claimed = Math.max(2, Math.round(m.length * f));
        expect(oneByOne(d, m, claimed)).toBe(want);
        expect(queued(d, m, claimed)).toBe(want);
      }),
      { numRuns: 300 },
    );
  });

  it('big collections: no false duplicate among 300k distinct members, and the one duplicate at its index', () => {
    const d = new DupCheck(16_000_000);
    const m: Uint8Array[] = [];
    for (let i = 0; i < 300_000; i++) m.push(Buffer.from(`member:${i}`));
    for (const claimed of [300_000, 1000, 2_000_000]) {
      expect(oneByOne(d, m, claimed)).toBe(-1);
      expect(queued(d, m, claimed)).toBe(-1);
    }
    const withDup = [...m.slice(0, 200_000), Buffer.from('member:123456'), ...m.slice(200_000)];
    expect(oneByOne(d, withDup, withDup.length)).toBe(200_000);
    expect(queued(d, withDup, 10)).toBe(200_000);
  });

  it('past its maximum it gives up (reports no duplicate), as before', () => {
    const d = new DupCheck(100);
    const m: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) m.push(Buffer.from(`m${i}`));
    m.push(Buffer.from('m250'));
    expect(oneByOne(d, m, 50)).toBe(-1);
    expect(oneByOne(d, m.slice(0, 60).concat([Buffer.from('m7')]), 61)).toBe(60);
  });
});
