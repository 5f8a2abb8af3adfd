// The write commands an AOF can hold, applied to the engine's keyspace. Each handler either changes the keyspace
// as Redis would, or throws CommandFailed (Redis answered an error and changed nothing). The handlers live one
// file per type, as Redis splits its sources; this file gathers them into the table the replayer looks names up in.
import { CommandFailed } from '../keyspace.js';
import type { Handler } from './context.js';
import { Unsupported } from './context.js';
import { FUNCTIONS_COMMANDS } from './functions.js';
import { GENERIC_COMMANDS } from './generic.js';
import { GEO_COMMANDS } from './geo.js';
import { HASH_COMMANDS } from './hash.js';
import { LIST_COMMANDS } from './list.js';
import { SET_COMMANDS } from './set.js';
import { SORT_COMMANDS } from './sort.js';
import { STREAM_COMMANDS } from './stream.js';
import { STRING_COMMANDS } from './string.js';
import { ZSET_COMMANDS } from './zset.js';

export { CommandFailed, Unsupported };
export type { CommandContext, Handler } from './context.js';

/** Commands that can stand in an AOF but whose effect this replayer does not reproduce, with the reason. */
const REFUSED: [string, string][] = [
  ['eval', 'a script replicated verbatim (Redis < 5, or lua-replicate-commands no): its effect depends on running Lua'],
  ['evalsha', 'a script replicated verbatim (Redis < 5, or lua-replicate-commands no): its effect depends on running Lua'],
  ['eval_ro', 'a script: its effect depends on running Lua'],
  ['evalsha_ro', 'a script: its effect depends on running Lua'],
  ['fcall', 'a function call replicated verbatim: its effect depends on running Lua'],
  ['script', 'SCRIPT is not replayed (scripts replicated verbatim need Lua)'],
  ['xautoclaim', 'Redis propagates XAUTOCLAIM as XCLAIM; a raw XAUTOCLAIM depends on the load time'],
];

const refuse = (reason: string): Handler => () => {
  throw new Unsupported(reason);
};

/** Every command the replayer knows, by lower-case name. */
export const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ...REFUSED.map(([name, reason]): [string, Handler] => [name, refuse(reason)]),
  ...GENERIC_COMMANDS,
  ...STRING_COMMANDS,
  ...LIST_COMMANDS,
  ...SET_COMMANDS,
  ...ZSET_COMMANDS,
  ...GEO_COMMANDS,
  ...HASH_COMMANDS,
  ...STREAM_COMMANDS,
  ...FUNCTIONS_COMMANDS,
  ...SORT_COMMANDS,
]);
