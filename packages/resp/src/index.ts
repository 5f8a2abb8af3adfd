export type { RespValue, RespLimits } from './types.js';
export { RespError, type RespErrorCode } from './errors.js';
export { RespDecoder, decodeAll, decodeStream } from './decoder.js';
export { encodeValue, encodeCommand, CommandEncoder, type CommandArg } from './encoder.js';
