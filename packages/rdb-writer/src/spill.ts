// The encoded body of a key written in pieces, held until the key's last piece says what comes before it (the
// element or node count, sometimes the type): in memory up to a budget, then in a temporary file. Synchronous file
// I/O keeps the writer synchronous; the file is removed as soon as the key is out (or on dispose).
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Chunks read back from a spill file. */
const READ_CHUNK = 1 << 20;

export class Spill {
  private chunks: Uint8Array[] = [];
  private held = 0;
  private fd = -1;
  private dir: string | null = null;
  /** Bytes written in all. */
  size = 0;

  constructor(
    private readonly budget: number,
    private readonly tmpDir: string | undefined,
  ) {}

  /** Appends a copy of `bytes` (the caller may reuse its buffer). */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.size += bytes.length;
    if (this.fd < 0 && this.held + bytes.length <= this.budget) {
      this.chunks.push(bytes.slice());
      this.held += bytes.length;
      return;
    }
    if (this.fd < 0) {
      this.dir = mkdtempSync(join(this.tmpDir ?? tmpdir(), 'rdb-writer-'));
      this.fd = openSync(join(this.dir, 'value'), 'w+');
      for (const c of this.chunks) writeAll(this.fd, c);
      this.chunks = [];
      this.held = 0;
    }
    writeAll(this.fd, bytes);
  }

  /** Everything written, in order, in chunks of at most 1 MiB (each a fresh array); then the spill is empty. */
  *drain(): Generator<Uint8Array> {
    if (this.fd < 0) {
      const chunks = this.chunks;
      this.chunks = [];
      this.held = 0;
      yield* chunks;
      return;
    }
    let at = 0;
    while (at < this.size) {
      const n = Math.min(READ_CHUNK, this.size - at);
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const r = readSync(this.fd, buf, got, n - got, at + got);
        if (r === 0) throw new Error(`spill file ended at ${at + got} of ${this.size} bytes`);
        got += r;
      }
      at += n;
      yield buf;
    }
    this.dispose();
  }

  /** Drops what was written and removes the temporary file. */
  dispose(): void {
    this.chunks = [];
    this.held = 0;
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    if (this.dir !== null) {
      rmSync(this.dir, { recursive: true, force: true });
      this.dir = null;
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}
