import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at its starting size (1 MiB semi-spaces) instead of letting it grow to 16 MiB ones
 * (`check` and `dump`). Reading a big file makes a few objects per element that die at once, but V8 grows the young
 * generation by the bytes that survived its scavenges summed over the whole run, so a long run ends up with 32 MiB of
 * young generation (and an old generation sized after it) although what survives any one scavenge stays small.
 * Measured: `dump` of a stream with a million consumers peaks at 117 MB instead of 172 MB in the same time, `check`
 * of it at 88 MB instead of 105 MB; `dump` of a 7M-element list at 95 MB instead of 110 MB, 13% slower. V8 reads the
 * growth factor each time it would grow the space, so setting it at run time takes effect (and only that: no other
 * heap setting changes).
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
