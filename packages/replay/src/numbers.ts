// Number parsing and printing as Redis does it for command arguments.
import { incrByFloatText, parseCanonicalInt, parseRedisDouble, parseRedisRangeDouble, type IncrByFloatFailure } from '@redis-persist/bytes';

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

/** string2d, Redis' rule for scores, weights, coordinates (hexadecimal and inf accepted; no blanks, NaN or overflow). */
export function parseDouble(b: Uint8Array): number | null {
  return parseRedisDouble(b);
}

/** zslParseRange's rule for ZRANGEBYSCORE-style bounds (blanks, overflow and "" accepted; see parseRedisRangeDouble). */
export function parseRangeDouble(b: Uint8Array): number | null {
  return parseRedisRangeDouble(b);
}

const INCR_ERRORS: Record<IncrByFloatFailure, string> = {
  'current-not-float': 'ERR value is not a valid float',
  'increment-not-float': 'ERR value is not a valid float',
  'increment-not-finite': 'ERR value is NaN or Infinity',
  'result-not-finite': 'ERR increment would produce NaN or Infinity',
};

/**
 * INCRBYFLOAT (or HINCRBYFLOAT, `hash`) of the stored text `cur` by `by`: the text Redis stores (long double
 * arithmetic, see incrByFloatText), or the error Redis replies with.
 */
export function incrByFloat(cur: Uint8Array | undefined, by: Uint8Array, hash: boolean): { value: Uint8Array } | { error: string } {
  const r = incrByFloatText(cur ?? null, by, hash);
  if (r.ok) return { value: ascii(r.text) };
  return { error: hash && r.why === 'current-not-float' ? 'ERR hash value is not a float' : INCR_ERRORS[r.why] };
}
