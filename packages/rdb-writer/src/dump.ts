import type { KeyValue } from '@redis-persist/keyspace';
import { decodeRdbValue } from '@redis-persist/rdb';
import { RdbFormatError, frameDumpPayload, splitDumpPayload as splitFrame, type DumpPayloadParts } from '@redis-persist/rdb-format';
import { RdbWriterError } from './errors.js';
import { ValueEncoder } from './object.js';
import { ByteSink } from './sink.js';
import { DEFAULT_RDB_VERSION, type RdbThresholds, resolveTarget, resolveThresholds } from './target.js';

/** Options of {@link encodeDumpPayload}: Valkey, compression, encoding limits. */
export interface DumpOptions {
  valkey?: boolean;
  compress?: boolean;
  thresholds?: Partial<RdbThresholds>;
}

/**
 * A `DUMP`-style payload for `RESTORE`: type byte, the object encoded for `rdbVersion` (default 10), the
 * version as 2 bytes LE and the CRC64 (LE) of everything before it (FORMATS §1.6).
 */
export function encodeDumpPayload(value: KeyValue, rdbVersion = DEFAULT_RDB_VERSION, options: DumpOptions = {}): Uint8Array {
  const target = resolveTarget(rdbVersion, options.valkey ?? false);
  const enc = new ValueEncoder({ target, thresholds: resolveThresholds(options.thresholds), compress: options.compress ?? true });
  const body = new ByteSink(256);
  const type = enc.encode(body, value);
  return frameDumpPayload(type, body.buf.subarray(0, body.pos), rdbVersion);
}

export type { DumpPayloadParts };

/** Checks a DUMP payload's footer (length, CRC64) and splits it. */
export function splitDumpPayload(payload: Uint8Array): DumpPayloadParts {
  try {
    return splitFrame(payload);
  } catch (err) {
    if (err instanceof RdbFormatError) throw new RdbWriterError('corrupt', err.message, { offset: err.offset });
    throw err;
  }
}

/**
 * Decodes a DUMP payload (from `DUMP key` or {@link encodeDumpPayload}): verifies length and CRC64, then
 * decodes the object with the RDB parser. Parser errors (RdbError) pass through.
 */
export function decodeDumpPayload(payload: Uint8Array): { rdbVersion: number; value: KeyValue } {
  const { type, body, rdbVersion } = splitDumpPayload(payload);
  return { rdbVersion, value: decodeRdbValue(type, body, rdbVersion) };
}
