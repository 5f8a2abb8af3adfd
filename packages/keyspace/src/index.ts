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
  KeyspacePiece,
} from './model.js';
export { KeyspaceError, type KeyspaceErrorCode, type KeyspaceErrorWhere } from './errors.js';
export { canonicalizeRecord, compareKeyspaceRecords, compareBytes, compareStreamIds, isStreamId } from './canonical.js';
export { firstRepeatIndex } from './repeat.js';
export { sameKeyspace, type SameKeyspaceIgnore, type SameKeyspaceOptions, type SameKeyspaceResult } from './same.js';
export { KeyFilter, KEY_TYPES, keyElements, type KeyFilterSpec } from './filter.js';
