// `rdb-tool report`: one report over RDB files (a key-prefix tree, top keys, type / encoding / TTL histograms, size
// percentiles) as terminal tables, JSON or a self-contained HTML page. The report is @redis-persist/analysis'
// (reportRdbFiles, reportHtml); this file parses options, writes the outputs and formats the tables.
import { REPORT_DEFAULTS, reportHtml, reportRdbFiles, type MemoryServerModel, type Report, type TopKey } from '@redis-persist/analysis';
import { AtomicFile, checkOutput } from '@redis-persist/fsio';
import type { Command } from 'commander';
import { keepHeapSmall } from './memory.js';
import { analysisRdbFile, inputFileSize, memoryModelOptions } from './memory-estimate.js';
import { Progress, addKeyFilterOptions, createOutput, formatBytes, keyFilterFrom, parseNow, usageError, type KeyFilterCliOptions, type Output, interruptSignal } from '../common/index.js';

interface ReportOpts {
  separator: string;
  depth: string;
  maxPrefixes: string;
  top: string;
  now?: string;
  config?: string;
  server: string;
  json?: boolean;
  html?: string;
  force?: boolean;
  rows: string;
}

function positiveInt(name: string, v: string, min = 1): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw usageError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

// ---- terminal tables ----

const n = (x: number | null): string => (x === null ? '-' : x.toLocaleString('en-US'));

function tableLines(o: Output, head: string[], rows: string[][], right: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [o.c.bold(fmt(head)), ...rows.map(fmt)];
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + '…';
}

function printReport(o: Output, r: Report, rows: number): void {
  const section = (title: string) => {
    o.out('');
    o.out(o.c.underline.bold(title));
  };
  const t = r.totals;
  o.out(`${n(t.keys)} keys, ${formatBytes(t.memory)} as MEMORY USAGE counts them (model ${r.server}, ${r.encodings === 'config' ? 'encodings from --config' : "the files' encodings"}), ${n(t.withoutTtl)} without TTL, ${n(t.expired)} expired at ${new Date(r.now).toISOString()}`);
  section('Files');
  o.out(
    tableLines(
      o,
      ['file', 'keys', 'memory', 'without TTL', 'expired', 'used_memory', 'dbs'],
      r.files.map((f) => [f.file, n(f.keys), formatBytes(f.memory), n(f.withoutTtl), n(f.expired), formatBytes(f.usedMemory), f.dbs.map((d) => `${d.db}:${d.keys}`).join(' ')]),
      [false, true, true, true, true, true, false],
    ).join('\n'),
  );
  const p = r.prefixes;
  section(`Prefixes (separator ${JSON.stringify(p.separator)}, depth ${p.depth})`);
  o.out(
    p.mode === 'exact'
      ? `exact: ${n(p.nodes)} prefixes; keys with no separator: ${n(p.unprefixed.keys)}`
      : o.c.yellow(`heavy hitters: more than ${n(p.maxPrefixes)} prefixes (${n(p.evictions)} evicted); counts are upper bounds, memory over by at most ${formatBytes(p.memoryErrorBound)}, keys by at most ${n(p.keysErrorBound)} (error column per entry)`),
  );
  // the tree, children under their parent, largest first
  const kids = new Map<string | null, typeof p.entries>();
  const present = new Set(p.entries.map((e) => e.prefix));
  for (const e of p.entries) {
    const parent = e.parent !== null && present.has(e.parent) ? e.parent : null;
    const list = kids.get(parent) ?? [];
    list.push(e);
    kids.set(parent, list);
  }
  const treeRows: string[][] = [];
  const walk = (parent: string | null, indent: number) => {
    for (const e of kids.get(parent) ?? []) {
      if (treeRows.length >= rows) return;
      const err = p.mode === 'exact' ? '' : `±${formatBytes(e.error.memory)}`;
      treeRows.push([cut('  '.repeat(indent) + e.prefix, 60), n(e.keys), formatBytes(e.memory), t.memory ? `${((100 * e.memory) / t.memory).toFixed(1)}%` : '-', n(e.withoutTtl), err]);
      walk(e.prefix, indent + 1);
    }
  };
  walk(null, 0);
  o.out(tableLines(o, ['prefix', 'keys', 'memory', 'share', 'without TTL', p.mode === 'exact' ? '' : 'error'], treeRows, [false, true, true, true, true, true]).join('\n'));
  if (p.entries.length > treeRows.length) o.out(o.c.dim(`(${n(treeRows.length)} of ${n(p.entries.length)} prefixes shown: --rows, or --json / --html for all)`));
  const top = (title: string, keys: TopKey[]) => {
    section(title);
    o.out(
      tableLines(
        o,
        ['key', 'type', 'encoding', 'memory', 'elements', 'db', r.files.length > 1 ? 'file' : ''],
        keys.map((k) => [cut(k.key, 60), k.type, k.encoding, formatBytes(k.memory), n(k.elements), String(k.db), r.files.length > 1 ? k.file : '']),
        [false, false, false, true, true, true, false],
      ).join('\n'),
    );
  };
  top(`Top ${r.topByMemory.length} keys by memory`, r.topByMemory);
  top(`Top ${r.topByElements.length} keys by elements`, r.topByElements);
  section('Types (percentiles per key: memory / elements)');
  o.out(
    tableLines(
      o,
      ['type', 'keys', 'memory', 'elements', 'mem p50', 'mem p90', 'mem p99', 'el p50', 'el p90', 'el p99', 'el max'],
      r.types.map((x) => [
        x.type,
        n(x.keys),
        formatBytes(x.memory),
        n(x.elements),
        n(x.percentiles.memory.p50),
        n(x.percentiles.memory.p90),
        n(x.percentiles.memory.p99),
        n(x.percentiles.elements.p50),
        n(x.percentiles.elements.p90),
        n(x.percentiles.elements.p99),
        n(x.percentiles.elements.max),
      ]),
      [false, true, true, true, true, true, true, true, true, true, true],
    ).join('\n'),
  );
  o.out(o.c.dim(`percentiles: ${r.percentileMethod}`));
  section('Encodings');
  o.out(tableLines(o, ['type/encoding', 'keys', 'memory'], r.encodingsHistogram.map((e) => [`${e.type}/${e.encoding}`, n(e.keys), formatBytes(e.memory)]), [false, true, true]).join('\n'));
  section('TTL');
  o.out(tableLines(o, ['expires', 'keys', 'memory'], r.ttl.map((b) => [b.label, n(b.keys), formatBytes(b.memory)]), [false, true, true]).join('\n'));
}

export function registerReport(program: Command): void {
  addKeyFilterOptions(
  program
    .command('report')
    .description(
      'one report over RDB files (a cluster\'s backups): a key-prefix tree with memory and keys without TTL, the largest keys, type / encoding / TTL histograms and size percentiles; as tables, --json or a self-contained --html page',
    )
    .argument('<files...>', 'RDB files (or data directories: their dbfilename, when that is what Redis loads)')
    .option('--separator <chars>', 'each of these ASCII characters ends a prefix segment', REPORT_DEFAULTS.separator)
    .option('--depth <n>', 'prefix levels in the tree', String(REPORT_DEFAULTS.depth))
    .option('--max-prefixes <n>', 'prefixes counted exactly; past that the heaviest are kept (Space-Saving) with an error bound per entry', String(REPORT_DEFAULTS.maxPrefixes))
    .option('--top <n>', 'keys in each top list (by memory, by elements)', String(REPORT_DEFAULTS.top))
    .option('--now <ms|ISO>', 'the time TTL buckets count from (Unix ms or ISO 8601; default: now)')
    .option('--config <redis.conf>', "the loading server's redis.conf: its encoding limits decide encodings and memory, as in rdb-tool memory")
    .option('--server <model>', 'redis-7.0 or valkey-8 (the memory model, as in rdb-tool memory)', 'redis-7.0')
    .option('--json', 'print the report as one JSON document (shape: README, "rdb-tool report")')
    .option('--html <file>', 'also write the report as one self-contained HTML page (atomically; an existing file is refused without --force)')
    .option('--force', 'with --html: replace an existing file (the old one is kept as <file>.bak)')
    .option('--rows <n>', 'prefix rows in the terminal tables', '40')
    .option('--expired', 'only keys whose expiry is before --now')
    .option('--not-expired', 'only keys without an expiry or expiring at or after --now'),
    // --now is the report's own (the TTL buckets count from it), and --expired/--not-expired compare with it too
    { expiry: false },
  ).action(async (inputs: string[], opts: ReportOpts & KeyFilterCliOptions) => {
      const depth = positiveInt('--depth', opts.depth);
      const maxPrefixes = positiveInt('--max-prefixes', opts.maxPrefixes);
      const top = positiveInt('--top', opts.top, 0);
      const rows = positiveInt('--rows', opts.rows, 0);
      // keys are cut at bytes: a multi-byte character would cut inside other characters
      if (opts.separator === '' || /[^\x00-\x7f]/.test(opts.separator)) throw usageError(`--separator must be one or more ASCII characters, got ${JSON.stringify(opts.separator)}`);
      const now = opts.now !== undefined ? parseNow(opts.now) : Date.now();
      const filter = keyFilterFrom({ ...opts, now: opts.expired || opts.notExpired ? String(now) : undefined });
      const config = await memoryModelOptions(opts);
      const o = createOutput();
      const files: string[] = [];
      /** Bytes of the files read before each one, for the progress over all of them. */
      const before = new Map<string, number>();
      let total = 0;
      for (const input of inputs) {
        const file = await analysisRdbFile(input, opts.config, o, 'report reads the keys of an RDB file');
        const size = await inputFileSize(file);
        if (!before.has(file)) before.set(file, total);
        total += size;
        files.push(file);
      }
      if (opts.html !== undefined) await checkOutput(opts.html, { force: opts.force, inputs: files });
      keepHeapSmall();
      const progress = new Progress('reading', total);
      const report = await reportRdbFiles(files, {
        signal: interruptSignal(),
        config,
        server: opts.server as MemoryServerModel,
        separator: opts.separator,
        depth,
        maxPrefixes,
        top,
        now,
        filter,
        onProgress: ({ file, bytes }) => progress.update((before.get(file) ?? 0) + bytes),
      }).finally(() => progress.done());
      if (opts.html !== undefined) {
        const out = await AtomicFile.create(opts.html, { force: opts.force, inputs: files });
        try {
          await out.write(new TextEncoder().encode(reportHtml(report, { generatedAt: Date.now() })));
          await out.commit();
        } catch (err) {
          await out.abort();
          throw err;
        }
      }
      if (opts.json) o.json(report);
      else printReport(o, report, rows);
      if (opts.html !== undefined) o.err(`wrote ${opts.html}`);
    });
}
