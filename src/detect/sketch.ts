/**
 * Small fixed-memory summaries for the scan and flood detectors.
 *
 * - HyperLogLog (Flajolet et al. 2007, with Heule et al.'s small-range linear
 *   counting): distinct count of strings in 2^p one-byte registers, standard
 *   error ≈ 1.04 / √(2^p) (p = 10: 1 KiB, ≈ 3.3 %). A 53-bit hash (two
 *   independent 32-bit halves) picks the register from one half and the rank
 *   from the other, so no large-range correction is needed below ~2^40 items.
 *   Used to report "spoofed sources ≈ N" and hosts swept without keeping them.
 * - TopK (Misra–Gries "frequent items"): k counters; every item whose share of
 *   the stream is above 1/(k+1) is kept, its count under-estimated by at most
 *   n/(k+1). Used to name a dominant source or port of a flood.
 * - PortSet: distinct 16-bit ports, exact; a small Set while few, switching to
 *   a 65,536-bit (8 KiB) bitset when a caller allows it (a scan of every port
 *   then costs 8 KiB, not a Set of 65,536 numbers).
 * - LruMap: keyed state with a hard cap; the least recently touched entry is
 *   evicted (and handed to a callback, so an open episode still gets its
 *   final alert) and counted.
 */

/** Two 32-bit hashes of a string (cyrb53-style mixing of UTF-16 code units). */
export function hash2(s: string): [number, number] {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/** hash2(s)[0] without allocating the pair (hot paths) */
export function hash2lo(s: string): number {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  return h1 >>> 0;
}

let memoS = '', memoH = 0;
/** hash2lo with a one-entry memo (consecutive events to one host) */
export function hash2lom(s: string): number {
  if (s === memoS) return memoH;
  memoS = s;
  return (memoH = hash2lo(s));
}

/** murmur3's 32-bit finaliser */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HyperLogLog {
  readonly m: number;
  private readonly regs: Uint8Array;
  private readonly shift: number;

  /** p: 4..16 register-index bits (memory 2^p bytes) */
  constructor(readonly p = 10) {
    if (!Number.isInteger(p) || p < 4 || p > 16) throw new RangeError(`HyperLogLog precision ${p} outside 4..16`);
    this.m = 1 << p;
    this.regs = new Uint8Array(this.m);
    this.shift = 32 - p;
  }

  /** bytes of register memory */
  get bytes(): number { return this.m; }

  add(s: string): void {
    // hash2 inlined: no pair allocated per item (a flood adds a source per SYN)
    let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    this.addHash(h1 >>> 0, h2 >>> 0);
  }

  /** Adds an item known only by one 32-bit hash (the rank comes from a re-mix of it). */
  addHash32(h: number): void {
    this.addHash(h, fmix32((h ^ 0x9e3779b9) >>> 0));
  }

  /** a: any 32-bit hash (its top p bits pick the register); b: an independent 32-bit hash (its rank) */
  addHash(a: number, b: number): void {
    const idx = a >>> this.shift;
    // rank = position of the first 1-bit in b (1..32), 33 when b is 0
    const rank = b === 0 ? 33 : Math.clz32(b) + 1;
    if (rank > this.regs[idx]!) this.regs[idx] = rank;
  }

  estimate(): number {
    const m = this.m, r = this.regs;
    let sum = 0, zeros = 0;
    for (let i = 0; i < m; i++) {
      const v = r[i]!;
      sum += 1 / 2 ** v;
      if (v === 0) zeros++;
    }
    const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    const e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(e);
  }

  merge(o: HyperLogLog): void {
    if (o.p !== this.p) throw new RangeError('HyperLogLog precisions differ');
    for (let i = 0; i < this.m; i++) if (o.regs[i]! > this.regs[i]!) this.regs[i] = o.regs[i]!;
  }

  clear(): void { this.regs.fill(0); }
}

/**
 * Misra–Gries heavy hitters, k counters. Parallel arrays scanned linearly (k
 * is 8): no Map, nothing allocated per item — a spoofed flood offers a new
 * source with every SYN, and each one runs the decrement step.
 */
export class TopK<K = string> {
  private readonly keys: K[] = [];
  private readonly counts: number[] = [];
  /** items offered */
  n = 0;

  constructor(readonly k = 8) {}

  add(item: K, w = 1): void {
    this.n += w;
    const keys = this.keys, counts = this.counts;
    const len = keys.length;
    for (let i = 0; i < len; i++) if (keys[i] === item) { counts[i]! += w; return; }
    if (len < this.k) { keys.push(item); counts.push(w); return; }
    // decrement every counter by the smallest of (w, min counter); drop the zeros (order kept)
    let min = w;
    for (let i = 0; i < len; i++) if (counts[i]! < min) min = counts[i]!;
    let j = 0;
    for (let i = 0; i < len; i++) {
      const v = counts[i]! - min;
      if (v > 0) { keys[j] = keys[i]!; counts[j] = v; j++; }
    }
    keys.length = j; counts.length = j;
    if (w - min > 0 && j < this.k) { keys.push(item); counts.push(w - min); }
  }

  /** the k candidates, largest (under-estimated) count first */
  top(): [K, number][] {
    return this.keys.map((key, i): [K, number] => [key, this.counts[i]!]).sort((a, b) => b[1] - a[1]);
  }

  /** the item holding at least `share` of the stream (by its lower-bound count), or null */
  dominant(share: number): { item: K; count: number; share: number } | null {
    if (this.n === 0) return null;
    let best = -1, bc = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.counts[i]! > bc) { best = i; bc = this.counts[i]!; }
    if (best < 0 || bc / this.n < share) return null;
    return { item: this.keys[best]!, count: bc, share: bc / this.n };
  }

  clear(): void { this.keys.length = 0; this.counts.length = 0; this.n = 0; }
}

/** Exact set of 16-bit ports: a Set while small, an 8 KiB bitset once upgraded. */
export class PortSet {
  private set: Set<number> | null = new Set();
  private bits: Uint8Array | null = null;
  private n = 0;

  get size(): number { return this.n; }
  get isBitset(): boolean { return this.bits !== null; }

  has(port: number): boolean {
    const b = this.bits;
    if (b !== null) return (b[port >>> 3]! & (1 << (port & 7))) !== 0;
    return this.set!.has(port);
  }

  /** Adds a port; true when it was new. */
  add(port: number): boolean {
    port &= 0xffff;
    const b = this.bits;
    if (b !== null) {
      const i = port >>> 3, bit = 1 << (port & 7);
      if ((b[i]! & bit) !== 0) return false;
      b[i] = b[i]! | bit;
      this.n++;
      return true;
    }
    const s = this.set!;
    if (s.has(port)) return false;
    s.add(port);
    this.n++;
    return true;
  }

  /** Switches to the 8 KiB bitset (idempotent). */
  upgrade(): void {
    if (this.bits !== null) return;
    const b = new Uint8Array(8192);
    for (const p of this.set!) b[p >>> 3] = b[p >>> 3]! | (1 << (p & 7));
    this.bits = b;
    this.set = null;
  }

  clear(): void {
    this.set = new Set();
    this.bits = null;
    this.n = 0;
  }
}

/** The bounded map (O(1) LRU with eviction callback) lives in bounded-state.ts. */
export { LruMap } from './bounded-state.js';
