export { jemallocSize, sdsAllocSize, sdsHeaderSize, listpackEntrySize, encodeListpack, scoreText, strictInt64 } from './alloc.js';
export { DEFAULT_MEMORY_CONFIG, parseMemoryConfig, type MemoryConfig } from './config.js';
export { DictSim, RaxSim, QuicklistSim, StreamNodesSim, SKIPLIST_NODE_EXPECTED, dictTableSize } from './structures.js';
export {
  rdbMemoryRecords,
  type KeyMemory,
  type MemoryRecord,
  type MemorySummary,
  type MemoryTotals,
  type DbOverhead,
  type EstimateMemoryOptions,
  type MemoryServerModel,
} from './estimate.js';
export {
  diffKeyspaces,
  diffCanonicalJsonl,
  JsonlLineCursor,
  type JsonlLineHead,
  type DiffEntry,
  type DiffKey,
  type DiffChanged,
  type DiffFunction,
  type DiffInput,
  type DiffOptions,
  type KeyChange,
} from './diff.js';
export { AnalysisError, type AnalysisErrorCode } from './errors.js';
export {
  exportRdb,
  rdbExportRows,
  exportKeyText,
  EXPORT_COLUMNS,
  type ExportFormat,
  type ExportRow,
  type ExportSink,
  type ExportRdbOptions,
  type ExportResult,
} from './export.js';
export {
  ReportBuilder,
  reportRdbFiles,
  REPORT_VERSION,
  REPORT_DEFAULTS,
  TTL_BUCKETS,
  TTL_BUCKET_LABELS,
  type Report,
  type ReportOptions,
  type ReportFilesOptions,
  type ReportFile,
  type ReportTotals,
  type ReportPrefixes,
  type PrefixEntry,
  type TopKey,
  type TypeRow,
  type Percentiles,
  type TtlBucket,
} from './report.js';
export { reportHtml, HTML_PREFIX_ROWS, type ReportHtmlOptions } from './report-html.js';
export { QuantileSketch, TopN, HeavyHitters, SKETCH_RELATIVE_ERROR, type HeavyHitter } from './sketch.js';
