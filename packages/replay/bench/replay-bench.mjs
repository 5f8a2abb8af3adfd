#!/usr/bin/env node
// Offline rewrite vs redis-server: `aof-tool rewrite` (replay + new RDB base) against redis-server loading the
// same AOF and running BGREWRITEAOF; peak RSS of ours against redis-server's RSS holding the same data.
//
//   node packages/replay/bench/replay-bench.mjs [--size-mb 200] [--keep]
//
// Needs redis-server and redis-cli on PATH and a build (`pnpm build`). Writes results.md beside this script.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const sizeMb = Number(opt('--size-mb', '200'));
const keep = args.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'replay-bench-'));

function bulk(s) {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(String(s));
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
}
function cmd(parts) {
  return Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.map(bulk)]);
}

/** A RESP AOF of about sizeMb: every type, overwrites and deletions, so the keyspace is smaller than the log. */
function generate(path) {
  const fd = openSync(path, 'w');
  let bytes = 0;
  let i = 0;
  let seed = 12345;
  const rnd = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 4) % n;
  };
  const buf = [];
  let pending = 0;
  const push = (c) => {
    buf.push(c);
    pending += c.length;
    if (pending > 1 << 20) {
      const b = Buffer.concat(buf);
      writeSync(fd, b);
      bytes += b.length;
      buf.length = 0;
      pending = 0;
    }
  };
  push(cmd(['SELECT', '0']));
  const keys = Math.max(1000, Math.floor((sizeMb * 1024 * 1024) / 200));
  while (bytes + pending < sizeMb * 1024 * 1024) {
    i++;
    const k = rnd(keys);
    switch (rnd(8)) {
      case 0:
      case 1:
        push(cmd(['SET', `s:${k}`, `value-${i}-${'x'.repeat(rnd(40))}`]));
        break;
      case 2:
        push(cmd(['RPUSH', `l:${k % 5000}`, `e${i}`, `f${i}`]));
        break;
      case 3:
        push(cmd(['SADD', `set:${k % 5000}`, `m${rnd(2000)}`]));
        break;
      case 4:
        push(cmd(['ZADD', `z:${k % 5000}`, String(rnd(100000) / 7), `m${rnd(2000)}`]));
        break;
      case 5:
        push(cmd(['HSET', `h:${k % 5000}`, `f${rnd(300)}`, `v${i}`]));
        break;
      case 6:
        push(cmd(['XADD', `x:${k % 500}`, `${1_600_000_000_000 + i}-0`, 'f', `v${i}`]));
        break;
      default:
        push(cmd(['DEL', `s:${rnd(keys)}`]));
    }
  }
  const b = Buffer.concat(buf);
  writeSync(fd, b);
  closeSync(fd);
  return { commands: i, bytes: bytes + b.length };
}

function vmHwmKb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function measure(argv) {
  const t0 = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let peak = 0;
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const timer = setInterval(() => (peak = Math.max(peak, vmHwmKb(child.pid))), 20);
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearInterval(timer);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakMb: peak / 1024, code, out };
}

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

const cli = (port, ...a) => spawnSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8' }).stdout.trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function redisLoadAndRewrite(dir) {
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const server = spawn('redis-server', ['--port', String(port), '--dir', dir, '--appendonly', 'yes', '--save', '', '--aof-use-rdb-preamble', 'yes', '--auto-aof-rewrite-percentage', '0', '--logfile', join(dir, 'log')], { stdio: 'ignore' });
  while (cli(port, 'PING') !== 'PONG') await sleep(20);
  const loaded = Number(process.hrtime.bigint() - t0) / 1e9;
  const info = cli(port, 'INFO', 'memory');
  const rssMb = Number(/used_memory_rss:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024;
  const t1 = process.hrtime.bigint();
  cli(port, 'BGREWRITEAOF');
  for (;;) {
    const p = cli(port, 'INFO', 'persistence');
    if (/aof_rewrite_in_progress:0/.test(p) && /aof_rewrite_scheduled:0/.test(p)) break;
    await sleep(20);
  }
  const rewrite = Number(process.hrtime.bigint() - t1) / 1e9;
  const keys = cli(port, 'DBSIZE');
  const hwm = vmHwmKb(server.pid) / 1024;
  cli(port, 'SHUTDOWN', 'NOSAVE');
  await new Promise((r) => server.on('exit', r));
  return { loaded, rewrite, rssMb, hwmMb: hwm, keys };
}

const aofDir = join(work, 'src', 'appendonlydir');
mkdirSync(aofDir, { recursive: true });
const gen = generate(join(aofDir, 'appendonly.aof.1.incr.aof'));
writeFileSync(join(aofDir, 'appendonly.aof.manifest'), 'file appendonly.aof.1.incr.aof seq 1 type i\n');
console.error(`generated ${gen.commands} commands, ${(gen.bytes / 1048576).toFixed(1)} MiB`);

const oursDir = join(work, 'ours');
cpSync(join(work, 'src'), oursDir, { recursive: true });
const ours = await measure([process.execPath, join(root, 'packages/cli/bin/aof-tool.js'), 'rewrite', '--no-backup', '--json', join(oursDir, 'appendonlydir')]);
if (ours.code !== 0) console.error(`aof-tool rewrite failed (exit ${ours.code}): ${ours.out.slice(0, 500)}`);
const oursKeys = ours.code === 0 ? JSON.parse(ours.out).keys : null;

const redisDir = join(work, 'redis');
cpSync(join(work, 'src'), redisDir, { recursive: true });
const redis = await redisLoadAndRewrite(redisDir);

const rows = [
  `| input | ${(gen.bytes / 1048576).toFixed(0)} MiB RESP AOF, ${gen.commands} commands, ${redis.keys} keys after replay |`,
  '|---|---|',
  `| \`aof-tool rewrite\` (replay + RDB base) | ${ours.seconds.toFixed(1)} s, peak RSS ${ours.peakMb.toFixed(0)} MB, ${oursKeys} keys |`,
  `| redis-server 7.0.15 load + BGREWRITEAOF | ${(redis.loaded + redis.rewrite).toFixed(1)} s (load ${redis.loaded.toFixed(1)} s + rewrite ${redis.rewrite.toFixed(1)} s), RSS ${redis.rssMb.toFixed(0)} MB (peak ${redis.hwmMb.toFixed(0)} MB) |`,
  `| ratio | time ${(ours.seconds / (redis.loaded + redis.rewrite)).toFixed(2)}×, peak RSS ${(ours.peakMb / redis.rssMb).toFixed(2)}× redis-server's RSS (target ≤ 3×) |`,
];
const md = rows.join('\n') + '\n';
console.log(md);
writeFileSync(join(here, 'results.md'), `<!-- node packages/replay/bench/replay-bench.mjs --size-mb ${sizeMb}, ${new Date().toISOString()} -->\n${md}`);
if (!keep) rmSync(work, { recursive: true, force: true });
else console.error(`kept ${work}`);
