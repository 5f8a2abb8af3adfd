import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyFix, planFix, readAof } from '@redis-persist/aof';
import { redisToolAvailable } from '@redis-persist/testkit';
import { corpus, hasCorpus } from './corpus-helpers.js';

const live = redisToolAvailable('redis-check-aof');
const fixture = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/aof/timestamps-multipart/appendonlydir');

async function timestampsOf(input: string): Promise<number[]> {
  const seen = new Set<number>();
  for await (const c of readAof(input)) if (c.timestamp !== undefined) seen.add(c.timestamp);
  return [...seen].sort((a, b) => a - b);
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      out[n] = readFileSync(join(dir, n)).toString('base64');
    } catch {
      // a directory
    }
  }
  return out;
}

// `fix --truncate-to-timestamp` against `redis-check-aof --truncate-to-timestamp` (7.0.15) on the same copies:
// same success or refusal, same bytes left.
describe.skipIf(!live)('truncate to a timestamp, as redis-check-aof does', () => {
  const inputs = [
    // made by fixtures/generate-aof.mjs: six seconds of writes, a rewrite after the third
    { name: 'multi-part fixture, timestamps in base and incr', src: fixture, arg: 'appendonly.aof.manifest' },
    ...(hasCorpus
      ? [
          { name: 'corpus single file', src: join(corpus, 'aof-repair', 'timestamps-valid', 'input'), arg: 'appendonly.aof' },
          { name: 'corpus multi-part (base + incr)', src: join(corpus, 'aof', 'redis-7.0.15', 'timestamps', 'appendonlydir'), arg: 'appendonly.aof.manifest' },
        ]
      : []),
  ];
  for (const input of inputs) {
    it(input.name, async () => {
      const all = await timestampsOf(join(input.src, input.arg));
      expect(all.length).toBeGreaterThan(0);
      const candidates = [...new Set([all[0] - 1, ...all, all[all.length - 1] + 100])];
      for (const ts of candidates) {
        const ours = mkdtempSync(join(tmpdir(), 'ts-ours-'));
        const theirs = mkdtempSync(join(tmpdir(), 'ts-theirs-'));
        try {
          cpSync(input.src, ours, { recursive: true });
          cpSync(input.src, theirs, { recursive: true });
          const ref = spawnSync('redis-check-aof', ['--truncate-to-timestamp', String(ts), join(theirs, input.arg)], { encoding: 'latin1' });
          const { report, plan } = await planFix(join(ours, input.arg), { truncateToTimestamp: ts });
          const weSucceed = report.ok && (plan !== null || report.timestampNote !== null);
          expect(weSucceed, `ts ${ts}: redis-check-aof said ${ref.stdout}`).toBe(ref.status === 0);
          if (plan) await applyFix(plan, { backup: false });
          expect(snapshot(ours)).toEqual(snapshot(theirs));
        } finally {
          rmSync(ours, { recursive: true, force: true });
          rmSync(theirs, { recursive: true, force: true });
        }
      }
    });
  }
});
