export { commandsForKey, commandsForFunction, formatScore, StreamPieceCommands, type RewriteOptions } from './commands.js';
export { keyspaceJsonlStream, type KeyspaceJsonlStreamOptions } from './jsonl-stream.js';
export { JsonlKeyVisitor } from './transcode-jsonl.js';
export { RespKeyVisitor, type RespKeyVisitorOptions } from './transcode-resp.js';
export { keyspaceRespStream, type KeyspaceRespStreamOptions } from './resp-stream.js';
export type { PieceOutput } from './pieces.js';
export { RecordBatches, type RecordSource, type SortedKeyWriter } from './batches.js';
export { respChunks, type RespChunksOptions } from './resp-chunks.js';
export {
  keyspaceBytes,
  rdbToResp,
  dumpRdb,
  dumpReplayed,
  convertRecords,
  type KeyspaceBytesOptions,
  type RdbToRespOptions,
  type KeyFilter,
  type DumpRdbOptions,
  type DumpReplayedOptions,
  type ConvertInput,
} from './pipelines.js';
export {
  aofToRdb,
  rdbToAof,
  rewriteAof,
  aofInputPaths,
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
