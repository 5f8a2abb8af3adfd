import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const corpus = resolve(repoRoot, '../shared/corpus');
export const hasCorpus = existsSync(join(corpus, 'aof-repair', 'cases.json'));
if (!hasCorpus) console.warn(`[aof tests] ../shared/corpus not found next to the repo: corpus tests are skipped`);

export interface RepairCase {
  case: string;
  desc: string;
  arg: string;
  versions: Record<string, { checkExit: number; fixExit: number; fixed: string }>;
}

/** The newest checker the corpus records; the brief says to follow it where versions differ. */
export const REFERENCE = 'redis-8.0-m01';

export function repairCases(): RepairCase[] {
  return hasCorpus ? JSON.parse(readFileSync(join(corpus, 'aof-repair', 'cases.json'), 'utf8')) : [];
}

/** A private copy of a case's input directory. */
export function copyCaseInput(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `aof-${name}-`));
  cpSync(join(corpus, 'aof-repair', name, 'input'), dir, { recursive: true });
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface AnalyzedLine {
  filename: string;
  size: number;
  okUpTo: number;
  line: number;
  diff: number;
}

/** The `AOF analyzed:` lines and the `0x...: message` line of a redis-check-aof output. */
export function parseCheckOutput(text: string): { analyzed: AnalyzedLine[]; errors: { offset: number; message: string }[]; formatError: boolean } {
  const analyzed: AnalyzedLine[] = [];
  const errors: { offset: number; message: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^AOF analyzed: filename=(.*), size=(\d+), ok_up_to=(\d+), ok_up_to_line=(\d+), diff=(\d+)$/.exec(line);
    if (m) analyzed.push({ filename: m[1], size: +m[2], okUpTo: +m[3], line: +m[4], diff: +m[5] });
    const e = /^0x\s*([0-9a-f]+): (.*)$/.exec(line);
    if (e) errors.push({ offset: parseInt(e[1], 16), message: e[2] });
  }
  return { analyzed, errors, formatError: /format error/.test(text) };
}

/** The directory of the fixed files for a version (following "same as ..." links), or null when unchanged. */
export function fixedDir(c: RepairCase, version: string): string | null {
  const f = c.versions[version].fixed;
  if (f === 'unchanged') return null;
  const rel = f.startsWith('same as ') ? f.slice('same as '.length) : f;
  return join(corpus, 'aof-repair', c.case, rel);
}
