import { crc16 } from '@redis-persist/bytes';

/** Number of hash slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

/**
 * The hash slot of a key, as Redis Cluster computes it (`keyHashSlot` in src/cluster.c): CRC16/XMODEM of the
 * hash tag — the bytes between the first `{` and the first `}` after it, when there is at least one byte between
 * them — else of the whole key, masked to 14 bits.
 */
export function keyHashSlot(key: Uint8Array): number {
  const n = key.length;
  let open = -1;
  for (let i = 0; i < n; i++) {
    if (key[i] === 0x7b) {
      open = i;
      break;
    }
  }
  if (open >= 0) {
    for (let j = open + 1; j < n; j++) {
      if (key[j] === 0x7d) {
        // an empty tag ("{}") hashes the whole key
        if (j > open + 1) return crc16(key, open + 1, j) & 0x3fff;
        break;
      }
    }
  }
  return crc16(key, 0, n) & 0x3fff;
}
