import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAof } from '@redis-persist/aof';
import { REFERENCE, copyCaseInput, corpus, hasCorpus, parseCheckOutput, removeDir, repairCases } from './corpus-helpers.js';

// Every broken AOF of ../shared/corpus/aof-repair: our verdict, ok_up_to, line counter, diff and error message
// must be those of redis-check-aof (the newest version the corpus records).
describe.skipIf(!hasCorpus)('checkAof agrees with redis-check-aof on the corpus repair cases', () => {
  for (const c of repairCases()) {
    it(`${c.case}: ${c.desc}`, async () => {
      const dir = copyCaseInput(c.case);
      try {
        const report = await checkAof(join(dir, c.arg));
        const ref = c.versions[REFERENCE];
        expect(report.ok, JSON.stringify(report, null, 1).slice(0, 3000)).toBe(ref.checkExit === 0);
        const out = readFileSync(join(corpus, 'aof-repair', c.case, 'check', `${REFERENCE}.out`), 'latin1');
        const expected = parseCheckOutput(out);
        // every "AOF analyzed" line: one per file redis-check-aof finished scanning
        const scanned = report.files.filter((f) => f.status !== 'empty' && f.status !== 'missing' && f.status !== 'rdb-invalid');
        expect(scanned.map((f) => ({ size: f.size, okUpTo: f.okUpTo, line: f.okUpToLine, diff: f.diff }))).toEqual(
          expected.analyzed.map((a) => ({ size: a.size, okUpTo: a.okUpTo, line: a.line, diff: a.diff })),
        );
        const bad = report.files.find((f) => f.error);
        if (expected.errors.length > 0) {
          const want = expected.errors[0];
          expect(bad?.error?.offset).toBe(want.offset);
          const msg = bad?.error?.message ?? '';
          if (/^Expected \\r\\n, got: 00/.test(want.message)) expect(msg.slice(0, 22)).toBe(want.message.slice(0, 22));
          else if (/in AOF /.test(want.message)) expect(msg.replace(/ in AOF .*/, '')).toBe(want.message.replace(/ in AOF .*/, ''));
          else expect(msg).toBe(want.message);
        }
        if (expected.formatError) expect(bad?.error?.message).toMatch(/format error/);
      } finally {
        removeDir(dir);
      }
    });
  }
});
