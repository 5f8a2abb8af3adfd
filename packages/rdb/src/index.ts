export { RdbError, type RdbErrorCode, type RdbErrorInit } from './errors.js';
export type {
  ReadRdbOptions,
  RdbFilter,
  RdbLimits,
  RdbMagic,
  RdbRecord,
  RdbHeaderRecord,
  RdbAuxRecord,
  RdbDbRecord,
  RdbResizeDbRecord,
  RdbSlotInfoRecord,
  RdbKeyRecord,
  RdbFunctionRecord,
  RdbModuleAuxRecord,
  RdbEndRecord,
  RdbSkip,
  RdbKeyBeingRead,
} from './types.js';
export { RdbParser, NEED_MORE, DONE, RDB_MAX_VERSION, rdbTypeName, compileRdbFilter, type KeySink, type KeyVisitor } from './parser.js';
export { readRdb, checkRdb, decodeRdbValue, rdbSourceChunks, type RdbSource, type RdbCheckReport, type RdbDbStats, type CheckRdbOptions } from './api.js';
export { rdbKeyspaceRecords, rdbKeyspaceRecordBatches, type RdbKeyspaceOptions } from './keyspace.js';
export { DUP_SPILL_THRESHOLD, type DupSpillOptions, type DupSpillStore } from './dup.js';
