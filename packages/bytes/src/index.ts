export {
  RedisPersistError,
  isRedisPersistError,
  formatErrorLocation,
  BytesError,
  type RedisPersistErrorKind,
  type RedisPersistErrorInit,
  type BytesErrorCode,
} from './errors.js';
export { Crc64, crc64, readU64LE } from './crc64.js';
export { crc16 } from './crc16.js';
export { LzfCompressStream, lzfCompress, lzfCompressInto, lzfDecompress, lzfDecompressStep, lzfMaxDecompressedLength, lzfValid } from './lzf.js';
export { parseCanonicalInt, parseCanonicalSafeInt, intToBytes, formatBytes } from './numbers.js';
export { ByteQueue } from './byte-queue.js';
export { matchGlob } from './glob.js';
export { bytesEqual } from './equal.js';
export {
  scanStrtod,
  strtod,
  doubleParts,
  parseRedisDouble,
  parseRedisRangeDouble,
  formatDoubleG17,
  formatDoubleShortest,
  formatDoubleRedis,
  doubleToSafeInt64,
  type ScannedNumber,
  type StrtodScan,
} from './float-text.js';
export {
  MAX_LONG_DOUBLE_CHARS,
  parseLongDouble,
  addLongDouble,
  formatLongDoubleFixed,
  formatLongDoubleHuman,
  incrByFloatText,
  type LongDouble,
  type IncrByFloatFailure,
} from './long-double.js';
