// Measures the Parquet writers `rdb-tool export` could use, on its own rows: node bench/export-writers.mjs <rdb> <none|hyparquet|duckdb> [rowGroupSize]
// (build first). `none` only makes the rows (parse + memory estimate); `hyparquet` is what export does (exportRdb);
// `duckdb` appends the same rows to an in-memory DuckDB table and COPYs it to Parquet (@duckdb/node-api, a root
// devDependency). Prints wall time, CPU time and peak RSS (VmHWM).
import { readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { exportRdb, rdbExportRows } from '@redis-persist/analysis';

const [file, writer = 'hyparquet', group = '65536'] = process.argv.slice(2);
const out = `/tmp/export-writers.${process.pid}.parquet`;
const t0 = performance.now();
const c0 = process.cpuUsage();
let rows = 0;
if (writer === 'none') {
  for await (const r of rdbExportRows(file)) if (r.db >= 0) rows++;
} else if (writer === 'hyparquet') {
  const fh = await open(out, 'w');
  rows = (await exportRdb(file, { write: async (c) => void (await fh.write(c)) }, { format: 'parquet', rowGroupSize: Number(group) })).rows;
  await fh.close();
} else if (writer === 'duckdb') {
  const { DuckDBInstance, DuckDBTimestampTZValue } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  await con.run('CREATE TABLE t (source VARCHAR, db INTEGER, key VARCHAR, type VARCHAR, encoding VARCHAR, expiry TIMESTAMPTZ, elements BIGINT, bytes BIGINT, memory BIGINT)');
  const ap = await con.createAppender('t');
  for await (const r of rdbExportRows(file)) {
    ap.appendVarchar(r.source);
    ap.appendInteger(r.db);
    ap.appendVarchar(r.key);
    ap.appendVarchar(r.type);
    ap.appendVarchar(r.encoding);
    if (r.expiry === null) ap.appendNull();
    else ap.appendTimestampTZ(new DuckDBTimestampTZValue(BigInt(r.expiry) * 1000n));
    ap.appendBigInt(BigInt(r.elements));
    ap.appendBigInt(BigInt(r.bytes));
    ap.appendBigInt(BigInt(r.memory));
    ap.endRow();
    if (++rows % Number(group) === 0) ap.flushSync();
  }
  ap.closeSync();
  await con.run(`COPY t TO '${out}' (FORMAT parquet, ROW_GROUP_SIZE ${Number(group)})`);
} else throw new Error(`writer: none, hyparquet or duckdb, not ${writer}`);
const cpu = process.cpuUsage(c0);
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
rmSync(out, { force: true });
console.log(`${writer}: ${rows} rows, ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU, peak RSS ${Math.round(Number(hwm) / 1024)} MB`);
