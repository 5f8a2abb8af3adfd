export { FsioError, describeIoError } from './errors.js';
export { readFileChunks, type ReadChunksOptions } from './read.js';
export {
  AtomicFile,
  writeFileAtomic,
  backupFile,
  nextBackupPath,
  truncateFile,
  removeFile,
  fsyncDirectory,
  pathExists,
} from './atomic.js';
