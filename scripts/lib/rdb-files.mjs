// The RDB files the comparison scripts go over: every *.rdb under a directory (recursively, sorted), and the usual
// set: ../shared/corpus (when present beside the repo) then fixtures/rdb.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Every `*.rdb` under `dir`, recursively, sorted by path; none when `dir` does not exist. */
export function rdbFilesUnder(dir) {
  if (!existsSync(dir)) return [];
  const found = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) found.push(...rdbFilesUnder(p));
    else if (e.name.endsWith('.rdb')) found.push(p);
  }
  return found.sort();
}

/** The corpus's RDBs (`../shared/corpus` beside `root`, when there) followed by the repo's fixtures/rdb. */
export function corpusAndFixtureRdbs(root) {
  return [...rdbFilesUnder(resolve(root, '../shared/corpus')), ...rdbFilesUnder(join(root, 'fixtures/rdb'))];
}
