// Number parsing and printing as Redis does it for command arguments.
import { parseCanonicalInt } from '@redis-persist/bytes';

const latin1 = new TextDecoder('latin1');
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export function text(b: Uint8Array): string {
  return latin1.decode(b);
}

export function ascii(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** string2ll: a canonical signed 64-bit integer, or null. */
export function parseInt64(b: Uint8Array): bigint | null {
  return parseCanonicalInt(b);
}

/** A long long argument as a JS number (null when not an integer or beyond ±2^53). */
export function parseIntArg(b: Uint8Array): number | null {
  const v = parseCanonicalInt(b);
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) return null;
  return Number(v);
}

export function inInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX;
}

const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^[+-]?inf(?:inity)?$/i;

/** strtod as Redis applies it to scores and float increments: the whole argument, no spaces, no NaN. */
export function parseDouble(b: Uint8Array): number | null {
  if (b.length === 0 || b.length > 5000) return null;
  const s = text(b);
  if (FLOAT.test(s)) return Number(s);
  if (INF.test(s)) return s[0] === '-' ? -Infinity : Infinity;
  return null;
}

/**
 * INCRBYFLOAT / HINCRBYFLOAT result text. Redis computes in long double and prints `%.17Lf` trimmed; with
 * doubles the shortest round-trip text gives the same digits for the usual decimal inputs.
 */
export function formatFloatResult(n: number): string {
  if (Object.is(n, -0)) return '0';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return n.toFixed(0);
  const s = String(n);
  if (!/e/.test(s)) return s;
  // Exponent form: print positionally as %Lf would, trimmed.
  return n.toFixed(Math.min(100, 17)).replace(/\.?0+$/, '');
}
