// What every command handler shares: the context it runs in, its signature, and the two ways it refuses.
import type { KeyspaceStore } from '../keyspace.js';
import type { ValueType } from '../model.js';
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

/**
 * Applies `op` to the packed form of the `type` collection at key when it is held packed (see pack.ts) and the
 * result stays packed; false when the caller must take the object path (absent, held as an object, or too big).
 */
export function viaPacked(c: CommandContext, key: Uint8Array, type: ValueType, op: (blob: Uint8Array) => Uint8Array | null): boolean {
  const i = c.ks.packedIndex(c.db, key, type);
  if (i < 0) return false;
  const blob = c.ks.packedAt(c.db, i);
  const next = op(blob);
  if (next === null) return false;
  if (next !== blob) c.ks.setPackedAt(c.db, i, next);
  return true;
}
