// The checkpoint of a restore: which inputs (identified by size, mtime and a hash of their head), which target and
// settings, and how many records from the start are known to be restored; written atomically as JSON so that a rerun
// (`resume`) skips them. See restoreKeys' `checkpoint` option for what is guaranteed.
import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@redis-persist/fsio';
import { LiveError } from './errors.js';

/** Bytes at the start of a file hashed into its identity. */
export const HEAD_BYTES = 1024 * 1024;

/** What identifies an input between a run and its resume. */
export interface InputIdentity {
  /** Absolute path. */
  path: string;
  kind: 'file' | 'dir';
  /** File: its size. Directory: the sum of its files' sizes. */
  size: number;
  /** File: its mtime. Directory: the newest mtime of its files. */
  mtimeMs: number;
  /** File: SHA-256 of its first `HEAD_BYTES` (1 MiB) bytes. Directory: SHA-256 of its listing (name, size, mtime). */
  sha256: string;
}

/** The content of a restore checkpoint file: the inputs, the target and how far the restore got. */
export interface RestoreCheckpoint {
  format: 'redis-persist restore checkpoint';
  version: 1;
  inputs: InputIdentity[];
  /** `host:port` of the server or seed, and whether it is a cluster. */
  target: { address: string; cluster: boolean };
  /** What decides which keys go where (database map, filters, payload version): must be equal on resume. */
  settings: Record<string, unknown>;
  /** The first run flushed the target (a resume does not flush again). */
  flushed: boolean;
  /** Records (function libraries and keys, each once, also those filtered out or expired) restored from the start. */
  done: number;
  /** A run never sends record `done + window` or later before this file says `done` has moved on. */
  window: number;
  /** Totals of the run(s) so far, for reports. */
  keys: number;
  functions: number;
  startedAt: string;
  updatedAt: string;
}

/** Where a checkpoint goes by default: `<first input>.restore-checkpoint.json`, beside it. */
export function defaultCheckpointPath(firstInput: string): string {
  const p = resolve(firstInput.replace(/\/+$/, '') || firstInput);
  return join(dirname(p), `${basename(p)}.restore-checkpoint.json`);
}

async function fileHead(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  } finally {
    await fh.close();
  }
}

/** The identity of an input file or directory (a directory: its files, one level down and the level below). */
export async function inputIdentity(path: string): Promise<InputIdentity> {
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    throw new LiveError('unsupported', `cannot identify input ${path} for the checkpoint: ${(e as Error).message}`);
  }
  if (!st.isDirectory()) return { path: abs, kind: 'file', size: st.size, mtimeMs: Math.floor(st.mtimeMs), sha256: await fileHead(abs) };
  const h = createHash('sha256');
  let size = 0;
  let mtimeMs = 0;
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const s = await stat(join(dir, name)).catch(() => null);
      if (s === null) continue;
      if (s.isDirectory()) {
        if (depth < 1) await walk(join(dir, name), `${rel}${name}/`, depth + 1);
        continue;
      }
      if (name.endsWith('.restore-checkpoint.json')) continue;
      size += s.size;
      mtimeMs = Math.max(mtimeMs, Math.floor(s.mtimeMs));
      h.update(`${rel}${name}\0${s.size}\0${Math.floor(s.mtimeMs)}\n`);
    }
  };
  await walk(abs, '', 0);
  return { path: abs, kind: 'dir', size, mtimeMs, sha256: h.digest('hex') };
}

/** Reads a checkpoint; null when there is none. A file that is not one is a LiveError. */
export async function readCheckpoint(path: string): Promise<RestoreCheckpoint | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LiveError('unsupported', `cannot read the checkpoint ${path}: ${(e as Error).message}`);
  }
  let cp: RestoreCheckpoint;
  try {
    cp = JSON.parse(text) as RestoreCheckpoint;
  } catch (e) {
    throw new LiveError('unsupported', `${path} is not a restore checkpoint (${(e as Error).message})`);
  }
  if (cp?.format !== 'redis-persist restore checkpoint' || cp.version !== 1 || !Number.isSafeInteger(cp.done) || cp.done < 0 || !Array.isArray(cp.inputs)) {
    throw new LiveError('unsupported', `${path} is not a restore checkpoint of this version`);
  }
  return cp;
}

/** Writes a checkpoint atomically (a temporary file beside it, fsynced, renamed into place). */
export async function writeCheckpoint(path: string, cp: RestoreCheckpoint): Promise<void> {
  cp.updatedAt = new Date().toISOString();
  await writeFileAtomic(path, Buffer.from(JSON.stringify(cp, null, 2) + '\n'), { inPlace: true, lock: false });
}

/** Removes a restore checkpoint file (no error when it is already gone). */
export async function removeCheckpoint(path: string): Promise<void> {
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Why a saved checkpoint does not belong to this run (other inputs, in another order or changed since; another
 * target; other settings), or null when it does.
 */
export function checkpointMismatch(saved: RestoreCheckpoint, inputs: InputIdentity[], target: RestoreCheckpoint['target'], settings: Record<string, unknown>): string | null {
  if (saved.inputs.length !== inputs.length || saved.inputs.some((s, i) => s.path !== inputs[i]!.path)) {
    return `it was written for the inputs ${saved.inputs.map((i) => i.path).join(', ')}`;
  }
  for (let i = 0; i < inputs.length; i++) {
    const s = saved.inputs[i]!;
    const c = inputs[i]!;
    if (s.kind !== c.kind || s.size !== c.size || s.mtimeMs !== c.mtimeMs || s.sha256 !== c.sha256) {
      const what = s.size !== c.size ? `its size was ${s.size}, now ${c.size}` : s.mtimeMs !== c.mtimeMs ? `its modification time was ${new Date(s.mtimeMs).toISOString()}, now ${new Date(c.mtimeMs).toISOString()}` : 'its content changed';
      return `${c.path} changed since (${what})`;
    }
  }
  if (!same(saved.target, target)) return `it was written for ${saved.target.cluster ? 'the cluster of ' : ''}${saved.target.address}`;
  for (const k of new Set([...Object.keys(saved.settings ?? {}), ...Object.keys(settings)])) {
    if (!same(saved.settings?.[k] ?? null, settings[k] ?? null)) return `it was written with other settings (${k}: ${JSON.stringify(saved.settings?.[k] ?? null)}, now ${JSON.stringify(settings[k] ?? null)})`;
  }
  return null;
}
