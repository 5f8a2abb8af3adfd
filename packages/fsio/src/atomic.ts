// Writing without ever destroying data. Every output is written under a temporary name beside it, fsynced and
// renamed into place; an existing output is refused unless the caller forces it, and then kept as `<out>.bak`;
// an output that names an input is refused always. Temp names are fixed (`.<name>.tmp`) and taken under a lock
// (`.<name>.lock`), so a run killed half-way leaves nothing that a rerun trips on: the rerun finds the stale temp
// file, says so, and removes it.
import { constants, type Stats } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { FsioError, describeIoError, notice } from './errors.js';
import { acquireLock, forgetOnExit, removeOnExit, type FileLock } from './lock.js';

const FLUSH_AT = 1 << 20;

/** fsyncs a directory so a rename inside it survives a crash (best effort where the OS refuses). */
export async function fsyncDirectory(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename itself has happened.
  } finally {
    await fh?.close();
  }
}

/** What a command may do with its outputs. */
export interface OutputPolicy {
  /** Replace an existing output; the old one is first kept as `<out>.bak` (`.bak.N` when taken) beside it. */
  force?: boolean;
  /**
   * The paths the command reads. An output that is one of them (by path, through a link, or as another hard
   * link to the same file) or a directory holding one is refused, `force` or not.
   */
  inputs?: readonly string[];
}

/** The temp name used for `target`: `.<name>.tmp` beside it. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp`);
}

/** `path` with symbolic links resolved: the whole path when it exists, else its directory. */
export async function resolvePath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    try {
      return join(await realpath(dirname(resolve(path))), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

const isInside = (dir: string, path: string) => path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

/**
 * Applies the output rules to `target` before any work is done: refuses an output that is an input (always)
 * and an existing output without `force` (an empty directory counts as absent for a directory output).
 * Returns whether the output exists now.
 */
export async function checkOutput(target: string, policy: OutputPolicy = {}, kind: 'file' | 'dir' = 'file'): Promise<boolean> {
  const out = await resolvePath(target);
  const outStat = await stat(out).catch(() => null);
  for (const input of policy.inputs ?? []) {
    const inPath = await resolvePath(input);
    const inStat = await stat(inPath).catch(() => null);
    const same = inPath === out || (inStat !== null && outStat !== null && inStat.dev === outStat.dev && inStat.ino === outStat.ino);
    if (same) throw new FsioError('output-is-input', `refusing to write ${target}: it is the input ${input}; choose another output`, { file: target });
    if (outStat?.isDirectory() && isInside(out, inPath)) {
      throw new FsioError('output-is-input', `refusing to write ${target}: it holds the input ${input}; choose another output`, { file: target });
    }
  }
  if (outStat === null) return false;
  if (kind === 'dir' && outStat.isDirectory() && (await readdir(out).catch(() => ['?'])).length === 0) return false;
  if (!policy.force) {
    throw new FsioError(
      'output-exists',
      `${target} already exists: choose another output, or pass \`force\` to replace it (the old one is kept as ${basename(target)}.bak)`,
      { file: target },
    );
  }
  return true;
}

/** Creates `dir` and its parents, with an error that names it and says what was being done. */
async function makeDirectory(dir: string, forWhat: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    // mkdir -p says EEXIST when a part of the path is a file
    const why = (err as { code?: string }).code === 'EEXIST' ? 'a part of that path is not a directory' : describeIoError(err);
    throw new FsioError('io', `cannot write ${forWhat}: cannot create the directory ${dir}: ${why}`, { file: dir, cause: err });
  }
}

/** Removes a temp file or directory a killed run left, saying so. Only called under the lock. */
async function removeStale(tempPath: string, target: string): Promise<void> {
  const s = await lstat(tempPath).catch(() => null);
  if (!s) return;
  notice(`removed ${tempPath}, a ${s.isDirectory() ? 'temporary directory' : `temporary file of ${s.size} bytes`} left by an interrupted run writing ${target}`);
  await rm(tempPath, { recursive: true, force: true });
}

/** Options of {@link AtomicFile} / {@link writeFileAtomic}: the output policy, file mode, in-place replacement. */
export interface AtomicFileOptions extends OutputPolicy {
  /** File mode of a new file (default: the mode of the file replaced, else 0644). */
  mode?: number;
  /**
   * The target is replaced on purpose (an in-place edit whose caller has kept a backup): no output checks and
   * no `.bak` of its own.
   */
  inPlace?: boolean;
  /** Take the lock on the target (default true; false for files inside a directory already locked). */
  lock?: boolean;
}

/**
 * A file written next to its final path under the temporary name `.<name>.tmp`, then fsynced and renamed into
 * place by {@link commit}. Until then the target is untouched; {@link abort} removes the temp file, and so
 * does the process's exit; a SIGKILL leaves it for the next run to remove. A target that is a symbolic link is
 * resolved: the real file is written, and its backup sits beside it. Small writes are batched into 1 MiB writes.
 */
export class AtomicFile {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes in the temp file (the rest of `bytesWritten` is pending). */
  private flushedBytes = 0;
  private done = false;
  /** Bytes written so far. */
  bytesWritten = 0;
  /** Where the output that was replaced now lives (with `force`), once committed. */
  replacedBackup: string | null = null;

  private constructor(
    readonly target: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
    private readonly lock: FileLock | null,
    private readonly options: AtomicFileOptions,
  ) {}

  /** Checks the output policy and opens a temp file beside `target`. */
  static async create(target: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    const real = await resolvePath(target);
    if (!options.inPlace) await checkOutput(target, options);
    await makeDirectory(dirname(real), target);
    const lock = options.lock === false ? null : await acquireLock(real);
    try {
      const tempPath = tempPathFor(real);
      await removeStale(tempPath, target);
      let fileMode = options.mode;
      if (fileMode === undefined) fileMode = ((await stat(real).catch(() => null))?.mode ?? 0o644) & 0o7777;
      let fh: FileHandle;
      try {
        fh = await open(tempPath, 'wx', fileMode);
      } catch (err) {
        throw new FsioError('io', `cannot create a temporary file next to ${target}: ${describeIoError(err)}`, { file: target, cause: err });
      }
      removeOnExit(tempPath);
      return new AtomicFile(real, tempPath, fh, lock, options);
    } catch (err) {
      await lock?.release();
      throw err;
    }
  }

  /** Appends a chunk (buffered; written in large writes). */
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    // a big chunk is written as it is, not copied together with what is pending (a 100 MB string value)
    if (chunk.length >= FLUSH_AT && this.pendingBytes > 0) await this.flush();
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.bytesWritten += chunk.length;
    if (this.pendingBytes >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.flushedBytes + off);
        off += bytesWritten;
      }
      this.flushedBytes += data.length;
    } catch (err) {
      throw new FsioError('io', `cannot write ${this.target} (temporary file ${this.tempPath}): ${describeIoError(err)}`, { file: this.target, cause: err });
    }
  }

  /**
   * Cuts what was written back to its first `length` bytes; later writes go on from there (for a writer that
   * finds the end of what it wrote must not be kept, e.g. a record its input ended inside of).
   */
  async truncate(length: number): Promise<void> {
    if (length >= this.bytesWritten) return;
    if (length >= this.flushedBytes) {
      // only pending chunks go
      let keep = length - this.flushedBytes;
      const kept: Uint8Array[] = [];
      for (const c of this.pending) {
        if (keep <= 0) break;
        kept.push(c.length <= keep ? c : c.subarray(0, keep));
        keep -= c.length;
      }
      this.pending = kept;
      this.pendingBytes = length - this.flushedBytes;
    } else {
      this.pending = [];
      this.pendingBytes = 0;
      try {
        await this.fh.truncate(length);
      } catch (err) {
        throw new FsioError('io', `cannot truncate ${this.target} (temporary file ${this.tempPath}): ${describeIoError(err)}`, { file: this.target, cause: err });
      }
      this.flushedBytes = length;
    }
    this.bytesWritten = length;
  }

  /**
   * Flushes, fsyncs and closes the temp file, keeps a replaced output as `.bak` (with `force`), renames the temp
   * file over the target and fsyncs the directory.
   */
  async commit(): Promise<void> {
    if (this.done) return;
    try {
      await this.flush();
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      if (!this.options.inPlace && (await lstat(this.target).catch(() => null))) {
        // it may have appeared since create(): the same rules again, then a backup that shares the inode
        await checkOutput(this.target, this.options);
        this.replacedBackup = await backupFile(this.target);
      }
      await rename(this.tempPath, this.target);
      forgetOnExit(this.tempPath);
      await fsyncDirectory(dirname(this.target));
    } catch (err) {
      await this.abort();
      if (err instanceof FsioError) throw err;
      throw new FsioError('io', `cannot write ${this.target}: ${describeIoError(err)}`, { file: this.target, cause: err });
    } finally {
      await this.lock?.release();
    }
  }

  /** Closes and deletes the temp file; the target stays as it was. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => undefined);
    }
    await unlink(this.tempPath).catch(() => undefined);
    forgetOnExit(this.tempPath);
    await this.lock?.release();
  }
}

/** Writes `data` (bytes or a chunk iterator) to `target` atomically, under the output rules of `options`. */
export async function writeFileAtomic(target: string, data: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: AtomicFileOptions = {}): Promise<number> {
  const file = await AtomicFile.create(target, options);
  try {
    if (data instanceof Uint8Array) await file.write(data);
    else for await (const chunk of data) await file.write(chunk);
    await file.commit();
    return file.bytesWritten;
  } catch (err) {
    await file.abort();
    throw err;
  }
}

/**
 * A directory output built under the temporary name `.<name>.tmp` beside it and renamed into place by
 * {@link commit}, under the same rules as {@link AtomicFile}: an existing non-empty directory is refused unless
 * `force`, which first moves it whole to `<dir>.bak` (`.bak.N`); a killed run leaves only the temp directory,
 * which the next run removes.
 */
export class AtomicDir {
  private done = false;
  /** Where the directory that was replaced now lives (with `force`), once committed. */
  replacedBackup: string | null = null;

  private constructor(
    readonly target: string,
    /** Write the directory's files here (with `lock: false`, the directory itself is locked). */
    readonly tempPath: string,
    private readonly lock: FileLock,
    private readonly options: OutputPolicy,
  ) {}

  /** Checks the output policy and makes a temp directory beside `target`. */
  static async create(target: string, options: OutputPolicy = {}): Promise<AtomicDir> {
    const real = await resolvePath(target);
    await checkOutput(target, options, 'dir');
    await makeDirectory(dirname(real), target);
    const lock = await acquireLock(real);
    try {
      const tempPath = tempPathFor(real);
      await removeStale(tempPath, target);
      try {
        await mkdir(tempPath);
      } catch (err) {
        throw new FsioError('io', `cannot create a temporary directory next to ${target}: ${describeIoError(err)}`, { file: target, cause: err });
      }
      removeOnExit(tempPath, 'dir');
      return new AtomicDir(real, tempPath, lock, options);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** A path inside the temporary directory. */
  path(name: string): string {
    return join(this.tempPath, name);
  }

  /** Fsyncs the temp directory and renames it to the target (an existing one kept as a backup with `force`). */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await fsyncDirectory(this.tempPath);
      const existing: Stats | null = await lstat(this.target).catch(() => null);
      if (existing) {
        if (await checkOutput(this.target, this.options, 'dir')) {
          const backup = await nextBackupPath(this.target);
          await rename(this.target, backup);
          this.replacedBackup = backup;
        } else {
          await rmdir(this.target); // empty
        }
      }
      await rename(this.tempPath, this.target);
      forgetOnExit(this.tempPath);
      await fsyncDirectory(dirname(this.target));
    } catch (err) {
      await rm(this.tempPath, { recursive: true, force: true });
      forgetOnExit(this.tempPath);
      if (err instanceof FsioError) throw err;
      throw new FsioError('io', `cannot write the directory ${this.target}: ${describeIoError(err)}`, { file: this.target, cause: err });
    } finally {
      await this.lock.release();
    }
  }

  /** Removes the temp directory; the target is untouched. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await rm(this.tempPath, { recursive: true, force: true });
      forgetOnExit(this.tempPath);
    }
    await this.lock.release();
  }
}

/** True when something exists at `path` (a file, a directory...). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The first of `<path>.bak`, `<path>.bak.1`, `<path>.bak.2`, ... that does not exist yet. */
export async function nextBackupPath(path: string, suffix = '.bak'): Promise<string> {
  let candidate = path + suffix;
  for (let n = 1; await lstat(candidate).then(() => true, () => false); n++) candidate = `${path}${suffix}.${n}`;
  return candidate;
}

/**
 * Keeps the current content of `path` under a fresh backup name (never overwriting an earlier backup) and
 * returns that name. A hard link is used where possible (instant, even for huge files; the later atomic
 * rename of a new version over `path` leaves the linked original intact); otherwise a copy, fsynced.
 */
export async function backupFile(path: string, suffix = '.bak'): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const backup = await nextBackupPath(path, suffix);
    try {
      await link(path, backup);
      await fsyncDirectory(dirname(path));
      return backup;
    } catch (err) {
      if ((err as { code?: string }).code === 'EEXIST') continue;
      try {
        await copyFile(path, backup, constants.COPYFILE_EXCL);
        const fh = await open(backup, 'r+');
        await fh.sync();
        await fh.close();
        await fsyncDirectory(dirname(path));
        return backup;
      } catch (copyErr) {
        if ((copyErr as { code?: string }).code === 'EEXIST') continue;
        throw new FsioError('io', `cannot back up ${path} to ${backup}: ${describeIoError(copyErr)}`, { file: path, cause: copyErr });
      }
    }
  }
  throw new FsioError('io', `cannot find a free backup name for ${path}`, { file: path });
}

/**
 * Truncates `path` to `length` bytes in place and fsyncs it. Never call it on a file that {@link backupFile}
 * has just hard-linked: the backup shares the inode and would be cut too. Write a new version with
 * {@link AtomicFile} instead when a backup is kept.
 */
export async function truncateFile(path: string, length: number): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r+');
    await fh.truncate(length);
    await fh.sync();
  } catch (err) {
    throw new FsioError('io', `cannot truncate ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  } finally {
    await fh?.close();
  }
}

/** Removes a file if it exists. */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: { code?: string }) => {
    if (err.code !== 'ENOENT') throw new FsioError('io', `cannot remove ${path}: ${describeIoError(err)}`, { file: path, cause: err });
  });
}
