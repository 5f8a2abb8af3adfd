export { ReplayError, type ReplayErrorCode } from './errors.js';
export { replayAof, Replayer, type ReplayOptions, type ReplayResult, type ReplayFailure } from './replay.js';
export { ReplayKeyspace, type RecordsOptions } from './keyspace.js';
export { pfadd } from './hll.js';
