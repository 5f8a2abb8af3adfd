// The key filter options every command that reads a keyspace takes, and the KeyFilter of @redis-persist/keyspace
// they make. One definition: a command calls addKeyFilterOptions(cmd) when registering, keyFilterFrom(opts) in its
// action, and passes the filter to the library (readRdb, dumpRdb, rdbMemoryRecords, rdbToAof, readAof...).
import { KEY_TYPES, KeyFilter, KeyspaceError, type KeyFilterSpec, type KeyType } from '@redis-persist/keyspace';
import type { Command } from 'commander';
import { usageError } from './exit.js';

/** What a command's key filter options parse into (commander's camelCase names). */
export interface KeyFilterCliOptions {
  key?: string[];
  keyPattern?: string[];
  keyRegex?: string[];
  excludeKey?: string[];
  excludeKeyRegex?: string[];
  type?: string[];
  db?: string[];
  expired?: boolean;
  notExpired?: boolean;
  now?: string;
  minBytes?: string;
  minElements?: string;
}

export interface KeyFilterOptionSet {
  /** Offer `--type`, `--expired`/`--not-expired`/`--now` (keys with values: not an AOF's commands). Default true. */
  values?: boolean;
  /** Offer `--expired`/`--not-expired`/`--now`. Default as `values`. */
  expiry?: boolean;
  /** Offer `--min-bytes` (a key's record in an RDB). Default true. */
  bytes?: boolean;
  /** Offer `--min-elements`. Default as `values`. */
  elements?: boolean;
  /** The command already has its own `--db` (then it is left alone and not read here). */
  noDb?: boolean;
  /** Also accept `--key-pattern <glob>` as another name of `--key` (aof-tool cat's older flag). */
  keyPatternAlias?: boolean;
}

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
/** Repeatable and comma-separated. */
const collectList = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), ...v.split(',').map((s) => s.trim()).filter((s) => s !== '')];

/** Registers the shared key filter options on a command (see README "Filters"). */
export function addKeyFilterOptions(cmd: Command, set: KeyFilterOptionSet = {}): Command {
  const values = set.values ?? true;
  cmd.option('--key <glob>', 'only keys matching this Redis glob on the raw key bytes (repeat: any of them)', collect);
  if (set.keyPatternAlias) cmd.option('--key-pattern <glob>', 'the same as --key', collect);
  cmd.option('--key-regex <re>', 'only keys matching this JavaScript regex, the key read as latin1 (one char per byte); counts as an include with --key', collect);
  cmd.option('--exclude-key <glob>', 'leave out keys matching this Redis glob (repeatable)', collect);
  cmd.option('--exclude-key-regex <re>', 'leave out keys matching this regex (repeatable)', collect);
  if (values) cmd.option('--type <t,...>', `only keys of these types (${KEY_TYPES.join(', ')}; repeatable)`, collectList);
  if (!set.noDb) cmd.option('--db <n,...>', 'only these databases (repeatable)', collectList);
  if (set.expiry ?? values) {
    cmd.option('--expired', 'only keys whose expiry is before --now (they are kept although a loading master would drop them)');
    cmd.option('--not-expired', 'only keys without an expiry or expiring at or after --now');
    cmd.option('--now <ms|ISO>', 'the time --expired/--not-expired compare with: Unix ms or an ISO 8601 date (default: now)');
  }
  if (set.bytes ?? values) cmd.option('--min-bytes <n>', "only keys whose RDB record (type, key, value, expiry) is at least n bytes (the 'size' dump and info show)");
  if (set.elements ?? values) cmd.option('--min-elements <n>', 'only keys with at least n elements (list items, set/zset members, hash fields, stream entries; 1 for a string)');
  return cmd;
}

function count(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw usageError(`${flag} wants a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(v.trim());
}

/** `--now`: Unix ms (digits) or an ISO 8601 date. */
export function parseNow(v: string): number {
  const t = v.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (!/^\d{4}-\d\d/.test(t) || Number.isNaN(ms)) throw usageError(`--now wants Unix ms or an ISO 8601 date (2026-12-07T18:00:00Z), got ${JSON.stringify(v)}`);
  return ms;
}

/**
 * The filter the options ask for (undefined when none is given), or a usage error (exit 2) naming the bad option:
 * a bad regex, an unknown type, a bad number, `--expired` with `--not-expired`.
 */
export function keyFilterFrom(opts: KeyFilterCliOptions): KeyFilter | undefined {
  const spec: KeyFilterSpec = {};
  const keys = [...(opts.key ?? []), ...(opts.keyPattern ?? [])];
  if (keys.length) spec.keys = keys;
  if (opts.keyRegex?.length) spec.keyRegexes = opts.keyRegex;
  if (opts.excludeKey?.length) spec.excludeKeys = opts.excludeKey;
  if (opts.excludeKeyRegex?.length) spec.excludeKeyRegexes = opts.excludeKeyRegex;
  if (opts.type?.length) {
    for (const t of opts.type) if (!KEY_TYPES.includes(t as KeyType)) throw usageError(`--type must be one of ${KEY_TYPES.join(', ')}, got ${JSON.stringify(t)}`);
    spec.types = opts.type as KeyType[];
  }
  if (opts.db?.length) {
    spec.dbs = opts.db.map((d) => {
      if (!/^\d+$/.test(d)) throw usageError(`--db wants a database number, got ${JSON.stringify(d)}`);
      return Number(d);
    });
  }
  if (opts.expired && opts.notExpired) throw usageError('--expired and --not-expired exclude each other');
  if (opts.expired) spec.expired = true;
  if (opts.notExpired) spec.expired = false;
  if (opts.now !== undefined) {
    if (spec.expired === undefined) throw usageError('--now goes with --expired or --not-expired');
    spec.now = parseNow(opts.now);
  }
  const minBytes = count('--min-bytes', opts.minBytes);
  const minElements = count('--min-elements', opts.minElements);
  if (minBytes !== undefined) spec.minBytes = minBytes;
  if (minElements !== undefined) spec.minElements = minElements;
  if (Object.keys(spec).length === 0) return undefined;
  try {
    return KeyFilter.from(spec);
  } catch (err) {
    if (err instanceof KeyspaceError && err.kind === 'usage') {
      const flag = /exclude-key regex/.test(err.message) ? '--exclude-key-regex' : /key regex/.test(err.message) ? '--key-regex' : 'filter';
      throw usageError(`${flag}: ${err.message.replace(/^(exclude-key|key) regex: /, '')}`);
    }
    throw err;
  }
}

/** Refuses the size options where a key has no RDB record (an AOF's keys, keyspace JSON Lines). */
export function refuseMinBytes(filter: KeyFilter | undefined, where: string): void {
  if (filter && filter.minBytes > 0) throw usageError(`--min-bytes measures a key's record in an RDB file; ${where} has none (use --min-elements)`);
}
