#!/usr/bin/env node
// pnpm bench [-- --only aof|rdb|stream|writer|replay|analysis|micro] [--size-mb N] [--runs N] [--timeout-s N] [--no-build] [--regen]
//            [--cores 1,2] [--rows check]
//
// Measures our CLI tools against the reference tools of Debian's redis-tools on the same generated inputs, in the
// same run: wall time (process.hrtime) and peak RSS (VmHWM from /proc/<pid>/status, polled every 20 ms).
//   aof:    aof-tool check   vs redis-check-aof   on a generated valid AOF (default >= 1 GB)
//   rdb:    rdb-tool check / dump (jsonl and resp, canonical and file order)  vs redis-check-rdb  on an RDB written
//           by redis-server (default >= 500 MB; --rdb-size-mb 2048 for a 2 GB one); --cores 1,2 runs ours under
//           taskset -c 0 and -c 0-1 (rows per core count, with the speed-up); --rows check: only the check rows
//   stream: rdb-tool check / dump (jsonl and resp, canonical and file order)  vs redis-check-rdb  on an RDB of ONE
//           stream whose consumer group has a million consumers, each owning pending entries (written by redis-server)
//   writer: rdb-tool convert big.jsonl out.rdb, rdb-tool convert in.rdb out.rdb --rdb-version 9
//           vs redis-server loading that RDB + SAVE
//   replay: aof-tool rewrite / aof-tool to-rdb  vs redis-server loading a multi-part AOF dir + BGREWRITEAOF
//           (default ~300 MB of AOF whose data mostly survives); peak RSS against redis-server's RSS after load
//   micro:  (only with --only micro) bench/micro.mjs: MB/s of each CRC64 and LZF implementation
// Inputs are generated into bench/data/ (git-ignored) and reused while they exist.
// Writes bench/results.json and bench/results.md. A missing or failing tool is reported in its row, never fatal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR, DATA_DIR, REPO_ROOT, fileSize, fmtMB, loadavg, log, median, readJson, writeJson,
} from './lib/common.mjs';
import { AOF_GENERATOR_VERSION, generateAof } from './lib/gen-aof.mjs';
import { STREAM_RDB_GENERATOR_VERSION, generateStreamRdb } from './lib/gen-stream-rdb.mjs';
import { HUGE_RDB_GENERATOR_VERSION, generateHugeRdb } from './lib/gen-huge-rdb.mjs';
import { RDB_GENERATOR_VERSION, generateRdb } from './lib/gen-rdb.mjs';
import { REPLAY_AOF_BASENAME, REPLAY_AOF_DIRNAME, REPLAY_GENERATOR_VERSION, REPLAY_INCR_FILE, generateReplayAof } from './lib/gen-replay.mjs';
import { killAllChildren, measure, readCpuS, readPeakRss } from './lib/measure.mjs';
import { killAllServers, redisLog, startRedis, stopRedis } from './lib/redis.mjs';

const MB = 1 << 20;
const SUITES = ['aof', 'rdb', 'stream', 'writer', 'replay', 'analysis', 'micro'];
const TMP_DIR = path.join(DATA_DIR, 'tmp');
// BENCH_AOF_TOOL / BENCH_RDB_TOOL: another bin script to measure (e.g. a second checkout), run as a program (the bin
// scripts start node themselves, with their memory settings).
const AOF_TOOL = process.env.BENCH_AOF_TOOL ? path.resolve(process.env.BENCH_AOF_TOOL) : path.join(REPO_ROOT, 'packages/cli/bin/aof-tool.js');
const RDB_TOOL = process.env.BENCH_RDB_TOOL ? path.resolve(process.env.BENCH_RDB_TOOL) : path.join(REPO_ROOT, 'packages/cli/bin/rdb-tool.js');

// ---------------------------------------------------------------------------------------------- options
function usage(msg) {
  if (msg) process.stderr.write(`bench: ${msg}\n`);
  process.stderr.write(
    'usage: pnpm bench [-- --only aof|rdb|stream|writer|replay|analysis|micro[,...]] [--size-mb N] [--aof-size-mb N] [--rdb-size-mb N]\n' +
      '                  [--replay-size-mb N] [--stream-consumers N] [--runs N] [--timeout-s N] [--max-rss-mb N] [--no-build]\n' +
      '                  [--regen] [--cores N,M (rdb suite: our tools under taskset -c, per core count)]\n' +
      '                  [--rows TEXT,... (rdb suite: only our rows whose name contains one of them, e.g. check)]\n' +
      '                  [--huge-list N] [--huge-hash N] [--huge-string-mb N] [--no-huge]\n' +
      '                  [--keep-outputs]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { only: SUITES.filter((s) => s !== 'micro'), aofMB: 1024, rdbMB: 500, replayMB: 300, streamConsumers: 1_000_000, hugeList: 20_000_000, hugeHash: 5_000_000, hugeStringMB: 500, runs: 1, timeoutS: 1800, maxRssMB: 6144, build: true, regen: false, keep: false };
  const num = (v, name) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`${name} needs a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--') continue;
    else if (a === '--only') {
      o.only = next().split(',').map((s) => s.trim());
      for (const s of o.only) if (!SUITES.includes(s)) usage(`unknown suite ${s}`);
    } else if (a === '--size-mb') o.aofMB = o.rdbMB = o.replayMB = num(next(), a);
    else if (a === '--aof-size-mb') o.aofMB = num(next(), a);
    else if (a === '--rdb-size-mb') o.rdbMB = num(next(), a);
    else if (a === '--replay-size-mb') o.replayMB = num(next(), a);
    else if (a === '--stream-consumers') o.streamConsumers = Math.round(num(next(), a));
    else if (a === '--huge-list') o.hugeList = Math.round(num(next(), a));
    else if (a === '--huge-hash') o.hugeHash = Math.round(num(next(), a));
    else if (a === '--huge-string-mb') o.hugeStringMB = num(next(), a);
    else if (a === '--no-huge') o.hugeList = 0;
    else if (a === '--runs') o.runs = Math.round(num(next(), a));
    else if (a === '--timeout-s') o.timeoutS = num(next(), a);
    else if (a === '--max-rss-mb') o.maxRssMB = num(next(), a);
    else if (a === '--cores') {
      o.cores = next().split(',').map((v) => Math.round(num(v, a)));
      if (o.cores.some((n) => n > os.cpus().length)) usage(`--cores: this machine has ${os.cpus().length} cores`);
    } else if (a === '--rows') o.rows = next().split(',').map((v) => v.trim()).filter(Boolean);
    else if (a === '--no-build') o.build = false;
    else if (a === '--regen') o.regen = true;
    else if (a === '--keep-outputs') o.keep = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------- cleanup
const tempDirs = new Set();
const partials = new Set(); // inputs being generated: removed if we stop half-way
function cleanupSync() {
  killAllChildren();
  killAllServers();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
  for (const f of partials) fs.rmSync(f, { recursive: true, force: true });
  partials.clear();
  if (lockHeld) {
    fs.rmSync(LOCK_FILE, { force: true });
    lockHeld = false;
  }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping servers and children\n`);
    cleanupSync();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}
process.on('exit', cleanupSync);

// One bench at a time: two runs would share bench/data and disturb each other's figures.
const LOCK_FILE = path.join(DATA_DIR, '.bench.lock');
let lockHeld = false;
async function takeLock() {
  fs.mkdirSync(DATA_DIR, { recursive: true });
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, `${process.pid}\n`, { flag: 'wx' });
      lockHeld = true;
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const pid = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim());
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid > 0;
    } catch {
      alive = false;
    }
    if (!alive) {
      fs.rmSync(LOCK_FILE, { force: true }); // left by a run that died
      continue;
    }
    if (!told) log(`another pnpm bench (pid ${pid}) is running; waiting for it to finish`);
    told = true;
    await new Promise((r) => setTimeout(r, 5000));
  }
}

function mkTemp(prefix) {
  fs.mkdirSync(TMP_DIR, { recursive: true });
  const d = fs.mkdtempSync(path.join(TMP_DIR, prefix));
  tempDirs.add(d);
  return d;
}
function rmTemp(d) {
  fs.rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

// ---------------------------------------------------------------------------------------------- helpers
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MB, ...opts });
  return { code: r.status ?? -1, out: (r.stdout ?? '') + (r.stderr ?? ''), error: r.error };
}

/** Is `<bin> <sub>` there? (dist built and the command registered) */
function toolAvailable(bin, sub) {
  const dist = path.join(path.dirname(path.dirname(bin)), 'dist', path.basename(bin, '.js'), 'main.js');
  if (!fs.existsSync(bin)) return { ok: false, why: `not available (${bin} missing)` };
  const overridden = process.env.BENCH_AOF_TOOL || process.env.BENCH_RDB_TOOL;
  if (!overridden && !fs.existsSync(dist)) return { ok: false, why: `not available (${path.relative(REPO_ROOT, dist)} not built)` };
  const r = sh(process.execPath, [bin, sub, '--help'], { timeout: 30000 });
  if (r.code !== 0 || !new RegExp(`Usage: \\S+ ${sub}\\b`).test(r.out)) {
    return { ok: false, why: `not available (no '${sub}' command: exit ${r.code})` };
  }
  return { ok: true, help: r.out };
}

/** Read a file once so every tool starts with the same (warm) page cache. */
function warm(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * MB);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  fs.closeSync(fd);
}

const results = [];

// Newest mtime of the built code (every package dist folder): others may rebuild while we measure.
function buildStamp() {
  let newest = 0;
  const pkgs = path.join(REPO_ROOT, 'packages');
  for (const pkg of fs.readdirSync(pkgs)) {
    const dir = path.join(pkgs, pkg, 'dist');
    let files;
    try {
      files = fs.readdirSync(dir, { recursive: true });
    } catch {
      continue;
    }
    for (const f of files) {
      try {
        const m = fs.statSync(path.join(dir, f)).mtimeMs;
        if (m > newest) newest = m;
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return newest;
}
let startStamp = 0;

/**
 * Run commands `runs` times, interleaved (A B C, A B C, ...) so that a change in the machine's load hits them
 * alike. Each spec: { row, cmd, args, stdout, unavailable?, before?, after? }. A row keeps the median wall time
 * and the highest peak RSS; a row whose run fails stops there. `unavailable`: a reason recorded instead of
 * running. `before(i)` prepares run i (untimed, e.g. a fresh copy of an input the tool modifies).
 */
async function benchRows(specs, { runs, timeoutS, maxRssMB }) {
  const live = [];
  for (const sp of specs) {
    const { row, cmd, args } = sp;
    row.command = [cmd === process.execPath ? 'node' : cmd, ...args].map((a) => (path.isAbsolute(a) ? path.relative(REPO_ROOT, a) || a : a)).join(' ');
    if (sp.unavailable) {
      row.status = sp.unavailable;
      log(`${row.name}: ${sp.unavailable}`);
    } else {
      row.runs = [];
      live.push(sp);
    }
  }
  for (let i = 0; i < runs; i++) {
    for (const sp of live) {
      const { row } = sp;
      if (row.runs.length && !row.runs[row.runs.length - 1].ok) continue;
      if (sp.before) await sp.before(i);
      log(`${row.name}: run ${i + 1}/${runs}: ${row.command}`);
      const r = await measure(sp.cmd, sp.args, { stdout: sp.stdout ?? 'ignore', timeoutMs: timeoutS * 1000, maxRssBytes: maxRssMB * MB, cwd: REPO_ROOT });
      if ((sp.cmd === process.execPath || sp.cmd === RDB_TOOL || sp.cmd === AOF_TOOL) && buildStamp() !== startStamp) {
        r.buildChanged = true;
        log('  note: packages/*/dist changed since the bench started (someone rebuilt): this figure may mix builds');
      }
      row.runs.push(r);
      log(`  -> ${r.status}, ${r.wallS?.toFixed(2)} s, peak RSS ${r.peakRssBytes ? fmtMB(r.peakRssBytes) + ' MB' : '?'}, load ${r.loadavgBefore.join('/')}`);
      if (!r.ok) {
        const msg = r.stderrTail?.trim().split('\n').slice(-3).join(' | ');
        if (msg) log(`     stderr: ${msg}`);
        continue;
      }
      if (sp.after) await sp.after(r, i);
    }
  }
  for (const sp of specs) {
    if (!sp.unavailable) finishRow(sp.row);
    results.push(sp.row);
  }
  return specs.map((sp) => sp.row);
}

async function benchRow(row, cmd, args, { stdout, unavailable, before, after, ...opts } = {}) {
  const [r] = await benchRows([{ row, cmd, args, stdout, unavailable, before, after }], opts);
  return r;
}

function finishRow(row) {
  const ok = row.runs.length > 0 && row.runs.every((r) => r.ok);
  const last = row.runs[row.runs.length - 1];
  row.status = ok ? 'ok' : last.status;
  if (ok) {
    row.wallS = median(row.runs.map((r) => r.wallS));
    row.peakRssBytes = Math.max(...row.runs.map((r) => r.peakRssBytes ?? 0)) || null;
    if (row.runs.every((r) => typeof r.cpuS === 'number')) row.cpuS = median(row.runs.map((r) => r.cpuS));
  } else {
    row.stderrTail = last.stderrTail;
  }
  row.loadavg = row.runs.map((r) => r.loadavgBefore);
  if (row.runs.some((r) => r.buildChanged)) row.note = [row.note, 'dist rebuilt during the bench: mixed builds'].filter(Boolean).join('; ');
}

/**
 * Ratios of `row` to the reference row and the target verdict. `rssBaseBytes`: the RSS ours is compared with,
 * when it is not the reference's peak (replay: redis-server's RSS holding the data). Targets: maxTimeRatio,
 * maxRssMB, maxRssRatio (peak RSS / that base).
 */
function compare(row, ref, target, { rssBaseBytes } = {}) {
  if (row.status === 'ok' && ref && ref.status === 'ok') {
    row.timeRatio = row.wallS / ref.wallS;
    const base = rssBaseBytes ?? ref.peakRssBytes;
    if (row.peakRssBytes && base) row.rssRatio = row.peakRssBytes / base;
    if (row.cpuS && ref.cpuS) row.cpuRatio = row.cpuS / ref.cpuS;
  }
  if (target) {
    row.target = target.text;
    if (row.status === 'ok') {
      const okTime = target.maxTimeRatio === undefined || (row.timeRatio !== undefined && row.timeRatio <= target.maxTimeRatio);
      const okRss =
        (target.maxRssMB === undefined || (row.peakRssBytes !== null && row.peakRssBytes < target.maxRssMB * MB)) &&
        (target.maxRssRatio === undefined || (row.rssRatio !== undefined && row.rssRatio <= target.maxRssRatio));
      row.targetMet = okTime && okRss;
      row.targetDetail = { time: okTime, rss: okRss };
    }
  }
}

// ---------------------------------------------------------------------------------------------- inputs
async function ensureAof(opts) {
  const target = Math.round(opts.aofMB * MB);
  const file = path.join(DATA_DIR, `bench-${opts.aofMB}mb.v${AOF_GENERATOR_VERSION}.aof`);
  const metaFile = file + '.meta.json';
  const meta = readJson(metaFile);
  if (!opts.regen && meta && meta.generator === AOF_GENERATOR_VERSION && meta.bytes === fileSize(file) && meta.verified) {
    log(`AOF input: ${path.relative(REPO_ROOT, file)} (${fmtMB(meta.bytes)} MB, cached)`);
    return { file, meta, cached: true };
  }
  fs.mkdirSync(DATA_DIR, { recursive: true });
  log(`generating AOF of ${opts.aofMB} MB -> ${path.relative(REPO_ROOT, file)}`);
  const partial = file + '.partial';
  partials.add(partial);
  const t0 = Date.now();
  const stats = await generateAof(partial, target, { onProgress: (b) => log(`  AOF ${fmtMB(b)} MB`) });
  const genS = (Date.now() - t0) / 1000;
  log(`  generated ${stats.commands} commands in ${genS.toFixed(1)} s; verifying with redis-check-aof`);
  const t1 = Date.now();
  const v = sh('redis-check-aof', [partial]);
  if (v.code !== 0 || !/is valid/.test(v.out)) {
    throw new Error(`generated AOF is not valid according to redis-check-aof (exit ${v.code}): ${v.out.trim()}`);
  }
  fs.renameSync(partial, file);
  partials.delete(partial);
  const m = { generator: AOF_GENERATOR_VERSION, targetBytes: target, ...stats, generateS: genS, verified: true, verifyS: (Date.now() - t1) / 1000, verifyOutput: v.out.trim().split('\n').pop() };
  writeJson(metaFile, m);
  return { file, meta: m, cached: false };
}

async function ensureRdb(opts) {
  const target = Math.round(opts.rdbMB * MB);
  const file = path.join(DATA_DIR, `bench-${opts.rdbMB}mb.v${RDB_GENERATOR_VERSION}.rdb`);
  const metaFile = file + '.meta.json';
  const meta = readJson(metaFile);
  if (!opts.regen && meta && meta.generator === RDB_GENERATOR_VERSION && meta.bytes === fileSize(file)) {
    log(`RDB input: ${path.relative(REPO_ROOT, file)} (${fmtMB(meta.bytes)} MB, ${meta.keys} keys, cached)`);
    return { file, meta, cached: true };
  }
  fs.mkdirSync(TMP_DIR, { recursive: true });
  log(`generating RDB of >= ${opts.rdbMB} MB with redis-server -> ${path.relative(REPO_ROOT, file)}`);
  const t0 = Date.now();
  const partial = file + '.partial';
  partials.add(partial);
  const dir = mkTemp('rdbgen-');
  let stats;
  try {
    stats = await generateRdb(partial, target, { dir, onProgress: (b) => log(`  RDB ~${fmtMB(b)} MB of data sent`) });
  } finally {
    rmTemp(dir);
  }
  fs.renameSync(partial, file);
  partials.delete(partial);
  const m = { generator: RDB_GENERATOR_VERSION, targetBytes: target, bytes: fileSize(file), ...stats, generateS: (Date.now() - t0) / 1000 };
  log(`  RDB: ${fmtMB(m.bytes)} MB, ${m.keys} keys, generated in ${m.generateS.toFixed(1)} s`);
  if (m.bytes < target) log(`  note: the RDB is smaller than the ${opts.rdbMB} MB asked for (estimate was off)`);
  writeJson(metaFile, m);
  return { file, meta: m, cached: false };
}

// ---------------------------------------------------------------------------------------------- suites
async function suiteAof(opts, inputs) {
  const { file, meta } = await ensureAof(opts);
  inputs.aof = { file: path.relative(REPO_ROOT, file), bytes: meta.bytes, commands: meta.commands, meta };
  warm(file);
  const avail = toolAvailable(AOF_TOOL, 'check');
  const [ref, ours] = await benchRows([
    { row: { suite: 'aof', name: 'redis-check-aof', kind: 'reference' }, cmd: 'redis-check-aof', args: [file], stdout: 'capture' },
    { row: { suite: 'aof', name: 'aof-tool check', kind: 'ours' }, cmd: AOF_TOOL, args: ['check', file], stdout: 'capture', unavailable: avail.ok ? undefined : avail.why },
  ], opts);
  for (const r of [ref, ours]) if (r.status === 'ok') r.mbPerS = meta.bytes / MB / r.wallS;
  compare(ours, ref, { text: '≤ 0.5× time, < 150 MB', maxTimeRatio: 0.5, maxRssMB: 150 });
}

async function suiteRdb(opts, inputs) {
  const { file, meta } = await ensureRdb(opts);
  inputs.rdb = { file: path.relative(REPO_ROOT, file), bytes: meta.bytes, keys: meta.keys, meta };
  warm(file);
  const check = toolAvailable(RDB_TOOL, 'check');
  const dump = toolAvailable(RDB_TOOL, 'dump');
  const order = dump.ok && /--order/.test(dump.help);
  // Our rows; with --cores N,M each is run under `taskset -c 0..N-1` per core count (the reference is
  // single-threaded and runs as it is): the rows then show what a second core gives (check's CRC thread, dump's
  // writer and sort threads).
  const ours = [
    ['rdb-tool check', ['check', file], 'capture', check],
    ['rdb-tool dump --format jsonl', ['dump', file, '--format', 'jsonl'], 'ignore', dump],
    ...(order ? [['rdb-tool dump --format jsonl --order file', ['dump', file, '--format', 'jsonl', '--order', 'file'], 'ignore', dump]] : []),
    ['rdb-tool dump --format resp', ['dump', file, '--format', 'resp'], 'ignore', dump],
    ...(order ? [['rdb-tool dump --format resp --order file', ['dump', file, '--format', 'resp', '--order', 'file'], 'ignore', dump]] : []),
  ];
  const specs = [{ row: { suite: 'rdb', name: 'redis-check-rdb', kind: 'reference' }, cmd: 'redis-check-rdb', args: [file], stdout: 'capture' }];
  for (const [name, args, stdout, avail] of ours) {
    if (opts.rows && !opts.rows.some((t) => name.includes(t))) continue;
    for (const n of opts.cores ?? [null]) {
      const spec = { row: { suite: 'rdb', name, kind: 'ours' }, cmd: RDB_TOOL, args, stdout, unavailable: avail.ok ? undefined : avail.why };
      if (n !== null) {
        spec.row.name = `${name} (${n} core${n > 1 ? 's' : ''})`;
        spec.row.cores = n;
        spec.cmd = 'taskset';
        spec.args = ['-c', n === 1 ? '0' : `0-${n - 1}`, RDB_TOOL, ...args];
      }
      specs.push(spec);
    }
  }
  const [ref, ...rows] = await benchRows(specs, opts);
  for (const r of rows) {
    if (r.name.startsWith('rdb-tool check')) compare(r, ref, { text: '≤ 0.5× time, < 100 MB', maxTimeRatio: 0.5, maxRssMB: 100 });
    else compare(r, ref, { text: '< 200 MB', maxRssMB: 200 });
  }
  for (const r of [ref, ...rows]) if (r.status === 'ok') {
    r.mbPerS = meta.bytes / MB / r.wallS;
    r.keysPerS = meta.keys / r.wallS;
  }
  // per core count: the speed-up of each of our commands from its first core count to the others
  if (opts.cores && opts.cores.length > 1) {
    for (let k = 0; k < rows.length; k += opts.cores.length) {
      const base = rows[k];
      for (let j = 1; j < opts.cores.length; j++) {
        const r = rows[k + j];
        if (base.status === 'ok' && r?.status === 'ok') r.note = [r.note, `${(base.wallS / r.wallS).toFixed(2)}× the speed of ${opts.cores[0]} core${opts.cores[0] > 1 ? 's' : ''}`].filter(Boolean).join('; ');
      }
    }
  }
}

// The analyses of the RDB input (rdb-tool memory, rdb-tool report): time against redis-check-rdb reading the same
// file, and peak RSS (no target yet: figures to watch).
async function suiteAnalysis(opts, inputs) {
  const { file, meta } = await ensureRdb(opts);
  inputs.rdb ??= { file: path.relative(REPO_ROOT, file), bytes: meta.bytes, keys: meta.keys, meta };
  warm(file);
  const memory = toolAvailable(RDB_TOOL, 'memory');
  const report = toolAvailable(RDB_TOOL, 'report');
  const [ref, m, r] = await benchRows([
    { row: { suite: 'analysis', name: 'redis-check-rdb', kind: 'reference' }, cmd: 'redis-check-rdb', args: [file], stdout: 'capture' },
    { row: { suite: 'analysis', name: 'rdb-tool memory --json', kind: 'ours' }, cmd: RDB_TOOL, args: ['memory', '--json', file], stdout: 'ignore', unavailable: memory.ok ? undefined : memory.why },
    { row: { suite: 'analysis', name: 'rdb-tool report --json', kind: 'ours' }, cmd: RDB_TOOL, args: ['report', '--json', file], stdout: 'ignore', unavailable: report.ok ? undefined : report.why },
  ], opts);
  for (const row of [m, r]) compare(row, ref, null);
  for (const row of [ref, m, r]) if (row.status === 'ok') {
    row.mbPerS = meta.bytes / MB / row.wallS;
    row.keysPerS = meta.keys / row.wallS;
  }
}

async function ensureStreamRdb(opts) {
  const n = opts.streamConsumers;
  const file = path.join(DATA_DIR, `bench-stream-${n}c.v${STREAM_RDB_GENERATOR_VERSION}.rdb`);
  const metaFile = file + '.meta.json';
  const meta = readJson(metaFile);
  if (!opts.regen && meta && meta.generator === STREAM_RDB_GENERATOR_VERSION && meta.bytes === fileSize(file)) {
    log(`stream RDB input: ${path.relative(REPO_ROOT, file)} (${fmtMB(meta.bytes)} MB, ${meta.consumers} consumers, cached)`);
    return { file, meta, cached: true };
  }
  fs.mkdirSync(TMP_DIR, { recursive: true });
  log(`generating an RDB of one stream with ${n} consumers with redis-server -> ${path.relative(REPO_ROOT, file)}`);
  const t0 = Date.now();
  const partial = file + '.partial';
  partials.add(partial);
  const dir = mkTemp('streamgen-');
  let stats;
  try {
    stats = await generateStreamRdb(partial, { consumers: n, dir, onProgress: (i) => log(`  ${i} consumers`) });
  } finally {
    rmTemp(dir);
  }
  fs.renameSync(partial, file);
  partials.delete(partial);
  const m = { generator: STREAM_RDB_GENERATOR_VERSION, bytes: fileSize(file), ...stats, generateS: (Date.now() - t0) / 1000 };
  log(`  stream RDB: ${fmtMB(m.bytes)} MB, generated in ${m.generateS.toFixed(1)} s`);
  writeJson(metaFile, m);
  return { file, meta: m, cached: false };
}

/**
 * One stream key whose group has a million consumers (and as many pending entries): what the parser and the dump
 * hold for a single huge stream (its entries, PEL and consumers are read and written in pieces, bounded memory).
 */
async function suiteStream(opts, inputs) {
  const { file, meta } = await ensureStreamRdb(opts);
  inputs.stream = { file: path.relative(REPO_ROOT, file), bytes: meta.bytes, consumers: meta.consumers, pending: meta.pending, entries: meta.entries };
  warm(file);
  const check = toolAvailable(RDB_TOOL, 'check');
  const dump = toolAvailable(RDB_TOOL, 'dump');
  const row = (name, args, avail) => ({ row: { suite: 'stream', name, kind: 'ours' }, cmd: RDB_TOOL, args: [...args], stdout: 'ignore', unavailable: avail.ok ? undefined : avail.why });
  const [ref, ...ours] = await benchRows([
    { row: { suite: 'stream', name: 'redis-check-rdb', kind: 'reference' }, cmd: 'redis-check-rdb', args: [file], stdout: 'capture' },
    row('rdb-tool check', ['check', file], check),
    row('rdb-tool dump --format jsonl', ['dump', file, '--format', 'jsonl'], dump),
    row('rdb-tool dump --format jsonl --order file', ['dump', file, '--format', 'jsonl', '--order', 'file'], dump),
    row('rdb-tool dump --format resp', ['dump', file, '--format', 'resp'], dump),
    row('rdb-tool dump --format resp --order file', ['dump', file, '--format', 'resp', '--order', 'file'], dump),
  ], opts);
  for (const r of ours) compare(r, ref, { text: '< 100 MB', maxRssMB: 100 });
  for (const r of [ref, ...ours]) if (r.status === 'ok') r.mbPerS = meta.bytes / MB / r.wallS;
}

/** Check a file we wrote with redis-check-rdb (not timed); returns a short verdict. */
function verifyRdb(file) {
  const v = sh('redis-check-rdb', [file], { timeout: 1800000 });
  const keys = /(\d+) keys read/.exec(v.out);
  return { valid: v.code === 0 && /RDB looks OK/.test(v.out), keys: keys ? Number(keys[1]) : null, tail: v.out.trim().split('\n').slice(-3).join(' | ') };
}

async function suiteWriter(opts, inputs) {
  const { file, meta } = await ensureRdb(opts);
  inputs.rdb = { file: path.relative(REPO_ROOT, file), bytes: meta.bytes, keys: meta.keys, meta };
  warm(file);

  // Yardstick: redis-server loads the RDB (spawn -> answers PING), then SAVE.
  const ys = { suite: 'writer', name: 'redis-server load + SAVE', kind: 'reference', command: 'redis-server (dir with the RDB) + SAVE', runs: [] };
  for (let i = 0; i < opts.runs; i++) {
    const dir = mkTemp('load-');
    let server;
    const run = { loadavgBefore: loadavg() };
    try {
      try {
        fs.linkSync(file, path.join(dir, 'dump.rdb'));
      } catch {
        fs.copyFileSync(file, path.join(dir, 'dump.rdb'));
      }
      log(`${ys.name}: run ${i + 1}/${opts.runs}`);
      server = await startRedis({ dir, readyTimeoutMs: opts.timeoutS * 1000 });
      run.loadS = server.readyS;
      const m = /DB loaded from disk: ([\d.]+) seconds/.exec(redisLog(server));
      if (m) run.loadLoggedS = Number(m[1]);
      const t0 = process.hrtime.bigint();
      const r = await server.client.call('SAVE');
      run.saveS = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r !== 'OK') throw new Error(`SAVE replied ${JSON.stringify(r)}`);
      run.peakRssBytes = readPeakRss(server.proc.pid);
      run.cpuS = readCpuS(server.proc.pid);
      run.wallS = run.loadS + run.saveS;
      run.outBytes = fileSize(path.join(dir, 'dump.rdb'));
      run.ok = true;
      run.status = 'ok';
      log(`  -> load ${run.loadS.toFixed(2)} s (log: ${run.loadLoggedS ?? '?'} s), SAVE ${run.saveS.toFixed(2)} s, peak RSS ${fmtMB(run.peakRssBytes)} MB`);
    } catch (err) {
      run.ok = false;
      run.status = `failed (${err.message})`;
      log(`  -> ${run.status}`);
    } finally {
      if (server) await stopRedis(server);
      rmTemp(dir);
    }
    run.loadavgAfter = loadavg();
    ys.runs.push(run);
    if (!run.ok) break;
  }
  finishRow(ys);
  if (ys.status === 'ok') {
    ys.loadS = median(ys.runs.map((r) => r.loadS));
    ys.saveS = median(ys.runs.map((r) => r.saveS));
    ys.keysPerS = meta.keys / ys.wallS;
    ys.mbPerS = meta.bytes / MB / ys.wallS;
    ys.note = `load ${ys.loadS.toFixed(2)} s + SAVE ${ys.saveS.toFixed(2)} s`;
  }
  results.push(ys);

  const dump = toolAvailable(RDB_TOOL, 'dump');
  const convert = toolAvailable(RDB_TOOL, 'convert');

  // The JSONL input: made by rdb-tool dump of the generated RDB (cached while the build does not change).
  const jsonl = file.replace(/\.rdb$/, '.jsonl');
  const jsonlMeta = readJson(jsonl + '.meta.json');
  let jsonlWhy;
  const commit = sh('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']).out.trim();
  if (!dump.ok) jsonlWhy = 'not available (no JSONL input: needs rdb-tool dump)';
  else if (!(jsonlMeta && jsonlMeta.rdbBytes === meta.bytes && jsonlMeta.bytes === fileSize(jsonl)) || opts.regen) {
    log(`making the JSONL input with rdb-tool dump -> ${path.relative(REPO_ROOT, jsonl)}`);
    partials.add(jsonl + '.partial');
    // Importers accept any order: file order (when supported) spares the canonical sort.
    const order = /--order/.test(dump.help) ? ['--order', 'file'] : [];
    const r = await measure(RDB_TOOL, ['dump', file, '--format', 'jsonl', ...order], { stdout: jsonl + '.partial', timeoutMs: opts.timeoutS * 1000, maxRssBytes: opts.maxRssMB * MB, cwd: REPO_ROOT });
    if (!r.ok) {
      jsonlWhy = `not available (no JSONL input: rdb-tool dump ${r.status})`;
      log(`  rdb-tool dump ${r.status}: ${r.stderrTail?.trim().split('\n').slice(-3).join(' | ')}`);
      fs.rmSync(jsonl + '.partial', { force: true });
    } else {
      fs.renameSync(jsonl + '.partial', jsonl);
      partials.delete(jsonl + '.partial');
      writeJson(jsonl + '.meta.json', { commit, rdbBytes: meta.bytes, bytes: fileSize(jsonl), dumpS: r.wallS, dumpPeakRssBytes: r.peakRssBytes, order: order.length ? 'file' : 'canonical' });
      log(`  JSONL: ${fmtMB(fileSize(jsonl))} MB in ${r.wallS.toFixed(1)} s`);
    }
  }
  if (!jsonlWhy) inputs.jsonl = { file: path.relative(REPO_ROOT, jsonl), bytes: fileSize(jsonl), ...readJson(jsonl + '.meta.json') };

  const outDir = mkTemp('convert-');
  const convertRow = async (name, input, extra) => {
    const out = path.join(outDir, 'out.rdb');
    const why = !convert.ok ? convert.why : input === jsonl ? jsonlWhy : undefined;
    if (!why) warm(input);
    let args = ['convert', input, out, ...extra];
    const keep = path.join(outDir, 'verify.rdb');
    const after = (r, i) => {
      r.outBytes = fileSize(out);
      // keep the last run's output for the (untimed) check with redis-check-rdb
      if (i === opts.runs - 1 && fs.existsSync(out)) fs.renameSync(out, keep);
      else fs.rmSync(out, { force: true });
    };
    let row = { suite: 'writer', name, kind: 'ours' };
    await benchRow(row, RDB_TOOL, args, { ...opts, stdout: 'capture', unavailable: why, after });
    // A refusal to drop data the target version cannot hold (stream metadata, functions before RDB 10) is
    // the documented behaviour: measure again with the explicit flag, and say so.
    if (row.status !== 'ok' && row.runs?.length && /--drop-unsupported/.test(row.stderrTail ?? '')) {
      log(`${name}: refused without --drop-unsupported; measuring again with it`);
      row.note = 'refused without --drop-unsupported (see next row)';
      args = [...args, '--drop-unsupported'];
      row = { suite: 'writer', name: `${name} --drop-unsupported`, kind: 'ours' };
      await benchRow(row, RDB_TOOL, args, { ...opts, stdout: 'capture', after });
    }
    if (row.status === 'ok') {
      row.outBytes = row.runs[row.runs.length - 1].outBytes;
      row.keysPerS = meta.keys / row.wallS;
      row.mbPerS = row.outBytes / MB / row.wallS;
      row.inMbPerS = fileSize(input) / MB / row.wallS;
      if (fs.existsSync(keep)) {
        log(`  checking the output (${fmtMB(fileSize(keep))} MB) with redis-check-rdb (not timed)`);
        const v = verifyRdb(keep);
        row.outputCheck = v;
        const keysNote = v.keys !== null ? `, ${v.keys}/${meta.keys} keys` : '';
        row.note = [row.note, `out ${fmtMB(row.outBytes)} MB, ${v.valid ? 'valid' : 'INVALID'} per redis-check-rdb${keysNote}`].filter(Boolean).join('; ');
        if (!opts.keep) fs.rmSync(keep, { force: true });
      }
    }
    fs.rmSync(out, { force: true });
    compare(row, ys);
    return row;
  };
  await convertRow('rdb-tool convert JSONL → RDB', jsonl, []);
  await convertRow('rdb-tool convert RDB → RDB v9', file, ['--rdb-version', '9']);
  if (!opts.keep) rmTemp(outDir);
  if (opts.hugeList > 0) await hugeKeyRows(opts, inputs);
}

async function ensureHugeRdb(opts) {
  const name = `bench-huge-${opts.hugeList}l-${opts.hugeHash}h-${opts.hugeStringMB}mb.v${HUGE_RDB_GENERATOR_VERSION}.rdb`;
  const file = path.join(DATA_DIR, name);
  const metaFile = file + '.meta.json';
  const meta = readJson(metaFile);
  if (!opts.regen && meta && meta.generator === HUGE_RDB_GENERATOR_VERSION && meta.bytes === fileSize(file)) {
    log(`huge-key RDB input: ${path.relative(REPO_ROOT, file)} (${fmtMB(meta.bytes)} MB, cached)`);
    return { file, meta };
  }
  fs.mkdirSync(TMP_DIR, { recursive: true });
  log(`generating an RDB of huge keys with redis-server -> ${path.relative(REPO_ROOT, file)}`);
  const t0 = Date.now();
  const partial = file + '.partial';
  partials.add(partial);
  const dir = mkTemp('hugegen-');
  let stats;
  try {
    stats = await generateHugeRdb(partial, { listElements: opts.hugeList, hashFields: opts.hugeHash, stringBytes: Math.round(opts.hugeStringMB * MB), dir, onProgress: (p) => log(`  ${p}`) });
  } finally {
    rmTemp(dir);
  }
  fs.renameSync(partial, file);
  partials.delete(partial);
  const m = { generator: HUGE_RDB_GENERATOR_VERSION, bytes: fileSize(file), ...stats, generateS: (Date.now() - t0) / 1000 };
  log(`  huge-key RDB: ${fmtMB(m.bytes)} MB, generated in ${m.generateS.toFixed(1)} s`);
  writeJson(metaFile, m);
  return { file, meta: m };
}

/**
 * One list of 20M elements, one hash of 5M fields, one string of 500 MB (written by redis-server): the peak RSS of
 * each conversion whatever the largest key (issue 16: <= 150 MiB; values stream into the writer in pieces).
 */
async function hugeKeyRows(opts, inputs) {
  const { file, meta } = await ensureHugeRdb(opts);
  inputs.huge = { file: path.relative(REPO_ROOT, file), bytes: meta.bytes, listElements: meta.listElements, hashFields: meta.hashFields, stringBytes: meta.stringBytes };
  warm(file);
  const outDir = mkTemp('huge-');
  const convert = toolAvailable(RDB_TOOL, 'convert');
  const toAof = toolAvailable(RDB_TOOL, 'to-aof');
  const dump = toolAvailable(RDB_TOOL, 'dump');
  const out = (n) => path.join(outDir, n);
  const clean = () => {
    for (const n of fs.readdirSync(outDir)) fs.rmSync(path.join(outDir, n), { recursive: true, force: true });
  };
  const row = (name, args, avail, stdout = 'capture') => ({
    row: { suite: 'writer', name: `huge keys: ${name}`, kind: 'ours' },
    cmd: RDB_TOOL,
    args,
    stdout,
    unavailable: avail.ok ? undefined : avail.why,
    after: clean,
  });
  const rows = await benchRows([
    row('convert RDB → RDB', ['convert', file, out('a.rdb')], convert),
    row('convert RDB → RDB v9', ['convert', file, out('b.rdb'), '--rdb-version', '9'], convert),
    row('to-aof', ['to-aof', file, out('c.aof')], toAof),
    row('convert RDB → AOF (canonical RESP)', ['convert', file, out('d.aof')], convert),
    row('convert RDB → JSONL', ['convert', file, out('e.jsonl')], convert),
    row('dump --format jsonl --order file', ['dump', file, '--format', 'jsonl', '--order', 'file'], dump, 'ignore'),
    row('dump --format resp --order file', ['dump', file, '--format', 'resp', '--order', 'file'], dump, 'ignore'),
  ], opts);
  for (const r of rows) {
    compare(r, null, { text: '< 150 MiB', maxRssMB: 150 });
    r.note = [r.note, `RDB ${fmtMB(meta.bytes)} MB: list ${meta.listElements}, hash ${meta.hashFields}, string ${fmtMB(meta.stringBytes)} MB`].filter(Boolean).join('; ');
  }
  if (!opts.keep) rmTemp(outDir);
}

// ---------------------------------------------------------------------------------------------- replay suite
// redis-server options for the AOF runs: load the generated multi-part AOF directory, rewrite only when asked.
const REDIS_AOF_ARGS = [
  '--appendonly', 'yes', '--appenddirname', REPLAY_AOF_DIRNAME, '--aof-use-rdb-preamble', 'yes',
  '--auto-aof-rewrite-percentage', '0', '--enable-debug-command', 'local',
];

/** Copy an AOF directory (fsynced, so no dirty pages of the copy are written back during a measurement). */
function copyAofDir(src, dst) {
  fs.rmSync(dst, { recursive: true, force: true });
  fs.mkdirSync(dst, { recursive: true });
  for (const name of fs.readdirSync(src)) {
    fs.copyFileSync(path.join(src, name), path.join(dst, name));
    const fd = fs.openSync(path.join(dst, name), 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
}

function dirBytes(dir) {
  let n = 0;
  for (const name of fs.readdirSync(dir)) n += Math.max(0, fileSize(path.join(dir, name)));
  return n;
}

/** INFO <section> of a live server as { field: value }. */
async function info(server, section) {
  const text = await server.client.call('INFO', section);
  if (typeof text !== 'string') throw new Error(`INFO ${section} replied ${JSON.stringify(text)}`);
  const o = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) o[line.slice(0, i)] = line.slice(i + 1);
  }
  return o;
}

/** Keys per db (INFO keyspace) and the server's whole-dataset digest (DEBUG DIGEST: encoding-independent). */
async function keyspaceOf(server, { digest = true } = {}) {
  const ks = await info(server, 'keyspace');
  const perDb = {};
  let keys = 0;
  let expires = 0;
  for (const [db, v] of Object.entries(ks)) {
    const m = /keys=(\d+),expires=(\d+)/.exec(v);
    if (!/^db\d+$/.test(db) || !m) continue;
    perDb[db] = Number(m[1]);
    keys += Number(m[1]);
    expires += Number(m[2]);
  }
  const r = { keys, expires, perDb };
  if (digest) {
    const d = await server.client.call('DEBUG', 'DIGEST');
    r.digest = typeof d === 'string' ? d : `error: ${JSON.stringify(d)}`;
  }
  return r;
}

const sameKeys = (a, b) => JSON.stringify(a.perDb) === JSON.stringify(b.perDb);
const digestUsable = (k) => typeof k.digest === 'string' && /^[0-9a-f]{40}$/.test(k.digest);

async function ensureReplay(opts) {
  const target = Math.round(opts.replayMB * MB);
  const dir = path.join(DATA_DIR, `bench-${opts.replayMB}mb.v${REPLAY_GENERATOR_VERSION}.replay`);
  const aofDir = path.join(dir, REPLAY_AOF_DIRNAME);
  const incr = path.join(aofDir, REPLAY_INCR_FILE);
  const metaFile = dir + '.meta.json';
  const meta = readJson(metaFile);
  const complete = meta && meta.bytes === fileSize(incr) && fs.existsSync(path.join(aofDir, `${REPLAY_AOF_BASENAME}.manifest`));
  if (!opts.regen && complete && meta.generator === REPLAY_GENERATOR_VERSION && meta.verified) {
    log(`replay input: ${path.relative(REPO_ROOT, aofDir)} (${fmtMB(meta.bytes)} MB, ${meta.keys} keys, cached)`);
    return { dir, aofDir, meta };
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(metaFile, { force: true });
  const partial = dir + '.partial';
  fs.rmSync(partial, { recursive: true, force: true });
  partials.add(partial);
  fs.mkdirSync(partial, { recursive: true });
  log(`generating a multi-part AOF of ${opts.replayMB} MB -> ${path.relative(REPO_ROOT, aofDir)}`);
  const t0 = Date.now();
  const stats = await generateReplayAof(partial, target, { onProgress: (b) => log(`  AOF ${fmtMB(b)} MB`) });
  const genS = (Date.now() - t0) / 1000;
  log(`  generated ${stats.commands} commands in ${genS.toFixed(1)} s; verifying with redis-check-aof and redis-server`);
  const v = sh('redis-check-aof', [path.join(partial, REPLAY_AOF_DIRNAME, REPLAY_INCR_FILE)]);
  if (v.code !== 0 || !/is valid/.test(v.out)) {
    throw new Error(`generated AOF is not valid according to redis-check-aof (exit ${v.code}): ${v.out.trim()}`);
  }
  // redis-server must load it (on a copy: a server with appendonly yes opens the incr file for appending).
  const tmp = mkTemp('replay-gen-');
  let server;
  let loaded;
  try {
    copyAofDir(path.join(partial, REPLAY_AOF_DIRNAME), path.join(tmp, REPLAY_AOF_DIRNAME));
    server = await startRedis({ dir: tmp, extra: REDIS_AOF_ARGS, readyTimeoutMs: opts.timeoutS * 1000 });
    loaded = await keyspaceOf(server, { digest: false });
    loaded.loadS = server.readyS;
    loaded.usedMemoryRss = Number((await info(server, 'memory')).used_memory_rss);
    const logText = redisLog(server);
    if (!/DB loaded from append only file/.test(logText)) throw new Error(`redis-server did not report loading the AOF: ${logText}`);
  } finally {
    if (server) await stopRedis(server);
    rmTemp(tmp);
  }
  if (!loaded.keys) throw new Error('redis-server loaded no keys from the generated AOF');
  fs.renameSync(partial, dir);
  partials.delete(partial);
  const m = {
    generator: REPLAY_GENERATOR_VERSION, targetBytes: target, ...stats, generateS: genS, verified: true,
    verifyOutput: v.out.trim().split('\n').pop(), keys: loaded.keys, expires: loaded.expires, keysPerDb: loaded.perDb,
    redisLoadS: loaded.loadS, redisUsedMemoryRss: loaded.usedMemoryRss,
  };
  log(`  valid; redis-server loads ${m.keys} keys (${JSON.stringify(m.keysPerDb)}) in ${m.redisLoadS.toFixed(1)} s, RSS ${fmtMB(m.redisUsedMemoryRss)} MB`);
  writeJson(metaFile, m);
  return { dir, aofDir, meta: m };
}

async function suiteReplay(opts, inputs) {
  const { aofDir, meta } = await ensureReplay(opts);
  inputs.replay = { dir: path.relative(REPO_ROOT, aofDir), bytes: meta.bytes, commands: meta.commands, keys: meta.keys, meta };
  warm(path.join(aofDir, REPLAY_INCR_FILE));
  const inMB = meta.bytes / MB;

  // Yardstick: redis-server loads the AOF dir (spawn -> answers PING), then BGREWRITEAOF until it is done.
  const ref = { suite: 'replay', name: 'redis-server load + BGREWRITEAOF', kind: 'reference', command: `redis-server ${REDIS_AOF_ARGS.join(' ')} (copy of the dir) + BGREWRITEAOF`, runs: [] };
  let refKeyspace = null;
  for (let i = 0; i < opts.runs; i++) {
    const dir = mkTemp('replay-ref-');
    let server;
    const run = { loadavgBefore: loadavg() };
    try {
      copyAofDir(aofDir, path.join(dir, REPLAY_AOF_DIRNAME));
      log(`${ref.name}: run ${i + 1}/${opts.runs}`);
      server = await startRedis({ dir, extra: REDIS_AOF_ARGS, readyTimeoutMs: opts.timeoutS * 1000 });
      run.loadS = server.readyS;
      const m = /DB loaded from append only file: ([\d.]+) seconds/.exec(redisLog(server));
      if (m) run.loadLoggedS = Number(m[1]);
      run.rssAfterLoadBytes = Number((await info(server, 'memory')).used_memory_rss);
      const before = await info(server, 'persistence');
      if (before.aof_rewrite_in_progress !== '0' || before.aof_rewrite_scheduled !== '0') {
        run.oddity = 'a rewrite was already under way after loading';
        log(`  note: ${run.oddity}`);
      }
      const t0 = process.hrtime.bigint();
      const r = await server.client.call('BGREWRITEAOF');
      if (typeof r !== 'string' || !/rewriting (started|scheduled)/i.test(r)) throw new Error(`BGREWRITEAOF replied ${JSON.stringify(r)}`);
      const deadline = Date.now() + opts.timeoutS * 1000;
      let p;
      for (;;) {
        p = await info(server, 'persistence');
        if (p.aof_rewrite_in_progress === '0' && p.aof_rewrite_scheduled === '0') break;
        if (Date.now() > deadline) throw new Error(`BGREWRITEAOF not done after ${opts.timeoutS} s`);
        await new Promise((res) => setTimeout(res, 20));
      }
      run.rewriteS = Number(process.hrtime.bigint() - t0) / 1e9;
      if (p.aof_last_bgrewrite_status !== 'ok') throw new Error(`BGREWRITEAOF failed (aof_last_bgrewrite_status:${p.aof_last_bgrewrite_status}): ${redisLog(server).slice(-400)}`);
      run.peakRssBytes = readPeakRss(server.proc.pid);
      run.cpuS = readCpuS(server.proc.pid, { withChildren: true }); // + the rewrite child's CPU
      run.wallS = run.loadS + run.rewriteS;
      run.outBytes = dirBytes(path.join(dir, REPLAY_AOF_DIRNAME));
      run.ok = true;
      run.status = 'ok';
      log(`  -> load ${run.loadS.toFixed(2)} s (log: ${run.loadLoggedS ?? '?'} s), BGREWRITEAOF ${run.rewriteS.toFixed(2)} s, RSS after load ${fmtMB(run.rssAfterLoadBytes)} MB, peak RSS ${fmtMB(run.peakRssBytes)} MB`);
      if (i === opts.runs - 1) {
        refKeyspace = await keyspaceOf(server); // not timed
        log(`  ${refKeyspace.keys} keys ${JSON.stringify(refKeyspace.perDb)}, digest ${refKeyspace.digest}`);
      }
    } catch (err) {
      run.ok = false;
      run.status = `failed (${err.message})`;
      log(`  -> ${run.status}`);
    } finally {
      if (server) await stopRedis(server);
      rmTemp(dir);
    }
    run.loadavgAfter = loadavg();
    ref.runs.push(run);
    if (!run.ok) break;
  }
  finishRow(ref);
  let rssBase;
  if (ref.status === 'ok') {
    ref.loadS = median(ref.runs.map((r) => r.loadS));
    ref.rewriteS = median(ref.runs.map((r) => r.rewriteS));
    ref.rssAfterLoadBytes = rssBase = median(ref.runs.map((r) => r.rssAfterLoadBytes));
    ref.rssRatio = ref.peakRssBytes / rssBase; // every RSS ratio of the suite is against the RSS holding the data
    ref.keyspace = refKeyspace;
    ref.mbPerS = inMB / ref.wallS;
    ref.keysPerS = refKeyspace.keys / ref.wallS;
    ref.note = `load ${ref.loadS.toFixed(2)} s + BGREWRITEAOF ${ref.rewriteS.toFixed(2)} s; RSS after load (used_memory_rss) ${fmtMB(rssBase)} MB; ${refKeyspace.keys} keys`;
    const odd = ref.runs.find((r) => r.oddity);
    if (odd) ref.note += `; ${odd.oddity}`;
  }
  results.push(ref);

  const rewrite = toolAvailable(AOF_TOOL, 'rewrite');
  const toRdb = toolAvailable(AOF_TOOL, 'to-rdb');
  const work = mkTemp('replay-ours-');
  const rwDir = path.join(work, 'rewrite', REPLAY_AOF_DIRNAME);
  const rdbIn = path.join(work, 'to-rdb', REPLAY_AOF_DIRNAME);
  const rdbOut = path.join(work, 'out.rdb');
  const keptDir = path.join(work, 'rewritten', REPLAY_AOF_DIRNAME);
  const keptRdb = path.join(work, 'verify.rdb');
  const target = { text: 'peak RSS ≤ 3× redis-server RSS', maxRssRatio: 3 };
  const [rw, tr] = await benchRows([
    {
      row: { suite: 'replay', name: 'aof-tool rewrite', kind: 'ours' },
      cmd: AOF_TOOL, args: ['rewrite', '--no-backup', '--json', rwDir], stdout: 'capture',
      unavailable: rewrite.ok ? undefined : rewrite.why,
      before: () => copyAofDir(aofDir, rwDir), // the rewrite replaces the dir's files: a fresh copy each run
      after: (r, i) => {
        r.outBytes = dirBytes(rwDir);
        if (i === opts.runs - 1) {
          fs.mkdirSync(path.dirname(keptDir), { recursive: true });
          fs.renameSync(rwDir, keptDir);
        }
      },
    },
    {
      row: { suite: 'replay', name: 'aof-tool to-rdb', kind: 'ours' },
      cmd: AOF_TOOL, args: ['to-rdb', rdbIn, rdbOut], stdout: 'capture',
      unavailable: toRdb.ok ? undefined : toRdb.why,
      before: (i) => {
        if (i === 0) copyAofDir(aofDir, rdbIn); // read only, but never the cached input itself
        fs.rmSync(rdbOut, { force: true });
      },
      after: (r, i) => {
        r.outBytes = fileSize(rdbOut);
        if (i === opts.runs - 1) fs.renameSync(rdbOut, keptRdb);
      },
    },
  ], opts);
  for (const row of [rw, tr]) {
    compare(row, ref, target, { rssBaseBytes: rssBase });
    if (row.status !== 'ok') continue;
    row.outBytes = row.runs[row.runs.length - 1].outBytes;
    row.mbPerS = inMB / row.wallS;
    if (refKeyspace) row.keysPerS = refKeyspace.keys / row.wallS;
  }

  // Verification (not timed): what redis-server loads from our outputs is what it loaded from the AOF.
  const verdict = (got, what) => {
    if (!refKeyspace) return `${got.keys} keys (no reference to compare)`;
    const keys = `${got.keys}/${refKeyspace.keys} keys${sameKeys(got, refKeyspace) ? '' : ` (per db ${JSON.stringify(got.perDb)} vs ${JSON.stringify(refKeyspace.perDb)}: MISMATCH)`}`;
    const digest = !digestUsable(refKeyspace) || !digestUsable(got) ? `DEBUG DIGEST not available (${String(digestUsable(got) ? refKeyspace.digest : got.digest).slice(0, 80)})` : got.digest === refKeyspace.digest ? 'same DEBUG DIGEST' : `DEBUG DIGEST DIFFERS (${got.digest} vs ${refKeyspace.digest})`;
    return `${what}: ${keys}, ${digest}`;
  };
  const loadAndCompare = async (dir, extra, what) => {
    let server;
    try {
      server = await startRedis({ dir, extra, readyTimeoutMs: opts.timeoutS * 1000 });
      const got = await keyspaceOf(server);
      got.loadS = server.readyS;
      const ok = !!refKeyspace && sameKeys(got, refKeyspace) && (!digestUsable(refKeyspace) || got.digest === refKeyspace.digest);
      return { ...got, ok, text: verdict(got, what) };
    } catch (err) {
      return { ok: false, text: `${what}: FAILED (${err.message.slice(0, 300)})` };
    } finally {
      if (server) await stopRedis(server);
    }
  };
  if (rw.status === 'ok' && fs.existsSync(keptDir)) {
    log(`  checking the rewritten dir (${fmtMB(dirBytes(keptDir))} MB) with redis-check-aof and redis-server (not timed)`);
    const files = fs.readdirSync(keptDir).sort();
    const manifest = files.find((f) => f.endsWith('.manifest'));
    const parts = [];
    let report = null;
    try {
      report = JSON.parse(rw.runs[rw.runs.length - 1].stdoutTail);
    } catch {
      /* not JSON: leave it */
    }
    if (report && typeof report.keys === 'number') rw.reportedKeys = report.keys;
    const base = manifest ? /^file (\S+) seq \d+ type b$/m.exec(fs.readFileSync(path.join(keptDir, manifest), 'latin1'))?.[1] : undefined;
    parts.push(`out ${fmtMB(rw.outBytes)} MB${base ? ` (base ${base})` : ''}`);
    if (manifest) {
      const c = sh('redis-check-aof', [path.join(keptDir, manifest)], { timeout: 1800000 });
      const valid = c.code === 0 && /is valid/.test(c.out);
      parts.push(`${valid ? 'valid' : 'INVALID'} per redis-check-aof`);
      rw.outputCheck = { valid, tail: c.out.trim().split('\n').slice(-2).join(' | ') };
    } else parts.push('NO MANIFEST');
    const v = await loadAndCompare(path.dirname(keptDir), REDIS_AOF_ARGS, 'redis-server loads');
    parts.push(v.text);
    if (rw.reportedKeys !== undefined && refKeyspace && rw.reportedKeys !== refKeyspace.keys) parts.push(`its report says ${rw.reportedKeys} keys`);
    rw.verified = v.ok;
    rw.verify = v;
    rw.note = [rw.note, parts.join(', ')].filter(Boolean).join('; ');
  }
  if (tr.status === 'ok' && fs.existsSync(keptRdb)) {
    log(`  checking the RDB (${fmtMB(fileSize(keptRdb))} MB) with redis-check-rdb and redis-server (not timed)`);
    const c = verifyRdb(keptRdb);
    tr.outputCheck = c;
    const keysNote = c.keys !== null ? `, ${c.keys}/${refKeyspace?.keys ?? '?'} keys` : '';
    const v = await loadAndCompare(work, ['--dbfilename', path.basename(keptRdb), '--enable-debug-command', 'local'], 'redis-server loads');
    tr.verified = c.valid && v.ok;
    tr.verify = v;
    tr.note = [tr.note, `out ${fmtMB(tr.outBytes)} MB, ${c.valid ? 'valid' : 'INVALID'} per redis-check-rdb${keysNote}, ${v.text}`].filter(Boolean).join('; ');
  }
  if (!opts.keep) rmTemp(work);
  else log(`  outputs kept in ${path.relative(REPO_ROOT, work)}`);
}

/** bench/micro.mjs: MB/s of the CRC64 and LZF implementations (printed, not in the results table). */
async function suiteMicro() {
  log('micro: node bench/micro.mjs');
  const r = spawnSync(process.execPath, [path.join(BENCH_DIR, 'micro.mjs')], { stdio: 'inherit', cwd: REPO_ROOT });
  if (r.status !== 0) throw new Error(`bench/micro.mjs exited ${r.status}`);
}

// ---------------------------------------------------------------------------------------------- report
function fmtRow(r) {
  const ok = r.status === 'ok';
  const x = (v) => (v === undefined ? '' : `${v.toFixed(2)}×`);
  const thr = [];
  if (ok && r.keysPerS) thr.push(`${Math.round(r.keysPerS / 1000)}k keys/s`);
  if (ok && r.mbPerS) thr.push(`${r.mbPerS.toFixed(0)} MB/s`);
  return {
    suite: r.suite,
    tool: r.name,
    status: r.status,
    n: String(r.runs?.length ?? 0),
    wall: ok ? r.wallS.toFixed(2) : '—',
    cpu: ok && r.cpuS !== undefined ? r.cpuS.toFixed(2) : '—',
    cRatio: ok ? x(r.cpuRatio) || (r.kind === 'reference' && r.cpuS !== undefined ? '1.00× (ref)' : '') : '',
    rss: ok && r.peakRssBytes ? fmtMB(r.peakRssBytes) : '—',
    tRatio: ok ? x(r.timeRatio) || (r.kind === 'reference' ? '1.00× (ref)' : '') : '',
    mRatio: ok ? x(r.rssRatio) || (r.kind === 'reference' ? '1.00× (ref)' : '') : '',
    thr: thr.join(', '),
    target: r.target ? `${r.target}${r.targetMet === undefined ? '' : r.targetMet ? ' ✔' : ' ✘'}` : '',
    note: [r.earlier ? `earlier run ${r.date}` : '', r.note ?? ''].filter(Boolean).join('; '),
    load: (r.loadavg ?? []).map((l) => l[0]).join('/'),
  };
}

const COLS = [
  ['tool', 'tool'], ['status', 'status'], ['n', 'runs'], ['wall', 'wall s'], ['tRatio', 'time vs ref'], ['cpu', 'CPU s'], ['cRatio', 'CPU vs ref'], ['rss', 'peak RSS MB'],
  ['mRatio', 'RSS vs ref'], ['thr', 'throughput'], ['target', 'target'], ['load', 'load1'], ['note', 'note'],
];

function textTable(rows) {
  const cells = rows.map(fmtRow);
  const w = COLS.map(([k, h]) => Math.max(h.length, ...cells.map((c) => c[k].length)));
  const line = (vals) => vals.map((v, i) => v.padEnd(w[i])).join('  ').trimEnd();
  const out = [line(COLS.map(([, h]) => h)), line(w.map((n) => '-'.repeat(n)))];
  let suite = null;
  for (const c of cells) {
    if (c.suite !== suite) {
      suite = c.suite;
      out.push(`[${suite}]`);
    }
    out.push(line(COLS.map(([k]) => c[k])));
  }
  return out.join('\n');
}

function mdTable(rows, env, inputs) {
  const cells = rows.map(fmtRow);
  const head = ['input', ...COLS.map(([, h]) => h)];
  const esc = (s) => s.replace(/\|/g, '\\|');
  const out = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  const inputName = (s) =>
    s === 'aof' && inputs.aof ? `AOF ${fmtMB(inputs.aof.bytes)} MB` :
    (s === 'rdb' || s === 'writer' || s === 'analysis') && inputs.rdb ? `RDB ${fmtMB(inputs.rdb.bytes)} MB, ${(inputs.rdb.keys / 1e6).toFixed(2)}M keys` :
    s === 'stream' && inputs.stream ? `RDB ${fmtMB(inputs.stream.bytes)} MB, 1 stream, ${(inputs.stream.consumers / 1e6).toFixed(2)}M consumers` :
    s === 'replay' && inputs.replay ? `AOF dir ${fmtMB(inputs.replay.bytes)} MB, ${(inputs.replay.keys / 1e6).toFixed(2)}M keys` : s;
  for (const c of cells) out.push(`| ${[inputName(c.suite), ...COLS.map(([k]) => c[k])].map(esc).join(' | ')} |`);
  const lines = [
    `Benchmark (\`pnpm bench\`), ${env.date}: ${env.cpus}× ${env.cpuModel}, ${env.memGB} GB RAM, Node ${env.node}, ${env.redis}, commit ${env.commit}${env.dirty ? ' (uncommitted changes)' : ''}.`,
    `Load average at start ${env.loadavgStart.join(' / ')} (1/5/15 min; the machine is shared with other work: read the figures with care; \`load1\` is the 1-minute load average before each run). Wall time is the median of the row's runs (CPU s: user+system, sampled from /proc, less sensitive to load), peak RSS the highest VmHWM seen (sampled every 20 ms). MB = 2^20 bytes.`,
    '',
    ...out,
    '',
  ];
  if (inputs.aof) lines.push(`- AOF: ${fmtMB(inputs.aof.bytes)} MB, ${inputs.aof.commands} commands of generated write traffic (all types, 4 dbs, MULTI/EXEC, PEXPIREAT, FLUSHALL, values up to 2 MB), valid per redis-check-aof.`);
  if (inputs.rdb) lines.push(`- RDB: ${fmtMB(inputs.rdb.bytes)} MB written by redis-server 7.0.15 (RDB 10), ${inputs.rdb.keys} keys in 4 dbs (all types incl. streams with groups, a function library; ${hugeText(inputs.rdb.meta)}).`);
  if (inputs.stream) lines.push(`- Stream RDB: ${fmtMB(inputs.stream.bytes)} MB written by redis-server 7.0.15 (RDB 10): one stream key of ${inputs.stream.entries} entries, a group of ${inputs.stream.consumers} consumers (one XREADGROUP each, every 8th taking 3 entries: ${inputs.stream.pending} pending entries) and an empty group.`);
  if (inputs.replay) {
    const m = inputs.replay.meta ?? {};
    lines.push(`- AOF dir (replay): a manifest + one incr file of ${fmtMB(inputs.replay.bytes)} MB, ${inputs.replay.commands} commands of generated write traffic whose data mostly survives (all types, ${m.dbs ?? '?'} dbs, ${m.bigCollections ?? 'a few'} big collections, MULTI/EXEC, PEXPIREAT far ahead, no FLUSHALL), valid per redis-check-aof; redis-server 7.0.15 loads ${inputs.replay.keys} keys from it. The replay rows' \`RSS vs ref\` is peak RSS / redis-server's \`used_memory_rss\` after loading (the RSS holding the data), for the reference row too.`);
  }
  if (inputs.jsonl) lines.push(`- JSONL: ${fmtMB(inputs.jsonl.bytes)} MB, made by \`rdb-tool dump\` of that RDB (${inputs.jsonl.order ?? '?'} order, build of commit ${inputs.jsonl.commit ?? '?'}; reused while the RDB is unchanged, \`--regen\` remakes it).`);
  return lines.join('\n') + '\n';
}

function hugeText(meta) {
  const h = meta.huge;
  if (!h) return 'a few huge collections';
  const f = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1000)}k`);
  return `huge list ${f(h.list)}, hash ${f(h.hash)}, set ${f(h.set)}, zset ${f(h.zset)} elements`;
}

function envInfo(opts) {
  const git = sh('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no']);
  const rv = sh('redis-server', ['--version']);
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown CPU',
    memGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    redis: (/v=([\d.]+)/.exec(rv.out) ? `redis ${/v=([\d.]+)/.exec(rv.out)[1]}` : 'redis ?'),
    commit: git.out.trim(),
    dirty: dirty.out.trim().length > 0,
    loadavgStart: loadavg(),
    runs: opts.runs,
  };
}

// ---------------------------------------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tStart = Date.now();
  for (const t of ['redis-check-aof', 'redis-check-rdb', 'redis-server', 'redis-cli']) {
    if (sh('sh', ['-c', `command -v ${t}`]).code !== 0) {
      process.stderr.write(`bench: ${t} is not installed (apt-get install redis-tools redis-server)\n`);
      process.exit(3);
    }
  }
  await takeLock();
  const env = envInfo(opts);
  log(`load average ${env.loadavgStart.join(' ')}; suites: ${opts.only.join(', ')}; runs: ${opts.runs}`);
  if (opts.build) {
    log('pnpm build ...');
    const b = sh('pnpm', ['build'], { cwd: REPO_ROOT, timeout: 600000 });
    env.build = b.code === 0 ? 'ok' : `failed (exit ${b.code})`;
    if (b.code !== 0) log(`pnpm build failed (exit ${b.code}); benchmarking whatever dist/ holds:\n${b.out.trim().split('\n').slice(-8).join('\n')}`);
  } else env.build = 'skipped';
  startStamp = buildStamp();

  const inputs = {};
  const suites = { aof: suiteAof, rdb: suiteRdb, stream: suiteStream, writer: suiteWriter, replay: suiteReplay, analysis: suiteAnalysis, micro: suiteMicro };
  for (const s of SUITES) {
    if (!opts.only.includes(s)) continue;
    try {
      await suites[s](opts, inputs);
    } catch (err) {
      log(`suite ${s} failed: ${err.stack ?? err}`);
      results.push({ suite: s, name: `${s} suite`, kind: 'error', status: `failed (${err.message})` });
    }
  }
  env.loadavgEnd = loadavg();
  env.totalS = (Date.now() - tStart) / 1000;
  if (opts.only.every((s) => s === 'micro')) return; // printed only: results.json and results.md are left as they are

  // A partial run (--only) keeps the other suites' rows of the previous results.json, marked with their date; with
  // --rows, also the rows of the rdb suite it did not run.
  const stamp = env.date;
  for (const r of results) r.date ??= stamp;
  const prev = readJson(path.join(BENCH_DIR, 'results.json'));
  if (prev && Array.isArray(prev.results) && (opts.only.length < SUITES.length || opts.rows)) {
    const other = (r) => r.suite === 'rdb' && r.kind !== 'reference' && !opts.rows.some((t) => r.name.includes(t));
    const kept = prev.results.filter((r) => !opts.only.includes(r.suite) || (opts.rows && other(r)));
    for (const r of kept) r.earlier = true;
    results.unshift(...kept);
    for (const k of ['aof', 'rdb', 'jsonl', 'stream', 'replay']) if (!inputs[k] && prev.inputs?.[k] && kept.length) inputs[k] = prev.inputs[k];
    results.sort((a, b) => SUITES.indexOf(a.suite) - SUITES.indexOf(b.suite));
  }

  const table = textTable(results);
  process.stdout.write(`\n${table}\n\nload average start ${env.loadavgStart.join(' ')}, end ${env.loadavgEnd.join(' ')}; total ${env.totalS.toFixed(0)} s\n`);
  const clean = results.map((r) => ({ ...r, runs: r.runs?.map(({ stdoutTail, ...rest }) => rest) }));
  writeJson(path.join(BENCH_DIR, 'results.json'), { env, options: opts, inputs, results: clean });
  fs.writeFileSync(path.join(BENCH_DIR, 'results.md'), mdTable(results, env, inputs));
  log(`wrote bench/results.json and bench/results.md`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  cleanupSync();
  process.exit(1);
});
