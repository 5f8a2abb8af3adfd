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
