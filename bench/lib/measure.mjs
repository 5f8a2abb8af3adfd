// Runs one process and measures its wall time (process.hrtime) and peak RSS (VmHWM from /proc/<pid>/status,
// polled every ~20 ms until exit). Never throws for a failing or missing tool: the result says what happened.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { loadavg } from './common.mjs';

export const children = new Set();

/** Read VmHWM (peak resident set) and VmRSS in bytes; null when the process is gone. */
export function readPeakRss(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return null;
  }
  const m = /VmHWM:\s+(\d+) kB/.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {{stdout?: 'ignore'|'capture'|string, timeoutMs?: number, maxRssBytes?: number, cwd?: string, env?: object}} opts
 *   stdout: 'ignore' sends it to /dev/null, 'capture' keeps the last 64 KB, a path writes it to that file.
 */
/**
 * User + system CPU seconds of a live process (from /proc/<pid>/stat); null when gone. `withChildren`: add the
 * CPU of its children that it has waited for (cutime + cstime), e.g. redis-server's rewrite/save fork.
 */
export function readCpuS(pid, { withChildren = false } = {}) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // fields after the ")" of the command name: state is field 3; utime 14, stime 15 (1-based)
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  let ticks = Number(rest[11]) + Number(rest[12]);
  if (withChildren) ticks += Number(rest[13]) + Number(rest[14]);
  return Number.isFinite(ticks) ? ticks / CLK_TCK : null;
}
const CLK_TCK = 100; // USER_HZ on Linux

export function measure(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const load1 = loadavg();
    let outFd = null;
    let stdio;
    if (opts.stdout === 'ignore' || opts.stdout === undefined) {
      outFd = fs.openSync('/dev/null', 'w');
      stdio = ['ignore', outFd, 'pipe'];
    } else if (opts.stdout === 'capture') {
      stdio = ['ignore', 'pipe', 'pipe'];
    } else {
      outFd = fs.openSync(opts.stdout, 'w');
      stdio = ['ignore', outFd, 'pipe'];
    }
    const t0 = process.hrtime.bigint();
    let child;
    try {
      child = spawn(cmd, args, { stdio, cwd: opts.cwd, env: opts.env ?? process.env });
    } catch (err) {
      if (outFd !== null) fs.closeSync(outFd);
      resolve({ ok: false, status: 'not available', error: String(err.message ?? err) });
      return;
    }
    children.add(child);
    let peak = 0;
    let samples = 0;
    let overCap = false;
    let cpu = 0;
    const poll = () => {
      const c = readCpuS(child.pid);
      if (c !== null && c > cpu) cpu = c;
      const v = readPeakRss(child.pid);
      if (v !== null) {
        samples++;
        if (v > peak) peak = v;
        // protect the shared machine: a tool that balloons is stopped and reported
        if (opts.maxRssBytes && v > opts.maxRssBytes && !overCap) {
          overCap = true;
          child.kill('SIGKILL');
        }
      }
    };
    const timer = setInterval(poll, 20);
    // First sample as soon as possible.
    setImmediate(poll);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => {
      stderr += d.toString('utf8');
      if (stderr.length > 65536) stderr = stderr.slice(-65536);
    });
    if (child.stdout) {
      child.stdout.on('data', (d) => {
        stdout += d.toString('utf8');
        if (stdout.length > 65536) stdout = stdout.slice(-65536);
      });
    }
    let timedOut = false;
    const killer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : null;
    let spawnError = null;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      const t1 = process.hrtime.bigint();
      clearInterval(timer);
      if (killer) clearTimeout(killer);
      children.delete(child);
      if (outFd !== null) fs.closeSync(outFd);
      const wallNs = Number(t1 - t0);
      const base = {
        wallS: wallNs / 1e9,
        peakRssBytes: peak || null,
        cpuS: cpu, // sampled: misses at most the last ~20 ms

        rssSamples: samples,
        exitCode: code,
        signal,
        stderrTail: stderr.slice(-2000),
        stdoutTail: stdout.slice(-4000),
        loadavgBefore: load1,
        loadavgAfter: loadavg(),
      };
      if (spawnError) {
        resolve({ ...base, ok: false, status: 'not available', error: String(spawnError.message) });
      } else if (overCap) {
        resolve({ ...base, ok: false, status: `killed (RSS over ${Math.round(opts.maxRssBytes / 1048576)} MB)` });
      } else if (timedOut) {
        resolve({ ...base, ok: false, status: `timed out after ${Math.round(opts.timeoutMs / 1000)} s` });
      } else if (code !== 0) {
        resolve({ ...base, ok: false, status: signal ? `failed (signal ${signal})` : `failed (exit ${code})` });
      } else {
        resolve({ ...base, ok: true, status: 'ok' });
      }
    });
  });
}

export function killAllChildren() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}
