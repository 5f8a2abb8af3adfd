// What the user pointed at: a single AOF file, a manifest, an AOF directory, or a Redis data directory.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import { AofError } from './errors.js';
import { looksLikeManifest, parseManifest, type AofManifest } from './manifest.js';

export type AofInput =
  | { layout: 'single'; path: string }
  | { layout: 'multi-part'; dir: string; manifestPath: string };

/** The first `n` bytes of a file (fewer when it is shorter). */
export async function readHead(path: string, n: number): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FsioError(`cannot open ${path}: ${describeIoError(err)}`, path, err);
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function statOrThrow(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    throw new FsioError(`cannot open ${path}: ${describeIoError(err)}`, path, err);
  }
}

/**
 * Decides how to read `path`:
 * - a directory holding a `*.manifest` (preferring `appendonly.aof.manifest`) is a multi-part AOF;
 * - a Redis data directory with an `appendonlydir/` inside is followed into it, else its `appendonly.aof`;
 * - a file whose first non-comment line starts with `file` is a manifest (as redis-check-aof 7.2.5+ decides);
 * - any other file is a single AOF (RESP, possibly with an RDB preamble).
 */
export async function resolveAofInput(path: string): Promise<AofInput> {
  const st = await statOrThrow(path);
  if (st.isDirectory()) {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      throw new FsioError(`cannot read directory ${path}: ${describeIoError(err)}`, path, err);
    }
    const manifests = names.filter((n) => n.endsWith('.manifest') && !n.startsWith('temp-')).sort();
    if (manifests.length > 0) {
      const chosen = manifests.includes('appendonly.aof.manifest') ? 'appendonly.aof.manifest' : manifests[0];
      return { layout: 'multi-part', dir: path, manifestPath: join(path, chosen) };
    }
    if (names.includes('appendonlydir')) return resolveAofInput(join(path, 'appendonlydir'));
    if (names.includes('appendonly.aof')) return { layout: 'single', path: join(path, 'appendonly.aof') };
    throw new AofError('missing', 'no AOF here: expected an appendonly.aof.manifest, an appendonlydir/ or an appendonly.aof', path);
  }
  const head = await readHead(path, 64 * 1024);
  if (looksLikeManifest(head)) return { layout: 'multi-part', dir: dirname(path), manifestPath: path };
  return { layout: 'single', path };
}

/** Reads and parses a manifest file (AofError `manifest` when Redis would refuse it). */
export async function readManifest(manifestPath: string): Promise<AofManifest> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(manifestPath);
  } catch (err) {
    throw new FsioError(`cannot read ${manifestPath}: ${describeIoError(err)}`, manifestPath, err);
  }
  return parseManifest(bytes, basename(manifestPath));
}

/**
 * The RDB signature test of redis-check-aof (`fileIsRDB`): at least 8 bytes starting with `REDIS`. We also take
 * Valkey 9's `VALKEY` magic, which a Valkey base file carries.
 */
export function isRdbHead(head: Uint8Array, size: number): boolean {
  if (size < 8) return false;
  const magic = Buffer.from(head.subarray(0, 6)).toString('latin1');
  return magic.startsWith('REDIS') || magic === 'VALKEY';
}
