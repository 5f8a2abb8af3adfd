// RESP commands that rebuild a keyspace record (what an AOF rewrite would write). Local to rdb-tool until
// @redis-persist/keyspace offers commandsForKey/commandsForFunction.
import type { KeyspaceRecord } from '@redis-persist/keyspace';
import { encodeCommand, type CommandArg } from '@redis-persist/resp';

const BATCH = 128;

function score(n: number): string {
  return n === Infinity ? 'inf' : n === -Infinity ? '-inf' : String(n);
}

/** Commands (argument lists) that recreate one record in the currently selected db. */
export function* recordCommands(rec: KeyspaceRecord): Generator<CommandArg[]> {
  if (rec.kind === 'function') {
    yield ['FUNCTION', 'LOAD', 'REPLACE', rec.code];
    return;
  }
  const k = rec.key;
  switch (rec.type) {
    case 'string':
      yield ['SET', k, rec.value];
      break;
    case 'list':
    case 'set': {
      const cmd = rec.type === 'list' ? 'RPUSH' : 'SADD';
      for (let i = 0; i < rec.value.length; i += BATCH) yield [cmd, k, ...rec.value.slice(i, i + BATCH)];
      break;
    }
    case 'zset':
      for (let i = 0; i < rec.value.length; i += BATCH) yield ['ZADD', k, ...rec.value.slice(i, i + BATCH).flatMap(([m, s]) => [score(s), m])];
      break;
    case 'hash': {
      for (let i = 0; i < rec.value.length; i += BATCH) yield ['HSET', k, ...rec.value.slice(i, i + BATCH).flatMap((f) => [f.field, f.value])];
      for (const f of rec.value) if (f.expireAt !== null) yield ['HPEXPIREAT', k, String(f.expireAt), 'FIELDS', '1', f.field];
      break;
    }
    case 'stream': {
      const s = rec.value;
      for (const e of s.entries) yield ['XADD', k, e.id, ...e.fields.flat()];
      if (s.entries.length === 0) yield ['XADD', k, 'MAXLEN', '0', s.lastId, 'x', 'y'];
      yield ['XSETID', k, s.lastId, 'ENTRIESADDED', String(s.entriesAdded), 'MAXDELETEDID', s.maxDeletedId];
      for (const g of s.groups) {
        yield ['XGROUP', 'CREATE', k, g.name, g.lastDeliveredId, 'ENTRIESREAD', String(g.entriesRead ?? -1)];
        for (const c of g.consumers) yield ['XGROUP', 'CREATECONSUMER', k, g.name, c.name];
        for (const p of g.pending) {
          yield ['XCLAIM', k, g.name, p.consumer, '0', p.id, 'TIME', String(p.deliveryTime), 'RETRYCOUNT', String(p.deliveryCount), 'FORCE', 'JUSTID', 'LASTID', g.lastDeliveredId];
        }
      }
      break;
    }
    case 'module':
      // a module value can only be recreated by its module: nothing portable to emit
      return;
  }
  if (rec.expireAt !== null) yield ['PEXPIREAT', k, String(rec.expireAt)];
}

/** RESP bytes for a sequence of records (file or canonical order): SELECT before each change of db. */
export async function* respChunks(records: AsyncIterable<KeyspaceRecord>): AsyncGenerator<Uint8Array> {
  let db = -1;
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const rec of records) {
    if (rec.kind === 'key' && rec.db !== db) {
      db = rec.db;
      const c = encodeCommand(['SELECT', String(db)]);
      parts.push(c);
      size += c.length;
    }
    for (const args of recordCommands(rec)) {
      const c = encodeCommand(args);
      parts.push(c);
      size += c.length;
    }
    if (size >= 1 << 16) {
      yield Buffer.concat(parts);
      parts.length = 0;
      size = 0;
    }
  }
  if (parts.length) yield Buffer.concat(parts);
}
