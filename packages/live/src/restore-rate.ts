// A token bucket for `maxOpsPerSecond`: commands are sent at most at that rate on average, with a burst of at most a
// tenth of a second's worth (and at least one). Callers go through in the order they called: a restore pipelines the
// commands of a key in pieces through it, and a later caller that found tokens while an earlier one slept sent a
// stream's XADDs out of order.

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A token bucket that keeps commands under a rate (`--max-ops`), with bursts. */
export class RateLimiter {
  private tokens: number;
  private last: number;
  /** The most commands that may go out back to back. */
  readonly burst: number;
  /** Time spent waiting for tokens, in ms. */
  waitedMs = 0;
  /** The last caller's turn: each take() waits for it, so callers are served first come, first served. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`the rate must be a positive number of commands per second, got ${perSecond}`);
    this.burst = Math.max(1, Math.floor(perSecond / 10));
    this.tokens = this.burst;
    this.last = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.perSecond) / 1000);
    this.last = t;
  }

  /** Resolves when `n` (default 1) more commands may be sent, and counts them as sent; callers in call order. */
  take(n = 1): Promise<void> {
    const turn = this.queue.then(() => this.takeNow(n));
    this.queue = turn;
    return turn;
  }

  private async takeNow(n: number): Promise<void> {
    this.refill();
    while (this.tokens < Math.min(n, this.burst)) {
      const wait = Math.max(1, Math.ceil(((Math.min(n, this.burst) - this.tokens) * 1000) / this.perSecond));
      const t0 = this.now();
      await sleep(wait);
      this.waitedMs += this.now() - t0;
      this.refill();
    }
    this.tokens -= n;
  }
}
