// Redis' rules for when a byte string "is" a number (src/util.c string2ll): an optional single '-', decimal
// digits, no '+', no blanks, no leading zeros ("0" itself excepted), not "-0", within int64.

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** The int64 value of `bytes[start..end)` if Redis' `string2ll` accepts it, else `null`. */
export function parseCanonicalInt(bytes: Uint8Array, start = 0, end = bytes.length): bigint | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let i = start;
  let negative = false;
  if (bytes[i] === 0x2d) {
    negative = true;
    i++;
    if (i === end) return null;
  }
  const first = bytes[i];
  if (first === 0x30) {
    // "0" is canonical, "-0" and "01" are not
    return len === 1 ? 0n : null;
  }
  if (first < 0x31 || first > 0x39) return null;
  // Up to 15 digits fit a double exactly: the common case avoids BigInt.
  if (end - i <= 15) {
    let n = 0;
    for (; i < end; i++) {
      const d = bytes[i] - 0x30;
      if (d < 0 || d > 9) return null;
      n = n * 10 + d;
    }
    return BigInt(negative ? -n : n);
  }
  let v = 0n;
  for (; i < end; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10n + BigInt(d);
  }
  if (negative) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return null;
  return v;
}

/**
 * Like {@link parseCanonicalInt} but returns a JS number, for callers that only care about small values
 * (SELECT indexes, counts). `null` when not canonical or not a safe integer.
 */
export function parseCanonicalSafeInt(bytes: Uint8Array, start = 0, end = bytes.length): number | null {
  const v = parseCanonicalInt(bytes, start, end);
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) return null;
  return Number(v);
}

/** ASCII digits of an integer, as bytes. */
export function intToBytes(n: number | bigint): Uint8Array {
  return Buffer.from(String(n), 'latin1');
}

/** A byte count for people, in binary units with one decimal: 1536 → "1.5 KiB", 512 → "512 B". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
