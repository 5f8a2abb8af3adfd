export { LiveError, type LiveErrorCode } from './errors.js';
export { parseRedisUrl, formatAddress, type RedisAddress } from './url.js';
