// Advisory locks between runs of our tools: a lock file `.<name>.lock` beside the file or directory it guards,
// created exclusively and holding the owner's PID and process start time. A lock whose owner is gone (killed,
// crashed) is stale: the next run takes it over, and says so.
import { readFileSync, unlinkSync, rmSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FsioError, describeIoError, notice } from './errors.js';

/** The lock file that guards `target`. */
export function lockPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.lock`);
}

interface LockOwner {
  pid: number;
  /** Process start time (Linux: /proc/<pid>/stat field 22), to tell a reused PID from the owner. */
  start: string | null;
  purpose: string;
  since: string;
}

/** The start time of a process as Linux counts it, or null where /proc cannot tell. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

function ownerAlive(owner: LockOwner): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (owner.pid === process.pid) return true;
  if (!processAlive(owner.pid)) return false;
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

// Lock files and temp paths of this process, removed if it exits before releasing them (process.exit on SIGINT,
// an uncaught error); only a SIGKILL or a crash leaves them, for the next run to find stale.
const ownedPaths = new Map<string, 'file' | 'dir'>();
let exitHookInstalled = false;

/** Removes `path` (a temp file or directory, or a lock) if this process exits before {@link forgetOnExit}. */
export function removeOnExit(path: string, kind: 'file' | 'dir' = 'file'): void {
  ownedPaths.set(path, kind);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [p, k] of ownedPaths) {
        try {
          if (k === 'dir') rmSync(p, { recursive: true, force: true });
          else unlinkSync(p);
        } catch {
          // already gone
        }
      }
    });
  }
}

export function forgetOnExit(path: string): void {
  ownedPaths.delete(path);
}

/** A held lock; {@link release} it when the work is done (idempotent). */
export interface FileLock {
  /** The lock file. */
  readonly path: string;
  /** What it guards. */
  readonly target: string;
  /** Releases the lock (removes the lock file). */
  release(): Promise<void>;
}

/** Options of {@link acquireLock}: what the lock is for, said to a second run that finds it held. */
export interface LockOptions {
  /** Said to a second run that finds the lock held ("aof-tool strip"...). */
  purpose?: string;
}

const heldInThisProcess = new Map<string, number>();

/**
 * Takes the lock on `target` (a file or directory, which need not exist). Refused with an FsioError of code
 * `locked` while another live process holds it; a stale lock (its owner is gone) is taken over with a notice.
 * Re-entrant within one process.
 */
export async function acquireLock(target: string, options: LockOptions = {}): Promise<FileLock> {
  const path = lockPathFor(target);
  const depth = heldInThisProcess.get(path);
  if (depth !== undefined) {
    heldInThisProcess.set(path, depth + 1);
    return makeLock(path, target);
  }
  const me: LockOwner = { pid: process.pid, start: processStart(process.pid), purpose: options.purpose ?? basename(process.argv[1] ?? 'node'), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(me) + '\n');
      } finally {
        await fh.close();
      }
      heldInThisProcess.set(path, 1);
      removeOnExit(path);
      return makeLock(path, target);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') {
        throw new FsioError('io', `cannot lock ${target} (lock file ${path}): ${describeIoError(err)}`, { file: target, cause: err });
      }
    }
    let owner: LockOwner | null = null;
    let text = '';
    try {
      text = await readFile(path, 'utf8');
      owner = JSON.parse(text) as LockOwner;
    } catch {
      owner = null;
    }
    if (owner === null && text === '' && attempt < 5) {
      // another process has just created it and not written its name yet
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    if (owner !== null && ownerAlive(owner)) {
      throw new FsioError(
        'locked',
        `${target} is locked by another run (pid ${owner.pid}${owner.purpose ? `, ${owner.purpose}` : ''}, since ${owner.since}): wait for it to finish (or, if that process is gone, remove ${path})`,
        { file: target },
      );
    }
    notice(`removed a stale lock ${path}${owner ? ` of pid ${owner.pid} (${owner.purpose}, since ${owner.since}), which is no longer running` : ''}`);
    await unlink(path).catch(() => undefined);
  }
  throw new FsioError('locked', `cannot lock ${target}: the lock file ${path} keeps changing`, { file: target });
}

function makeLock(path: string, target: string): FileLock {
  let released = false;
  return {
    path,
    target,
    async release() {
      if (released) return;
      released = true;
      const depth = heldInThisProcess.get(path) ?? 1;
      if (depth > 1) {
        heldInThisProcess.set(path, depth - 1);
        return;
      }
      heldInThisProcess.delete(path);
      forgetOnExit(path);
      await unlink(path).catch(() => undefined);
    },
  };
}
