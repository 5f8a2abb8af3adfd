// Small helpers several packages' tests share: seeded randomness, open file descriptors, a synthetic RDB.
import { readdirSync, statSync } from 'node:fs';

/** Seeded pseudo-random numbers in [0, 1) (mulberry32): small, fast, the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many file descriptors this process holds open (Linux: /proc/self/fd), to show a reader closed its file. */
export function openFileDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * An RDB 9 file of `keys` string keys (`key:0`, `key:1`, ...) in db 0, each a raw value of `valueBytes` bytes of
 * 'a' (at most 16383: a 14-bit length), checksum disabled (zero): several read chunks' worth without a server.
 */
export function stringKeysRdb(keys: number, valueBytes: number): Buffer {
  if (!Number.isInteger(valueBytes) || valueBytes < 64 || valueBytes > 0x3fff) throw new RangeError(`valueBytes must be 64..16383, got ${valueBytes}`);
  const parts: Buffer[] = [Buffer.from('REDIS0009', 'latin1'), Buffer.from([0xfe, 0x00])];
  const value = Buffer.alloc(valueBytes, 0x61);
  for (let i = 0; i < keys; i++) {
    const key = Buffer.from(`key:${i}`);
    parts.push(Buffer.from([0x00, key.length]), key, Buffer.from([0x40 | (valueBytes >> 8), valueBytes & 0xff]), value);
  }
  parts.push(Buffer.from([0xff]), Buffer.alloc(8));
  return Buffer.concat(parts);
}

/**
 * A signal that aborts itself with `reason` at its `n`-th `throwIfAborted()` call: stops a library call at each of
 * its check points in turn, deterministically (no timers). `checks` counts the calls made so far (with
 * `n = Infinity` it only counts: how many check points a whole run has).
 */
export function abortAtCheck(n: number, reason: unknown = new Error(`aborted at check ${n}`)): { signal: AbortSignal; readonly checks: number } {
  const ac = new AbortController();
  const signal = ac.signal;
  const own = signal.throwIfAborted.bind(signal);
  let checks = 0;
  Object.defineProperty(signal, 'throwIfAborted', {
    value: () => {
      if (++checks === n) ac.abort(reason);
      own();
    },
  });
  return {
    signal,
    get checks() {
      return checks;
    },
  };
}

/** The paths under `dir` (files and directories, relative, sorted), with each file's size: a snapshot to compare. */
export function treeListing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        walk(`${d}/${e.name}`, r);
      } else out.push(`${r} ${statSync(`${d}/${e.name}`).size}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

/**
 * Check points spread over a run of `total` checks: the first few, some in between, the last ones (where a
 * commit would come next).
 */
export function checkPoints(total: number, between = 6): number[] {
  const set = new Set<number>([1, 2, 3, total - 1, total]);
  for (let i = 1; i <= between; i++) set.add(Math.round((total * i) / (between + 1)));
  return [...set].filter((k) => k >= 1 && k <= total).sort((a, b) => a - b);
}

/**
 * Stops `run` at each of its signal check points in turn: runs it once with a counting signal (then `undo` puts
 * `dir` back as it was), then once per check point of {@link checkPoints} (but the last, after which the work
 * commits) with a signal that aborts there. Each stopped run must reject with that signal's reason, leave no more
 * fds open than before, and leave `dir` exactly as it was (no temp file, no output, no backup); else this throws,
 * naming the check point. Resolves to the number of check points of a whole run.
 */
export async function sweepAbortPoints(label: string, dir: string, run: (signal: AbortSignal) => Promise<unknown>, undo: () => void): Promise<number> {
  const before = treeListing(dir).join('\n');
  const counter = abortAtCheck(Infinity);
  await run(counter.signal);
  const total = counter.checks;
  if (total < 3) throw new Error(`${label}: only ${total} check points in a whole run`);
  undo();
  if (treeListing(dir).join('\n') !== before) throw new Error(`${label}: undo did not put ${dir} back:\n${treeListing(dir).join('\n')}\nwas\n${before}`);
  for (const k of checkPoints(total)) {
    if (k === total) continue;
    const fds = openFileDescriptors();
    const reason = new Error(`${label} stopped at ${k}`);
    const outcome = await run(abortAtCheck(k, reason).signal).then(
      () => 'resolved',
      (err: unknown) => (err === reason ? null : `rejected with ${String(err)}`),
    );
    if (outcome !== null) throw new Error(`${label} at check ${k}/${total}: ${outcome} instead of rejecting with the reason`);
    const fdsNow = openFileDescriptors();
    if (fdsNow !== fds) throw new Error(`${label} at check ${k}/${total}: ${fdsNow} fds open, ${fds} before`);
    const now = treeListing(dir).join('\n');
    if (now !== before) throw new Error(`${label} at check ${k}/${total}: ${dir} changed:\n${now}\nwas\n${before}`);
  }
  return total;
}
