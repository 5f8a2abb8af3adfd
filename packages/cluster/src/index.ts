// The public API of @redis-persist/cluster.
export { ClusterError, type ClusterErrorCode, type ClusterErrorInit } from './errors.js';
export { CLUSTER_SLOTS, keyHashSlot } from './slot.js';
export {
  buildSlotMap,
  slotMapFromShards,
  slotMapFromSlots,
  slotMapFromNodesConf,
  slotMapFromRanges,
  slotOwner,
  slotOwnerTable,
  nodeRanges,
  formatSlotRanges,
  describeNode,
  type SlotMap,
  type SlotRange,
  type ClusterNode,
  type RespReply,
} from './slot-map.js';
export { splitRdb, splitKeyspace, type SplitOptions, type SplitResult, type SplitPart } from './split.js';
export { KeyDigestSet } from './digest.js';
export { mergeRdb, type MergeInput, type MergeOptions, type MergeResult, type MergeInputSummary } from './merge.js';
export { readRdbRaw, type RawEvent, type RawRecord, type RawKeyPart, type ReadRawOptions, type RawReadMode, type RawReadInfo } from './raw-reader.js';
