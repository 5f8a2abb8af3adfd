// The Redis 7+ multi-part AOF manifest (`appendonly.aof.manifest`), read with the same rules as Redis'
// aofLoadManifestFromFile (shared by the server and redis-check-aof) and written the way aofInfoFormat does.
import { AofError } from './errors.js';

/** The kind of a manifest entry: `base`, `history` or `incr` (its `type` b, h or i in the file). */
export type AofFileType = 'base' | 'history' | 'incr';

/** One line of an AOF manifest: file name, sequence number, type and where it stands. */
export interface AofManifestEntry {
  /** Bare file name inside the AOF directory. */
  name: string;
  seq: number;
  type: AofFileType;
  /** 1-based manifest line. */
  line: number;
}

/** A parsed Redis 7 AOF manifest: the base, history and incr entries. */
export interface AofManifest {
  base: AofManifestEntry | null;
  history: AofManifestEntry[];
  incr: AofManifestEntry[];
}

const MANIFEST_LINE_MAX = 1024; // fgets(buf, AOF_MANIFEST_MAX_LINE + 1)

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * Splits a line into arguments like Redis' sdssplitargs: blanks separate bare words; "..." understands
 * \xHH, \n, \r, \t, \b, \a and \<char>; '...' understands only \'. A closing quote must be followed by a blank
 * or the end of the line. Returns null for an unbalanced or badly closed quote.
 */
export function splitArgs(line: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const cur: number[] = [];
    let inDouble = false;
    let inSingle = false;
    let done = false;
    while (!done) {
      if (inDouble) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 0x5c && i + 3 < n && line[i + 1] === 0x78 && hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0) {
          cur.push(hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]));
          i += 3;
        } else if (c === 0x5c && i + 1 < n) {
          i++;
          const e = line[i];
          cur.push(e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : e === 0x62 ? 0x08 : e === 0x61 ? 0x07 : e);
        } else if (c === 0x22) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          cur.push(c);
        }
      } else if (inSingle) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 0x5c && i + 1 < n && line[i + 1] === 0x27) {
          i++;
          cur.push(0x27);
        } else if (c === 0x27) {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          cur.push(c);
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const c = line[i];
        if (isSpace(c)) done = true;
        else if (c === 0x22) inDouble = true;
        else if (c === 0x27) inSingle = true;
        else cur.push(c);
      }
      if (i < n) i++;
    }
    out.push(Uint8Array.from(cur));
  }
}

/** C atoll: leading blanks, optional sign, digits; anything else ends the number (so "12abc" = 12, "abc" = 0). */
function atoll(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && isSpace(bytes[i])) i++;
  let neg = false;
  if (bytes[i] === 0x2b || bytes[i] === 0x2d) neg = bytes[i++] === 0x2d;
  let v = 0;
  while (i < bytes.length && bytes[i] >= 0x30 && bytes[i] <= 0x39) v = v * 10 + (bytes[i++] - 0x30);
  return neg ? -v : v;
}

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/**
 * Parses manifest bytes. Throws an {@link AofError} with code `manifest` and Redis' own reason (plus the line
 * number and the line) for anything the Redis loader rejects.
 */
export function parseManifest(bytes: Uint8Array, file = 'appendonly.aof.manifest'): AofManifest {
  const manifest: AofManifest = { base: null, history: [], incr: [] };
  if (bytes.length === 0) throw new AofError('manifest', 'Found an empty AOF manifest', { file });
  let pos = 0;
  let lineNo = 0;
  let lastIncrSeq = 0;
  const fail = (reason: string, raw: Uint8Array): never => {
    throw new AofError('manifest', `line ${lineNo}: ${reason} (>>> '${latin1(raw).replace(/[\r\n]+$/, '')}')`, { file });
  };
  while (pos < bytes.length) {
    lineNo++;
    // fgets: up to 1024 bytes or through '\n'
    const lim = Math.min(bytes.length, pos + MANIFEST_LINE_MAX);
    let end = pos;
    while (end < lim && bytes[end] !== 0x0a) end++;
    const hasNewline = end < lim;
    const raw = bytes.subarray(pos, hasNewline ? end + 1 : lim);
    pos += raw.length;
    if (raw[0] === 0x23) continue; // comment
    if (!hasNewline) fail('The AOF manifest file contains too long line', raw);
    // trim " \t\r\n" both ends
    let a = 0;
    let b = raw.length;
    const trim = (c: number) => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
    while (a < b && trim(raw[a])) a++;
    while (b > a && trim(raw[b - 1])) b--;
    if (a === b) fail('Invalid AOF manifest file format', raw);
    const argv = splitArgs(raw.subarray(a, b));
    if (argv === null || argv.length < 6 || argv.length % 2 !== 0) fail('Invalid AOF manifest file format', raw);
    let name: string | null = null;
    let seq = 0;
    let type = 0;
    for (let k = 0; k < argv!.length; k += 2) {
      const key = latin1(argv![k]).toLowerCase();
      const value = argv![k + 1];
      if (key === 'file') name = Buffer.from(value).toString('utf8');
      else if (key === 'seq') seq = atoll(value);
      else if (key === 'type') type = value[0] ?? 0;
    }
    if (name === null || seq === 0 || type === 0) fail('Invalid AOF manifest file format', raw);
    if (name!.includes('/') || name!.includes('\\')) fail("File can't be a path, just a filename", raw);
    const entry = (t: AofFileType): AofManifestEntry => ({ name: name!, seq, type: t, line: lineNo });
    if (type === 0x62) {
      if (manifest.base) fail('Found duplicate base file information', raw);
      manifest.base = entry('base');
    } else if (type === 0x68) {
      manifest.history.push(entry('history'));
    } else if (type === 0x69) {
      if (seq <= lastIncrSeq) fail('Found a non-monotonic sequence number', raw);
      lastIncrSeq = seq;
      manifest.incr.push(entry('incr'));
    } else {
      fail('Unknown AOF file type', raw);
    }
  }
  return manifest;
}

/** True when Redis writes the name quoted (sdsneedsrepr): blanks, quotes, backslash, control bytes. */
function needsQuoting(name: Uint8Array): boolean {
  for (const c of name) {
    if (c === 0x5c || c === 0x22 || c === 0x27 || c <= 0x20 || c >= 0x7f) return true;
  }
  return false;
}

/** Quotes like sdscatrepr: "..." with \\ \" \n \r \t \a \b and \xHH for other non-printable bytes. */
export function reprQuote(bytes: Uint8Array): string {
  let s = '"';
  for (const c of bytes) {
    if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x07) s += '\\a';
    else if (c === 0x08) s += '\\b';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return s + '"';
}

/** Serialises a manifest exactly as Redis writes it: base, then history, then incr lines. */
export function formatManifest(manifest: AofManifest): Uint8Array {
  const letter: Record<AofFileType, string> = { base: 'b', history: 'h', incr: 'i' };
  const entries = [...(manifest.base ? [manifest.base] : []), ...manifest.history, ...manifest.incr];
  const parts: Buffer[] = [];
  for (const e of entries) {
    const nameBytes = Buffer.from(e.name, 'utf8');
    const name = needsQuoting(nameBytes) ? Buffer.from(reprQuote(nameBytes), 'latin1') : nameBytes;
    parts.push(Buffer.from('file '), name, Buffer.from(` seq ${e.seq} type ${letter[e.type]}\n`));
  }
  return Buffer.concat(parts);
}

/** The files Redis loads, in order: the base (if any), then every incr file. History files are never loaded. */
export function loadedFiles(manifest: AofManifest): AofManifestEntry[] {
  return [...(manifest.base ? [manifest.base] : []), ...manifest.incr];
}

/**
 * The first file name a manifest lists twice (base, history or incr), or null. Redis loads such a manifest (the
 * file is replayed twice), but an edit would apply its cuts to the one file twice: every editing command refuses it.
 */
export function duplicateManifestEntry(manifest: AofManifest): string | null {
  const seen = new Set<string>();
  for (const e of [...(manifest.base ? [manifest.base] : []), ...manifest.history, ...manifest.incr]) {
    if (seen.has(e.name)) return e.name;
    seen.add(e.name);
  }
  return null;
}

/**
 * redis-check-aof (7.2.5+, 8.0, Valkey 8) treats a file as a manifest when its first line that does not start
 * with '#' starts with the bytes `file`. (7.0.x looked at every line.) `head` is the start of the file.
 */
export function looksLikeManifest(head: Uint8Array): boolean {
  let pos = 0;
  while (pos < head.length) {
    const lim = Math.min(head.length, pos + MANIFEST_LINE_MAX);
    let end = pos;
    while (end < lim && head[end] !== 0x0a) end++;
    const next = end < lim ? end + 1 : lim;
    if (head[pos] !== 0x23) {
      return next - pos >= 4 && head[pos] === 0x66 && head[pos + 1] === 0x69 && head[pos + 2] === 0x6c && head[pos + 3] === 0x65;
    }
    pos = next;
  }
  return false;
}
