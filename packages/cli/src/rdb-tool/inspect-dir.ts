import { describeAppendonly, inspectDataDir } from '@redis-persist/converters';
import type { Command } from 'commander';
import { ExitCode, createOutput, formatBytes, usageError } from '../common/index.js';

interface InspectOpts {
  config?: string;
  appendonly?: string;
  json?: boolean;
}

export function registerInspectDir(program: Command): void {
  program
    .command('inspect-dir')
    .description('which files Redis would load from a data directory at restart, in what order, whether each is valid, and the key counts')
    .argument('<dir>', "the server's data directory (its `dir`)")
    .option('--config <redis.conf>', 'the redis.conf the server runs with (appendonly, dbfilename, appendfilename, appenddirname, aof-load-truncated); default: <dir>/redis.conf when present')
    .option('--appendonly <yes|no>', 'override appendonly (default: from the redis.conf, else no, as Redis)')
    .option('--json', 'print one JSON report')
    .action(async (dir: string, opts: InspectOpts) => {
      const o = createOutput();
      let appendonly: boolean | undefined;
      if (opts.appendonly !== undefined) {
        if (opts.appendonly !== 'yes' && opts.appendonly !== 'no') throw usageError(`--appendonly must be yes or no, got ${JSON.stringify(opts.appendonly)}`);
        appendonly = opts.appendonly === 'yes';
      }
      const r = await inspectDataDir(dir, { config: opts.config, appendonly });
      process.exitCode = r.loads ? ExitCode.Ok : ExitCode.Problem;
      if (opts.json) {
        o.json(r);
        return;
      }
      o.out(`${dir}: ${describeAppendonly(r)}; Redis loads ${r.source === 'aof' ? 'the AOF' : r.source === 'rdb' ? r.config.dbfilename : 'nothing'}`);
      r.files.forEach((f, i) => {
        const status = f.status === 'valid' || f.status === 'empty' ? o.c.green(f.status) : o.c.red(f.status);
        o.out(`  ${i + 1}. ${f.path} [${f.role}, ${f.format}, ${formatBytes(f.size)}] ${status}${f.message ? `: ${f.message}` : ''}`);
      });
      for (const g of r.ignored) o.out(`  ignored: ${g.path} (${g.reason})`);
      if (r.problem) o.out((r.loads ? o.c.yellow : o.c.red)(r.problem));
      if (r.loads) {
        o.out(`keys after load: ${r.totalKeys}${r.keys.length ? ` (${r.keys.map((k) => `db${k.db}=${k.keys}`).join(', ')})` : ''}; ${r.expiredKeys} already expired; ${r.functions} function libraries`);
      }
    });
}
