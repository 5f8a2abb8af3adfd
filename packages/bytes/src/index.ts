export { BytesError, type BytesErrorCode } from './errors.js';
export { Crc64, crc64, readU64LE } from './crc64.js';
export { crc16 } from './crc16.js';
export { lzfCompress, lzfDecompress, lzfMaxDecompressedLength, lzfValid } from './lzf.js';
export { parseCanonicalInt, parseCanonicalSafeInt, intToBytes } from './numbers.js';
export { ByteQueue } from './byte-queue.js';
export { matchGlob } from './glob.js';
