// Which keys does an AOF write most? Streams the commands of an AOF (a single file, an appendonlydir/ or a Redis
// data directory) and counts writes per key, without loading the file into memory.
//   node examples/aof-key-activity.mjs examples/flushall/appendonlydir
import { commandKeys, readAof } from '@redis-persist/aof';

const input = process.argv[2] ?? new URL('./flushall/appendonlydir', import.meta.url).pathname;
const writes = new Map();
let commands = 0;
for await (const cmd of readAof(input)) {
  commands++;
  for (const key of commandKeys(cmd.args)) {
    const name = `db${cmd.db}:${Buffer.from(key).toString()}`;
    writes.set(name, (writes.get(name) ?? 0) + 1);
  }
}
const top = [...writes].sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`${commands} commands; busiest keys:`);
for (const [key, n] of top) console.log(`  ${key}  ${n}`);
