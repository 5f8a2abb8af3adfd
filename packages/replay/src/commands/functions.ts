// FUNCTION LOAD / DELETE / FLUSH / RESTORE (Redis' functions.c).
import type { FunctionRecord } from '@redis-persist/keyspace';
import { DONE, RdbParser } from '@redis-persist/rdb';
import { RdbFormatError, parseFunctionLibraryHeader } from '@redis-persist/rdb-format';
import { splitDumpPayload } from '@redis-persist/rdb-writer';
import { CommandFailed, fail, lower } from '../keyspace.js';
import { own } from '../model.js';
import { ascii, text } from '../numbers.js';
import { type CommandTable, type Handler, Unsupported, arity } from './context.js';

/** Engine and name of a library, by the rule Redis applies at FUNCTION LOAD (and the RDB parser at load). */
function libraryName(code: Uint8Array): [string, string] {
  try {
    const { engine, library } = parseFunctionLibraryHeader(code);
    return [engine, library];
  } catch (err) {
    if (err instanceof RdbFormatError) fail(`ERR ${err.message}`);
    throw err;
  }
}

/** The libraries of a FUNCTION DUMP payload (function records as an RDB holds them, then version and CRC64). */
function restoredFunctions(payload: Uint8Array): FunctionRecord[] {
  let version: number;
  try {
    version = splitDumpPayload(payload).rdbVersion;
  } catch {
    fail('ERR payload version or checksum are wrong');
  }
  // Read as the body of an RDB file: header, the records, EOF and a zero (unchecked) checksum.
  const head = ascii(`REDIS${String(Math.max(10, version)).padStart(4, '0')}`);
  const bodyEnd = payload.length - 10;
  const rdb = new Uint8Array(head.length + bodyEnd + 9);
  rdb.set(head);
  rdb.set(payload.subarray(0, bodyEnd), head.length);
  rdb[head.length + bodyEnd] = 0xff;
  const parser = new RdbParser({ values: true, file: 'FUNCTION RESTORE payload' });
  const out: FunctionRecord[] = [];
  try {
    parser.push(rdb);
    parser.end();
    for (;;) {
      const r = parser.next();
      if (r === DONE || typeof r === 'string') break;
      if (r.kind === 'function') out.push(r.function);
      else if (r.kind === 'key') fail('ERR given type is not a function');
    }
  } catch (err) {
    if (err instanceof CommandFailed) throw err;
    fail(`ERR payload is not a valid function dump (${(err as Error).message})`);
  }
  return out;
}

const FUNCTION: Handler = (c, a) => {
  arity(a, 2);
  const sub = lower(a[1]);
  if (sub === 'load') {
    arity(a, 3);
    const replace = a.length === 4 && lower(a[2]) === 'replace';
    const code = a[a.length - 1];
    const [engine, library] = libraryName(code);
    if (c.ks.functions.has(library) && !replace) fail(`ERR Library '${library}' already exists`);
    c.ks.functions.set(library, { library, engine, code: own(code) });
  } else if (sub === 'delete') {
    arity(a, 3, true);
    const name = text(a[2]);
    if (!c.ks.functions.delete(name)) fail('ERR Library not found');
  } else if (sub === 'flush') {
    c.ks.functions.clear();
  } else if (sub === 'restore') {
    arity(a, 3);
    if (a.length > 4) fail('ERR syntax error');
    const policy = a.length === 4 ? lower(a[3]) : 'append';
    if (policy !== 'append' && policy !== 'replace' && policy !== 'flush') {
      fail('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    }
    const libs = restoredFunctions(a[2]);
    if (policy === 'append') for (const f of libs) if (c.ks.functions.has(f.library)) fail(`ERR Library ${f.library} already exists`);
    if (policy === 'flush') c.ks.functions.clear();
    for (const f of libs) c.ks.functions.set(f.library, { library: f.library, engine: f.engine, code: own(f.code) });
  } else throw new Unsupported(`FUNCTION ${text(a[1])}`);
};

export const FUNCTIONS_COMMANDS: CommandTable = [
  ['function', FUNCTION],
];
