export { LiveError, type LiveErrorCode } from './errors.js';
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
} from './restore.js';
