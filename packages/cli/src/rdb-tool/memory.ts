import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Holds the V8 heap near what is alive, for the commands that stream a file of any size in bounded memory (`check`,
 * `dump`, `memory`). Two settings, both measured on the bench's RDB of one stream with a million consumers (the
 * `dump` that Redis' own tools load in 282 MB; ours peaked at 117-146 MB before, 97-103 MB with both):
 *
 * - The young generation stays at its starting size (1 MiB semi-spaces) instead of growing to 16 MiB ones. Reading
 *   a big file makes a few objects per element that die at once, but V8 grows the young generation by the bytes that
 *   survived its scavenges summed over the whole run. (V8 reads the growth factor each time it would grow the space,
 *   so setting it at run time takes effect.) `dump` of the stream file: 172 -> 117 MB; of a 7M-element list 110 ->
 *   95 MB, 13% slower.
 * - The old generation is collected when it has grown by a quarter (at least 2 MiB) since the last collection,
 *   checked every 50 ms. What a long read promotes there (elements that lived across an await) is garbage by the
 *   next check, but V8 waits for its first old-generation collection until the heap reaches its initial limit (a
 *   large share of the maximum heap), and RSS rises with it: 20-30 MB of dead objects at the peak of that dump. About
 *   40 full collections of a 10 MB heap in a 20 s run; no change in CPU time measured.
 *
 * `pace: 'old'` (for `check`) leaves the young generation out of the pacer's measure: it fills and empties on its own
 * between two checks, and counting it made the pacer collect the whole heap about every other check while the old
 * generation did not grow (`check` of the bench RDB: 100 full collections, 30% of its main thread's time, for an old
 * generation steady at 5-6 MB; 2 with 'old', and CPU 5.97/6.58 -> 5.06/4.45 s, peak RSS 119-120 -> 113-117 MB).
 * `dump` keeps the whole heap as its measure: the frequent collections are what holds its RSS under 100 MiB on the
 * stream file (99.7 -> 104 MB with 'old').
 */
export function keepHeapSmall(pace: 'heap' | 'old' = 'heap'): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  startOldGenerationPacer(pace === 'old' ? oldGenerationUsed : heapUsed);
}

const PACE_MS = 50;
const MIN_STEP = 2 << 20;
let pacing = false;

function startOldGenerationPacer(measure: () => number): void {
  if (pacing) return;
  pacing = true;
  // `gc` is a function V8 installs in new contexts once --expose-gc is set (at run time, like the flag above).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') return;
  const collect = gc as () => void;
  let base = measure();
  const timer = setInterval(() => {
    const used = measure();
    if (used > base + Math.max(MIN_STEP, base / 4)) {
      collect();
      base = measure();
    }
  }, PACE_MS);
  timer.unref();
}

/** Bytes in use in the whole V8 heap. */
function heapUsed(): number {
  return getHeapStatistics().used_heap_size;
}

/** Bytes in use in the V8 heap outside the young generation. */
function oldGenerationUsed(): number {
  let n = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') n += s.space_used_size;
  return n;
}
