// The RDB part of an AOF (a Redis 7 `.base.rdb`, or the RDB preamble of an older single-file AOF) is verified by
// the RDB checker of @redis-persist/rdb, as redis-check-aof hands it to redis-check-rdb.
import { checkRdb } from '@redis-persist/rdb';

/** What the RDB part of an AOF (its base or preamble) held: verdict, and where the RESP part starts. */
export interface RdbPartResult {
  ok: boolean;
  /** Where the RDB ends (after its EOF opcode and checksum); RESP commands may follow. */
  endOffset: number;
  version: number | null;
  keys: number;
  /** Why it is not valid. */
  error: { offset: number; message: string; truncated: boolean } | null;
}

/**
 * Checks the RDB at the start of `path`, stopping after its EOF record (trailing bytes are the AOF tail).
 * Rejects with `signal.reason` when `signal` is aborted.
 */
export async function checkRdbPart(path: string, file: string, signal?: AbortSignal): Promise<RdbPartResult> {
  const report = await checkRdb(path, { stopAtEnd: true, file, signal });
  return {
    ok: report.ok,
    endOffset: report.endOffset ?? report.reachedOffset,
    version: report.version,
    keys: report.keys,
    error: report.error
      ? { offset: report.error.offset, message: report.error.message, truncated: report.error.truncated }
      : null,
  };
}
