/**
 * Bounded per-key state for detectors: an LRU map with O(1) eviction, and a
 * distinct counter.
 *
 * LruMap: a Map for lookup plus a doubly linked list in recency order, so
 * evicting the least recently used key never walks anything. (A bare Map
 * used as an LRU — delete the first key when full — makes V8 skip every
 * deleted slot at the front on each `keys().next()` until the table is
 * rehashed: measured here, 1,000,000 new keys through a 50,000-entry cap
 * took 88 s that way and 1.9 s with this list.)
 *
 * Counting distinct things (names, paths) per key in bounded memory:
 * DistinctCounter keeps the exact set of 32-bit hashes while it is small
 * (`exactCap`, default 64) and then switches to a HyperLogLog with 2^p
 * one-byte registers (p = 10: 1 KiB, ~3.3 % standard error), so one key
 * never costs more than max(exactCap hashes, 2^p bytes) however many distinct
 * names an attacker sends. Below `exactCap` the count is exact, which is
 * where the detectors' thresholds are meant to be judged. Above it the estimate
 * is clamped between `exactCap` and the number of hashes offered.
 */

/** FNV-1a over UTF-16 code units, then murmur3's fmix32 for avalanche. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class DistinctCounter {
  /** the exact hashes (allocated on the first add), null once switched to registers */
  private set: Set<number> | null = null;
  private regs: Uint8Array | null = null;
  /** hashes offered (an upper bound for the estimate) */
  private adds = 0;

  constructor(readonly exactCap = 64, readonly p = 10) {}

  /** true while the count is exact */
  get exact(): boolean { return this.regs === null; }

  /** Adds a hash; returns true when it was (probably) not seen before. */
  add(h: number): boolean {
    this.adds++;
    if (this.regs === null) {
      const set = this.set ??= new Set();
      if (set.has(h)) return false;
      if (set.size < this.exactCap) { set.add(h); return true; }
      this.regs = new Uint8Array(1 << this.p);
      for (const x of set) this.reg(x);
      this.set = null;
    }
    return this.reg(h);
  }

  addString(s: string): boolean { return this.add(hash32(s)); }

  /** count ≥ n, without estimating when the exact part already settles it */
  reaches(n: number): boolean {
    if (this.regs !== null && n <= this.exactCap) return true;
    return this.count >= n;
  }

  get count(): number {
    if (this.regs === null) return this.set?.size ?? 0;
    const r = this.regs;
    const m = r.length;
    let sum = 0, zeros = 0;
    for (let i = 0; i < m; i++) { sum += 2 ** -r[i]!; if (r[i] === 0) zeros++; }
    const alpha = 0.7213 / (1 + 1.079 / m);
    let e = (alpha * m * m) / sum;
    if (e <= 2.5 * m && zeros > 0) e = m * Math.log(m / zeros); // linear counting for small ranges
    // never below what was exact, never above what was offered
    return Math.min(this.adds, Math.max(this.exactCap, Math.round(e)));
  }

  private reg(h: number): boolean {
    const r = this.regs!;
    const idx = h >>> (32 - this.p);
    const rest = (h << this.p) >>> 0;
    const rank = rest === 0 ? 32 - this.p + 1 : Math.clz32(rest) + 1;
    if (rank > r[idx]!) { r[idx] = rank; return true; }
    return false;
  }
}

interface Node<K, V> { k: K; v: V; prev: Node<K, V> | null; next: Node<K, V> | null }

/**
 * A map of at most `cap` keys that forgets the least recently set key when a
 * new one arrives (evictions counted, optionally reported through `onEvict`).
 * `set` and `touch` mark a key most recent; `get` does not. Iteration runs
 * from least to most recently set, and the entry being visited may be deleted
 * during it.
 *
 * Every operation is O(1): a doubly linked list orders the entries. (Evicting
 * through a plain Map's insertion order walks V8's deleted slots: 1 M new keys
 * through a 50 k cap took 88 s that way, 1.9 s with the list.) This is the one
 * bounded map every detector uses.
 */
export class LruMap<K, V> {
  private readonly m = new Map<K, Node<K, V>>();
  private head: Node<K, V> | null = null;
  private tail: Node<K, V> | null = null;
  evicted = 0;

  constructor(readonly cap: number, private readonly onEvict?: (k: K, v: V) => void) {}

  get size(): number { return this.m.size; }
  get(k: K): V | undefined { return this.m.get(k)?.v; }
  has(k: K): boolean { return this.m.has(k); }

  set(k: K, v: V): void {
    let n = this.m.get(k);
    if (n !== undefined) {
      n.v = v;
      if (n !== this.tail) { this.unlink(n); this.append(n); }
      return;
    }
    while (this.m.size >= Math.max(1, this.cap) && this.head !== null) {
      const old = this.head;
      this.unlink(old);
      this.m.delete(old.k);
      this.evicted++;
      this.onEvict?.(old.k, old.v);
    }
    n = { k, v, prev: null, next: null };
    this.m.set(k, n);
    this.append(n);
  }

  /** Marks an entry most recent (inserting it if absent). */
  touch(k: K, v: V): void { this.set(k, v); }

  delete(k: K): boolean {
    const n = this.m.get(k);
    if (n === undefined) return false;
    this.unlink(n);
    this.m.delete(k);
    return true;
  }

  *entries(): IterableIterator<[K, V]> {
    for (let n = this.head; n !== null;) {
      const next = n.next; // n may be deleted by the caller
      yield [n.k, n.v];
      n = next;
    }
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  clear(): void { this.m.clear(); this.head = null; this.tail = null; }

  private unlink(n: Node<K, V>): void {
    if (n.prev !== null) n.prev.next = n.next; else this.head = n.next;
    if (n.next !== null) n.next.prev = n.prev; else this.tail = n.prev;
    n.prev = null;
    n.next = null;
  }

  private append(n: Node<K, V>): void {
    n.prev = this.tail;
    n.next = null;
    if (this.tail !== null) this.tail.next = n; else this.head = n;
    this.tail = n;
  }
}
