export { encodeKeyspaceLine, encodeKeyspaceLineBytes, keyspaceJsonlChunks, type EncodeOptions } from './encode.js';
export { parseKeyspaceLine, parseKeyspaceLineBytes, type ParseWhere } from './parse.js';
export { readKeyspaceJsonl, DEFAULT_MAX_LINE_BYTES, type ReadKeyspaceOptions } from './read.js';
// The line writer's parts: the external sorter buffers items in a ChunkWriter, and the streaming writers of
// @redis-persist/converters write a huge key's line piece by piece with these, so every line has one encoder.
export {
  ChunkWriter,
  writeRecord,
  writeKeyHead,
  writeEscapedRun,
  writeKeyTail,
  writeStr,
  writeStrRange,
  writeScore,
  writeStreamEntry,
  writeStreamMeta,
  writeStreamGroupHead,
  writeStreamPending,
  writeStreamConsumer,
} from './encode.js';
