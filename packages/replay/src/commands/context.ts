// What every command handler shares: the context it runs in, its signature, and the two ways it refuses.
import type { KeyspaceStore } from '../keyspace.js';
import { fail } from '../keyspace.js';
import { text } from '../numbers.js';

export interface CommandContext {
  ks: KeyspaceStore;
  db: number;
  /** Unix ms used for relative times (EXPIRE, SETEX, XCLAIM IDLE...). */
  now: number;
  hllSparseMaxBytes: number;
}

/** Applies one command (`a[0]` is its name) or throws CommandFailed / Unsupported. */
export type Handler = (c: CommandContext, a: Uint8Array[]) => void;

/** Each source file's commands, by lower-case name. */
export type CommandTable = readonly (readonly [string, Handler])[];

/** A command whose exact effect cannot be reproduced offline (the replayer refuses it, or skips it on request). */
export class Unsupported extends Error {}

export function arity(a: Uint8Array[], min: number, exact = false): void {
  if (a.length < min || (exact && a.length !== min)) fail(`ERR wrong number of arguments for '${text(a[0])}' command`);
}
