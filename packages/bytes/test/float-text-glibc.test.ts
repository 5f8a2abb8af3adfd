// The number text rules against the C library itself: a small C program (fixtures/glibc-oracle.c) does what
// Redis does with strtold / long double / printf and strtod, for thousands of random operands — more than a
// live server test can send. x86-64 only (its long double is the x87 format Redis' figures come from).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDoubleG17, incrByFloatText, strtod } from '@redis-persist/bytes';

const source = fileURLToPath(new URL('./fixtures/glibc-oracle.c', import.meta.url));
const hasCc = process.platform === 'linux' && process.arch === 'x64' && spawnSync('cc', ['--version']).status === 0;
if (!hasCc) console.warn('[bytes] no C compiler on x86-64 Linux: skipping the glibc comparison');

const dir = mkdtempSync(join(tmpdir(), 'glibc-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const operand = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{1,30}$/), fc.option(fc.stringMatching(/^[0-9]{0,30}$/)), fc.option(fc.integer({ min: -330, max: 330 }))).map(([s, i, f, e]) => `${s}${i}${f === null ? '' : `.${f}`}${e === null ? '' : `e${e}`}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[1-9][0-9]{0,25}$/), fc.integer({ min: -4970, max: 4940 })).map(([s, i, e]) => `${s}${i}e${e}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('', '-'), fc.bigInt({ min: 1n, max: 2n ** 90n }), fc.integer({ min: -16500, max: 16400 })).map(([s, m, e]) => `${s}0x${m.toString(16)}p${e}`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('', '-'), fc.bigInt({ min: 1n, max: 2n ** 70n }), fc.integer({ min: -1100, max: 1030 })).map(([s, m, e]) => `${s}0x${m.toString(16)}p${e}`) },
  { weight: 1, arbitrary: fc.double({ noNaN: true }).map((x) => String(x).replace('Infinity', 'inf')) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789.eEpPxX+-infa '), minLength: 1, maxLength: 12 }) },
);

describe.skipIf(!hasCc)('number text against glibc', () => {
  it('INCRBYFLOAT text, strtod values, ends and ERANGE agree for 10000 random operand pairs', () => {
    const exe = join(dir, 'oracle');
    execFileSync('cc', ['-O2', '-o', exe, source, '-lm']);
    const pairs = fc.sample(fc.tuple(operand, operand), { numRuns: 10_000, seed: 424242 }).filter(([a, b]) => a !== '' && b !== '');
    const lines = execFileSync(exe, { input: `${pairs.map(([a, b]) => `${a}\t${b}`).join('\n')}\n`, maxBuffer: 1 << 28 })
      .toString()
      .split('\n');
    const diffs: string[] = [];
    pairs.forEach(([a, b], i) => {
      const r = incrByFloatText(Buffer.from(a), Buffer.from(b));
      const s = strtod(Buffer.from(a));
      const ours = [r.ok ? r.text : 'ERR', formatDoubleG17(s.value), String(s.end), s.erange ? '1' : '0'].join('\t');
      if (ours !== lines[i]) diffs.push(`${JSON.stringify([a, b])}: glibc ${lines[i]!.slice(0, 120)} ours ${ours.slice(0, 120)}`);
    });
    expect(diffs.slice(0, 10)).toEqual([]);
    expect(pairs.length).toBeGreaterThan(9000);
  });
});
