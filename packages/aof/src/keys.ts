// Which arguments of a write command are keys, for `--key-pattern` filters. Covers the commands an AOF holds;
// anything else is taken to have its key first (the common case).

type KeySpec = (args: Uint8Array[]) => number[];

const none: KeySpec = () => [];
const first: KeySpec = (a) => (a.length > 1 ? [1] : []);
const all: KeySpec = (a) => range(1, a.length, 1);
const firstTwo: KeySpec = (a) => range(1, Math.min(3, a.length), 1);
const pairs: KeySpec = (a) => range(1, a.length, 2);
const fromSecond: KeySpec = (a) => range(2, a.length, 1);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i += step) out.push(i);
  return out;
}

function intArg(a: Uint8Array | undefined): number {
  const n = a ? Number(Buffer.from(a).toString('latin1')) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** dest numkeys key... (ZUNIONSTORE and friends). */
const destNumkeys: KeySpec = (a) => [1, ...range(3, Math.min(a.length, 3 + intArg(a[2])), 1)];
/** script numkeys key... (EVAL, FCALL and friends). */
const scriptNumkeys: KeySpec = (a) => range(3, Math.min(a.length, 3 + intArg(a[2])), 1);

const SPECS: Record<string, KeySpec> = {
  select: none, flushall: none, flushdb: none, multi: none, exec: none, swapdb: none, function: none, script: none, ping: none,
  del: all, unlink: all, exists: all, touch: all, watch: all, mget: all, sinterstore: all, sunionstore: all, sdiffstore: all,
  pfmerge: all, pfcount: all,
  mset: pairs, msetnx: pairs,
  rename: firstTwo, renamenx: firstTwo, smove: firstTwo, rpoplpush: firstTwo, lmove: firstTwo, blmove: firstTwo,
  brpoplpush: firstTwo, copy: firstTwo, zrangestore: firstTwo, geosearchstore: firstTwo,
  zunionstore: destNumkeys, zinterstore: destNumkeys, zdiffstore: destNumkeys,
  bitop: fromSecond,
  eval: scriptNumkeys, evalsha: scriptNumkeys, eval_ro: scriptNumkeys, evalsha_ro: scriptNumkeys, fcall: scriptNumkeys, fcall_ro: scriptNumkeys,
};

/** The keys a command names (byte strings, in argument order). */
export function commandKeys(args: Uint8Array[]): Uint8Array[] {
  return commandKeyIndexes(args).map((i) => args[i]);
}

/** The indexes in `args` of the keys a command names, in argument order. */
export function commandKeyIndexes(args: Uint8Array[]): number[] {
  if (args.length === 0) return [];
  const name = Buffer.from(args[0]).toString('latin1').toLowerCase();
  const spec = SPECS[name] ?? first;
  return spec(args);
}
