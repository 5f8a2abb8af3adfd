// @ts-check
// Copy an AOF (a single file or a Redis 7 appendonlydir/) to a new single-file AOF without the keys matching some
// glob patterns, e.g. to ship a backup without the session cache. A command is left out when every key it names
// matches; SELECT, MULTI/EXEC and keyless commands stay (`#TS` annotations are not copied). A command naming both
// a matching and another key (RENAME, SUNIONSTORE ...) is kept and reported. An AOF whose base is an RDB
// (aof-use-rdb-preamble) is refused: rewrite it with an AOF base first (`aof-tool rewrite <dir> --base aof`).
//   node examples/aof-copy-without-keys.mjs fixtures/aof/timestamps-multipart/appendonlydir /tmp/copy.aof 'session:*'
import { commandKeys, readAof } from '@redis-persist/aof';
import { matchGlob } from '@redis-persist/bytes';
import { writeFileAtomic } from '@redis-persist/fsio';
import { CommandEncoder } from '@redis-persist/resp';

const [inputArg, output, ...patterns] = process.argv.slice(2);
if (!inputArg || !output || patterns.length === 0) {
  console.error('usage: node examples/aof-copy-without-keys.mjs <aof-file|dir> <out.aof> <key-glob>...');
  process.exit(2);
}
const input = inputArg;
const globs = patterns.map((p) => Buffer.from(p));
const matches = (/** @type {Uint8Array} */ key) => globs.some((g) => matchGlob(g, key));
let kept = 0;
let dropped = 0;

async function* copy() {
  const enc = new CommandEncoder();
  const options = {
    onRdbPart: (/** @type {{ file: string }} */ part) => {
      throw new Error(`${part.file} is an RDB part: rewrite the AOF with an AOF base first (aof-tool rewrite --base aof)`);
    },
  };
  for await (const cmd of readAof(input, options)) {
    const keys = commandKeys(cmd.args);
    const hits = keys.filter(matches).length;
    if (hits > 0 && hits === keys.length) {
      dropped++;
      continue;
    }
    if (hits > 0) console.log(`kept ${cmd.file}:${cmd.offset}: ${Buffer.from(cmd.args[0] ?? []).toString()} names matching and other keys`);
    kept++;
    enc.add(cmd.args);
    if (enc.length >= 1 << 16) yield enc.take();
  }
  yield enc.take();
}
const bytes = await writeFileAtomic(output, copy());
console.log(`${kept} commands kept, ${dropped} left out; ${bytes} bytes written to ${output}`);
