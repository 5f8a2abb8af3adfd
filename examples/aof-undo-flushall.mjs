// The 3 a.m. rescue as a script: check the AOF, then strip every FLUSHALL/FLUSHDB into a new directory that
// Redis can load (the original stays untouched).
//   node examples/aof-undo-flushall.mjs examples/flushall/appendonlydir /tmp/rescued
import { checkAof, stripAof } from '@redis-persist/aof';

const [input = new URL('./flushall/appendonlydir', import.meta.url).pathname, output] = process.argv.slice(2);
const report = await checkAof(input);
if (!report.ok) {
  console.error(`damaged AOF, repair it first: ${report.unrepairable ?? `aof-tool fix ${input}`}`);
  process.exit(1);
}
const result = await stripAof(input, {
  commands: ['FLUSHALL', 'FLUSHDB'],
  output,
  dryRun: output === undefined,
  onRemoved: (c) => console.log(`${output ? 'removed' : 'would remove'} ${c.file}:${c.offset} (db ${c.db})`),
});
console.log(`${result.removed} command(s) ${output ? `removed, result in ${output}` : 'would be removed (give an output directory to write)'}`);
