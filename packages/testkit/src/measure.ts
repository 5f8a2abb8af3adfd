import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What {@link runNodeMeasured} saw of a child process. */
export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The highest VmHWM (peak resident set, bytes) read while it ran; 0 where /proc is absent. */
  peak: number;
}

/**
 * Runs a Node script (a CLI's bin) in a child process with NO_COLOR set; resolves with its exit code, output and its
 * peak RSS, read from `/proc/<pid>/status` every 20 ms while it runs (VmHWM only grows, so the last reading is the
 * peak up to then).
 */
export function runNodeMeasured(script: string, args: string[]): Promise<MeasuredRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s*(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        // gone
      }
    }, 20);
    child.on('error', fail);
    child.on('close', (code) => {
      clearInterval(poll);
      done({ code, stdout, stderr, peak });
    });
  });
}
