import { readRdb } from '@redis-persist/rdb';
import type { Command } from 'commander';
import type { KeyFilter } from '@redis-persist/keyspace';
import { Progress, addKeyFilterOptions, bytesToDisplay, createOutput, dataDirSource, formatBytes, keyFilterFrom, otherFileHint, sourceJson, usageError, type KeyFilterCliOptions } from '../common/index.js';

interface DbInfo {
  db: number;
  keys: number;
  expires: number;
  bytes: number;
  byType: Record<string, number>;
  byEncoding: Record<string, number>;
}

interface BigKey {
  db: number;
  key: string | { base64: string };
  type: string;
  encoding: string;
  size: number;
  elements: number;
  offset: number;
}

export interface RdbInfo {
  file: string;
  size: number;
  version: number | null;
  magic: string | null;
  aux: Record<string, string | { base64: string }>;
  keys: number;
  expires: number;
  dbs: DbInfo[];
  functions: { library: string; engine: string; bytes: number }[];
  moduleAux: { module: string; encver: number; when: number; bytes: number }[];
  largest: BigKey[];
  checksum: string | null;
  /** Only the keys a filter kept are counted (keys, dbs, largest); the functions and aux fields are the file's. */
  filtered: boolean;
}

/** Collects `rdb-tool info` figures in one streaming pass (values are validated, not kept). */
export async function rdbInfo(file: string, top: number, onProgress?: (n: number) => void, filter?: KeyFilter): Promise<RdbInfo> {
  const info: RdbInfo = { file, size: 0, version: null, magic: null, aux: {}, keys: 0, expires: 0, dbs: [], functions: [], moduleAux: [], largest: [], checksum: null, filtered: filter !== undefined };
  const dbs = new Map<number, DbInfo>();
  const largest: BigKey[] = [];
  let n = 0;
  for await (const r of readRdb(file, { values: false, skipEmpty: false, filter })) {
    switch (r.kind) {
      case 'header':
        info.version = r.version;
        info.magic = r.magic;
        break;
      case 'aux':
        info.aux[Buffer.from(r.key).toString('utf8')] = bytesToDisplay(r.value);
        break;
      case 'function':
        info.functions.push({ library: r.function.library, engine: r.function.engine, bytes: r.function.code.length });
        break;
      case 'module-aux':
        info.moduleAux.push({ module: r.module, encver: r.encver, when: r.when, bytes: r.raw.length });
        break;
      case 'key': {
        let d = dbs.get(r.db);
        if (!d) dbs.set(r.db, (d = { db: r.db, keys: 0, expires: 0, bytes: 0, byType: {}, byEncoding: {} }));
        d.keys++;
        d.bytes += r.size;
        info.keys++;
        if (r.expireAt !== null) {
          d.expires++;
          info.expires++;
        }
        d.byType[r.type] = (d.byType[r.type] ?? 0) + 1;
        d.byEncoding[`${r.type}/${r.encoding}`] = (d.byEncoding[`${r.type}/${r.encoding}`] ?? 0) + 1;
        if (top > 0 && (largest.length < top || r.size > largest[largest.length - 1].size)) {
          const k: BigKey = { db: r.db, key: bytesToDisplay(r.key), type: r.type, encoding: r.encoding, size: r.size, elements: r.elements, offset: r.offset };
          let i = largest.length;
          while (i > 0 && largest[i - 1].size < k.size) i--;
          largest.splice(i, 0, k);
          if (largest.length > top) largest.pop();
        }
        if (onProgress && ++n % 65536 === 0) onProgress(r.offset);
        break;
      }
      case 'end':
        info.checksum = r.checksum;
        info.size = r.endOffset;
        break;
      default:
        break;
    }
  }
  info.dbs = [...dbs.values()].sort((a, b) => a.db - b.db);
  info.largest = largest;
  return info;
}

const show = (v: string | { base64: string }) => (typeof v === 'string' ? JSON.stringify(v) : `base64:${v.base64}`);

export function registerInfo(program: Command): void {
  addKeyFilterOptions(
    program
      .command('info')
    .description('summarise an RDB file: version, aux fields, keys per db by type and encoding, expiries, largest keys, functions')
    .argument('<file>', 'the RDB file, or a data directory (its dbfilename, when that is what Redis loads)')
    .option('--json', 'print one JSON document')
    .option('--top <n>', 'how many of the largest keys (by serialized size) to list', '10'),
  )
    .option('--config <redis.conf>', "when <file> is a data directory: the server's redis.conf, whose appendonly decides what Redis loads (default: <file>/redis.conf when present, else appendonly no)")
    .option('--from <rdb>', "when <file> is a data directory: read its RDB file even when Redis would load the AOF ('rdb')")
    .action(async (input: string, opts: KeyFilterCliOptions & { json?: boolean; top: string; config?: string; from?: string }) => {
      const filter = keyFilterFrom(opts);
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 0) throw usageError(`--top wants a whole number, got ${JSON.stringify(opts.top)}`);
      const o = createOutput();
      if (opts.from === 'aof') throw usageError('--from aof: info describes an RDB file; for an AOF see aof-tool stats, or rdb-tool inspect-dir for what a restart loads');
      // a data directory: its RDB file when that is what Redis loads (said on stderr); the AOF is refused
      const src = await dataDirSource('rdb-tool', input, opts, o, {
        kind: 'rdb',
        why: 'info describes an RDB file',
        instead: (s) => `${otherFileHint(s)}; for the AOF run aof-tool stats ${s.path}, or rdb-tool inspect-dir ${input} for the keys a restart would load`,
      });
      const file = src?.path ?? input;
      const progress = new Progress('reading', 0);
      const info = await rdbInfo(file, top, (n) => progress.update(n), filter);
      progress.done();
      if (opts.json) {
        o.json({ ...info, source: sourceJson(src) });
        return;
      }
      o.out(`${o.c.bold(file)}: RDB version ${info.version} (${info.magic}), ${formatBytes(info.size)}, checksum ${info.checksum}`);
      for (const [k, v] of Object.entries(info.aux)) o.out(`  aux ${k} = ${show(v)}`);
      o.out(`  ${info.keys} keys${info.filtered ? ' matching the filter' : ''}, ${info.expires} with an expiry, in ${info.dbs.length} db(s)`);
      for (const d of info.dbs) {
        o.out(`  db ${d.db}: ${d.keys} keys (${d.expires} expiring), ${formatBytes(d.bytes)} serialized`);
        for (const [enc, c] of Object.entries(d.byEncoding).sort()) o.out(`      ${enc.padEnd(24)} ${c}`);
      }
      if (info.functions.length) {
        o.out(`  ${info.functions.length} function librar${info.functions.length === 1 ? 'y' : 'ies'}:`);
        for (const f of info.functions) o.out(`      ${f.library} (${f.engine}, ${f.bytes} bytes)`);
      }
      for (const m of info.moduleAux) o.out(`  module aux ${m.module} encver ${m.encver} when ${m.when} (${m.bytes} bytes)`);
      if (info.largest.length) {
        o.out(`  largest keys:`);
        for (const k of info.largest) {
          o.out(`      ${formatBytes(k.size).padStart(10)}  db ${k.db} ${show(k.key)} ${k.type}/${k.encoding}, ${k.elements} element(s), at offset ${k.offset}`);
        }
      }
    });
}
