import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let repoRootCache: string | null | undefined;

/** The monorepo root: the nearest directory above this file holding pnpm-workspace.yaml. */
export function repoRoot(): string | null {
  if (repoRootCache !== undefined) return repoRootCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return (repoRootCache = dir);
    const parent = dirname(dir);
    if (parent === dir) return (repoRootCache = null);
    dir = parent;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** `<repo root>/../shared` when it exists, else null. */
export function sharedDir(): string | null {
  const root = repoRoot();
  if (root === null) return null;
  const dir = resolve(root, '..', 'shared');
  return isDir(dir) ? dir : null;
}

/** `<repo root>/../shared/corpus` when it exists, else null. */
export function corpusDir(): string | null {
  const shared = sharedDir();
  if (shared === null) return null;
  const dir = join(shared, 'corpus');
  return isDir(dir) ? dir : null;
}

const whichCache = new Map<string, string | null>();

/** Absolute path of an executable on PATH, or null (cached). */
export function which(name: string): string | null {
  const cached = whichCache.get(name);
  if (cached !== undefined) return cached;
  let found: string | null = null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) {
        found = p;
        break;
      }
    } catch {
      // not here
    }
  }
  whichCache.set(name, found);
  return found;
}

/** Whether `redis-server` is on PATH. */
export function redisAvailable(): boolean {
  return which('redis-server') !== null;
}

/** Whether one of the redis-tools binaries is on PATH. */
export function redisToolAvailable(name: 'redis-check-aof' | 'redis-check-rdb' | 'redis-cli'): boolean {
  return which(name) !== null;
}
