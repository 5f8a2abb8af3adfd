import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type StreamValue } from '@redis-persist/keyspace';
import { keyspaceJsonlChunks } from '@redis-persist/jsonl';
import { sortKeyspace } from '@redis-persist/extsort';
import { RdbParser, DONE, NEED_MORE, rdbKeyspaceRecords, type ReadRdbOptions, type RdbRecord, type RdbSource } from '@redis-persist/rdb';

export function walk(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    })
    .sort();
}

/** Canonical JSONL of an RDB, expired keys dropped as a loading master does. */
export async function canonicalDump(source: RdbSource, now = Date.now()): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of keyspaceJsonlChunks(sortKeyspace(rdbKeyspaceRecords(source, { dropExpiredBefore: now })))) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** An expected corpus file without its "encoding" members, re-serialised the same way. */
export function stripEncoding(text: string): string {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    delete o.encoding;
    return JSON.stringify(o) + '\n';
  }).join('');
}

/** Feeds `data` through the sync parser in chunks of `size` bytes; returns the records (throws RdbError). */
export function parseChunked(data: Uint8Array, size: number, options: ReadRdbOptions = {}): RdbRecord[] {
  const p = new RdbParser(options);
  const out: RdbRecord[] = [];
  let at = 0;
  for (;;) {
    const r = p.next();
    if (r === DONE) return out;
    if (r === NEED_MORE) {
      if (at >= data.length) p.end();
      else {
        p.push(data.subarray(at, at + size));
        at += size;
      }
      continue;
    }
    out.push(r);
  }
}

/** Adds a stream piece (chunkElements) to what the pieces before it gave. */
export function joinStreamPiece(acc: StreamValue | null, piece: StreamValue): StreamValue {
  if (acc === null) return { ...piece, entries: [...piece.entries], groups: piece.groups.map((g) => ({ ...g, pending: [...g.pending], consumers: [...g.consumers] })) };
  const groups = acc.groups;
  for (const g of piece.groups) {
    const last = groups.at(-1);
    if (last && Buffer.compare(last.name, g.name) === 0) {
      last.pending.push(...g.pending);
      last.consumers.push(...g.consumers);
    } else groups.push({ ...g, pending: [...g.pending], consumers: [...g.consumers] });
  }
  return { ...piece, entries: [...acc.entries, ...piece.entries], groups };
}

/** The index of the first member equal to an earlier one, or -1. */
export function firstDuplicate(members: Uint8Array[]): number {
  const seen = new Set<string>();
  for (let i = 0; i < members.length; i++) {
    const k = Buffer.from(members[i]).toString('hex');
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}
