// Arguments as Redis reads them (integers, floats, DB indexes, expiry times) and the option words of the
// NX/XX/GT/LT family, read by one parser for every command that takes them. Redis writes one loop per command
// (zaddGenericCommand, geoaddCommand, parseExtendedExpireArgumentsOrReply, parseExtendedStringArgumentsOrReply);
// here the word matching is shared and each command keeps its own checks, in Redis' order and with its replies.
import { fail, lower } from '../keyspace.js';
import { parseDouble, parseInt64, parseIntArg } from '../numbers.js';
import type { CommandContext } from './context.js';

/** A long long argument (getLongLongFromObjectOrReply), within ±2^53. */
export function int(b: Uint8Array, what = 'value'): number {
  const v = parseIntArg(b);
  if (v === null) fail(`ERR ${what} is not an integer or out of range`);
  return v;
}

/** A double argument (getDoubleFromObjectOrReply). */
export function dbl(b: Uint8Array): number {
  const v = parseDouble(b);
  if (v === null) fail('ERR value is not a valid float');
  return v;
}

export function dbIndex(b: Uint8Array): number {
  const v = parseIntArg(b);
  if (v === null || v < 0) fail('ERR DB index is out of range');
  return v;
}

/** A full 64-bit increment (INCRBY, HINCRBY): a BigInt, as the sum may leave the doubles' exact range. */
export function incrArg(b: Uint8Array): bigint {
  const v = parseInt64(b);
  if (v === null) fail('ERR value is not an integer or out of range');
  return v;
}

/** EXPIRE-style time argument as a Unix ms time (relative ones count from the context's `now`). */
export function expireArg(c: CommandContext, unit: 's' | 'ms', absolute: boolean, b: Uint8Array): number {
  const v = int(b);
  const ms = unit === 's' ? v * 1000 : v;
  return absolute ? ms : c.now + ms;
}

// ----------------------------------------------------------------------------------------------- option words

/** One bit per option word; each command passes the set of words it takes. */
export const NX = 1 << 0;
export const XX = 1 << 1;
export const GT = 1 << 2;
export const LT = 1 << 3;
export const CH = 1 << 4;
export const INCR = 1 << 5;
export const GET = 1 << 6;
export const KEEPTTL = 1 << 7;
export const PERSIST = 1 << 8;
export const EX = 1 << 9;
export const PX = 1 << 10;
export const EXAT = 1 << 11;
export const PXAT = 1 << 12;
/** The words followed by an expiry time. */
export const EXPIRY = EX | PX | EXAT | PXAT;

const WORDS: ReadonlyMap<string, number> = new Map([
  ['nx', NX], ['xx', XX], ['gt', GT], ['lt', LT], ['ch', CH], ['incr', INCR], ['get', GET], ['keepttl', KEEPTTL],
  ['persist', PERSIST], ['ex', EX], ['px', PX], ['exat', EXAT], ['pxat', PXAT],
]);
const LONGEST_WORD = 7;

/** The bit of the option word `b` (any case, as strcasecmp compares) when it is one of `allowed`, else 0. */
export function optionBit(b: Uint8Array, allowed: number): number {
  if (b.length > LONGEST_WORD) return 0; // a member, score or key: no need to lower-case it
  return (WORDS.get(lower(b)) ?? 0) & allowed;
}

/** Whether `flags` holds both `x` and `y`. */
export function both(flags: number, x: number, y: number): boolean {
  return (flags & x) !== 0 && (flags & y) !== 0;
}

export interface LeadingOptions {
  flags: number;
  /** Index of the first argument that is not one of the words (where the command's data begins). */
  next: number;
}

/**
 * Option words in front of a command's data, as ZADD and GEOADD read them: from `a[from]` on, up to the first
 * argument that is not one of `allowed` (which is data, even if it names another word). Repeating a word is allowed.
 */
export function leadingOptions(a: Uint8Array[], from: number, allowed: number): LeadingOptions {
  let flags = 0;
  let i = from;
  for (; i < a.length; i++) {
    const bit = optionBit(a[i], allowed);
    if (bit === 0) break;
    flags |= bit;
  }
  return { flags, next: i };
}

/**
 * Option words that make up the rest of a command (EXPIRE's NX|XX|GT|LT): every argument from `a[from]` on must be
 * one of `allowed`, else the command fails with `unknown(argument)`.
 */
export function trailingOptions(a: Uint8Array[], from: number, allowed: number, unknown: (arg: Uint8Array) => string): number {
  let flags = 0;
  for (let i = from; i < a.length; i++) {
    const bit = optionBit(a[i], allowed);
    if (bit === 0) fail(unknown(a[i]));
    flags |= bit;
  }
  return flags;
}

/** expire.c's rule (parseExtendedExpireArgumentsOrReply): NX excludes the others, GT excludes LT. */
export function checkExpireConditions(flags: number): void {
  if (both(flags, NX, XX | GT | LT)) fail('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (both(flags, GT, LT)) fail('ERR GT and LT options at the same time are not compatible');
}

/**
 * Whether the conditions NX|XX|GT|LT let the expiry `when` replace `current` (null: none), for a key (EXPIRE) or a
 * hash field (HEXPIRE) alike. No expiry counts as an infinite one: GT never passes it, LT always does.
 */
export function expiryAllowed(flags: number, current: number | null, when: number): boolean {
  if ((flags & NX) !== 0 && current !== null) return false;
  if ((flags & XX) !== 0 && current === null) return false;
  if ((flags & GT) !== 0 && (current === null || when <= current)) return false;
  if ((flags & LT) !== 0 && current !== null && when >= current) return false;
  return true;
}

export interface StringOptions {
  flags: number;
  /** The argument after EX|PX|EXAT|PXAT, if one was given (read with expireAtMs). */
  expire: Uint8Array | null;
}

const SET_WORDS = NX | XX | GET | KEEPTTL | EXPIRY;
const GETEX_WORDS = PERSIST | EXPIRY;

/**
 * The options of SET (from a[3]: NX|XX, GET, KEEPTTL|EX|PX|EXAT|PXAT) or GETEX (from a[2]: PERSIST|EX|PX|EXAT|PXAT),
 * as t_string.c's parseExtendedStringArgumentsOrReply reads them: a word that clashes with one already read, or an
 * expiry word without a value, is a syntax error. The same expiry word twice is not (the last value counts).
 */
export function stringOptions(a: Uint8Array[], command: 'set' | 'getex'): StringOptions {
  const isSet = command === 'set';
  let flags = 0;
  let expire: Uint8Array | null = null;
  for (let i = isSet ? 3 : 2; i < a.length; i++) {
    const bit = optionBit(a[i], isSet ? SET_WORDS : GETEX_WORDS);
    let ok: boolean;
    if (bit === NX) ok = (flags & XX) === 0;
    else if (bit === XX) ok = (flags & NX) === 0;
    else if (bit === GET) ok = true;
    else if (bit === KEEPTTL) ok = (flags & (PERSIST | EXPIRY)) === 0;
    else if (bit === PERSIST) ok = (flags & (KEEPTTL | EXPIRY)) === 0;
    else if (bit !== 0) ok = (flags & (KEEPTTL | PERSIST | (EXPIRY & ~bit))) === 0 && i + 1 < a.length;
    else ok = false;
    if (!ok) fail('ERR syntax error');
    flags |= bit;
    if ((bit & EXPIRY) !== 0) expire = a[++i];
  }
  return { flags, expire };
}

/**
 * The Unix ms time of an EX|PX|EXAT|PXAT value (t_string.c getExpireMillisecondsOrReply): an integer above 0, else
 * `invalid expire time in '<command>' command`. `flags` holds the one expiry word given.
 */
export function expireAtMs(c: CommandContext, value: Uint8Array, flags: number, command: string): number {
  const v = int(value);
  if (v <= 0) fail(`ERR invalid expire time in '${command}' command`);
  return (flags & EX) !== 0 ? c.now + v * 1000 : (flags & PX) !== 0 ? c.now + v : (flags & EXAT) !== 0 ? v * 1000 : v;
}
