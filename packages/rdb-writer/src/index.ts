export { RdbWriterError, type RdbWriterErrorCode, type RdbWriterErrorInit } from './errors.js';
export {
  RdbWriter,
  writeRdb,
  writeRdbFile,
  type RdbWriteOptions,
  type RdbWriteSummary,
  type DropInfo,
} from './writer.js';
export { encodeDumpPayload, decodeDumpPayload, splitDumpPayload, type DumpOptions, type DumpPayloadParts } from './dump.js';
export {
  DEFAULT_RDB_VERSION,
  DEFAULT_THRESHOLDS,
  VALKEY_9_RDB_VERSION,
  resolveTarget,
  type RdbThresholds,
  type Target,
} from './target.js';
export { RdbType } from './object.js';
