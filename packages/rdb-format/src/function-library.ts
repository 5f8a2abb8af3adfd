// The header of a function library (FUNCTION2 payload, FUNCTION LOAD / RESTORE code): its first line,
// `#!<engine> name=<library>`. The rule is Redis' (functions.c functionExtractLibMetaData and
// functionsVerifyName, the same in 7.0 and 7.2), applied wherever Redis compiles a library: at FUNCTION LOAD, at
// FUNCTION RESTORE and when a server loads an RDB (redis-check-rdb reads the payload without compiling it).
import { RdbFormatError } from './errors.js';

/** The engine (upper case, as Redis matches it) and library name of a library's header. */
export interface FunctionLibraryHeader {
  engine: string;
  library: string;
}

const NL = 0x0a;
const latin1 = new TextDecoder('latin1');

/**
 * The header of a function library's code, or an RdbFormatError carrying Redis' message (without `ERR `):
 * `Missing library metadata`, `Invalid library metadata`, `Invalid metadata value given: <part>`,
 * `Library name was not given`, ...
 */
export function parseFunctionLibraryHeader(code: Uint8Array): FunctionLibraryHeader {
  if (code.length < 2 || code[0] !== 0x23 || code[1] !== 0x21) throw new RdbFormatError('Missing library metadata');
  const nl = code.indexOf(NL);
  if (nl < 0) throw new RdbFormatError('Invalid library metadata');
  const parts = splitArgs(Buffer.from(code.subarray(0, nl)).toString('utf8'));
  if (parts === null || parts.length === 0) throw new RdbFormatError('Invalid library metadata');
  let library: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    if (part.slice(0, 5).toLowerCase() === 'name=') {
      if (library !== null) throw new RdbFormatError('Invalid metadata value, name argument was given multiple times');
      library = part.slice(5);
      continue;
    }
    throw new RdbFormatError(`Invalid metadata value given: ${part}`);
  }
  if (library === null) throw new RdbFormatError('Library name was not given');
  if (!/^[A-Za-z0-9_]+$/.test(library)) {
    throw new RdbFormatError('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long');
  }
  return { engine: parts[0].slice(2).toUpperCase(), library };
}

/** The code's first line as text (for messages), at most 200 characters. */
export function functionLibraryFirstLine(code: Uint8Array): string {
  const nl = code.indexOf(NL);
  return latin1.decode(code.subarray(0, Math.min(nl < 0 ? code.length : nl, 200)));
}

const isSpace = (c: string) => c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
const isHex = (c: string) => /^[0-9a-fA-F]$/.test(c);

/**
 * Redis' sdssplitargs: words separated by blanks, "double quoted" (with \n \r \t \b \a \xHH \<char> escapes) or
 * 'single quoted' (only \' escaped); a closing quote must be followed by a blank or the end. Null when the quotes
 * are unbalanced.
 */
function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let p = 0;
  const n = line.length;
  for (;;) {
    while (p < n && isSpace(line[p])) p++;
    if (p >= n) return out;
    let cur = '';
    let inq = false;
    let insq = false;
    for (;;) {
      if (inq) {
        if (p >= n) return null;
        const c = line[p];
        if (c === '\\' && line[p + 1] === 'x' && p + 3 < n && isHex(line[p + 2]) && isHex(line[p + 3])) {
          cur += String.fromCharCode(parseInt(line.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === '\\' && p + 1 < n) {
          p++;
          const e = line[p];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (p + 1 < n && !isSpace(line[p + 1])) return null;
          p++;
          break;
        } else cur += c;
      } else if (insq) {
        if (p >= n) return null;
        const c = line[p];
        if (c === '\\' && line[p + 1] === "'") {
          p++;
          cur += "'";
        } else if (c === "'") {
          if (p + 1 < n && !isSpace(line[p + 1])) return null;
          p++;
          break;
        } else cur += c;
      } else {
        if (p >= n) break;
        const c = line[p];
        if (isSpace(c)) break;
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
      }
      p++;
    }
    out.push(cur);
  }
}
