import { aofStats } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, aofSource, createOutput, formatBytes, sourceJson } from '../common/index.js';
import { isoSeconds } from './shared.js';

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('count the commands of an AOF by name and database, with bytes, files, annotations and time span')
    .argument('<path>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory')
    .option('--config <redis.conf>', "when <path> is a data directory: the server's redis.conf (appenddirname, appendfilename; default: <path>/redis.conf when present)")
    .option('--json', 'print one JSON report')
    .action(async (input: string, opts: { json?: boolean; config?: string }) => {
      const o = createOutput();
      // a data directory: its AOF (said on stderr); a FIFO is read once, as a stream
      const { path, source } = await aofSource('aof-tool', input, opts, o);
      const s = await aofStats(path);
      if (opts.json) {
        o.json({ ...s, source: sourceJson(source) });
        process.exitCode = ExitCode.Ok;
        return;
      }
      o.out(`${path}: ${s.files.length} file(s), ${formatBytes(s.bytes)}, ${s.commands} commands, ${s.transactions} transactions, ${s.annotations} annotations`);
      for (const f of s.files) o.out(`  ${f.file}: ${formatBytes(f.bytes)}${f.rdbPart ? ` (RDB part: ${f.rdbPart.end} bytes, ${f.rdbPart.keys} keys)` : ''}`);
      if (s.firstTimestamp !== null) o.out(`time span: ${isoSeconds(s.firstTimestamp)} .. ${isoSeconds(s.lastTimestamp!)}`);
      o.out('commands:');
      const width = Math.max(...Object.keys(s.byCommand).map((k) => k.length), 7);
      for (const [name, n] of Object.entries(s.byCommand)) o.out(`  ${name.padEnd(width)} ${n}`);
      o.out('per database (SELECT not counted):');
      for (const [db, n] of Object.entries(s.byDb)) o.out(`  db${db.padEnd(width - 2)} ${n}`);
      process.exitCode = ExitCode.Ok;
    });
}
