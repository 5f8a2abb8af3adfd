// @ts-check
// Where does the memory go? Reads an RDB snapshot (streaming, bounded memory) and groups its keys by prefix (the
// part before the first `:`), with the memory each key would take in Redis 7.0 (`MEMORY USAGE`, estimated from
// the file by @redis-persist/analysis), largest first.
//   node examples/rdb-prefix-report.mjs fixtures/rdb/all-types.rdb [separator] [--json]
import { rdbMemoryRecords } from '@redis-persist/analysis';

const args = process.argv.slice(2);
const json = args.includes('--json');
const [input = new URL('../fixtures/rdb/all-types.rdb', import.meta.url).pathname, separator = ':'] = args.filter((a) => a !== '--json');

/** @type {Map<string, { keys: number, memory: number }>} */
const byPrefix = new Map();
let keys = 0;
let memory = 0;
for await (const rec of rdbMemoryRecords(input)) {
  if (rec.kind !== 'key') continue;
  const name = Buffer.from(rec.key).toString('latin1');
  const cut = name.indexOf(separator);
  const prefix = cut >= 0 ? name.slice(0, cut + separator.length) + '*' : '(no prefix)';
  const entry = byPrefix.get(prefix) ?? { keys: 0, memory: 0 };
  entry.keys++;
  entry.memory += rec.memory;
  byPrefix.set(prefix, entry);
  keys++;
  memory += rec.memory;
}
const rows = [...byPrefix].sort((a, b) => b[1].memory - a[1].memory || a[0].localeCompare(b[0]));
if (json) {
  console.log(JSON.stringify({ keys, memory, prefixes: rows.map(([prefix, e]) => ({ prefix, ...e })) }));
} else {
  console.log(`${keys} keys, ${memory} bytes in ${rows.length} prefixes`);
  for (const [prefix, e] of rows) console.log(`${String(e.memory).padStart(12)} B ${String(e.keys).padStart(8)} keys  ${prefix}`);
}
