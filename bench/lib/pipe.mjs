// Feeding generated RESP to a redis-server through `redis-cli --pipe`, with back-pressure: what the RDB generators
// share (gen-rdb, gen-stream-rdb, gen-huge-rdb).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { RespWriter } from './common.mjs';

/**
 * Starts `redis-cli --pipe` against `server`. Write commands with `w.cmd(...)` and `await pump()` now and then (it
 * waits while the pipe is full); `finish()` ends the input and resolves with the error and reply counts that
 * redis-cli printed (it throws when redis-cli failed or printed none). If redis-cli dies early, a pending write
 * fails instead of waiting forever for 'drain'.
 */
export function redisPipe(server) {
  const pipe = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), '--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let pipeOut = '';
  pipe.stdout.on('data', (d) => (pipeOut = (pipeOut + d).slice(-4000)));
  pipe.stderr.on('data', (d) => (pipeOut = (pipeOut + d).slice(-4000)));
  const pipeDone = once(pipe, 'close');
  pipe.stdin.on('error', () => {}); // reported through the exit code in finish()
  const died = pipeDone.then(([code]) => {
    throw new Error(`redis-cli --pipe exited early (exit ${code}): ${pipeOut.trim()}`);
  });
  died.catch(() => {});
  let ended = false;
  const w = new RespWriter((chunk) => (pipe.stdin.write(chunk) ? undefined : Promise.race([once(pipe.stdin, 'drain'), ended ? undefined : died])), 1 << 20);
  w.freshBuffers = true;
  const pump = async () => {
    if (w.pending) {
      const p = w.pending;
      w.pending = null;
      await p;
    }
  };
  const finish = async () => {
    w.end();
    await pump();
    ended = true;
    pipe.stdin.end();
    const [code] = await pipeDone;
    const m = /errors:\s*(\d+),\s*replies:\s*(\d+)/.exec(pipeOut);
    if (code !== 0 || !m) throw new Error(`redis-cli --pipe failed (exit ${code}): ${pipeOut.trim()}`);
    return { errors: Number(m[1]), replies: Number(m[2]) };
  };
  return { w, pump, finish };
}
