#!/usr/bin/env node
// node bench/micro.mjs [--mb N] [--runs N]   (after pnpm build; also `pnpm bench -- --only micro`)
//
// Throughput (MB/s of input) of the byte-level hot loops, per implementation, on random data (CRC) and on LZF
// data compressed from a repetitive text-like buffer (LZF): the figures behind the choices in
// packages/bytes/src/crc64.ts and lzf.ts. Each variant is run `runs` times over `mb` MiB; the best run is shown
// (the machine is shared: the best is the least disturbed), with the median beside it, and the median MB per CPU
// second (the steadier figure when other processes share the cores).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MB = opt('--mb', 64);
const RUNS = opt('--runs', 5);

const bytes = await import(pathToFileURL(path.join(REPO_ROOT, 'packages/bytes/dist/crc64.js')).href);
const lzf = await import(pathToFileURL(path.join(REPO_ROOT, 'packages/bytes/dist/lzf.js')).href);

// CPU time of the process (user + system) as well as wall time: on a busy machine the wall time of a run counts the
// time other processes held the core, and the CPU time does not (the loops are single-threaded)
function time(fn) {
  const runs = [];
  const cpu = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  runs.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { best: runs[0], median: runs[runs.length >> 1], cpuMedian: cpu[cpu.length >> 1] };
}

function row(name, mb, t) {
  console.log(
    `${name.padEnd(34)} ${(mb / t.best).toFixed(0).padStart(7)} MB/s   (median ${(mb / t.median).toFixed(0).padStart(5)} MB/s; per CPU second, median ${(mb / t.cpuMedian).toFixed(0).padStart(5)} MB/s)`,
  );
}

console.log(`node ${process.version}, ${MB} MiB per run, best of ${RUNS}\n`);
console.log('CRC64/Jones (Crc64.update):');
const data = randomBytes(MB << 20);
const impls = bytes.crc64Implementations();
let expect = null;
for (const [name, f] of Object.entries(impls)) {
  if (!f) {
    console.log(`  ${name}: not available here`);
    continue;
  }
  let v = 0n;
  const t = time(() => {
    v = f(0n, data);
  });
  if (expect === null) expect = v;
  else if (v !== expect) throw new Error(`crc64 ${name} disagrees: ${v.toString(16)} vs ${expect.toString(16)}`);
  row(`  ${name}`, MB, t);
}
{
  // as the parser feeds it: 64 KiB .. 2 MiB slices of a buffer
  const c = new bytes.Crc64();
  const t = time(() => {
    c.reset();
    for (let i = 0; i < data.length; i += 65536) c.update(data, i, Math.min(i + 65536, data.length));
  });
  if (c.value() !== expect) throw new Error('Crc64 in 64 KiB pieces disagrees');
  row('  Crc64 class, 64 KiB pieces', MB, t);
  const small = time(() => {
    c.reset();
    for (let i = 0; i < data.length; i += 100) c.update(data, i, Math.min(i + 100, data.length));
  });
  if (c.value() !== expect) throw new Error('Crc64 in 100-byte pieces disagrees');
  row('  Crc64 class, 100-byte pieces', MB, small);
}

console.log('\nLZF (output MB/s):');
{
  // text-like input: words from a small vocabulary, so LZF finds back references as in real values
  const words = ['user', 'session', 'id', 'value', 'name', 'email', 'x', 'redis', 'key', ':', ',', '"', '0', '123', 'true', 'null'];
  const plain = new Uint8Array(4096);
  const pieces = [];
  for (let k = 0; k < 256; k++) {
    let s = '';
    while (s.length < plain.length) s += words[(Math.random() * words.length) | 0];
    pieces.push(Buffer.from(s.slice(0, plain.length)));
  }
  const comp = pieces.map((p) => lzf.lzfCompress(p, p.length + 64));
  const total = (MB << 20) / plain.length;
  const out = new Uint8Array(plain.length);
  const dec = time(() => {
    for (let i = 0; i < total; i++) lzf.lzfDecompress(comp[i & 255], plain.length, out);
  });
  row('  lzfDecompress, reused buffer', MB, dec);
  const decNew = time(() => {
    for (let i = 0; i < total; i++) lzf.lzfDecompress(comp[i & 255], plain.length);
  });
  row('  lzfDecompress, new buffer', MB, decNew);
  const valid = time(() => {
    for (let i = 0; i < total; i++) {
      const c = comp[i & 255];
      if (!lzf.lzfValid(c, 0, c.length, plain.length)) throw new Error('lzfValid refused valid data');
    }
  });
  row('  lzfValid (walk, no output)', MB, valid);
  const cmp = time(() => {
    for (let i = 0; i < total / 4; i++) lzf.lzfCompress(pieces[i & 255]);
  });
  row('  lzfCompress (input MB/s)', MB / 4, cmp);
}
