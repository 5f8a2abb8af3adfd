import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFix, planFix } from '@redis-persist/aof';
import { REFERENCE, copyCaseInput, fixedDir, hasCorpus, removeDir, repairCases } from './corpus-helpers.js';

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n), `${prefix}${n}/`) : [`${prefix}${n}`]));
}

// `fix` must leave exactly the bytes `redis-check-aof --fix` leaves, and refuse where it refuses.
describe.skipIf(!hasCorpus)('fix matches redis-check-aof --fix on the corpus repair cases', () => {
  for (const c of repairCases()) {
    for (const backup of [false, true]) {
      it(`${c.case} (${backup ? 'with' : 'without'} backup)`, async () => {
        const dir = copyCaseInput(c.case);
        try {
          const before = filesUnder(dir);
          const { report, plan } = await planFix(join(dir, c.arg));
          const ref = c.versions[REFERENCE];
          if (ref.fixExit !== 0) {
            expect(plan).toBeNull();
            expect(report.ok).toBe(false);
            expect(report.unrepairable).toBeTruthy();
            return;
          }
          const want = fixedDir(c, REFERENCE);
          if (want === null) {
            expect(plan).toBeNull();
            return;
          }
          expect(plan).not.toBeNull();
          const result = await applyFix(plan!, { backup });
          for (const f of filesUnder(want)) {
            expect(readFileSync(join(dir, f)).equals(readFileSync(join(want, f))), f).toBe(true);
          }
          const after = filesUnder(dir);
          if (backup) {
            expect(result.backup).toBeTruthy();
            expect(after.sort()).toEqual([...before, `${plan!.path.slice(dir.length + 1)}.bak`].sort());
            // the backup is the original, byte for byte
            const original = join(dir, plan!.path.slice(dir.length + 1));
            expect(statSync(result.backup!).size).toBe(plan!.size);
            expect(statSync(original).size).toBe(plan!.newSize);
          } else {
            expect(after.sort()).toEqual(before.sort());
          }
        } finally {
          removeDir(dir);
        }
      });
    }
  }
});
