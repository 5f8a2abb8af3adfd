import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FsioError, describeIoError } from './errors.js';

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

/**
 * A file written next to its final path under a temporary name, then fsynced and renamed into place by
 * {@link commit}. Until then the target is untouched; {@link abort} (or a crash) leaves at most a stray temp
 * file named `.<name>.tmp-<pid>-<random>`. Small writes are batched into 1 MiB writes.
 */
export class AtomicFile {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private done = false;
  /** Bytes written so far. */
  bytesWritten = 0;

  private constructor(
    readonly target: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(target: string, mode?: number): Promise<AtomicFile> {
    const tempPath = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    let fileMode = mode;
    if (fileMode === undefined) {
      try {
        fileMode = (await stat(target)).mode & 0o7777;
      } catch {
        fileMode = 0o644;
      }
    }
    try {
      const fh = await open(tempPath, 'wx', fileMode);
      return new AtomicFile(target, tempPath, fh);
    } catch (err) {
      throw new FsioError(`cannot create a temporary file next to ${target}: ${describeIoError(err)}`, target, err);
    }
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
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
        const { bytesWritten } = await this.fh.write(data, off, data.length - off);
        off += bytesWritten;
      }
    } catch (err) {
      throw new FsioError(`cannot write ${this.tempPath}: ${describeIoError(err)}`, this.target, err);
    }
  }

  /** Flushes, fsyncs, closes and renames the temp file over the target, then fsyncs the directory. */
  async commit(): Promise<void> {
    if (this.done) return;
    try {
      await this.flush();
      await this.fh.sync();
      await this.fh.close();
      this.done = true;
      await rename(this.tempPath, this.target);
      await fsyncDirectory(dirname(this.target));
    } catch (err) {
      await this.abort();
      if (err instanceof FsioError) throw err;
      throw new FsioError(`cannot write ${this.target}: ${describeIoError(err)}`, this.target, err);
    }
  }

  /** Closes and deletes the temp file; the target stays as it was. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.fh.close().catch(() => undefined);
    }
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** Writes `data` (bytes or a chunk iterator) to `target` atomically. */
export async function writeFileAtomic(target: string, data: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  const file = await AtomicFile.create(target);
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
  for (let n = 1; await pathExists(candidate); n++) candidate = `${path}${suffix}.${n}`;
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
        throw new FsioError(`cannot back up ${path} to ${backup}: ${describeIoError(copyErr)}`, path, copyErr);
      }
    }
  }
  throw new FsioError(`cannot find a free backup name for ${path}`, path);
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
    throw new FsioError(`cannot truncate ${path}: ${describeIoError(err)}`, path, err);
  } finally {
    await fh?.close();
  }
}

/** Removes a file if it exists. */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((err: { code?: string }) => {
    if (err.code !== 'ENOENT') throw new FsioError(`cannot remove ${path}: ${describeIoError(err)}`, path, err);
  });
}
