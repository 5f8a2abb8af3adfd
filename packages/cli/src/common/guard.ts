// The guard in front of every command that changes files in place (strip, fix, rewrite): a running Redis
// appends to the inode it holds open, so a rename over its AOF loses every later write. Refuse while a process
// holds one of the files, or while a server answers for the data directory; lock against a second run.
import { createConnection } from 'node:net';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { AofError, duplicateManifestEntry, readManifest, resolveAofInput } from '@redis-persist/aof';
import { FsioError, acquireLock, findHolders, resolvePath, type FileLock } from '@redis-persist/fsio';
import { parsePersistenceConfig } from '@redis-persist/converters';

export interface InPlaceGuardOptions {
  /** Go on although a server seems to hold the files (the lock between our own runs still holds). */
  force?: boolean;
  /** The redis.conf of the server that owns the data (else `<data dir>/redis.conf` when there is one). */
  config?: string;
  /** What is about to happen, for the lock and the messages ("aof-tool strip"). */
  purpose: string;
  /** Where notes go (stderr). */
  note: (message: string) => void;
}

/** The files an AOF input consists of (every file of a multi-part directory, manifest included) and its data dir. */
async function aofFiles(input: string): Promise<{ target: string; files: string[]; dataDir: string }> {
  const t = await resolveAofInput(input);
  if (t.layout === 'single') {
    const target = await resolvePath(t.path);
    return { target, files: [t.path, target], dataDir: dirname(target) };
  }
  const dir = await resolvePath(t.dir);
  const twice = duplicateManifestEntry(await readManifest(t.manifestPath));
  if (twice !== null) throw new AofError('manifest', `the manifest lists ${twice} twice; refusing to edit (fix the manifest first)`, { file: t.manifestPath });
  const names = await readdir(dir).catch(() => [] as string[]);
  return { target: dir, files: names.map((n) => join(dir, n)), dataDir: dirname(dir) };
}

/** True when something speaking RESP answers PING on this TCP port of 127.0.0.1 (or this Unix socket). */
export function redisAnswers(where: { port: number } | { socket: string }, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const sock = 'port' in where ? createConnection({ host: '127.0.0.1', port: where.port }) : createConnection({ path: where.socket });
    let done = false;
    const finish = (yes: boolean) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolveAnswer(yes);
    };
    sock.setTimeout(timeoutMs, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    // +PONG, or -NOAUTH / -LOADING...: a Redis either way
    sock.on('data', (d: Buffer) => finish(d[0] === 0x2b || d[0] === 0x2d));
  });
}

const STOP_ADVICE = 'stop Redis first (SHUTDOWN NOSAVE keeps the files as they are), or pass --force';

/**
 * Takes the lock on the AOF `input` and refuses (FsioError `in-use`) while a process holds one of its files open
 * or a server configured for its data directory answers. Returns the lock; release it when done.
 */
export async function guardInPlaceEdit(input: string, options: InPlaceGuardOptions): Promise<FileLock> {
  const { target, files, dataDir } = await aofFiles(input);
  const lock = await acquireLock(target, { purpose: options.purpose });
  try {
    if (options.force) {
      options.note(`--force: not checking whether a Redis server uses ${target}`);
      return lock;
    }
    const held = await findHolders(files);
    if (held.holders.length > 0) {
      const h = held.holders[0];
      throw new FsioError(
        'in-use',
        `refusing to change ${input}: ${h.path} is open in ${h.command} (pid ${h.pid})${held.holders.length > 1 ? ` and ${held.holders.length - 1} more` : ''}; it would go on writing to the old file and those writes would be lost. ${STOP_ADVICE}`,
        { file: target },
      );
    }
    if (!held.supported) options.note(`cannot tell whether a running process holds ${target} open on this system (no /proc): make sure Redis is stopped`);
    else if (held.unreadable > 0) options.note(`could not look into ${held.unreadable} processes of other users (run as root to check them): make sure Redis is stopped`);
    const configPath = options.config ?? join(dataDir, 'redis.conf');
    const text = await readFile(configPath, 'utf8').catch((err: { code?: string }) => {
      if (options.config !== undefined) throw new FsioError('io', `cannot read the config ${configPath}: ${err.code ?? String(err)}`, { file: configPath, cause: err });
      return null;
    });
    if (text !== null) {
      const conf = parsePersistenceConfig(text);
      const confDir = conf.dir === null ? null : isAbsolute(conf.dir) ? conf.dir : resolve(dirname(configPath), conf.dir);
      const sameDir = confDir === null || (await sameDirectory(confDir, dataDir));
      if (sameDir) {
        const where = [
          ...(conf.port > 0 && (await redisAnswers({ port: conf.port })) ? [`port ${conf.port}`] : []),
          ...(conf.unixsocket && (await redisAnswers({ socket: conf.unixsocket })) ? [`socket ${conf.unixsocket}`] : []),
        ];
        if (where.length > 0) {
          throw new FsioError('in-use', `refusing to change ${input}: a Redis server answers on ${where.join(' and ')} (${basename(configPath)} names this data directory). ${STOP_ADVICE}`, { file: target });
        }
      }
    }
    return lock;
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function sameDirectory(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino;
}
