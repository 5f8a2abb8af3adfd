import { Crc64 } from '@redis-persist/bytes';
import type { KeyValue } from '@redis-persist/keyspace';
import { decodeRdbValue } from '@redis-persist/rdb';
import { RdbWriterError } from './errors.js';
import { ValueEncoder } from './object.js';
import { ByteSink } from './sink.js';
import { DEFAULT_RDB_VERSION, type RdbThresholds, resolveTarget, resolveThresholds } from './target.js';

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
  const out = new Uint8Array(1 + body.pos + 2 + 8);
  out[0] = type;
  out.set(body.buf.subarray(0, body.pos), 1);
  const vAt = 1 + body.pos;
  out[vAt] = rdbVersion & 0xff;
  out[vAt + 1] = (rdbVersion >>> 8) & 0xff;
  new Crc64().update(out, 0, vAt + 2).writeLE(out, vAt + 2);
  return out;
}

/** The parts of a verified DUMP payload. */
export interface DumpPayloadParts {
  type: number;
  /** The serialized object after the type byte. */
  body: Uint8Array;
  rdbVersion: number;
}

/** Checks a DUMP payload's footer (length, CRC64) and splits it. */
export function splitDumpPayload(payload: Uint8Array): DumpPayloadParts {
  if (payload.length < 11) {
    throw new RdbWriterError('corrupt', `DUMP payload of ${payload.length} bytes is too short (type byte + 2-byte version + 8-byte CRC64 at least)`, {
      offset: 0,
    });
  }
  const crcAt = payload.length - 8;
  const crc = new Crc64().update(payload, 0, crcAt);
  if (!crc.matchesLE(payload, crcAt)) {
    throw new RdbWriterError('corrupt', `DUMP payload CRC64 mismatch (expected ${crc.value().toString(16)})`, { offset: crcAt });
  }
  const rdbVersion = payload[crcAt - 2] | (payload[crcAt - 1] << 8);
  if (rdbVersion < 1) throw new RdbWriterError('corrupt', `DUMP payload has RDB version ${rdbVersion}`, { offset: crcAt - 2 });
  return { type: payload[0], body: payload.subarray(1, crcAt - 2), rdbVersion };
}

/**
 * Decodes a DUMP payload (from `DUMP key` or {@link encodeDumpPayload}): verifies length and CRC64, then
 * decodes the object with the RDB parser. Parser errors (RdbError) pass through.
 */
export function decodeDumpPayload(payload: Uint8Array): { rdbVersion: number; value: KeyValue } {
  const { type, body, rdbVersion } = splitDumpPayload(payload);
  return { rdbVersion, value: decodeRdbValue(type, body, rdbVersion) };
}
