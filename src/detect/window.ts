/**
 * A sliding window of numeric samples on packet time, with a hard cap on the
 * samples held (a busy window drops its oldest samples early and counts it).
 * Keeps the running sum and sum of squares so mean and standard deviation
 * cost O(1) per event.
 */
export class SampleWindow {
  private readonly ts: Float64Array;
  private readonly val: Float64Array;
  private head = 0;
  private len = 0;
  private sum = 0;
  private sumSq = 0;
  /** samples pushed out by the cap before their time */
  capped = 0;

  /** `span` may change in place (SIGHUP); `cap` sizes the arrays and cannot */
  constructor(public span: number, readonly cap: number) {
    this.ts = new Float64Array(cap);
    this.val = new Float64Array(cap);
  }

  get count(): number { return this.len; }
  get mean(): number { return this.len ? this.sum / this.len : 0; }
  get stddev(): number {
    if (this.len < 2) return 0;
    const m = this.sum / this.len;
    const v = this.sumSq / this.len - m * m;
    return v > 0 ? Math.sqrt(v) : 0;
  }
  /** oldest sample's time, or NaN */
  get oldest(): number { return this.len ? this.ts[this.head]! : NaN; }

  /** Drops samples older than now - span. */
  expire(now: number): void {
    const limit = now - this.span;
    while (this.len > 0 && this.ts[this.head]! < limit) this.shift();
  }

  push(t: number, v: number): void {
    if (this.len === this.cap) { this.shift(); this.capped++; }
    const i = (this.head + this.len) % this.cap;
    this.ts[i] = t;
    this.val[i] = v;
    this.len++;
    this.sum += v;
    this.sumSq += v * v;
  }

  private shift(): void {
    const v = this.val[this.head]!;
    this.sum -= v;
    this.sumSq -= v * v;
    this.head = (this.head + 1) % this.cap;
    this.len--;
    if (this.len === 0) { this.sum = 0; this.sumSq = 0; } // reset float drift
  }
}

/** The bounded map detectors share (O(1) LRU, evictions counted): see bounded-state.ts. */
export { LruMap as BoundedMap } from './bounded-state.js';
