// Worker-thread entry of FileCrcThread (file-crc.ts): reads the file on its own and computes its CRC64 up to the
// offset the main thread asks for, while the main thread parses. Protocol (shared memory, no message until the
// answer): ctl[0] is 0 until the main thread has stored the wanted end offset in end[0] and set ctl[0] to 1.
// Until then the thread computes up to `guess` (where the CRC usually ends: the file's size less the 8-byte
// checksum) and waits there. The answer is one message: { crc: bigint } or { error: string }.
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Crc64 } from '@redis-persist/bytes';

interface Data {
  path: string;
  guess: number;
  ctl: SharedArrayBuffer;
}

// 256 KiB reads (no slower than 1 MiB ones here; the thread's buffer is part of check's peak RSS), a mark every MiB
const CHUNK = 256 << 10;
const MARK = 1 << 20;
const { path, guess, ctl } = workerData as Data;
const flag = new Int32Array(ctl, 0, 1);
const wanted = new Float64Array(ctl, 8, 1);

function run(): bigint {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    // (offset, CRC of the bytes before it) every chunk, to answer an end before where the thread has got to
    const marks: [number, bigint][] = [[0, 0n]];
    let crc = new Crc64();
    let pos = 0;
    const advance = (to: number): void => {
      while (pos < to) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, to - pos), pos);
        if (n === 0) throw new Error(`the file ends at offset ${pos}, before offset ${to} (it changed while being checked)`);
        crc.update(buf, 0, n);
        pos += n;
        if (pos - marks[marks.length - 1][0] >= MARK) marks.push([pos, crc.value()]);
      }
    };
    for (;;) {
      const asked = Atomics.load(flag, 0) === 1;
      const target = asked ? wanted[0] : guess;
      if (pos < target) {
        // one chunk at a time, so a request that arrives meanwhile is seen
        advance(Math.min(target, pos + CHUNK));
        continue;
      }
      if (!asked) {
        Atomics.wait(flag, 0, 0);
        continue;
      }
      if (pos > target) {
        let m = marks.length - 1;
        while (marks[m][0] > target) m--;
        pos = marks[m][0];
        crc = new Crc64(marks[m][1]);
        marks.length = m + 1;
        advance(target);
      }
      return crc.value();
    }
  } finally {
    closeSync(fd);
  }
}

try {
  parentPort!.postMessage({ crc: run() });
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
