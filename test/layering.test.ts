// The layering the README's "Libraries" section states, enforced on the packages' declared dependencies: a package
// depends only on packages of its own layer or below, and on nothing that depends back on it. A new package must be
// given its layer here, so the map and the README stay the truth.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const SCOPE = '@redis-persist/';

/** Layer of each package, bottom (0) up. Same-layer dependencies are allowed when they make no cycle. */
const LAYER: Record<string, number> = {
  bytes: 0,
  keyspace: 0, // the model: types, canonical order, comparison
  fsio: 0,
  resp: 0,
  jsonl: 1,
  extsort: 1,
  'rdb-format': 2,
  rdb: 3,
  'rdb-writer': 3,
  aof: 3,
  replay: 3,
  converters: 4,
  analysis: 4,
  cluster: 4,
  live: 4,
  cli: 5,
  testkit: 5, // tests only: may use anything, nothing may use it
};

function packages(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const dir of readdirSync(join(root, 'packages'))) {
    const json = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
    };
    const deps = Object.keys(json.dependencies ?? {})
      .filter((d) => d.startsWith(SCOPE))
      .map((d) => d.slice(SCOPE.length));
    out.set(json.name.slice(SCOPE.length), deps);
  }
  return out;
}

describe('package layering', () => {
  const pkgs = packages();

  it('every package has a layer', () => {
    expect([...pkgs.keys()].filter((p) => LAYER[p] === undefined)).toEqual([]);
  });

  it('dependencies point down (or across), never up; nothing depends on testkit', () => {
    const wrong: string[] = [];
    for (const [p, deps] of pkgs) {
      for (const d of deps) {
        if (d === 'testkit') wrong.push(`${p} -> testkit`);
        else if ((LAYER[d] ?? Infinity) > (LAYER[p] ?? -1)) wrong.push(`${p} (layer ${LAYER[p]}) -> ${d} (layer ${LAYER[d]})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (p: string, path: string[]): void => {
      if (state.get(p) === 'done') return;
      if (state.get(p) === 'open') {
        cycles.push([...path.slice(path.indexOf(p)), p].join(' -> '));
        return;
      }
      state.set(p, 'open');
      for (const d of pkgs.get(p) ?? []) visit(d, [...path, p]);
      state.set(p, 'done');
    };
    for (const p of pkgs.keys()) visit(p, []);
    expect(cycles).toEqual([]);
  });
});
