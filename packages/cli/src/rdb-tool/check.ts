import { stat } from 'node:fs/promises';
import { checkRdb, type RdbCheckReport } from '@redis-persist/rdb';
import type { Command } from 'commander';
import { ExitCode, Progress, createOutput, formatBytes, type Output } from '../common/index.js';

function typeCounts(byType: Record<string, number | undefined>): string {
  return Object.entries(byType)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
}

export function printRdbCheck(o: Output, r: RdbCheckReport): void {
  o.out(`[offset 0] Checking RDB file ${r.file ?? '<stdin>'} (${formatBytes(r.size)})`);
  if (r.version !== null) o.out(`[offset 9] RDB version ${r.version} (${r.magic} magic)`);
  for (const [k, v] of Object.entries(r.aux)) o.out(`  AUX ${k} = ${JSON.stringify(v)}`);
  for (const f of r.functions) o.out(`  function library ${f.library} (${f.engine})`);
  for (const m of r.modules) o.out(`  module AUX ${m.module} (encver ${m.encver}, when ${m.when})`);
  for (const d of r.dbs) {
    o.out(`  db ${d.db}: ${d.keys} keys, ${d.expires} with expiry (${d.alreadyExpired} already expired)${d.keys ? `; ${typeCounts(d.byType)}` : ''}`);
  }
  o.out(`  ${r.keys} keys in ${r.dbs.length} db(s)`);
  for (const w of r.warnings) o.out(`  ${o.c.yellow('warning')}: ${w}`);
  if (r.ok) {
    const crc = r.checksum === 'ok' ? 'checksum OK' : r.checksum === 'disabled' ? 'checksum disabled (stored as 0, not verified)' : 'no checksum (RDB version < 5)';
    o.out(`[offset ${r.endOffset}] ${crc}`);
    o.out(o.c.green(`[offset ${r.endOffset}] RDB looks OK`));
    return;
  }
  const e = r.error!;
  o.out(o.c.red(`--- RDB ERROR DETECTED ---`));
  o.out(o.c.red(`[offset ${e.offset}] ${e.code}: ${e.message.replace(/^.*?: offset \d+: [a-z]+: /, '')}`));
  if (r.failedKey) o.out(`  while reading key ${JSON.stringify(r.failedKey.key)} (type ${r.failedKey.type}) whose record starts at offset ${r.failedKey.offset}`);
  if (r.lastKey !== undefined) o.out(`  last key read completely: ${JSON.stringify(r.lastKey)}`);
  o.out(`  last record read completely ends at offset ${r.reachedOffset}`);
  if (e.code === 'checksum') o.out(`  stored CRC64 ${r.storedChecksum}, computed ${r.computedChecksum}`);
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('verify an RDB file as redis-check-rdb does (structure, every encoding, CRC64); exit 0 valid, 1 damaged')
    .argument('<file>', 'the RDB file (dump.rdb)')
    .option('--json', 'print one JSON report')
    .action(async (file: string, opts: { json?: boolean }) => {
      const o = createOutput();
      let total = 0;
      try {
        total = (await stat(file)).size;
      } catch {
        // checkRdb reports the I/O error itself
      }
      const progress = new Progress('checking', total);
      const report = await checkRdb(file, { onProgress: (n) => progress.update(n) });
      progress.done();
      if (opts.json) o.json(report);
      else printRdbCheck(o, report);
      process.exitCode = report.ok ? ExitCode.Ok : ExitCode.Problem;
    });
}
