import type { Command } from 'commander';

/** One example of a `--help`: a command line that works as written, and what it does in one line. */
export interface Example {
  /** The command line, starting with the program and subcommand names (`aof-tool check ...`). */
  run: string;
  /** What it does, one line. */
  does: string;
}

// The paths under examples/ are the files shipped in the repository (run from its root); help.test.ts runs
// every example that names one of them, so keep them true. The others show a typical data directory.
const CRASHED = 'examples/crashed/appendonly.aof';
const FLUSHALL = 'examples/flushall/appendonlydir';
const BASE_RDB = 'examples/flushall/appendonlydir/appendonly.aof.2.base.rdb';

/**
 * The examples every `--help` ends with, keyed by the full command name (`program subcommand`).
 * A command registered without an entry here fails packages/cli/test/help.test.ts: add two or three.
 */
export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  'aof-tool': [
    { run: 'aof-tool check /var/lib/redis', does: 'can Redis load the AOF of this data directory? (exit 0 valid, 1 damaged)' },
    { run: `aof-tool fix --yes ${CRASHED}`, does: 'repair a crashed AOF as redis-check-aof --fix does (original kept as .bak)' },
    { run: `aof-tool strip --dry-run FLUSHALL ${FLUSHALL}`, does: 'list the stray FLUSHALL a strip would remove; change nothing' },
  ],
  'aof-tool check': [
    { run: `aof-tool check ${CRASHED}`, does: 'a crashed AOF: exit 1, where the damage is and how many bytes a fix would cut' },
    { run: `aof-tool check --json ${FLUSHALL}`, does: 'a Redis 7+ multi-part AOF (manifest, RDB base, incr files) as one JSON report' },
    { run: 'aof-tool check --quiet --junit report.xml backups/*.aof', does: 'CI: check many AOFs, print only the damaged ones, write a JUnit report' },
  ],
  'aof-tool fix': [
    { run: `aof-tool fix --yes ${CRASHED}`, does: 'cut the damaged tail without asking; the original is kept as appendonly.aof.bak' },
    { run: 'aof-tool fix --salvage /var/lib/redis/appendonly.aof', does: 'damage in the middle: show a plan that keeps the commands after it, ask before applying' },
    { run: 'aof-tool fix --truncate-to-timestamp 1767225600 --yes /var/lib/redis', does: 'point-in-time recovery: cut at the first #TS annotation after that Unix time' },
  ],
  'aof-tool strip': [
    { run: `aof-tool strip --dry-run FLUSHALL ${FLUSHALL}`, does: 'list every FLUSHALL that would be removed (file:offset); change nothing' },
    { run: `aof-tool strip FLUSHALL FLUSHDB ${FLUSHALL} -o rescued`, does: 'write a copy without FLUSHALL and FLUSHDB to rescued/; the input is left untouched' },
    { run: 'aof-tool strip --last FLUSHALL /var/lib/redis', does: 'remove only the last FLUSHALL, in place (stop Redis first; originals kept as .bak)' },
  ],
  'aof-tool cat': [
    { run: `aof-tool cat ${FLUSHALL}`, does: 'every command in load order, with its database, file and offset' },
    { run: `aof-tool cat --json --command set --key-pattern 'after:*' ${FLUSHALL}`, does: 'the SETs of keys matching after:*, one JSON object per command' },
    { run: 'aof-tool cat --db 0 --command del --command unlink /var/lib/redis', does: 'who deleted keys in db 0: every DEL and UNLINK of the data directory\'s AOF' },
  ],
  'aof-tool filter': [
    { run: "aof-tool filter --key 'user:*' --exclude-key 'user:tmp:*' /var/lib/redis -o users.aof", does: "an AOF of the user:* keys' commands only (DEL/MSET cut down to them, #TS: kept); the input is untouched" },
    { run: 'aof-tool filter --db 0 --partial keep appendonly.aof -o db0.aof', does: 'the commands of database 0; a mixed SWAPDB/RENAME is kept whole and reported instead of refused' },
  ],
  'aof-tool stats': [
    { run: `aof-tool stats ${FLUSHALL}`, does: 'commands by name and by database, with the files and their sizes' },
    { run: 'aof-tool stats --json /var/lib/redis', does: 'the same for the AOF of a data directory, as one JSON report' },
  ],
  'aof-tool rewrite': [
    { run: `aof-tool rewrite ${FLUSHALL}`, does: 'BGREWRITEAOF offline: new RDB base, empty incr file; old files kept in appendonlydir.bak-<time>/' },
    { run: 'aof-tool rewrite --base aof /var/lib/redis', does: 'stop Redis first; a base of RESP commands, as with aof-use-rdb-preamble no' },
  ],
  'aof-tool to-rdb': [
    { run: `aof-tool to-rdb ${FLUSHALL} dump.rdb`, does: 'replay the AOF and write the keyspace Redis would load as dump.rdb' },
    { run: `aof-tool to-rdb --rdb-version 9 ${CRASHED} dump.rdb`, does: 'an RDB for Redis 5/6 from a crashed AOF (its damaged tail is left out, as Redis does)' },
    { run: 'aof-tool to-rdb --until 2026-01-01T00:00:00Z /var/lib/redis before.rdb', does: 'the keyspace as of that time (needs aof-timestamp-enabled yes)' },
  ],
  'aof-tool follow': [
    { run: 'aof-tool follow redis://backup:secret@10.0.0.5:6379 /backups/redis', does: 'continuous backup as a replica: RDB base + incr files Redis loads; run again to resume (PSYNC, no gap)' },
    { run: 'aof-tool follow --rotate 256 --fsync always --json redis://10.0.0.5:6379 /backups/redis', does: 'a new incr file every 256 MiB, fsync after each write, one JSON line per event' },
    { run: 'aof-tool follow --sentinel 10.0.0.7:26379,10.0.0.8:26379 --master mymaster /backups/redis', does: 'follow whichever server Sentinel names master, through failovers' },
  ],
  'rdb-tool': [
    { run: 'rdb-tool check /var/lib/redis/dump.rdb', does: 'verify a snapshot as redis-check-rdb does (exit 0 valid, 1 damaged)' },
    { run: `rdb-tool info --top 3 ${BASE_RDB}`, does: 'version, aux fields, keys by type and encoding, the 3 largest keys' },
    { run: 'rdb-tool inspect-dir --config /etc/redis/redis.conf /var/lib/redis', does: 'what Redis will load from its data directory at the next restart' },
  ],
  'rdb-tool check': [
    { run: `rdb-tool check ${BASE_RDB}`, does: 'structure, every encoding and the CRC64 (an AOF\'s RDB base is an RDB file too)' },
    { run: 'rdb-tool check --json /var/lib/redis/dump.rdb', does: 'one JSON report (ok, keys per db, checksum, error offset) for monitoring' },
    { run: 'rdb-tool check --quiet --junit report.xml backups/*.rdb', does: 'CI: check many snapshots, print only the damaged ones, write a JUnit report' },
  ],
  'rdb-tool info': [
    { run: `rdb-tool info --top 3 ${BASE_RDB}`, does: 'version, aux fields, keys per db by type and encoding, the 3 largest keys' },
    { run: 'rdb-tool info --json /var/lib/redis/dump.rdb', does: 'the same as one JSON document' },
  ],
  'rdb-tool dump': [
    { run: `rdb-tool dump --key 'user:1*' --exclude-key '*:tmp' --type string,hash ${BASE_RDB}`, does: 'the strings and hashes matching user:1*, but not *:tmp, as canonical JSON Lines' },
    { run: 'rdb-tool dump --format resp dump.rdb | redis-cli --pipe', does: 'load a snapshot into a running server as commands' },
    { run: 'rdb-tool dump --salvage -o rescued.jsonl damaged.rdb', does: 'export every key that can still be read from a damaged snapshot' },
  ],
  'rdb-tool convert': [
    { run: `rdb-tool convert --rdb-version 9 ${BASE_RDB} dump-v9.rdb`, does: 'downgrade a snapshot for Redis 5/6 (RDB 9)' },
    { run: `rdb-tool convert ${FLUSHALL} keyspace.jsonl`, does: 'replay an AOF as Redis would load it and write the keyspace as JSON Lines' },
    { run: 'rdb-tool convert --valkey keyspace.jsonl dump.rdb', does: 'build a snapshot for Valkey from keyspace JSON Lines' },
  ],
  'rdb-tool to-aof': [
    { run: `rdb-tool to-aof ${BASE_RDB} appendonlydir`, does: 'a Redis 7+ multi-part AOF directory (manifest, base, empty incr file)' },
    { run: 'rdb-tool to-aof /var/lib/redis/dump.rdb appendonly.aof', does: 'a single-file AOF, as Redis before 7 writes it' },
  ],
  'rdb-tool fetch': [
    { run: 'rdb-tool fetch redis://127.0.0.1:6379 -o dump.rdb', does: 'a snapshot of a live server as a replica gets it, verified while it streams (as redis-cli --rdb)' },
    { run: 'rdb-tool fetch --cacert ca.crt rediss://backup:secret@redis.internal:6380 -o dump.rdb', does: 'over TLS, as an ACL user allowed +psync +replconf +ping' },
    { run: 'rdb-tool fetch --cluster redis://127.0.0.1:7000 -o backup/', does: 'every master of a cluster into backup/<node id>.rdb, plus nodes.json (as redis-cli --cluster backup)' },
  ],
  'rdb-tool split': [
    { run: 'rdb-tool split --cluster redis://127.0.0.1:7000 dump.rdb -o parts', does: 'one RDB per master of the live cluster (parts/<node id>.rdb), keys copied verbatim' },
    { run: `rdb-tool split --slots 0-8191,8192-16383 ${FLUSHALL} -o parts`, does: 'replay an AOF and split its keyspace by slot: parts/0-8191.rdb and parts/8192-16383.rdb' },
    { run: 'rdb-tool split --nodes-conf /var/lib/redis/nodes.conf --db 0 dump.rdb -o parts', does: "by the slot map of a node's nodes.conf; keys of dbs other than 0 are left out" },
  ],
  'rdb-tool diff': [
    { run: 'rdb-tool diff yesterday.rdb /var/lib/redis/dump.rdb', does: 'the keys added, removed and changed (type, value, expiry) since yesterday; exit 0 when equal, 1 when not' },
    { run: "rdb-tool diff --json --key 'user:*' --ignore-ttl a.rdb b.rdb", does: 'the differences of the user:* keys as one JSON document, expiry changes left out' },
    { run: 'rdb-tool diff --quiet backup.rdb keyspace.jsonl', does: 'CI: does a backup still hold what the JSON Lines export holds? (exit code only)' },
  ],
  'rdb-tool merge': [
    { run: 'rdb-tool merge backup/ -o dump.rdb', does: 'the per-node snapshots of a cluster backup as one snapshot for a standalone server' },
    { run: 'rdb-tool merge --on-duplicate last old.rdb new.rdb -o merged.rdb', does: 'a key in both files: keep the one of new.rdb (without the option: exit 1 naming both files)' },
  ],
  'rdb-tool restore': [
    { run: 'rdb-tool restore dump.rdb redis://127.0.0.1:6379', does: 'load a snapshot into a running server, keys with their expiry (refused if it holds keys: --replace or --flush)' },
    { run: 'rdb-tool restore --cluster redis://127.0.0.1:7000 backup/*.rdb', does: 'every key of the snapshots to the master owning its slot, functions to every master' },
    { run: 'rdb-tool restore --db-map 0:3 --replace /backup/appendonlydir redis://:secret@10.0.0.5:6379', does: 'replay an AOF offline and restore its db 0 into db 3, overwriting keys of the same name' },
  ],
  'rdb-tool memory': [
    { run: `rdb-tool memory ${BASE_RDB}`, does: 'each key\'s estimated memory (what MEMORY USAGE reports) as JSON Lines, then a summary line' },
    { run: 'rdb-tool memory --config /etc/redis/redis.conf --format csv -o keys.csv dump.rdb', does: 'as the server with that config would hold it after loading (its encoding limits), as CSV' },
    { run: 'rdb-tool memory --json /var/lib/redis/dump.rdb', does: 'only the summary: totals by type and encoding, db tables, the used_memory a load would add' },
  ],
  'rdb-tool export': [
    { run: 'rdb-tool export -o keys/ backups/*.rdb', does: 'one Parquet file per backup (keys/<name>.parquet), a row per key: source, db, key, type, encoding, expiry, elements, bytes, memory' },
    { run: 'rdb-tool export --format csv -o keys/ /var/lib/redis/dump.rdb', does: 'the same rows as CSV (keys/dump.csv), expiry as Unix ms' },
    { run: 'rdb-tool export --config /etc/redis/redis.conf --force --json -o /srv/keys /backups/2026-12-01/*.rdb', does: 'encoding and memory as that server would hold the keys; replace last run\'s files (kept as .bak); the files and rows as JSON' },
  ],
  'rdb-tool report': [
    { run: 'rdb-tool report dump.rdb', does: 'where the memory goes: prefix tree, largest keys, types, encodings, TTLs, as tables' },
    { run: 'rdb-tool report --html report.html --separator ":." --depth 2 backups/node-*.rdb', does: 'one report over a cluster\'s backups, also as a self-contained HTML page (treemap, charts, tables)' },
    { run: 'rdb-tool report --json --now 2026-12-01T00:00:00Z --top 100 dump.rdb', does: 'as JSON (shape in the README), TTL buckets counted from that date, the 100 largest keys' },
  ],
  'rdb-tool inspect-dir': [
    { run: 'rdb-tool inspect-dir --appendonly yes examples/flushall', does: 'with appendonly yes: which files Redis loads, in what order, valid or not, keys' },
    { run: 'rdb-tool inspect-dir --config /etc/redis/redis.conf /var/lib/redis', does: 'what the server will load at its next restart, with its own configuration' },
  ],
};

/** `aof-tool`, `aof-tool check`, ...: the name an EXAMPLES entry is keyed by. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The help text of a list of examples: an "Examples:" section, each example a `# what` line then a `$ command` line. */
export function formatExamples(examples: readonly Example[]): string {
  return ['', 'Examples:', ...examples.flatMap((e) => [`  # ${e.does}`, `  $ ${e.run}`])].join('\n');
}

/**
 * Ends the help of the program and of each of its (sub)commands with its examples from EXAMPLES.
 * Returns the commands that have none (the help test fails on them), so that nothing breaks at run time.
 */
export function addExamples(program: Command): string[] {
  const missing: string[] = [];
  const all: Command[] = [program];
  for (let i = 0; i < all.length; i++) all.push(...all[i].commands);
  for (const cmd of all) {
    const examples = EXAMPLES[commandPath(cmd)];
    if (!examples || examples.length === 0) missing.push(commandPath(cmd));
    else cmd.addHelpText('after', formatExamples(examples));
  }
  return missing;
}
