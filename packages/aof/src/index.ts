export { AofError, type AofErrorCode } from './errors.js';
export { AofScanner, type AofScanEvent, type AofScanFailure, type AofScannerOptions } from './scanner.js';
export { parseManifest, formatManifest, splitArgs, reprQuote, loadedFiles, looksLikeManifest, type AofManifest, type AofManifestEntry, type AofFileType } from './manifest.js';
export { resolveAofInput, readManifest, type AofInput } from './input.js';
export { checkAof, type AofCheckReport, type AofFileReport, type AofFileStatus, type AofRepairPlan, type CheckAofOptions } from './check.js';
