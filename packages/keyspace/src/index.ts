export type {
  Bytes,
  StreamIdText,
  Score,
  HashField,
  StreamEntry,
  StreamPendingEntry,
  StreamConsumer,
  StreamGroup,
  StreamValue,
  ModuleValue,
  KeyValue,
  KeyType,
  KeyRecord,
  FunctionRecord,
  KeyspaceRecord,
} from './model.js';
export { KeyspaceError, type KeyspaceErrorCode, type KeyspaceErrorWhere } from './errors.js';
export { canonicalizeRecord, compareKeyspaceRecords, compareBytes, compareStreamIds, isStreamId } from './canonical.js';
export { encodeKeyspaceLine, encodeKeyspaceLineBytes, keyspaceJsonlChunks, type EncodeOptions } from './encode.js';
export { parseKeyspaceLine, parseKeyspaceLineBytes, type ParseWhere } from './parse.js';
export { readKeyspaceJsonl, DEFAULT_MAX_LINE_BYTES, type ReadKeyspaceOptions } from './read.js';
export { sortKeyspace, estimateRecordBytes, DEFAULT_SORT_BUDGET, type SortKeyspaceOptions } from './sort.js';
export { sameKeyspace, type SameKeyspaceIgnore, type SameKeyspaceOptions, type SameKeyspaceResult } from './same.js';
export { commandsForKey, commandsForFunction, formatScore, StreamPieceCommands, type RewriteOptions } from './commands.js';
export { keyspaceJsonlStream, type KeyspaceJsonlStreamOptions, type KeyspacePiece } from './stream.js';
export { keyspaceRespStream, type KeyspaceRespStreamOptions } from './resp-stream.js';
export type { PieceOutput } from './pieces.js';
