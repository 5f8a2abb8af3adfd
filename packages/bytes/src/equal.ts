// Byte-string equality, the one copy every package uses (keys, members, fields, packed elements).

/** Below this length a plain loop beats the native compare's call cost (most keys and members are short). */
const NATIVE_FROM = 64;

/** `a` and `b` hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n >= NATIVE_FROM) return Buffer.compare(a, b) === 0;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
