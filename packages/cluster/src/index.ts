// The public API of @redis-persist/cluster.
export { ClusterError, type ClusterErrorCode } from './errors.js';
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
