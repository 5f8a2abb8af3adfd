// `rdb-tool diff a b`: the keys added, removed and changed between two keyspaces (RDB files, data directories,
// keyspace JSON Lines, AOFs). The walk is @redis-persist/analysis' diffKeyspaces; this file reads the inputs,
// parses options and formats.
import { diffKeyspaces, type DiffChanged, type DiffEntry, type DiffFunction, type DiffInput, type DiffKey } from '@redis-persist/analysis';
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayAof } from '@redis-persist/replay';
import type { Command } from 'commander';
import { detectInput } from '../common/input.js';
import { CliExit, ExitCode, bytesToDisplay, createOutput, dataDirSource, addKeyFilterOptions, keyFilterFrom, type KeyFilterCliOptions, sortMemoryBytes, usageError, type Output, interruptSignal } from '../common/index.js';
import { keepHeapSmall } from './memory.js';

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

interface DiffOpts extends KeyFilterCliOptions {
  ignoreTtl?: boolean;
  keepExpired?: boolean;
  json?: boolean;
  limit?: string;
  quiet?: boolean;
  sortMemory: string;
  config?: string;
  from?: string;
}

const DEFAULT_LIMIT = 100;

/**
 * One list of the JSON report, as JSON text: in memory up to 1 MiB, then appended to a temp file, so a diff of
 * millions of keys does not hold them all (the walk itself holds one key per side).
 */
class SpillList {
  private held: string[] = [];
  private heldBytes = 0;
  private file: string | null = null;
  count = 0;

  constructor(private readonly dir: () => Promise<string>, private readonly name: string) {}

  async push(entry: Record<string, unknown>): Promise<void> {
    const text = JSON.stringify(entry);
    this.held.push(text);
    this.heldBytes += text.length;
    this.count++;
    if (this.heldBytes >= 1024 * 1024) await this.spill();
  }

  private async spill(): Promise<void> {
    this.file ??= join(await this.dir(), this.name);
    await appendFile(this.file, this.held.join('\n') + '\n');
    this.held = [];
    this.heldBytes = 0;
  }

  /** Writes the list as a JSON array's items, one a line, the file's in slices so memory stays flat. */
  async writeItems(write: (text: string) => Promise<void>): Promise<void> {
    let first = true;
    const put = async (line: string): Promise<void> => {
      await write(`${first ? '' : ',\n'}    ${line}`);
      first = false;
    };
    if (this.file !== null) {
      await this.spill();
      for await (const line of createInterface({ input: createReadStream(this.file), crlfDelay: Infinity })) if (line !== '') await put(line);
    } else {
      for (const line of this.held) await put(line);
    }
  }
}

/** An input as the library reads it: a data directory resolves to what Redis would load from it. */
async function diffInput(input: string, opts: DiffOpts, o: Output): Promise<DiffInput> {
  const src = await dataDirSource('rdb-tool', input, opts, o);
  const path = src?.path ?? input;
  const detected = src?.kind === 'aof' ? { format: 'aof' as const } : src?.kind === 'rdb' ? { ...(await detectInput(path, 'diff')), format: 'rdb' as const } : await detectInput(path, 'diff');
  if (detected.format === 'aof' || detected.format === 'resp') {
    const replayed = await replayAof(path, { signal: interruptSignal() });
    if (replayed.truncated) o.err(o.e.yellow(`warning: ${replayed.truncated.file} ends early; commands from offset ${replayed.truncated.offset} on were not replayed (${replayed.truncated.message})`));
    return { format: 'aof', replayed };
  }
  const source = detected.chunks ?? path;
  return detected.format === 'rdb' ? { format: 'rdb', source, file: path } : { format: 'jsonl', source, file: path };
}

function keyJson(e: DiffKey): Record<string, unknown> {
  return { db: e.db, key: bytesToDisplay(e.key), type: e.type, expireAt: e.expireAt };
}

function changedJson(e: DiffChanged): Record<string, unknown> {
  return { db: e.db, key: bytesToDisplay(e.key), changes: e.changes, oldType: e.oldType, newType: e.newType, oldExpireAt: e.oldExpireAt, newExpireAt: e.newExpireAt };
}

function functionJson(e: DiffFunction): Record<string, unknown> {
  return { library: bytesToDisplay(e.library), change: e.change };
}

const keyText = (db: number, key: Uint8Array): string => `db${db} ${JSON.stringify(bytesToDisplay(key))}`;
const when = (ms: number | null): string => (ms === null ? 'no expiry' : Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms));

function changedText(e: DiffChanged): string {
  const parts: string[] = [];
  if (e.changes.includes('type')) parts.push(`type ${e.oldType} -> ${e.newType}`);
  else if (e.changes.includes('value')) parts.push('value');
  if (e.changes.includes('ttl')) parts.push(`expiry ${when(e.oldExpireAt)} -> ${when(e.newExpireAt)}`);
  return `${keyText(e.db, e.key)} (${e.newType}): ${parts.join(', ')}`;
}

export function registerDiff(program: Command): void {
  addKeyFilterOptions(
    program
      .command('diff')
    .description('the keys added, removed and changed (type, value, expiry) from one keyspace to another; exit 0 when equal, 1 when not')
    .argument('<a>', 'the old side: an RDB file, a data directory (what Redis would load), keyspace JSON Lines or an AOF')
    .argument('<b>', 'the new side, the same kinds'),
    { expiry: false, bytes: false },
  )
    .option('--ignore-ttl', 'a change of expiry alone is no change (hash field expiries are part of the value and still count)')
    .option('--keep-expired', 'compare keys whose expiry is already past too (default: dropped on both sides, as a loading master and dump drop them)')
    .option('--json', 'one JSON document: {equal, summary, added, removed, changed, functions} (lists complete unless --limit)')
    .option('--limit <n>', `list at most N entries of each kind (default ${DEFAULT_LIMIT} in the human output; no limit with --json unless given)`)
    .option('-q, --quiet', 'print nothing: the exit code says it (0 equal, 1 different)')
    .option('--sort-memory <MiB>', "memory for each side's canonical sort before spilling runs to temp files", '64')
    .option('--config <redis.conf>', "for a data directory: the server's redis.conf, whose appendonly decides what Redis loads")
    .option('--from <rdb|aof>', 'for a data directory: read its RDB file, or the keyspace replayed from its AOF, whatever Redis would load')
    .action(async (a: string, b: string, opts: DiffOpts) => {
      const o = createOutput();
      const filter = keyFilterFrom(opts);
      let limit: number | null = opts.json ? null : DEFAULT_LIMIT;
      if (opts.limit !== undefined) {
        const n = Number(opts.limit);
        if (!Number.isInteger(n) || n < 0) throw usageError(`--limit wants a number of entries, got ${JSON.stringify(opts.limit)}`);
        limit = n;
      }
      const sortBytes = sortMemoryBytes(opts.sortMemory);
      if (opts.quiet && opts.json) throw usageError('--quiet prints nothing and --json a document: choose one');
      const inA = await diffInput(a, opts, o);
      const inB = await diffInput(b, opts, o);
      keepHeapSmall();
      const counts = { added: 0, removed: 0, changed: 0, functions: 0 };
      // the human lists are kept up to the limit only; the JSON ones go to temp files beyond 1 MiB each; the
      // counts are complete
      const added: DiffKey[] = [];
      const removed: DiffKey[] = [];
      const changed: DiffChanged[] = [];
      const functions: DiffFunction[] = [];
      let spillDir: string | null = null;
      const dir = async (): Promise<string> => (spillDir ??= await mkdtemp(join(tmpdir(), 'rdb-tool-diff-')));
      const json = { added: new SpillList(dir, 'added'), removed: new SpillList(dir, 'removed'), changed: new SpillList(dir, 'changed'), functions: new SpillList(dir, 'functions') };
      const keep = async <T>(list: T[], spill: SpillList, e: T, asJson: (e: T) => Record<string, unknown>): Promise<void> => {
        if (opts.quiet || (limit !== null && spill.count + list.length >= limit)) return;
        if (opts.json) await spill.push(asJson(e));
        else list.push(e);
      };
      try {
        for await (const e of diffKeyspaces(inA, inB, { signal: interruptSignal(), filter, ignoreTtl: opts.ignoreTtl, keepExpired: opts.keepExpired, memoryBudgetBytes: sortBytes }) as AsyncIterable<DiffEntry>) {
          if (e.kind === 'function') {
            await keep(functions, json.functions, e, functionJson);
            counts.functions++;
          } else if (e.kind === 'changed') {
            await keep(changed, json.changed, e, changedJson);
            counts.changed++;
          } else {
            await keep(e.kind === 'added' ? added : removed, json[e.kind], e, keyJson);
            counts[e.kind]++;
          }
        }
        const equal = counts.added + counts.removed + counts.changed + counts.functions === 0;
        if (opts.quiet) {
          if (!equal) throw new CliExit(ExitCode.Problem, '');
          return;
        }
        if (opts.json) {
          const truncated = (['added', 'removed', 'changed', 'functions'] as const).some((k) => counts[k] > json[k].count);
          // written as it is read back: the lists may be far larger than memory
          const head = JSON.stringify({ a, b, equal, summary: counts }, null, 2);
          await o.write(head.slice(0, -2) + ',\n');
          for (const k of ['added', 'removed', 'changed', 'functions'] as const) {
            if (json[k].count === 0) {
              await o.write(`  "${k}": [],\n`);
              continue;
            }
            await o.write(`  "${k}": [\n`);
            await json[k].writeItems((t) => o.write(t));
            await o.write('\n  ],\n');
          }
          await o.write(`  "truncated": ${truncated}\n}\n`);
          if (!equal) throw new CliExit(ExitCode.Problem, '');
          return;
        }
      } finally {
        if (spillDir !== null) await rm(spillDir, { recursive: true, force: true });
      }
      const equal = counts.added + counts.removed + counts.changed + counts.functions === 0;
      const fn = counts.functions > 0 ? `, ${counts.functions} function librar${counts.functions === 1 ? 'y' : 'ies'} differ` : '';
      if (equal) o.out(`${a} and ${b} hold the same keyspace`);
      else o.out(`${a} -> ${b}: ${o.c.green(`${counts.added} added`)}, ${o.c.red(`${counts.removed} removed`)}, ${o.c.yellow(`${counts.changed} changed`)}${fn}`);
      const section = <T>(title: string, list: T[], total: number, line: (e: T) => string): void => {
        if (total === 0) return;
        o.out(`${title}:`);
        for (const e of list) o.out(`  ${line(e)}`);
        if (total > list.length) o.out(o.c.dim(`  ... and ${total - list.length} more (--limit N shows more)`));
      };
      section('functions', functions, counts.functions, (e) => `${e.change === 'added' ? o.c.green('+') : e.change === 'removed' ? o.c.red('-') : o.c.yellow('~')} ${JSON.stringify(bytesToDisplay(e.library))} (${e.change})`);
      section('added', added, counts.added, (e) => `${o.c.green('+')} ${keyText(e.db, e.key)} (${e.type}${e.expireAt !== null ? `, expires ${when(e.expireAt)}` : ''})`);
      section('removed', removed, counts.removed, (e) => `${o.c.red('-')} ${keyText(e.db, e.key)} (${e.type})`);
      section('changed', changed, counts.changed, (e) => `${o.c.yellow('~')} ${changedText(e)}`);
      if (!equal) throw new CliExit(ExitCode.Problem, '');
    });
}
