// @ts-check
// Export an RDB snapshot as JSON Lines, one key per line in the canonical KEYSPACE-JSONL form (what
// `rdb-tool dump --format jsonl --order file` writes), streaming: the output is written to a temp file, fsynced and
// renamed, and an existing file is never replaced.
//   node examples/rdb-to-jsonl.mjs fixtures/rdb/all-types.rdb /tmp/all-types.jsonl [KEY-GLOB]
import { keyspaceJsonlChunks } from '@redis-persist/jsonl';
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { writeFileAtomic } from '@redis-persist/fsio';

const [inputArg, output, key] = process.argv.slice(2);
if (!inputArg || !output) {
  console.error('usage: node examples/rdb-to-jsonl.mjs <in.rdb> <out.jsonl> [key-glob]');
  process.exit(2);
}
const input = inputArg;
let keys = 0;
async function* counted() {
  // key records and function libraries, in file order; expired keys are dropped as a loading Redis would
  for await (const rec of rdbKeyspaceRecords(input, { filter: key === undefined ? {} : { keys: [key] }, functions: key === undefined, dropExpiredBefore: Date.now() })) {
    if (rec.kind === 'key') keys++;
    yield rec;
  }
}
const bytes = await writeFileAtomic(output, keyspaceJsonlChunks(counted()));
console.log(`${keys} keys, ${bytes} bytes written to ${output}`);
