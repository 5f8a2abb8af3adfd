import { RdbFormatError } from './errors.js';

// A module type id packs 9 name characters (6 bits each, from this alphabet) and a 10-bit encoding version.
const MODULE_CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const NAME_LENGTH = 9;
const ENCVER_BITS = 10n;
const ENCVER_MAX = 1023;

/** The name and encoding version a 64-bit module type id stands for. */
export function decodeModuleId(id: bigint): { name: string; encver: number } {
  const encver = Number(id & BigInt(ENCVER_MAX));
  let rest = id >> ENCVER_BITS;
  let name = '';
  for (let k = 0; k < NAME_LENGTH; k++) {
    name = MODULE_CHARSET[Number(rest & 63n)] + name;
    rest >>= 6n;
  }
  return { name, encver };
}

/** The 64-bit module type id of a 9-character name and an encoding version 0..1023. Throws RdbFormatError. */
export function encodeModuleId(name: string, encver: number): bigint {
  if (name.length !== NAME_LENGTH) throw new RdbFormatError(`module type name must be 9 characters, got ${JSON.stringify(name)}`);
  if (!Number.isInteger(encver) || encver < 0 || encver > ENCVER_MAX) {
    throw new RdbFormatError(`module encoding version must be 0..1023, got ${encver}`);
  }
  let id = 0n;
  for (const ch of name) {
    const idx = MODULE_CHARSET.indexOf(ch);
    if (idx < 0) throw new RdbFormatError(`module type name ${JSON.stringify(name)} has a character outside A-Z a-z 0-9 - _`);
    id = (id << 6n) | BigInt(idx);
  }
  return (id << ENCVER_BITS) | BigInt(encver);
}
