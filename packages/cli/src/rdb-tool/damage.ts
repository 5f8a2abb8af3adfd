// A damaged RDB read up to the damage: what rdb-tool dump/convert/to-aof write (every record complete before it,
// never part of one) and what they say about it.
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsioError, describeIoError, type AtomicFile } from '@redis-persist/fsio';
import type { Bytes } from '@redis-persist/keyspace';
import type { PieceOutput } from '@redis-persist/converters';
import type { RdbError, RdbKeyBeingRead, RdbSkip } from '@redis-persist/rdb';

/**
 * A key's bytes held in memory (beyond this they go to a temp file) until its last piece is out. 1 MiB: a dump held
 * to 100 MiB cannot spare more (4 MiB here put the 1M-consumer stream dump 1-3 MB over it).
 */
const HOLD_IN_MEMORY = 1 << 20;
const COPY_CHUNK = 1 << 18;

function keyText(key: Bytes): string {
  return JSON.stringify(Buffer.from(key.buffer, key.byteOffset, key.length).toString('utf8'));
}

/** Where a {@link WholeKeyOutput} writes: a file it can cut back, or a stream it cannot (stdout). */
export type OutputTarget = { kind: 'file'; file: AtomicFile } | { kind: 'stream'; write: (chunk: Uint8Array) => Promise<void> };

/** Writes `chunk` to stdout and waits until it is handed to the OS (back-pressure; EPIPE ends the process in runProgram). */
export function writeStdout(chunk: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => process.stdout.write(chunk, (err) => (err ? reject(err) : resolve())));
}

/**
 * The writer behind a chunk producer told where keys in pieces lie ({@link PieceOutput}): the output never keeps
 * part of a key. A file is cut back when a key proves unfinished. A stream cannot take bytes back, so a key in
 * pieces is held until its last piece is out (up to 4 MiB in memory, then in a temp file), and dropped unseen
 * when it proves unfinished. Call {@link finish} after the last chunk and {@link dispose} on every path.
 */
export class WholeKeyOutput implements PieceOutput {
  /** Bytes of output so far, as the producer counts them (what was written plus what is held). */
  private length = 0;
  /** Output offset where the held bytes start (stream: the open key's start), -1 when nothing is open. */
  private openAt = -1;
  private dropTo = -1;
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private spill: { dir: string; path: string; fh: FileHandle; bytes: number } | null = null;
  constructor(private readonly target: OutputTarget) {}

  open(at: number): void {
    this.openAt = at;
  }

  close(): void {
    this.openAt = -1;
  }

  drop(_db: number, _key: Bytes, at: number | null): void {
    // the key itself is named by the damage report (the key being read)
    if (at !== null) {
      // a second drop before the next write is of a key the producer cut from what it still held (nothing of it
      // got here): the earlier drop is the one to apply
      this.dropTo = this.dropTo < 0 ? at : Math.min(this.dropTo, at);
      this.openAt = -1;
    }
  }

  /** The next chunk of output (a stream's chunk may be reused by the producer after this returns). */
  async write(chunk: Uint8Array): Promise<void> {
    await this.applyDrop();
    const start = this.length;
    this.length += chunk.length;
    if (this.target.kind === 'file') {
      await this.target.file.write(chunk);
      return;
    }
    if (this.openAt < 0) {
      await this.release();
      await this.target.write(chunk);
      return;
    }
    // held bytes before the open key are a finished key's: out they go (so what is held starts at the open key)
    if (this.heldTotal() > 0 && start - this.heldTotal() < this.openAt) await this.release();
    // the bytes before the open key go out; from its start on they are held
    const cut = Math.max(0, Math.min(chunk.length, this.openAt - start));
    if (cut > 0) await this.target.write(chunk.subarray(0, cut));
    if (cut < chunk.length) await this.hold(chunk.subarray(cut));
  }

  /** After the last chunk: a pending drop is applied, held bytes of a finished key go out. */
  async finish(): Promise<void> {
    await this.applyDrop();
    if (this.openAt >= 0) {
      // the producer ended inside a key without dropping it (ours do not): it is kept out all the same
      this.dropTo = this.openAt;
      this.openAt = -1;
      await this.applyDrop();
    }
    await this.release();
  }

  /** Lets go of a temp file (call it on every path, also after an error). */
  async dispose(): Promise<void> {
    await this.discard();
  }

  private async applyDrop(): Promise<void> {
    if (this.dropTo < 0) return;
    const to = this.dropTo;
    this.dropTo = -1;
    if (to >= this.length) return; // nothing of the dropped key got here (the producer cut it from what it held)
    if (this.target.kind === 'file') await this.target.file.truncate(to);
    else {
      // what is held starts at the dropped key (see write): a finished key's bytes are never held with it
      const heldStart = this.length - this.heldTotal();
      if (to !== heldStart) throw new Error(`internal error: a key dropped at output offset ${to} while the bytes held start at ${heldStart}`);
      await this.discard();
    }
    this.length = to;
  }

  private heldTotal(): number {
    return this.heldBytes + (this.spill?.bytes ?? 0);
  }

  private async hold(bytes: Uint8Array): Promise<void> {
    if (this.spill === null && this.heldBytes + bytes.length <= HOLD_IN_MEMORY) {
      this.held.push(Buffer.from(bytes)); // a copy: the producer may reuse its chunk
      this.heldBytes += bytes.length;
      return;
    }
    if (this.spill === null) {
      const dir = await mkdtemp(join(tmpdir(), 'rdb-tool-key-')).catch((err: unknown) => {
        throw new FsioError('io', `cannot create a temporary directory in ${tmpdir()} to hold a big key: ${describeIoError(err)}`, { file: tmpdir(), cause: err });
      });
      const path = join(dir, 'key.bin');
      let fh: FileHandle;
      try {
        fh = await open(path, 'wx+'); // written, then read back
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw new FsioError('io', `cannot create ${path} to hold a big key: ${describeIoError(err)}`, { file: path, cause: err });
      }
      this.spill = { dir, path, fh, bytes: 0 };
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const h of held) await this.spillWrite(h);
    }
    await this.spillWrite(bytes);
  }

  private async spillWrite(bytes: Uint8Array): Promise<void> {
    const s = this.spill!;
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await s.fh.write(bytes, off, bytes.length - off, s.bytes + off);
        off += bytesWritten;
      }
    } catch (err) {
      throw new FsioError('io', `cannot write ${s.path}: ${describeIoError(err)}`, { file: s.path, cause: err });
    }
    s.bytes += bytes.length;
  }

  /** The held bytes go out. */
  private async release(): Promise<void> {
    if (this.target.kind !== 'stream') return;
    const write = this.target.write;
    const s = this.spill;
    if (s !== null) {
      const buf = Buffer.allocUnsafe(COPY_CHUNK);
      for (let at = 0; at < s.bytes; ) {
        let n: number;
        try {
          ({ bytesRead: n } = await s.fh.read(buf, 0, Math.min(COPY_CHUNK, s.bytes - at), at));
        } catch (err) {
          throw new FsioError('io', `cannot read ${s.path}: ${describeIoError(err)}`, { file: s.path, cause: err });
        }
        if (n === 0) throw new FsioError('io', `${s.path} ends early`, { file: s.path });
        await write(buf.subarray(0, n));
        at += n;
      }
      await this.discard();
    }
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) await write(h);
  }

  /** The held bytes are forgotten (and the temp file removed). */
  private async discard(): Promise<void> {
    this.held = [];
    this.heldBytes = 0;
    const s = this.spill;
    if (s === null) return;
    this.spill = null;
    await s.fh.close().catch(() => undefined);
    await rm(s.dir, { recursive: true, force: true });
  }
}

/** What was read when the damage stopped the parse, and what the output holds then. */
export interface Damage {
  error: RdbError;
  reading: RdbKeyBeingRead | null;
}

/**
 * The report of a damaged input (file, offset, what was expected, the key being read), then what `where` (an
 * output, or "the output above" for stdout) holds. `dropped`: keys left out after some of their pieces were read.
 */
export function damageMessage(d: Damage, where: string, committed: boolean): string {
  const e = d.error;
  const lines = [e.message];
  if (e.code === 'checksum') {
    lines.push(`${where} holds every record of the file, but its checksum does not match: the file is damaged somewhere (--ignore-checksum accepts it)`);
    return lines.join('\n');
  }
  if (d.reading) lines.push(`  while reading key ${keyText(d.reading.key)} (type ${d.reading.typeName}) whose record starts at offset ${d.reading.offset}: left out`);
  lines.push(`${where} holds only the records before offset ${d.reading?.offset ?? e.offset}${committed ? ' (written completely and renamed into place)' : ''}; the rest of the file could not be read`);
  return lines.join('\n');
}

/** One stderr line for a key `--salvage` skipped. */
export function skipLine(s: RdbSkip): string {
  return `skipped offsets ${s.start}-${s.end} (key ${keyText(s.key)}, type ${s.typeName}): ${s.error.detail} (at offset ${s.error.offset})`;
}
