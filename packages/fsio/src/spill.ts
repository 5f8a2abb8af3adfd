// Synchronous scratch files for code that cannot await (the RDB parser's duplicate check of huge collections).
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsioError, describeIoError } from './errors.js';

/** An OS error of a scratch file as an FsioError naming its directory. */
function ioError(what: string, dir: string, err: unknown): FsioError {
  return new FsioError('io', `cannot ${what} a scratch file in ${dir}: ${describeIoError(err)}`, { file: dir, cause: err });
}

/** One scratch file: appended to, read back anywhere, emptied; synchronous calls on one descriptor. */
export interface ScratchFile {
  /** Appends `data` at the end. */
  append(data: Uint8Array): void;
  /** Reads up to `into.length` bytes from byte `pos`; returns how many were read. */
  read(pos: number, into: Uint8Array): number;
  /** Empties the file. */
  clear(): void;
  /** Bytes the file holds. */
  readonly size: number;
}

/**
 * Scratch files in temp directories (under `dir`, default the OS temp dir), one per {@link open}. Each
 * file is unlinked, and its directory removed, as soon as it is open (on POSIX systems), so nothing is left behind
 * however the process ends; where that is refused (Windows) they are removed by {@link dispose}. Call dispose when
 * done (it closes the descriptors): on success, error and abort alike.
 */
export class ScratchFiles {
  private readonly dir: string;
  private readonly prefix: string;
  /** Directories not removed at open (where an open file cannot be unlinked). */
  private readonly leftover: string[] = [];
  private readonly fds: number[] = [];

  constructor(options: { dir?: string; prefix?: string } = {}) {
    this.dir = options.dir ?? tmpdir();
    this.prefix = options.prefix ?? 'redis-persist-scratch-';
  }

  /** A new empty scratch file. */
  open(): ScratchFile {
    let dir: string;
    try {
      dir = mkdtempSync(join(this.dir, this.prefix));
    } catch (err) {
      throw ioError('create', this.dir, err);
    }
    const path = join(dir, 'scratch');
    let fd: number;
    try {
      fd = openSync(path, 'w+', 0o600);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw ioError('create', this.dir, err);
    }
    const where = this.dir;
    this.fds.push(fd);
    try {
      unlinkSync(path);
      rmdirSync(dir);
    } catch {
      this.leftover.push(dir);
    }
    let size = 0;
    return {
      append(data: Uint8Array): void {
        let off = 0;
        try {
          while (off < data.length) off += writeSync(fd, data, off, data.length - off, size + off);
        } catch (err) {
          throw ioError('write', where, err);
        }
        size += data.length;
      },
      read(pos: number, into: Uint8Array): number {
        try {
          return readSync(fd, into, 0, into.length, pos);
        } catch (err) {
          throw ioError('read', where, err);
        }
      },
      clear(): void {
        try {
          ftruncateSync(fd, 0);
        } catch (err) {
          throw ioError('write', where, err);
        }
        size = 0;
      },
      get size(): number {
        return size;
      },
    };
  }

  /** Closes every file (and removes what is left of them). Safe to call more than once. */
  dispose(): void {
    for (const fd of this.fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    for (const dir of this.leftover.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
