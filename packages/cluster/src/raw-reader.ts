// Reading an RDB for copying: every record comes with its bytes as they are in the file, so that a key's
// serialized value (with its expiry, LRU/LFU and metadata prefixes) can be copied into another RDB of the same
// version without decoding it. A key too big to hold is handed out in parts as its bytes arrive.
import { abortableChunks } from '@redis-persist/fsio';
import { DONE, NEED_MORE, RdbParser, rdbSourceChunks, type RdbMagic, type RdbRecord, type RdbSource } from '@redis-persist/rdb';

/** Input bytes pushed but not yet handed out, as the chunks they came in (never copied). */
class Window {
  private chunks: Uint8Array[] = [];
  private starts: number[] = [];
  private head = 0;
  /** Absolute offset just past the last byte pushed. */
  end = 0;

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.starts.push(this.end);
    this.end += chunk.length;
  }

  /** Views of the bytes `[from, to)` (they must still be held). */
  take(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = this.head; i < this.chunks.length && from < to; i++) {
      const s = this.starts[i];
      const c = this.chunks[i];
      if (s + c.length <= from) continue;
      const a = from - s;
      const b = Math.min(c.length, to - s);
      out.push(a === 0 && b === c.length ? c : c.subarray(a, b));
      from = s + b;
    }
    if (from < to) throw new Error(`internal: bytes ${from}-${to} of the input are no longer held`);
    return out;
  }

  /** The chunks held. */
  held(): Uint8Array[] {
    return this.chunks.slice(this.head);
  }

  /** Forgets the chunks wholly before `offset`. */
  trim(offset: number): void {
    while (this.head < this.chunks.length && this.starts[this.head] + this.chunks[this.head].length <= offset) {
      this.chunks[this.head] = EMPTY;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

/** An RDB record and its bytes in the input. */
export interface RawRecord {
  kind: 'record';
  rec: RdbRecord;
  /**
   * The record's bytes as in the file (views into the input chunks; use them before the next event). For a key
   * whose earlier bytes were handed out in `key-part` events, only the rest; for keys when `rawKeys` is false,
   * none.
   */
  raw: Uint8Array[];
  /** Key records: earlier bytes of this key went out in `key-part` events. */
  continued: boolean;
}

/** The first bytes of a key record whose end has not arrived yet (the key's name is known; its db too). */
export interface RawKeyPart {
  kind: 'key-part';
  db: number;
  /** The key (valid until the next event). */
  key: Uint8Array;
  /** Offset of the key's record. */
  offset: number;
  raw: Uint8Array[];
}

/** An item of {@link readRdbRaw}: a record, or a part of a key's raw bytes. */
export type RawEvent = RawRecord | RawKeyPart;

/** How to read the keys. */
export interface RawReadMode {
  /** Decode values (for re-encoding). Default false: structure only, every encoding still checked in depth. */
  values?: boolean;
  /** Hand out the bytes of key records (and `key-part` events for keys that span chunks). Default true. */
  rawKeys?: boolean;
}

/** Options of {@link readRdbRaw}: raw or decoded values, chosen per file once its header is read. */
export interface ReadRawOptions extends RawReadMode {
  /** Chooses the mode once the header is read (overrides `values`/`rawKeys`). */
  mode?: (header: { version: number; magic: RdbMagic }) => RawReadMode;
  /** File name for error messages. */
  file?: string;
  /** Called with the bytes read so far, about every 16 MiB. */
  onProgress?: (progress: { bytes: number }) => void;
  /** Stops the read: checked once per chunk; rejects with `signal.reason`, the file closed. */
  signal?: AbortSignal;
}

/** What {@link readRdbRaw} learnt beyond the records. */
export interface RawReadInfo {
  /** Bytes after the end of the RDB (Redis ignores them; an AOF's command tail, if the input was one). */
  trailingBytes: number;
  /** Bytes read. */
  bytes: number;
}

/**
 * The records of an RDB with their bytes. Memory: the parser's (the largest string, or the largest value when
 * `values`) plus about one input chunk: the bytes of a key being read go out in `key-part` events at each chunk
 * border, so a huge key is never held whole for copying. Throws RdbError on bad data.
 */
export async function* readRdbRaw(source: RdbSource, options: ReadRawOptions = {}, info?: RawReadInfo): AsyncGenerator<RawEvent> {
  let values = options.values ?? false;
  let rawKeys = options.rawKeys ?? true;
  const win = new Window();
  // chunks of a path are fresh buffers: the window keeps them
  const it = abortableChunks(rdbSourceChunks(source, { chunkSize: 1 << 20 }), options.signal)[Symbol.asyncIterator]();
  if (options.mode) {
    // a first parser reads the header; the real one, made for the mode it calls for, reads the same chunks again
    const probe = new RdbParser({ values: false, file: options.file });
    for (;;) {
      const r = probe.next();
      if (r === NEED_MORE) {
        const next = await it.next();
        if (next.done) probe.end();
        else if (next.value.length > 0) {
          win.push(next.value);
          probe.push(next.value);
        }
        continue;
      }
      if (r === DONE || r.kind !== 'header') throw new Error('internal: an RDB parse starts with its header');
      const m = options.mode({ version: r.version, magic: r.magic });
      values = m.values ?? false;
      rawKeys = m.rawKeys ?? true;
      break;
    }
  }
  const parser = new RdbParser({ values, file: options.file, skipEmpty: values });
  for (const c of win.held()) parser.push(c);
  let db = 0;
  // the key whose bytes went out in parts: its record offset, and the offset up to which they went
  let partOf = -1;
  let sent = 0;
  let lastProgress = 0;
  let ended = false;
  try {
    for (;;) {
      const r = parser.next();
      if (r === DONE) break;
      if (r === NEED_MORE) {
        const cur = parser.current;
        if (cur) {
          const at = parser.offset;
          if (rawKeys) {
            const from = partOf === cur.offset ? sent : cur.offset;
            if (at > from) {
              const raw = win.take(from, at);
              partOf = cur.offset;
              sent = at;
              yield { kind: 'key-part', db, key: cur.key, offset: cur.offset, raw };
              win.trim(at);
            }
          } else win.trim(at);
        }
        const next = await it.next();
        if (next.done) {
          ended = true;
          parser.end();
        } else if (next.value.length > 0) {
          win.push(next.value);
          parser.push(next.value);
          if (options.onProgress && win.end - lastProgress >= 1 << 24) {
            lastProgress = win.end;
            options.onProgress({ bytes: win.end });
          }
        }
        continue;
      }
      const end = parser.offset;
      let raw: Uint8Array[];
      let continued = false;
      if (r.kind === 'key') {
        if (rawKeys) {
          continued = partOf === r.offset;
          raw = win.take(continued ? sent : r.offset, end);
        } else raw = [];
        partOf = -1;
      } else {
        if (r.kind === 'db') db = r.db;
        raw = r.kind === 'end' ? [] : win.take(r.offset, end);
      }
      yield { kind: 'record', rec: r, raw, continued };
      win.trim(end);
      if (r.kind === 'end') {
        if (info) {
          // count what follows the RDB without holding it
          let trailing = win.end - r.endOffset;
          if (!ended) {
            for (;;) {
              const next = await it.next();
              if (next.done) break;
              trailing += next.value.length;
              win.end += next.value.length;
            }
          }
          info.trailingBytes = trailing;
        }
        break;
      }
    }
  } finally {
    if (info) info.bytes = win.end;
    await it.return?.();
  }
}
