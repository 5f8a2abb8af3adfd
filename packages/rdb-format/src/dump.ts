// The frame of a DUMP payload (FORMATS §1.6): the object's type byte and serialized value, the RDB version as
// 2 bytes LE, then the CRC64 (LE) of everything before it. FUNCTION DUMP payloads share it.
import { Crc64 } from '@redis-persist/bytes';
import { RdbFormatError } from './errors.js';

/** Type byte + 2-byte version + 8-byte CRC64. */
export const DUMP_FOOTER_BYTES = 10;
const MIN_PAYLOAD = 1 + DUMP_FOOTER_BYTES;

/** The parts of a verified DUMP payload. */
export interface DumpPayloadParts {
  type: number;
  /** The serialized object after the type byte. */
  body: Uint8Array;
  rdbVersion: number;
}

/** A DUMP payload of an object: its type byte and serialized value, framed for `rdbVersion`. */
export function frameDumpPayload(type: number, body: Uint8Array, rdbVersion: number): Uint8Array {
  const out = new Uint8Array(1 + body.length + DUMP_FOOTER_BYTES);
  out[0] = type;
  out.set(body, 1);
  const vAt = 1 + body.length;
  out[vAt] = rdbVersion & 0xff;
  out[vAt + 1] = (rdbVersion >>> 8) & 0xff;
  new Crc64().update(out, 0, vAt + 2).writeLE(out, vAt + 2);
  return out;
}

/** Checks a DUMP payload's footer (length, CRC64) and splits it. Throws RdbFormatError (offset in the payload). */
export function splitDumpPayload(payload: Uint8Array): DumpPayloadParts {
  if (payload.length < MIN_PAYLOAD) {
    throw new RdbFormatError(`DUMP payload of ${payload.length} bytes is too short (type byte + 2-byte version + 8-byte CRC64 at least)`, 0);
  }
  const crcAt = payload.length - 8;
  const crc = new Crc64().update(payload, 0, crcAt);
  if (!crc.matchesLE(payload, crcAt)) {
    throw new RdbFormatError(`DUMP payload CRC64 mismatch (expected ${crc.value().toString(16)})`, crcAt);
  }
  const rdbVersion = payload[crcAt - 2] | (payload[crcAt - 1] << 8);
  if (rdbVersion < 1) throw new RdbFormatError(`DUMP payload has RDB version ${rdbVersion}`, crcAt - 2);
  return { type: payload[0], body: payload.subarray(1, crcAt - 2), rdbVersion };
}
