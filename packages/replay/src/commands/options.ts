// Arguments as Redis reads them (integers, floats, DB indexes, expiry times) and the option words commands take.
import { fail } from '../keyspace.js';
import { parseDouble, parseInt64, parseIntArg } from '../numbers.js';
import type { CommandContext } from './context.js';

export function int(b: Uint8Array, what = 'value'): number {
  const v = parseIntArg(b);
  if (v === null) fail(`ERR ${what} is not an integer or out of range`);
  return v;
}

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

export function incrArg(b: Uint8Array): bigint {
  const v = parseInt64(b);
  if (v === null) fail('ERR value is not an integer or out of range');
  return v;
}

export function expireArg(c: CommandContext, unit: 's' | 'ms', absolute: boolean, b: Uint8Array): number {
  const v = int(b);
  const ms = unit === 's' ? v * 1000 : v;
  return absolute ? ms : c.now + ms;
}
