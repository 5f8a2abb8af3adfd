// The token bucket behind `--max-ops`: its rate and burst, and the order it lets callers through. A restore of a key
// in pieces pipelines its commands through it; a limiter that let a later caller overtake a waiting one sent a
// stream's XADDs out of order ("ERR The ID specified in XADD is equal or smaller than the target stream top item").
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/restore-rate.js';

describe('RateLimiter', () => {
  it('lets concurrent callers through in the order they called, waiting or not', async () => {
    const limiter = new RateLimiter(2000); // burst 200
    const order: number[] = [];
    const all: Promise<void>[] = [];
    for (let i = 0; i < 600; i++) {
      all.push(limiter.take().then(() => void order.push(i)));
      // a caller now and then after a pause: it finds tokens refilled while earlier ones still sleep
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 3));
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('keeps to the rate after the first burst', async () => {
    const limiter = new RateLimiter(1000); // burst 100
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 300 }, () => limiter.take()));
    // 100 at once, then 200 more at 1000/s: at least ~200 ms
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
    expect(limiter.waitedMs).toBeGreaterThan(0);
  });

  it('refuses a rate that is not a positive finite number', () => {
    for (const r of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new RateLimiter(r)).toThrow(RangeError);
  });
});
