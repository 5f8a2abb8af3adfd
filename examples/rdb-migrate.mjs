// @ts-check
// Migrate an RDB snapshot to another RDB version, e.g. from Redis 7.2 (RDB 11) down to Redis 6.2 (RDB 9). What the
// target cannot hold (function libraries before RDB 10, hash-field TTLs before RDB 12, ...) is refused: nothing is
// written and the reason is printed (exit 1). With --drop such keys are left out, with --lossy written without the
// newer metadata; either way every dropped or altered key is reported.
//   node examples/rdb-migrate.mjs dump.rdb dump-v9.rdb 9 [--drop | --lossy]
import { rdbKeyspaceRecords } from '@redis-persist/rdb';
import { RdbWriterError, writeRdbFile } from '@redis-persist/rdb-writer';

const args = process.argv.slice(2);
const [input, output, version] = args.filter((a) => !a.startsWith('--'));
if (!input || !output || !/^\d+$/.test(version ?? '')) {
  console.error('usage: node examples/rdb-migrate.mjs <in.rdb> <out.rdb> <rdb-version> [--drop | --lossy]');
  process.exit(2);
}
try {
  const summary = await writeRdbFile(output, rdbKeyspaceRecords(input), {
    rdbVersion: Number(version),
    dropUnsupported: args.includes('--drop'),
    lossy: args.includes('--lossy'),
    onDrop: (d) => console.log(`${d.kind === 'data' ? 'altered' : 'dropped'} (${d.feature}): ${d.message}`),
  });
  console.log(`wrote ${output}: RDB ${summary.rdbVersion}, ${summary.keys} keys, ${summary.functions} functions, ${summary.dropped.length} dropped or altered`);
} catch (err) {
  if (!(err instanceof RdbWriterError && err.code === 'unsupported')) throw err;
  console.log(`refused (${err.feature}): ${err.message}`);
  console.log('nothing was written; pass --drop to leave such data out or --lossy to keep the keys without it');
  process.exit(1);
}
