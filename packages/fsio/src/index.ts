export { FsioError, describeIoError, setNoticeHandler, type FsioErrorCode, type NoticeHandler } from './errors.js';
export { byteSourceChunks, type ByteSource } from './source.js';
export { readFileChunks, abortableChunks, requireRegularFile, isStreamPath, ChunkCursor, type ReadChunksOptions } from './read.js';
export {
  AtomicFile,
  AtomicDir,
  writeFileAtomic,
  checkOutput,
  resolvePath,
  tempPathFor,
  backupFile,
  nextBackupPath,
  truncateFile,
  removeFile,
  fsyncDirectory,
  pathExists,
  type AtomicFileOptions,
  type OutputPolicy,
} from './atomic.js';
export { acquireLock, lockPathFor, type FileLock, type LockOptions } from './lock.js';
export { findHolders, type FileHolder, type HoldersReport } from './holders.js';
export { ScratchFiles, type ScratchFile } from './spill.js';
