export { RdbFormatError, formatFail, type Fail } from './errors.js';
export {
  RdbType,
  RdbOpcode,
  RdbLength,
  RdbStringEncoding,
  QuicklistContainer,
  ModuleOpcode,
  ZSET1_SCORE_NAN,
  ZSET1_SCORE_POS_INF,
  ZSET1_SCORE_NEG_INF,
  describeRdbType,
  rdbTypeName,
  isSingleBlobType,
  type RdbKeyType,
  type RdbMagic,
  type RdbTypeDesc,
} from './types.js';
export { decodeModuleId, encodeModuleId } from './module-id.js';
export {
  STREAM_ID_BYTES,
  STREAM_ID_MAX,
  STREAM_ID_ZERO,
  U64_MAX,
  compareStreamIds,
  estimateEntriesRead,
  formatStreamId,
  parseStreamId,
  streamIdFromBytes,
  streamIdTextAt,
  streamIdToBytes,
  u64Text,
  type StreamCounters,
  type StreamId,
} from './stream-id.js';
export { ByteSink } from './byte-sink.js';
export { elementInt, type DupSink, type PackedEntry, type PackedVisit } from './packed-common.js';
export {
  ListpackBuilder,
  backlenSize,
  encodeListpack,
  listpackCount,
  listpackDuplicate,
  listpackEntries,
  listpackVisit,
  listpackEntrySize,
  readBacklen,
  writeBacklen,
} from './listpack.js';
export { ZiplistBuilder, encodeZiplist, ziplistCount, ziplistDuplicate, ziplistEntries, ziplistVisit } from './ziplist.js';
export { encodeIntset, intsetEntries } from './intset.js';
export { encodeZipmap, zipmapEntries } from './zipmap.js';
export { functionLibraryFirstLine, parseFunctionLibraryHeader, type FunctionLibraryHeader } from './function-library.js';
export { DUMP_FOOTER_BYTES, frameDumpPayload, splitDumpPayload, type DumpPayloadParts } from './dump.js';
