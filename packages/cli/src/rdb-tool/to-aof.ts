import { extname } from 'node:path';
import { rdbToAof } from '@redis-persist/replay';
import type { Command } from 'commander';
import { CliExit, ExitCode, createOutput, usageError } from '../common/index.js';

interface ToAofOpts {
  layout?: string;
  appendFilename: string;
  json?: boolean;
  force?: boolean;
}

export function registerToAof(program: Command): void {
  program
    .command('to-aof')
    .description('convert an RDB file to an AOF in the form BGREWRITEAOF writes (a single file, or a Redis 7 multi-part directory)')
    .argument('<in.rdb>', 'the RDB file (keys already expired are left out, as a loading master drops them)')
    .argument('<out>', 'a file (appendonly.aof) or a new directory (appendonlydir) to create')
    .option('--layout <kind>', 'file or dir (default: file when <out> ends in .aof, else dir)')
    .option('--append-filename <name>', 'appendfilename the directory files are named after', 'appendonly.aof')
    .option('--force', 'replace an existing output (the old file or directory is kept as <out>.bak)')
    .option('--json', 'print one JSON report')
    .action(async (input: string, output: string, opts: ToAofOpts) => {
      const o = createOutput();
      const layout = opts.layout ?? (extname(output).toLowerCase() === '.aof' ? 'file' : 'dir');
      if (layout !== 'file' && layout !== 'dir') throw usageError(`--layout must be file or dir, got ${JSON.stringify(opts.layout)}`);
      let r;
      try {
        r = await rdbToAof(input, output, { layout, appendFilename: opts.appendFilename, force: opts.force });
      } catch (err) {
        if (err instanceof Error && err.name === 'ReplayError') throw new CliExit(ExitCode.Usage, err.message);
        throw err;
      }
      if (opts.json) o.json({ input, output, ...r });
      else {
        o.out(`${o.c.green('wrote')} ${layout === 'file' ? output : `${output}/`}: ${r.keys} keys, ${r.functions} functions, ${r.bytes} bytes of RESP`);
        if (layout === 'dir') for (const f of r.files) o.out(`  ${f}`);
        if (r.replacedBackup) o.out(`previous ${output} kept as ${r.replacedBackup}`);
      }
      process.exitCode = ExitCode.Ok;
    });
}
