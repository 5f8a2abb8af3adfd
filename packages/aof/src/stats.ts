// `aof-tool stats`: what an AOF holds, counted in one streaming pass.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FsioError, describeIoError } from '@redis-persist/fsio';
import { readManifest, resolveAofInput } from './input.js';
import { loadedFiles } from './manifest.js';
import { readAof, type AofRdbPart } from './reader.js';

/** What {@link aofStats} counts: files, bytes, commands by name, dbs, keys and time span. */
export interface AofStats {
  files: { file: string; bytes: number; rdbPart: { end: number; keys: number } | null }[];
  bytes: number;
  commands: number;
  /** Upper-case command name -> count. */
  byCommand: Record<string, number>;
  /** Database index -> commands run in it. */
  byDb: Record<string, number>;
  annotations: number;
  firstTimestamp: number | null;
  lastTimestamp: number | null;
  transactions: number;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw new FsioError('io', `cannot read the size of ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  }
}

/** Counts commands by name and database, annotations, timestamps and bytes of an AOF (file or directory). */
export async function aofStats(input: string, options: { onProgress?: (progress: { file: string; offset: number }) => void } = {}): Promise<AofStats> {
  const stats: AofStats = {
    files: [],
    bytes: 0,
    commands: 0,
    byCommand: {},
    byDb: {},
    annotations: 0,
    firstTimestamp: null,
    lastTimestamp: null,
    transactions: 0,
  };
  const rdbParts = new Map<string, AofRdbPart>();
  const onAnnotation = (_file: string, _offset: number, text: Uint8Array) => {
    stats.annotations++;
    const m = /^#TS:(\d+)/.exec(Buffer.from(text.subarray(0, 32)).toString('latin1'));
    if (m) {
      const ts = Number(m[1]);
      stats.firstTimestamp ??= ts;
      stats.lastTimestamp = ts;
    }
  };
  let n = 0;
  // names are enough to count: no command's arguments are copied
  const sizes = new Map<string, number>();
  const onFileRead = (f: { file: string; bytes: number }) => sizes.set(f.file, f.bytes);
  for await (const cmd of readAof(input, { onRdbPart: (p) => rdbParts.set(p.file, p), onAnnotation, onFileRead, argsFor: () => false })) {
    const name = cmd.args.length > 0 ? Buffer.from(cmd.args[0]).toString('latin1').toUpperCase() : '';
    stats.commands++;
    stats.byCommand[name] = (stats.byCommand[name] ?? 0) + 1;
    if (name !== 'SELECT') stats.byDb[cmd.db] = (stats.byDb[cmd.db] ?? 0) + 1;
    if (name === 'MULTI') stats.transactions++;
    if ((++n & 0xffff) === 0) options.onProgress?.({ file: cmd.file, offset: cmd.offset });
  }
  // file sizes, in load order (files without commands included)
  const target = await resolveAofInput(input);
  const list = target.layout === 'single' ? [{ file: input, path: target.path }] : loadedFiles(await readManifest(target.manifestPath)).map((e) => ({ file: e.name, path: join(target.dir, e.name) }));
  for (const f of list) {
    // the sizes of the files read (a FIFO's is only known once read); stat for the others
    const bytes = sizes.get(f.file) ?? (await sizeOf(f.path));
    const part = rdbParts.get(f.file);
    stats.files.push({ file: f.file, bytes, rdbPart: part ? { end: part.end, keys: part.keys } : null });
    stats.bytes += bytes;
  }
  stats.byCommand = Object.fromEntries(Object.entries(stats.byCommand).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return stats;
}
