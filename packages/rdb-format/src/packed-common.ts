// Little helpers shared by the packed encodings.
import { parseCanonicalInt } from '@redis-persist/bytes';

/** An entry of a packed encoding: a string (a view into the blob) or an integer. */
export type PackedEntry = Uint8Array | number | bigint;

export const u16 = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8);
export const u32 = (b: Uint8Array, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
/** A signed 64-bit LE integer: a number when it is within ±2^53, else a bigint. */
export const i64 = (b: Uint8Array, p: number): number | bigint => {
  const lo = u32(b, p);
  const hi = b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
};

export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

/** The int64 value of an element if Redis would store it as an integer (canonical, 1-20 bytes), else null. */
export function elementInt(data: Uint8Array): bigint | null {
  if (data.length === 0 || data.length > 20) return null;
  return parseCanonicalInt(data);
}

/** The part of a duplicate checker the duplicate scans need. */
export interface DupSink {
  /** Whether the element `b[s, e)` was seen before (and records it). */
  seenRange(b: Uint8Array, s: number, e: number): boolean;
  /** Whether the integer element was seen before (and records it). */
  seenInt(v: number | bigint): boolean;
}

/**
 * Receives the entries of a listpack or ziplist already validated (listpackCount, ziplistCount), walked in place by
 * listpackVisit / ziplistVisit: a string entry as a view `b[s, e)` (valid during the call), an integer entry as its
 * value. No object is made per entry.
 */
export interface PackedVisit {
  /** A string entry: the bytes `b[s..e)`, a view valid only during the call. */
  str(b: Uint8Array, s: number, e: number): void;
  /** An integer entry: a number when it is a safe integer, else a bigint. */
  int(v: number | bigint): void;
}

/** A terminator byte: listpacks, ziplists and zipmaps end with it. */
export const END = 0xff;
