/**
 * Progress on stderr for long work: only when stderr is a TTY, redrawn at most every 200 ms, erased at the end.
 * `total` may be unknown (0).
 */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private total: number,
    enabled = Boolean(process.stderr.isTTY),
  ) {
    this.enabled = enabled;
  }

  update(done: number, total?: number): void {
    if (!this.enabled) return;
    if (total !== undefined) this.total = total;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const pct = this.total > 0 ? ` ${((100 * done) / this.total).toFixed(1)}%` : '';
    process.stderr.write(`\r${this.label}:${pct} ${(done / 1048576).toFixed(1)} MiB`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
