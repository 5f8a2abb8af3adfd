// How Redis 7+ names the files of a multi-part AOF directory (aof.c: getNewBaseFileNameAndMarkPreAsHistory,
// getNewIncrAofName, getAofManifestFileName): `<appendfilename>.<seq>.base.<rdb|aof>`, `<appendfilename>.<seq>.incr.aof`
// and `<appendfilename>.manifest`. Every writer of such a directory in this project names its files here.
import type { AofManifest } from './manifest.js';

const MANIFEST_SUFFIX = '.manifest';

/** The base file of generation `seq`: `appendonly.aof.1.base.rdb` (an RDB preamble) or `….base.aof` (RESP). */
export function aofBaseFileName(appendFilename: string, seq: number, format: 'rdb' | 'aof'): string {
  return `${appendFilename}.${seq}.base.${format}`;
}

/** The incr file number `seq`: `appendonly.aof.1.incr.aof`. */
export function aofIncrFileName(appendFilename: string, seq: number): string {
  return `${appendFilename}.${seq}.incr.aof`;
}

/** The manifest of a directory whose files are named after `appendFilename`: `appendonly.aof.manifest`. */
export function aofManifestFileName(appendFilename: string): string {
  return appendFilename + MANIFEST_SUFFIX;
}

/** The `appendfilename` a manifest's name stands for (`appendonly.aof.manifest` → `appendonly.aof`). */
export function appendFilenameOf(manifestName: string): string {
  return manifestName.endsWith(MANIFEST_SUFFIX) ? manifestName.slice(0, -MANIFEST_SUFFIX.length) : manifestName;
}

/** Names and sequence numbers for a new generation of a multi-part AOF: {@link nextAofFileNames}. */
export interface AofGenerationNames {
  baseName: string;
  baseSeq: number;
  incrName: string;
  incrSeq: number;
}

/**
 * Names for a new base and a new incr file after `manifest` (null: a fresh directory), as Redis numbers them: one past
 * the highest sequence number of each kind the manifest lists (its history entries included, told apart by their
 * names), then past any name already in `taken` (an interrupted earlier attempt may have left an unlisted file behind;
 * it is never overwritten).
 */
export function nextAofFileNames(appendFilename: string, manifest: AofManifest | null, baseFormat: 'rdb' | 'aof', taken: ReadonlySet<string>): AofGenerationNames {
  let baseSeq = manifest?.base?.seq ?? 0;
  let incrSeq = 0;
  for (const e of manifest?.incr ?? []) incrSeq = Math.max(incrSeq, e.seq);
  for (const e of manifest?.history ?? []) {
    if (e.name.endsWith('.incr.aof')) incrSeq = Math.max(incrSeq, e.seq);
    else baseSeq = Math.max(baseSeq, e.seq);
  }
  baseSeq++;
  incrSeq++;
  // A base of either format takes the number: Redis never has `n.base.rdb` and `n.base.aof` side by side.
  while (taken.has(aofBaseFileName(appendFilename, baseSeq, 'rdb')) || taken.has(aofBaseFileName(appendFilename, baseSeq, 'aof'))) baseSeq++;
  while (taken.has(aofIncrFileName(appendFilename, incrSeq))) incrSeq++;
  return { baseName: aofBaseFileName(appendFilename, baseSeq, baseFormat), baseSeq, incrName: aofIncrFileName(appendFilename, incrSeq), incrSeq };
}
