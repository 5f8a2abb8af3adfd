export { ReplayError, type ReplayErrorCode } from './errors.js';
export { replayAof, Replayer, type ReplayOptions, type ReplayResult, type ReplayFailure } from './replay.js';
export { ReplayKeyspace, type RecordsOptions } from './keyspace.js';
export { pfadd } from './hll.js';
export {
  respChunks,
  aofToRdb,
  rdbToAof,
  rewriteAof,
  aofInputPaths,
  type RespChunksOptions,
  type AofToRdbOptions,
  type RdbToAofOptions,
  type RdbToAofResult,
  type RewriteAofOptions,
  type RewriteAofResult,
} from './convert.js';
export {
  inspectDataDir,
  resolveDataDirSource,
  loadDataDirConfig,
  describeAppendonly,
  isDataDir,
  type DataDirSource,
  type DataDirSourceOptions,
  type DataDirConfig,
  type DataDirConfigOptions,
  type AppendonlyFrom,
  parsePersistenceConfig,
  DEFAULT_PERSISTENCE_CONFIG,
  type InspectOptions,
  type InspectReport,
  type InspectFile,
  type PersistenceConfig,
} from './inspect.js';

