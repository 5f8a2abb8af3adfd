// @ts-check
// Copy an AOF (a single file or a Redis 7 appendonlydir/) to a new single-file AOF without the keys matching some
// glob patterns, e.g. to ship a backup without the session cache: `filterAof` with an exclude filter does the work
// (temp file, fsync, rename; an existing output is refused). A command whose keys all match is left out; DEL,
// UNLINK, TOUCH, MSET and MSETNX naming both kinds are cut down to the other keys; SELECT goes where the database
// changes, MULTI/EXEC stay around what is kept of a transaction, keyless commands stay, and the `#TS:` annotations
// (aof-timestamp-enabled) are kept. Another command naming a matching and another key (RENAME, SUNIONSTORE ...) is
// refused by default: nothing is written and the error names it; `--keep-mixed` keeps it whole (reported).
// An AOF whose base is an RDB (aof-use-rdb-preamble) is refused: rewrite it with an AOF base first
// (`aof-tool rewrite <dir> --base aof`).
//   node examples/aof-copy-without-keys.mjs fixtures/aof/timestamps-multipart/appendonlydir /tmp/copy.aof 'session:*'
import { filterAof } from '@redis-persist/aof';

const args = process.argv.slice(2);
const keepMixed = args.includes('--keep-mixed');
const [input, output, ...patterns] = args.filter((a) => a !== '--keep-mixed');
if (!input || !output || patterns.length === 0) {
  console.error('usage: node examples/aof-copy-without-keys.mjs <aof-file|dir> <out.aof> <key-glob>... [--keep-mixed]');
  process.exit(2);
}
try {
  const r = await filterAof(input, output, {
    filter: { excludeKeys: patterns },
    partial: keepMixed ? 'keep' : 'error',
    onPartial: ({ command: c }) => console.log(`kept ${c.file}:${c.offset}: ${Buffer.from(c.args[0] ?? []).toString()} names matching and other keys`),
  });
  console.log(`${r.kept} commands kept, ${r.dropped} left out, ${r.cut} cut down; ${r.timestamps} #TS annotations; ${r.bytes} bytes written to ${output}`);
} catch (err) {
  console.error(`aof-copy-without-keys: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
