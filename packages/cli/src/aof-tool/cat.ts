import { commandKeys, readAof } from '@redis-persist/aof';
import { matchGlob } from '@redis-persist/bytes';
import type { Command } from 'commander';
import { ExitCode, aofSource, createOutput, jsonReplacer } from '../common/index.js';
import { intOption, isoSeconds, quoteArg } from './shared.js';

interface CatOptions {
  json?: boolean;
  db: string[];
  command: string[];
  keyPattern?: string;
  config?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerCat(program: Command): void {
  program
    .command('cat')
    .description('print the commands of an AOF in load order, redis-cli style or as JSON lines')
    .argument('<path>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory')
    .option('--json', 'one JSON object per command: db, args, offset, file, timestamp')
    .option('--db <n>', 'only commands run in this database (repeatable)', collect, [])
    .option('--command <name>', 'only this command, case-insensitive (repeatable)', collect, [])
    .option('--key-pattern <glob>', 'only commands touching a key that matches this Redis glob')
    .option('--config <redis.conf>', "for a data directory: the server's redis.conf naming its AOF (default: <dir>/redis.conf when present)")
    .action(async (given: string, opts: CatOptions) => {
      const o = createOutput();
      // a data directory means its AOF as the server's config names it (said on stderr)
      const { path } = await aofSource('aof-tool', given, opts, o);
      const dbs = new Set(opts.db.map((d) => intOption('--db', d)));
      const names = new Set(opts.command.map((c) => c.toUpperCase()));
      const pattern = opts.keyPattern !== undefined ? Buffer.from(opts.keyPattern, 'utf8') : null;
      let pending: string[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pending.length === 0) return;
        const text = pending.join('');
        pending = [];
        pendingBytes = 0;
        await o.write(text);
      };
      const onRdbPart = (p: { file: string; end: number; keys: number }) => {
        if (!opts.json) pending.push(`# ${p.file}: RDB part of ${p.end} bytes with ${p.keys} keys (see: rdb-tool dump ${p.file})\n`);
      };
      // Damage never hides what came before it: every command complete before it is printed and flushed (whole
      // lines only), then the error goes to stderr with exit 1. Commands of a transaction the damage cut off are
      // shown, marked: Redis would discard them.
      let unfinished = 0;
      try {
        for await (const cmd of readAof(path, { onRdbPart })) {
          const name = cmd.args.length ? Buffer.from(cmd.args[0]).toString('latin1').toUpperCase() : '';
          if (dbs.size && !dbs.has(cmd.db)) continue;
          if (names.size && !names.has(name)) continue;
          if (pattern && !commandKeys(cmd.args).some((k) => matchGlob(pattern, k))) continue;
          let line: string;
          if (opts.json) {
            const record: Record<string, unknown> = { db: cmd.db, args: cmd.args, offset: cmd.offset, file: cmd.file, timestamp: cmd.timestamp ?? null };
            if (cmd.inUnfinishedMulti) record.inUnfinishedMulti = true;
            line = JSON.stringify(record, jsonReplacer) + '\n';
          } else {
            const ts = cmd.timestamp !== undefined ? ` ${isoSeconds(cmd.timestamp)}` : '';
            line = `[${cmd.db} ${cmd.file}:${cmd.offset}${ts}] ${cmd.args.map(quoteArg).join(' ')}${cmd.inUnfinishedMulti ? ' (in unfinished MULTI)' : ''}\n`;
          }
          if (cmd.inUnfinishedMulti) unfinished++;
          pending.push(line);
          pendingBytes += line.length;
          if (pendingBytes > 1 << 16) await flush();
        }
      } catch (err) {
        await flush();
        if (unfinished > 0) o.err(`aof-tool: note: ${unfinished} command(s) shown are marked (in unfinished MULTI): the damage cut their transaction off before its EXEC, and Redis discards them`);
        throw err;
      }
      await flush();
      process.exitCode = ExitCode.Ok;
    });
}
