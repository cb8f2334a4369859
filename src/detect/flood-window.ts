/**
 * The per-destination flood window syn_flood and icmp_flood share: for each
 * destination, a few counters in one-second buckets of packet time over a
 * sliding window of `w` seconds, and for the destinations near flood rate a
 * "hot" episode record (sketches, first/last/peak) that ends after `quiet`
 * seconds below the threshold.
 *
 * Bounded: ≤ maxDests destinations (least recently active evicted, counted; an
 * evicted hot destination ends its episode first), ≤ maxHot episodes (refusals
 * counted). Destinations whose window emptied are forgotten on `advance`.
 */
import type { Emit } from './detector.js';
import { LruMap } from './bounded-state.js';

/** What the window needs of a detector's episode record. */
export interface FloodEpisode {
  first: number;
  last: number;
  /** last time the window was at or above the threshold */
  lastOver: number;
  /** last time the window held at least the hot floor */
  lastWarm: number;
  alerted: boolean;
}

export interface FloodDest<H extends FloodEpisode> {
  dst: string;
  /** second of the newest bucket */
  sec: number;
  /** `counters` rings of `w` buckets each: counter k's bucket b is c[k * w + b] */
  c: Int32Array;
  hot: H | null;
}

/** Called when an episode that alerted ends: raise its final alert. */
export type EpisodeEnd<H extends FloodEpisode> = (d: FloodDest<H>, h: H, now: number, emit: Emit) => void;

export class FloodWindows<H extends FloodEpisode> {
  readonly dests: LruMap<string, FloodDest<H>>;
  readonly hot = new Set<FloodDest<H>>();
  hotRefused = 0;
  /** the destination looked up last (still in `dests`) */
  private last: FloodDest<H> | null = null;
  private emitRef: Emit | null = null;

  constructor(readonly w: number, private readonly counters: number, maxDests: number, private readonly ended: EpisodeEnd<H>) {
    this.dests = new LruMap(maxDests, (_k, d) => {
      if (this.last === d) this.last = null;
      if (d.hot) this.cool(d, this.emitRef, d.hot.last);
    });
  }

  set maxDests(n: number) { this.dests.cap = n; }

  /**
   * The destination's record, or undefined. One-entry memo: a flood's packets
   * all go to one destination, and each flow's address is a new string whose
   * hash the map would compute again.
   */
  find(dst: string): FloodDest<H> | undefined {
    const m = this.last;
    return m !== null && m.dst === dst ? m : this.dests.get(dst);
  }

  /**
   * The record `d` (found by find) or a new one for `dst`, rolled to second
   * `sec` and made most recently active. `emit` raises the final alert of a
   * hot destination evicted to make room.
   */
  open(dst: string, sec: number, d: FloodDest<H> | undefined, emit: Emit): FloodDest<H> {
    this.emitRef = emit;
    if (d === undefined) {
      d = { dst, sec, c: new Int32Array(this.counters * this.w), hot: null };
      this.dests.set(dst, d);
    } else if (sec > d.sec) {
      this.roll(d, sec);
      this.dests.touch(dst, d); // most recently active last
    }
    this.last = d;
    return d;
  }

  /** Moves the window's newest bucket to `sec`, clearing the buckets it passes. */
  roll(d: FloodDest<H>, sec: number): void {
    if (sec <= d.sec) return;
    const w = this.w, c = d.c;
    const n = Math.min(sec - d.sec, w);
    for (let i = 1; i <= n; i++) {
      const j = (d.sec + i) % w;
      for (let k = 0; k < this.counters; k++) c[k * w + j] = 0;
    }
    d.sec = sec;
  }

  /** The bucket a packet of second `sec` counts in: one older than the window counts in the newest. */
  bucket(d: FloodDest<H>, sec: number): number { return (sec > d.sec - this.w ? sec : d.sec) % this.w; }

  /** counter k over the window */
  sum(d: FloodDest<H>, k: number): number {
    const w = this.w, c = d.c;
    let s = 0;
    for (let i = k * w, e = i + w; i < e; i++) s += c[i]!;
    return s;
  }

  /** Whether another episode may start (fewer than maxHot open); a refusal is counted. */
  room(maxHot: number): boolean {
    if (this.hot.size < maxHot) return true;
    this.hotRefused++;
    return false;
  }

  /** Starts an episode for `d` with record `h` (after room()). */
  heat(d: FloodDest<H>, h: H): void {
    d.hot = h;
    this.hot.add(d);
  }

  /** Ends `d`'s episode: final alert if it alerted (and an emit is at hand), sketches freed. */
  private cool(d: FloodDest<H>, emit: Emit | null, now: number): void {
    const h = d.hot;
    if (h === null) return;
    d.hot = null;
    this.hot.delete(d);
    if (h.alerted && emit !== null) this.ended(d, h, now, emit);
  }

  /** Packet time is `now`: forget destinations whose window is empty, end episodes quiet for `quiet` s. */
  advance(now: number, quiet: number, emit: Emit): void {
    // least recently active first: the scan stops at the first destination still in its window
    const idle = Math.floor(now) - this.w;
    for (const [k, d] of this.dests.entries()) {
      if (d.sec >= idle) break;
      if (d.hot === null) { this.dests.delete(k); if (this.last === d) this.last = null; }
    }
    for (const d of [...this.hot]) {
      const h = d.hot!;
      if (h.alerted ? now - h.lastOver >= quiet : now - h.lastWarm >= quiet) this.cool(d, emit, now);
    }
  }

  /** End of input: every open episode ends. */
  flush(now: number, emit: Emit): void {
    for (const d of [...this.hot]) this.cool(d, emit, now);
  }

  stats(): { dests: number; dests_evicted: number; hot: number; hot_refused: number } {
    return { dests: this.dests.size, dests_evicted: this.dests.evicted, hot: this.hot.size, hot_refused: this.hotRefused };
  }
}
