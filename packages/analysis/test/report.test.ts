// The report's aggregation: the heavy-hitter summary's error bounds on random streams (against exact counts), the
// prefix tree in exact and heavy-hitter mode, the quantile sketch against an exact sort, the top-N heap, TTL buckets,
// and the report of a fixture RDB against `rdb-tool memory`'s summary.
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HeavyHitters,
  QuantileSketch,
  ReportBuilder,
  TopN,
  reportHtml,
  reportRdbFiles,
  rdbMemoryRecords,
  type KeyMemory,
  type MemorySummary,
  type Report,
} from '@redis-persist/analysis';
import { repoRoot } from '@redis-persist/testkit';

const root = repoRoot()!;
const fixture = join(root, 'fixtures/rdb/all-types.rdb');

describe('HeavyHitters (exact, then Space-Saving)', () => {
  it('exact while the ids fit: every count true, no error', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 1000 }), fc.boolean()), { maxLength: 300 }), (stream) => {
        const hh = new HeavyHitters(31);
        const truth = new Map<string, { w: number; a: number; b: number }>();
        for (const [id, w, b] of stream) {
          hh.add(String(id), w, 1, b ? 1 : 0);
          const t = truth.get(String(id)) ?? { w: 0, a: 0, b: 0 };
          t.w += w;
          t.a++;
          t.b += b ? 1 : 0;
          truth.set(String(id), t);
        }
        expect(hh.exact).toBe(true);
        expect(hh.size).toBe(truth.size);
        for (const [id, t] of truth) {
          const e = hh.get(id)!;
          expect([e.weight, e.a, e.b, e.errWeight, e.errA, e.errB]).toEqual([t.w, t.a, t.b, 0, 0, 0]);
        }
      }),
    );
  });

  it('past capacity: true ≤ estimate ≤ true + error for every entry, error ≤ total/capacity, every heavy id kept', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        // skewed ids: a few heavy, many light, so both eviction and survival happen
        fc.array(fc.tuple(fc.nat({ max: 1000 }), fc.integer({ min: 1, max: 5000 }), fc.boolean()), { minLength: 1, maxLength: 2000 }),
        (capacity, raw) => {
          const hh = new HeavyHitters(capacity);
          const truth = new Map<string, { w: number; a: number; b: number }>();
          let total = 0;
          for (const [r, w, b] of raw) {
            const id = r % 7 === 0 ? `hot${r % 5}` : `id${r}`;
            hh.add(id, w, 1, b ? 1 : 0);
            total += w;
            const t = truth.get(id) ?? { w: 0, a: 0, b: 0 };
            t.w += w;
            t.a++;
            t.b += b ? 1 : 0;
            truth.set(id, t);
          }
          expect(hh.totalWeight).toBe(total);
          expect(hh.size).toBe(Math.min(capacity, truth.size));
          let sum = 0;
          for (const e of hh.entries()) {
            const t = truth.get(e.id) ?? { w: 0, a: 0, b: 0 };
            sum += e.weight;
            expect(e.weight).toBeGreaterThanOrEqual(t.w);
            expect(e.weight - e.errWeight).toBeLessThanOrEqual(t.w);
            expect(e.errWeight).toBeLessThanOrEqual(total / capacity);
            expect(e.a).toBeGreaterThanOrEqual(t.a);
            expect(e.a - e.errA).toBeLessThanOrEqual(t.a);
            expect(e.b).toBeGreaterThanOrEqual(t.b);
            expect(e.b - e.errB).toBeLessThanOrEqual(t.b);
          }
          expect(sum).toBe(total);
          expect(hh.maxErrWeight).toBeLessThanOrEqual(total / capacity);
          for (const [id, t] of truth) if (t.w > total / capacity) expect(hh.get(id), id).toBeDefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('QuantileSketch', () => {
  const exact = (sorted: number[], q: number) => sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
  it('nearest-rank quantiles: exact below 1024, within 1 % (plus rounding) above', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat({ max: 1500 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 1000, max: 200_000 })), { minLength: 1, maxLength: 500 }),
        (values) => {
          const s = new QuantileSketch();
          for (const v of values) s.add(v);
          const sorted = [...values].sort((a, b) => a - b);
          for (const q of [0.01, 0.5, 0.9, 0.99, 1]) {
            const want = exact(sorted, q);
            const got = s.quantile(q)!;
            if (want < 1024) expect(got).toBe(want);
            else expect(Math.abs(got - want)).toBeLessThanOrEqual(0.01 * want + 0.5);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(new QuantileSketch().quantile(0.5)).toBeNull();
  });
});

describe('TopN', () => {
  it('keeps the N largest, largest first, ties in arrival order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { maxLength: 200 }), fc.nat({ max: 12 }), (scores, n) => {
        const top = new TopN<number>(n);
        scores.forEach((s, i) => top.offer(s, i));
        const want = scores
          .map((s, i) => ({ s, i }))
          .sort((a, b) => b.s - a.s || a.i - b.i)
          .slice(0, n)
          .map((x) => x.i);
        expect(top.sorted()).toEqual(want);
      }),
    );
  });
});

const NOW = Date.UTC(2026, 0, 1);

function key(name: string, memory: number, extra: Partial<KeyMemory> = {}): KeyMemory {
  return {
    db: 0,
    key: Buffer.from(name),
    type: 'string',
    encoding: 'embstr',
    fileEncoding: 'string',
    memory,
    expiresOverhead: 0,
    allocated: memory,
    elements: 1,
    expireAt: null,
    bytes: 10,
    ...extra,
  };
}

describe('ReportBuilder', () => {
  it('prefix tree: levels up to --depth, the last segment is not a prefix, several separators, keys without TTL', () => {
    const b = new ReportBuilder({ separator: ':/', depth: 2, now: NOW });
    b.add(key('user:1:name', 100));
    b.add(key('user:1:mail', 50, { expireAt: NOW + 10 }));
    b.add(key('user:2', 30));
    b.add(key('img/a/b/c', 7));
    b.add(key('plain', 5));
    const r = b.result();
    const byPrefix = Object.fromEntries(r.prefixes.entries.map((e) => [e.prefix, [e.depth, e.parent, e.keys, e.memory, e.withoutTtl]]));
    expect(byPrefix).toEqual({
      user: [1, null, 3, 180, 2],
      'user:1': [2, 'user', 2, 150, 1],
      img: [1, null, 1, 7, 1],
      'img/a': [2, 'img', 1, 7, 1],
    });
    expect(r.prefixes.unprefixed).toEqual({ keys: 1, memory: 5, withoutTtl: 1 });
    expect(r.prefixes.mode).toBe('exact');
    expect(r.totals).toEqual({ keys: 5, memory: 192, elements: 5, withoutTtl: 4, expired: 0 });
  });

  it('TTL buckets relative to --now, boundaries included in the longer bucket', () => {
    const b = new ReportBuilder({ now: NOW });
    const H = 3_600_000;
    const at = [null, NOW - 1, NOW, NOW + 1, NOW + H - 1, NOW + H, NOW + 24 * H, NOW + 7 * 24 * H - 1, NOW + 7 * 24 * H];
    at.forEach((expireAt, i) => b.add(key(`k${i}`, 10, { expireAt })));
    const r = b.result();
    expect(Object.fromEntries(r.ttl.map((t) => [t.bucket, t.keys]))).toEqual({ expired: 2, lt1h: 2, lt1d: 1, lt7d: 2, longer: 1, none: 1 });
    expect(r.totals.expired).toBe(2);
  });

  it('heavy-hitter mode on random keys: every entry within its bounds of the exact tree, every heavy prefix kept', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6'), { minLength: 1, maxLength: 5 }), fc.integer({ min: 40, max: 100_000 }), fc.boolean()),
          { minLength: 1, maxLength: 400 },
        ),
        fc.integer({ min: 1, max: 30 }),
        (keys, maxPrefixes) => {
          const exactB = new ReportBuilder({ depth: 3, now: NOW });
          const hhB = new ReportBuilder({ depth: 3, maxPrefixes, now: NOW });
          for (const [segs, mem, ttl] of keys) {
            const k = key(segs.join(':'), mem, { expireAt: ttl ? NOW + 5 : null });
            exactB.add(k);
            hhB.add(k);
          }
          const ex = exactB.result();
          const hh = hhB.result();
          expect(ex.prefixes.mode).toBe('exact');
          expect(hh.totals).toEqual(ex.totals);
          const truth = new Map(ex.prefixes.entries.map((e) => [e.prefix, e]));
          expect(hh.prefixes.mode).toBe(truth.size > maxPrefixes ? 'heavy-hitters' : 'exact');
          const prefixTotal = ex.prefixes.entries.reduce((s, e) => s + e.memory, 0);
          if (hh.prefixes.mode === 'heavy-hitters') expect(hh.prefixes.memoryErrorBound).toBe(Math.ceil(prefixTotal / maxPrefixes));
          for (const e of hh.prefixes.entries) {
            const t = truth.get(e.prefix) ?? { keys: 0, memory: 0, withoutTtl: 0 };
            expect(e.memory).toBeGreaterThanOrEqual(t.memory);
            expect(e.memory - e.error.memory).toBeLessThanOrEqual(t.memory);
            expect(e.error.memory).toBeLessThanOrEqual(hh.prefixes.memoryErrorBound);
            expect(e.error.keys).toBeLessThanOrEqual(hh.prefixes.keysErrorBound);
            expect(e.error.withoutTtl).toBeLessThanOrEqual(hh.prefixes.withoutTtlErrorBound);
            expect(e.keys).toBeGreaterThanOrEqual(t.keys);
            expect(e.keys - e.error.keys).toBeLessThanOrEqual(t.keys);
            expect(e.withoutTtl).toBeGreaterThanOrEqual(t.withoutTtl);
            expect(e.withoutTtl - e.error.withoutTtl).toBeLessThanOrEqual(t.withoutTtl);
            if (hh.prefixes.mode === 'exact') expect(e.error).toEqual({ keys: 0, memory: 0, withoutTtl: 0 });
          }
          for (const t of truth.values()) if (t.memory > prefixTotal / maxPrefixes) expect(hh.prefixes.entries.some((e) => e.prefix === t.prefix)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('top lists, types, encodings and percentiles agree with the keys given', () => {
    const b = new ReportBuilder({ top: 3, now: NOW });
    const ks = Array.from({ length: 50 }, (_, i) => key(`k:${i}`, 100 + ((i * 37) % 50) * 10, { type: i % 2 ? 'list' : 'string', encoding: i % 2 ? 'quicklist' : 'embstr', elements: (i * 13) % 17 }));
    for (const k of ks) b.add(k);
    const r = b.result();
    const byMem = [...ks].sort((a, c) => c.memory - a.memory).slice(0, 3).map((k) => Buffer.from(k.key).toString());
    expect(r.topByMemory.map((k) => k.key)).toEqual(byMem);
    expect(r.topByElements.map((k) => k.elements)).toEqual([...ks].map((k) => k.elements).sort((a, c) => c - a).slice(0, 3));
    for (const t of r.types) {
      const mine = ks.filter((k) => k.type === t.type);
      const mem = mine.map((k) => k.memory).sort((a, c) => a - c);
      expect(t.keys).toBe(mine.length);
      expect(t.percentiles.memory.p50).toBe(mem[Math.ceil(0.5 * mem.length) - 1]);
      expect(t.percentiles.memory.p90).toBe(mem[Math.ceil(0.9 * mem.length) - 1]);
      expect(t.percentiles.memory.max).toBe(mem[mem.length - 1]);
    }
    expect(r.encodingsHistogram.map((e) => `${e.type}/${e.encoding}`).sort()).toEqual(['list/quicklist', 'string/embstr']);
  });
});

describe('reportRdbFiles on a fixture RDB made by redis-server', () => {
  it('totals match the memory model (rdb-tool memory) file by file; two files are summed', async () => {
    let summary: MemorySummary | null = null;
    const keys: KeyMemory[] = [];
    for await (const r of rdbMemoryRecords(fixture)) {
      if (r.kind === 'summary') summary = r.summary;
      else keys.push(r);
    }
    const progress: number[] = [];
    const r: Report = await reportRdbFiles([fixture, fixture], { now: NOW, onProgress: (p) => progress.push(p.bytes) });
    expect(r.files).toHaveLength(2);
    for (const f of r.files) {
      expect(f.keys).toBe(summary!.totals.keys);
      expect(f.memory).toBe(summary!.totals.memory);
      expect(f.usedMemory).toBe(summary!.usedMemory);
      expect(f.withoutTtl).toBe(keys.filter((k) => k.expireAt === null).length);
    }
    expect(r.totals.keys).toBe(2 * keys.length);
    expect(r.totals.memory).toBe(2 * summary!.totals.memory);
    expect(r.ttl.reduce((s, b) => s + b.keys, 0)).toBe(r.totals.keys);
    expect(r.types.reduce((s, t) => s + t.keys, 0)).toBe(r.totals.keys);
    expect(r.encodingsHistogram.reduce((s, e) => s + e.memory, 0)).toBe(r.totals.memory);
    const biggest = [...keys].sort((a, b) => b.memory - a.memory)[0]!;
    expect(r.topByMemory[0]!.memory).toBe(biggest.memory);
    const html = reportHtml(r);
    // self-contained: nothing that could make a request
    expect(html).not.toMatch(/\s(src|href)=|@import|url\(/i);
    expect(html).toContain('<table id="prefixes"');
  });

  it('a damaged file: the error names the file and the offset', async () => {
    const bad = join(root, 'fixtures/rdb/all-types-nocrc.rdb');
    const bytes = (await import('node:fs')).readFileSync(bad);
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync(join((await import('node:os')).tmpdir(), 'report-'));
    try {
      const cut = join(dir, 'cut.rdb');
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const err = await reportRdbFiles([cut]).then(
        () => null,
        (e: unknown) => e as { file?: string; offset?: number; message: string },
      );
      expect(err).not.toBeNull();
      expect(err!.file).toBe(cut);
      expect(typeof err!.offset).toBe('number');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
