export { redisAvailable, redisToolAvailable, sharedDir, corpusDir, repoRoot } from './paths.js';
export { connect, RedisReplyError, type RedisClient, type RedisArg } from './client.js';
export {
  startRedis,
  freePort,
  freeClusterPort,
  waitForPersistence,
  redisServerVersion,
  type RedisServer,
  type StartRedisOptions,
} from './server.js';
export { dumpLiveKeyspace, streamFromXinfoFull, parseScore, type DumpOptions } from './dump.js';
export { randomTraffic, type RandomTrafficOptions, type TrafficType } from './traffic.js';
export { startCluster, clusterAvailable, type TestCluster, type StartClusterOptions } from './cluster.js';
export { startSentinels, startMasterReplica, waitForReplicaLink, type TestSentinels, type StartSentinelsOptions, type ReplicatedServers } from './sentinel.js';
export { seededRandom, openFileDescriptors, stringKeysRdb, abortAtCheck, treeListing, checkPoints, sweepAbortPoints } from './test-files.js';
export { runNodeMeasured, type MeasuredRun } from './measure.js';
