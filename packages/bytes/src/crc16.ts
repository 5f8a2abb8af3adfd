// CRC-16/XMODEM (also called CRC-16/CCITT by Redis, src/crc16.c): polynomial 0x1021, initial value 0, no
// reflection, no final XOR. Redis Cluster hashes keys with it (slot = crc16(key or hash tag) & 0x3FFF).
// Check value: crc16("123456789") = 0x31C3.

const TABLE = new Uint16Array(256);
(function buildTable() {
  for (let n = 0; n < 256; n++) {
    let c = n << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    TABLE[n] = c;
  }
})();

/** CRC-16/XMODEM of `data[start..end)`, continuing from `crc` (default 0). */
export function crc16(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  let c = crc & 0xffff;
  for (let i = start; i < end; i++) c = ((c << 8) & 0xff00) ^ TABLE[((c >>> 8) ^ data[i]) & 0xff];
  return c;
}
