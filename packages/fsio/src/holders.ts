// Which running processes hold a file open: a Redis server appends to its AOF through a descriptor it keeps, so
// an in-place edit (rename over the file) while it runs loses every write that follows. Linux answers through
// /proc/<pid>/fd; elsewhere the caller is told that it could not look.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';

/** A process holding a file open (from /proc): pid, command name and path. */
export interface FileHolder {
  pid: number;
  /** The process name (/proc/<pid>/comm), e.g. `redis-server`. */
  command: string;
  /** The path it holds open, as the kernel names it (`(deleted)` when unlinked). */
  path: string;
}

/** What {@link findHolders} found: the processes holding the files open, and whether it could look. */
export interface HoldersReport {
  holders: FileHolder[];
  /** False where /proc cannot be read (not Linux): nothing could be checked. */
  supported: boolean;
  /** Processes whose descriptors could not be read (another user's, without privileges). */
  unreadable: number;
}

/**
 * Lists the processes (other than this one) that hold any of `paths` open, matching by device and inode, so a
 * hard link or a renamed file is found too. Paths that do not exist are ignored.
 */
export async function findHolders(paths: readonly string[]): Promise<HoldersReport> {
  const wanted = new Map<string, string>();
  for (const p of paths) {
    const s = await stat(p).catch(() => null);
    if (s) wanted.set(`${s.dev}:${s.ino}`, p);
  }
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  } catch {
    return { holders: [], supported: false, unreadable: 0 };
  }
  const holders: FileHolder[] = [];
  let unreadable = 0;
  if (wanted.size === 0) return { holders, supported: true, unreadable };
  for (const pidText of pids) {
    const pid = Number(pidText);
    if (pid === process.pid) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch (err) {
      // a process that ended meanwhile is fine; one we may not look into is counted
      if ((err as { code?: string }).code === 'EACCES') unreadable++;
      continue;
    }
    let command: string | null = null;
    for (const fd of fds) {
      const s = await stat(`/proc/${pid}/fd/${fd}`).catch(() => null);
      if (!s || !wanted.has(`${s.dev}:${s.ino}`)) continue;
      command ??= (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
      const path = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => wanted.get(`${s.dev}:${s.ino}`)!);
      holders.push({ pid, command, path });
    }
  }
  return { holders, supported: true, unreadable };
}
