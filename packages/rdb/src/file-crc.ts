import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Crc64 } from '@redis-persist/bytes';

// The thread's entry, compiled next to this file (absent when this module runs from its TypeScript source, as in
// the unit tests: the caller then computes the CRC itself).
const ENTRY = new URL('./crc-thread.js', import.meta.url);

/** True when the checksum thread can run here (its compiled entry exists). */
export function fileCrcThreadAvailable(): boolean {
  return ENTRY.protocol === 'file:' && existsSync(fileURLToPath(ENTRY));
}

/**
 * The CRC64 of a prefix of a regular file, computed by a worker thread that reads the file by itself while the
 * caller (the parser) reads it too: on two cores the CRC costs no wall time. The thread computes up to `guess`
 * (where the checksummed bytes usually end) and waits; {@link crcAt} tells it the real end and gives the CRC.
 */
export class FileCrcThread {
  private readonly worker: Worker;
  private readonly ctl = new SharedArrayBuffer(16);
  private readonly result: Promise<bigint>;
  private asked = false;

  constructor(path: string, guess: number) {
    // a small heap: the thread holds one 256 KiB buffer and a few objects (this keeps its share of RSS near 8 MB)
    this.worker = new Worker(ENTRY, {
      workerData: { path, guess, ctl: this.ctl },
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8, codeRangeSizeMb: 4, stackSizeMb: 1 },
    });
    this.result = new Promise<bigint>((resolve, reject) => {
      this.worker.once('message', (m: { crc?: bigint; error?: string }) => (m.error === undefined ? resolve(m.crc!) : reject(new Error(m.error))));
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the checksum thread exited (code ${code}) without an answer`)));
    });
    this.result.catch(() => undefined);
  }

  /** The CRC64 of the file's bytes [0, end). Call once. Rejects when the thread fails (the caller falls back). */
  crcAt(end: number): Promise<bigint> {
    if (!this.asked) {
      this.asked = true;
      new Float64Array(this.ctl, 8, 1)[0] = end;
      const flag = new Int32Array(this.ctl, 0, 1);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    }
    return this.result;
  }

  /** Ends the thread (when its answer is no longer wanted, or after it). */
  stop(): void {
    void this.worker.terminate();
  }
}

/** The CRC64 of a file's bytes [0, end), read here (the fallback when the thread fails). */
export async function fileCrc(path: string, end: number): Promise<bigint> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    const crc = new Crc64();
    let pos = 0;
    while (pos < end) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new Error(`${path}: the file ends at offset ${pos}, before offset ${end} (it changed while being checked)`);
      crc.update(buf, 0, bytesRead);
      pos += bytesRead;
    }
    return crc.value();
  } finally {
    await fh.close();
  }
}
