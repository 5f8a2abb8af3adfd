// A key handed out in pieces (`KeyspacePiece`, `partial: true`) whose input then ends, or goes on to another key,
// before its last piece: a damaged file read up to the damage. Consumers that write the pieces as they come tell
// their writer where such a key's output lies, so that none of it is kept once it proves unfinished.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { bytesEqual } from '@redis-persist/bytes';
import { ChunkWriter, writeEscapedRun, writeKeyHead } from '@redis-persist/jsonl';
import type { Bytes, KeyRecord, KeyspacePiece } from '@redis-persist/keyspace';

/**
 * Told by a chunk producer (keyspaceJsonlStream in file order, respChunks) where the output of a key in pieces lies.
 * Offsets count the bytes the producer hands out; after a {@link drop} it counts on from the dropped key's start.
 * With one given, an unfinished piece sequence is dropped (and reported here) instead of being an error.
 */
export interface PieceOutput {
  /** The output of a key in pieces starts at byte `at` (bytes handed out before it may still be on their way). */
  open?(at: number): void;
  /** That key's last piece is out: the output up to byte `at` ends on a whole record again. */
  close?(at: number): void;
  /**
   * A key's pieces stopped before its last one: it is left out. `at` is where its output started (the bytes from
   * there on, some perhaps already handed out, are to be dropped: the next ones continue at `at`), or null when
   * nothing of it reached the output (a sorting consumer held it).
   */
  drop?(db: number, key: Bytes, at: number | null): void;
}

/**
 * A string handed out in pieces (the RDB parser's `stringPieceBytes`: `stringLength` on every piece): its pieces,
 * in order, are the bytes of the whole value.
 */
export function isStringPiece(r: KeyspacePiece): r is KeyspacePiece & { kind: 'key'; type: 'string'; stringLength: number } {
  return r.kind === 'key' && r.type === 'string' && r.stringLength !== undefined;
}

/**
 * The RESP of `SET <key> <value>` up to the value's bytes, for a value of `length` bytes that follows in pieces
 * (then CRLF): the bytes `SET key value` encodes to, without the value in hand.
 */
export function setCommandHead(key: Bytes, length: number): Uint8Array {
  const head = Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n`, 'latin1');
  const tail = Buffer.from(`\r\n$${length}\r\n`, 'latin1');
  return Buffer.concat([head, key, tail]);
}

/** A sort item (ByteSorter.openItem) a string's line is written into as its pieces come. */
export interface PieceItem {
  write(b: Uint8Array): Promise<void>;
  finish(keep: boolean): Promise<void>;
  abort(): Promise<void>;
}

/** Bytes of the raw string read back at a time when it turns out not to be UTF-8 (a multiple of 3: base64 groups). */
const READ_BACK = 3 << 20;

/**
 * The canonical JSON line of a string handed over in pieces, written into a sort item as the pieces come: the
 * bytes writeRecord gives for the whole string. Its value is a JSON string when the whole string is valid UTF-8
 * (checked piece by piece, a character cut by a piece boundary carried to the next), else `{"base64":...}` (cut
 * on 3-byte groups). Which one is only known at the end, so the raw bytes wait in a temp file while the text form
 * is written; the first invalid byte switches to base64: the text item is dropped and a new one is written from
 * the raw bytes read back, then from the pieces. Memory: a piece and a few chunks.
 */
export class JsonlStringPieces {
  private item: PieceItem | null = null;
  private text = true;
  /** Text: the start of a UTF-8 character cut by the piece boundary; base64: bytes short of a 3-byte group. */
  private carry: Uint8Array = new Uint8Array(0);
  private rawFd = -1;
  private rawPath = '';
  private rawBytes = 0;
  private readonly w = new ChunkWriter(64 * 1024);

  constructor(
    readonly first: KeyRecord,
    private readonly openItem: () => Promise<PieceItem>,
    private readonly tempPath: () => Promise<string>,
  ) {}

  matches(r: KeyspacePiece): boolean {
    return r.kind === 'key' && r.db === this.first.db && r.type === 'string' && bytesEqual(r.key, this.first.key);
  }

  /** The next piece (`last`: the record without `partial`, whose bytes end the string). */
  async add(piece: Uint8Array, last: boolean, tail?: (w: ChunkWriter) => void): Promise<void> {
    if (this.item === null) {
      this.item = await this.openItem();
      this.rawPath = await this.tempPath();
      this.rawFd = openSync(this.rawPath, 'w+');
      writeKeyHead(this.w, this.first);
      this.w.byte(0x22);
    }
    if (this.text) {
      this.keepRaw(piece);
      const all = this.carry.length === 0 ? piece : Buffer.concat([this.carry, piece]);
      const cut = last ? all.length : utf8Cut(all);
      const body = all.subarray(0, cut);
      if (isUtf8(body) && (!last || cut === all.length)) {
        writeEscapedRun(this.w, body);
        this.carry = all.slice(cut);
        await this.flush();
      } else await this.toBase64();
    } else this.base64(piece, false);
    if (last) {
      if (this.text) this.w.byte(0x22);
      else {
        this.base64(new Uint8Array(0), true);
        this.w.ascii('"}');
      }
      tail?.(this.w);
      this.w.byte(0x0a);
      await this.flush();
      await this.item.finish(true);
      this.item = null;
      this.close();
    } else await this.flush();
  }

  /** Drops what was written (its pieces stopped early, or the output failed). */
  async abort(): Promise<void> {
    const it = this.item;
    this.item = null;
    this.close();
    if (it !== null) await it.abort();
  }

  private keepRaw(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) off += writeSync(this.rawFd, b, off, b.length - off, this.rawBytes + off);
    this.rawBytes += b.length;
  }

  private close(): void {
    if (this.rawFd >= 0) {
      closeSync(this.rawFd);
      this.rawFd = -1;
      rmSync(this.rawPath, { force: true });
    }
  }

  /** Not UTF-8 after all: a new item, from the head, with the raw bytes so far as base64. */
  private async toBase64(): Promise<void> {
    await this.item!.abort();
    this.item = await this.openItem();
    this.w.reset();
    this.text = false;
    this.carry = new Uint8Array(0);
    writeKeyHead(this.w, this.first);
    this.w.ascii('{"base64":"');
    const buf = new Uint8Array(READ_BACK);
    for (let at = 0; at < this.rawBytes; ) {
      const n = Math.min(READ_BACK, this.rawBytes - at);
      let got = 0;
      while (got < n) {
        const r = readSync(this.rawFd, buf, got, n - got, at + got);
        if (r === 0) throw new Error(`string spill file ended at ${at + got} of ${this.rawBytes} bytes`);
        got += r;
      }
      at += n;
      this.base64(buf.subarray(0, n), false);
      await this.flush();
    }
    this.close();
  }

  private base64(b: Uint8Array, end: boolean): void {
    const all = this.carry.length === 0 ? b : Buffer.concat([this.carry, b]);
    const n = end ? all.length : all.length - (all.length % 3);
    for (let i = 0; i < n; i += 3 * 16 * 1024) {
      const e = Math.min(n, i + 3 * 16 * 1024);
      this.w.ascii(Buffer.from(all.buffer, all.byteOffset + i, e - i).toString('base64'));
    }
    this.carry = all.slice(n);
  }

  private async flush(): Promise<void> {
    for (const c of this.w.takeAll()) await this.item!.write(c);
  }
}

/**
 * Where `b` stops being made of whole UTF-8 characters: its length, or where a lead byte starts a character whose
 * bytes run past the end (it is carried to the next piece).
 */
function utf8Cut(b: Uint8Array): number {
  for (let i = b.length - 1; i >= 0 && i >= b.length - 3; i--) {
    const c = b[i]!;
    if (c < 0x80) return b.length;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return b.length - i < need ? i : b.length;
    }
  }
  return b.length;
}
