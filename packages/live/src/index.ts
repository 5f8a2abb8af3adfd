export { LiveError, type LiveErrorCode, type LiveErrorInit } from './errors.js';
export { parseRedisUrl, formatAddress, type RedisAddress } from './url.js';
export {
  connectRedis,
  RedisConnection,
  replyError,
  replyText,
  parseInfo,
  commandName,
  type CommandArg,
  type Command,
  type ConnectOptions,
  type TlsOptions,
  type PipelineOptions,
} from './connection.js';
export { fetchSlotMap, fetchSlotMapFrom } from './slotmap.js';
export { ClusterRouter, type ClusterRouterOptions, type RoutedCommand, type RouterStats } from './router.js';
export {
  fetchSnapshot,
  fetchSnapshotToFile,
  fetchClusterSnapshots,
  clusterBackupNodes,
  formatNodesJson,
  SnapshotStream,
  SnapshotVerifier,
  ReplicationLink,
  type ReplicationCommand,
  EOF_MARK_LENGTH,
  type FetchSnapshotOptions,
  type FetchToFileOptions,
  type FetchResult,
  type SnapshotInfo,
  type SnapshotProgress,
  type SnapshotCheck,
  type ClusterFetchOptions,
  type ClusterFetchResult,
  type ClusterBackupNode,
} from './replication.js';
export {
  restoreKeys,
  RestoreTarget,
  RestoreError,
  rdbVersionForServer,
  encodeFunctionPayload,
  type RestoreOptions,
  type RestoreTargetOptions,
  type RestoreProgress,
  type RestoreSummary,
  type RestoreServer,
  type RestoreFilter,
  type RestoreCheckpointing,
} from './restore.js';
export { slotTag, tempKeyName, pieceCommands, DEFAULT_MAX_BULK_LENGTH, CONCAT_CALL_SCRIPT, CONCAT_STRING_SCRIPT, type PieceOptions } from './restore-pieces.js';
export { rdbRestoreRecords, findOversizedElement, type RestoreRecord, type OversizedElement } from './restore-input.js';
export {
  inputIdentity,
  readCheckpoint,
  writeCheckpoint,
  removeCheckpoint,
  checkpointMismatch,
  defaultCheckpointPath,
  type InputIdentity,
  type RestoreCheckpoint,
} from './restore-checkpoint.js';
export { RateLimiter } from './restore-rate.js';
export {
  parseSentinelList,
  resolveMaster,
  masterResolver,
  watchMaster,
  askSentinel,
  serverRole,
  MasterWatch,
  SentinelError,
  SENTINEL_DEFAULT_PORT,
  type SentinelAddress,
  type SentinelOptions,
  type SentinelAnswer,
  type ResolvedMaster,
  type MasterSwitch,
  type SentinelEvent,
  type WatchMasterOptions,
} from './sentinel.js';
export {
  followReplication,
  Follower,
  scanIncrFile,
  FOLLOW_STATE_FILE,
  REPL_ANNOTATION,
  type FollowOptions,
  type FollowEvent,
  type FollowSummary,
  type FollowState,
  type FsyncPolicy,
  type IncrScan,
} from './follow.js';
