// Key filters over the commands of an AOF (readAof's `filter`, and filterAof which writes the filtered AOF).
//
// A command's keys are those commandKeys names; the filter's name and database criteria decide each key (types,
// expiry and sizes are not known from a command: such a filter is refused).
//   - A command whose keys all pass is kept whole; one whose keys all fail is dropped.
//   - One whose keys are mixed is cut down to the passing keys where that is exact in Redis: DEL, UNLINK, TOUCH
//     (the other keys), MSET, MSETNX (the other pairs; an MSETNX in an AOF succeeded, so its subset succeeds too).
//   - Any other mixed command (RENAME, SMOVE, LMOVE, SUNIONSTORE, BITOP, EVAL with keys...) moves data between a
//     kept and a dropped key: it needs a decision, `partial`: `error` (default for filterAof: nothing is
//     written, the error names the place), `keep` (whole, reported), `drop` (reported).
//   - Commands without keys: SELECT is dropped (each command carries its db; filterAof writes a SELECT where the
//     db changes); MULTI/EXEC stay around the kept commands of their transaction, a transaction left empty goes
//     entirely; FLUSHALL, FUNCTION, SCRIPT and a keyless EVAL/FCALL are kept; FLUSHDB is kept when its database
//     passes; SWAPDB is kept without a database criterion and needs a decision with one (it moves keys between a
//     kept and a dropped database).
import { KeyFilter, type KeyFilterSpec } from '@redis-persist/keyspace';
import { AofError } from './errors.js';
import { commandKeyIndexes } from './keys.js';
import type { AofCommand } from './reader.js';

/** What to do with a command whose keys partly pass and that cannot be cut exactly. */
export type AofPartialPolicy = 'error' | 'keep' | 'drop';

/** A command the filter kept whole or dropped although only some of its keys pass (`partial` keep or drop). */
export interface AofPartialCommand {
  command: AofCommand;
  decision: 'kept' | 'dropped';
}

/** The key filter applied to an AOF's commands, and what to do with a command naming kept and dropped keys. */
export interface AofFilterOptions {
  filter: KeyFilter | KeyFilterSpec;
  /** A mixed command that cannot be cut exactly (see the module comment). Default `error`. */
  partial?: AofPartialPolicy;
  /** Told about each mixed command kept whole or dropped (with `partial` keep/drop). */
  onPartial?: (p: AofPartialCommand) => void;
}

const lower = (a: Uint8Array): string => Buffer.from(a.buffer, a.byteOffset, Math.min(a.byteLength, 16)).toString('latin1').toLowerCase();

/** Commands cut down to their passing keys: how many arguments go with each key (the key itself included). */
const CUTTABLE: Record<string, number> = { del: 1, unlink: 1, touch: 1, exists: 1, mset: 2, msetnx: 2 };

/** A compiled AOF key filter (names and databases only). */
export function aofKeyFilter(filter: KeyFilter | KeyFilterSpec): KeyFilter {
  const f = KeyFilter.from(filter);
  if (!f.namesAndDbsOnly) {
    throw new AofError('unsupported', 'an AOF command carries key names and a database only: types, expiry and sizes cannot filter it (convert the AOF to an RDB first)', { kind: 'usage' });
  }
  return f;
}

/**
 * Filters the commands of one batch as readAof hands them out (whole transactions), returning those kept (new
 * objects for cut commands, marked `cut: true`; `partialKeys: true` on a mixed command kept whole).
 */
export class AofCommandFilter {
  readonly filter: KeyFilter;
  private readonly partial: AofPartialPolicy;
  private readonly onPartial?: (p: AofPartialCommand) => void;
  private tx: AofCommand[] | null = null;
  private txKept = 0;
  /** Commands dropped, cut, and mixed ones decided by `partial`. */
  readonly counts = { kept: 0, dropped: 0, cut: 0, partialKept: 0, partialDropped: 0 };

  constructor(options: AofFilterOptions) {
    this.filter = aofKeyFilter(options.filter);
    this.partial = options.partial ?? 'error';
    this.onPartial = options.onPartial;
  }

  /** The kept commands of `batch`, in order (a transaction is held until its EXEC, as readAof holds it). */
  push(batch: readonly AofCommand[], out: AofCommand[] = []): AofCommand[] {
    for (const c of batch) this.one(c, out);
    return out;
  }

  /** The open transaction's kept commands when the input ends inside it (damage): they are handed out as they are. */
  end(out: AofCommand[] = []): AofCommand[] {
    if (this.tx !== null && this.txKept > 0) for (const c of this.tx) out.push(c);
    this.tx = null;
    return out;
  }

  private one(c: AofCommand, out: AofCommand[]): void {
    const name = c.args.length > 0 ? lower(c.args[0]) : '';
    if (name === 'multi' && this.tx === null) {
      // (a transaction the damage cut off comes marked inUnfinishedMulti, without its EXEC: see end())
      this.tx = [c];
      this.txKept = 0;
      return;
    }
    if (name === 'exec' && this.tx !== null) {
      if (this.txKept > 0) {
        for (const t of this.tx) out.push(t);
        out.push(c);
      }
      this.tx = null;
      return;
    }
    const kept = this.decide(c, name);
    if (kept === null) {
      this.counts.dropped++;
      return;
    }
    this.counts.kept++;
    if (this.tx !== null) {
      this.tx.push(kept);
      this.txKept++;
    } else out.push(kept);
  }

  /** The command as kept (itself, or cut down), or null when it goes. */
  private decide(c: AofCommand, name: string): AofCommand | null {
    const f = this.filter;
    switch (name) {
      case 'select':
        return null;
      case 'flushall':
      case 'function':
      case 'script':
        return c;
      case 'flushdb':
        return f.passDb(c.db) ? c : null;
      case 'swapdb':
        return f.spec.dbs && f.spec.dbs.length > 0 ? this.mixed(c, 'SWAPDB moves keys between databases the --db criterion keeps and drops') : c;
      case 'ping':
        return null;
    }
    if (!f.passDb(c.db)) return null;
    const idx = commandKeyIndexes(c.args);
    if (idx.length === 0) return c;
    let pass = 0;
    for (const i of idx) if (f.passKey(c.args[i])) pass++;
    if (pass === idx.length) return c;
    if (pass === 0) return null;
    const per = CUTTABLE[name];
    if (per !== undefined) {
      const args: Uint8Array[] = [c.args[0]];
      for (const i of idx) if (f.passKey(c.args[i])) for (let j = 0; j < per; j++) args.push(c.args[i + j]);
      this.counts.cut++;
      return { ...c, args, cut: true };
    }
    return this.mixed(c, `${name.toUpperCase()} names keys the filter keeps and keys it drops, and cannot be cut down exactly`);
  }

  private mixed(c: AofCommand, why: string): AofCommand | null {
    if (this.partial === 'error') {
      throw new AofError('unsupported', `${why}: decide with partial 'keep' (whole) or 'drop' (aof-tool: --partial keep|drop); nothing was written`, { file: c.file, offset: c.offset, kind: 'usage' });
    }
    const keep = this.partial === 'keep';
    if (keep) this.counts.partialKept++;
    else this.counts.partialDropped++;
    this.onPartial?.({ command: c, decision: keep ? 'kept' : 'dropped' });
    return keep ? { ...c, partialKeys: true } : null;
  }
}
