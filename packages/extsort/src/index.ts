export { ByteSorter, SlabPool, TempDir, recordSortKey, zsetSortKey, zsetKeyScore } from './byte-sorter.js';
export { sortKeyspace, estimateRecordBytes, DEFAULT_SORT_BUDGET, type SortKeyspaceOptions } from './sort.js';
