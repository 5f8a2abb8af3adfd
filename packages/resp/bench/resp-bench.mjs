// Micro-benchmark of the RESP codec (run after `npx tsc -b packages/resp/tsconfig.json`):
//   node packages/resp/bench/resp-bench.mjs [bulk-MiB=500] [commands=1000000]
// Prints wall time and RSS; the targets: a huge bulk in 1 MiB chunks is O(n) with ~1x its size in memory.
import { CommandEncoder, RespDecoder } from '../dist/index.js';

const bulkMiB = Number(process.argv[2] ?? 500);
const commands = Number(process.argv[3] ?? 1_000_000);
const rssMiB = () => (process.memoryUsage().rss / 1048576).toFixed(0);

{
  const n = bulkMiB * 1024 * 1024;
  const chunk = new Uint8Array(1024 * 1024).fill(0x61);
  const d = new RespDecoder({ maxBulkLength: n });
  const t = performance.now();
  d.push(new TextEncoder().encode(`*1\r\n$${n}\r\n`));
  for (let sent = 0; sent < n; sent += chunk.length) {
    d.push(chunk.subarray(0, Math.min(chunk.length, n - sent)));
    if (d.next() !== undefined) throw new Error('value before its end');
  }
  d.push(new TextEncoder().encode('\r\n'));
  const v = d.next();
  if (v?.type !== 'array' || v.value[0].value.length !== n) throw new Error('wrong value');
  console.log(`bulk ${bulkMiB} MiB in 1 MiB chunks: ${(performance.now() - t).toFixed(0)} ms, rss ${rssMiB()} MiB`);
}

{
  const e = new CommandEncoder();
  let t = performance.now();
  for (let i = 0; i < commands; i++) e.add(['SET', `key:${i}`, 'value-value-value', 'PXAT', 2000000000000 + i]);
  const bytes = e.take();
  console.log(`encode ${commands} commands: ${(performance.now() - t).toFixed(0)} ms (${(bytes.length / 1048576).toFixed(1)} MiB)`);
  t = performance.now();
  const d = new RespDecoder();
  let count = 0;
  for (let o = 0; o < bytes.length; o += 65536) {
    d.push(bytes.subarray(o, o + 65536));
    while (d.next() !== undefined) count++;
  }
  d.end();
  if (count !== commands) throw new Error('lost commands');
  console.log(`decode ${commands} commands in 64 KiB chunks: ${(performance.now() - t).toFixed(0)} ms, rss ${rssMiB()} MiB`);
}
