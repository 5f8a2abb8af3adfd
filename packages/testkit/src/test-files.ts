// Small helpers several packages' tests share: seeded randomness, open file descriptors, a synthetic RDB.
import { readdirSync } from 'node:fs';

/** Seeded pseudo-random numbers in [0, 1) (mulberry32): small, fast, the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How many file descriptors this process holds open (Linux: /proc/self/fd), to show a reader closed its file. */
export function openFileDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * An RDB 9 file of `keys` string keys (`key:0`, `key:1`, ...) in db 0, each a raw value of `valueBytes` bytes of
 * 'a' (at most 16383: a 14-bit length), checksum disabled (zero): several read chunks' worth without a server.
 */
export function stringKeysRdb(keys: number, valueBytes: number): Buffer {
  if (!Number.isInteger(valueBytes) || valueBytes < 64 || valueBytes > 0x3fff) throw new RangeError(`valueBytes must be 64..16383, got ${valueBytes}`);
  const parts: Buffer[] = [Buffer.from('REDIS0009', 'latin1'), Buffer.from([0xfe, 0x00])];
  const value = Buffer.alloc(valueBytes, 0x61);
  for (let i = 0; i < keys; i++) {
    const key = Buffer.from(`key:${i}`);
    parts.push(Buffer.from([0x00, key.length]), key, Buffer.from([0x40 | (valueBytes >> 8), valueBytes & 0xff]), value);
  }
  parts.push(Buffer.from([0xff]), Buffer.alloc(8));
  return Buffer.concat(parts);
}
