import { readAof } from '@redis-persist/aof';
import type { Command } from 'commander';
import { ExitCode, addKeyFilterOptions, aofSource, createOutput, jsonReplacer, keyFilterFrom, type KeyFilterCliOptions, interruptSignal } from '../common/index.js';
import { isoSeconds, quoteArg } from './shared.js';

interface CatOptions extends KeyFilterCliOptions {
  json?: boolean;
  command: string[];
  config?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerCat(program: Command): void {
  addKeyFilterOptions(
    program
      .command('cat')
      .description('print the commands of an AOF in load order, redis-cli style or as JSON lines; with key filters only the commands of the kept keys (DEL/UNLINK/MSET cut down to them, a mixed RENAME etc. shown whole and marked)')
      .argument('<path>', 'appendonly.aof, an appendonlydir/, its manifest, or a Redis data directory')
      .option('--json', 'one JSON object per command: db, args, offset, file, timestamp'),
    { values: false, keyPatternAlias: true },
  )
    .option('--command <name>', 'only this command, case-insensitive (repeatable)', collect, [])
    .option('--config <redis.conf>', "for a data directory: the server's redis.conf naming its AOF (default: <dir>/redis.conf when present)")
    .action(async (given: string, opts: CatOptions) => {
      const o = createOutput();
      // a data directory means its AOF as the server's config names it (said on stderr)
      const { path } = await aofSource('aof-tool', given, opts, o);
      const filter = keyFilterFrom(opts);
      const names = new Set(opts.command.map((c) => c.toUpperCase()));
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
        for await (const cmd of readAof(path, { onRdbPart, signal: interruptSignal(), ...(filter ? { filter } : {}) })) {
          const name = cmd.args.length ? Buffer.from(cmd.args[0]).toString('latin1').toUpperCase() : '';
          if (names.size && !names.has(name)) continue;
          let line: string;
          if (opts.json) {
            const record: Record<string, unknown> = { db: cmd.db, args: cmd.args, offset: cmd.offset, file: cmd.file, timestamp: cmd.timestamp ?? null };
            if (cmd.inUnfinishedMulti) record.inUnfinishedMulti = true;
            if (cmd.cut) record.cut = true;
            if (cmd.partialKeys) record.partialKeys = true;
            line = JSON.stringify(record, jsonReplacer) + '\n';
          } else {
            const ts = cmd.timestamp !== undefined ? ` ${isoSeconds(cmd.timestamp)}` : '';
            line = `[${cmd.db} ${cmd.file}:${cmd.offset}${ts}] ${cmd.args.map(quoteArg).join(' ')}${cmd.inUnfinishedMulti ? ' (in unfinished MULTI)' : ''}${cmd.cut ? ' (cut to the kept keys)' : ''}${cmd.partialKeys ? ' (names dropped keys too)' : ''}\n`;
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
