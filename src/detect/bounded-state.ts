/**
 * Bounded per-key state for detectors: an LRU map with O(1) eviction, a
 * distinct counter, and an admission filter that keeps one-off keys out of
 * the tables.
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

interface Node<K, V> { k: K; v: V; h: number; prev: Node<K, V> | null; next: Node<K, V> | null }

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
 *
 * Hash index (optional, `index`: the detector's Admission): keys inserted
 * with their 32-bit hash (`set(k, v, h)`) are also counted per hash bucket,
 * so `mayHave(h)` can say "certainly absent" from the hash alone — a detector
 * whose key is a string (`${src}|${dst}`, or a fresh address string whose
 * V8 hash is not computed yet) then builds or hashes it only when the key may
 * be present: a flood of new keys never does. A new key set without its hash
 * turns the index off (mayHave then always says "maybe").
 */
export class LruMap<K, V> {
  private readonly m = new Map<K, Node<K, V>>();
  private head: Node<K, V> | null = null;
  private tail: Node<K, V> | null = null;
  evicted = 0;

  /**
   * `cap` may be changed later (SIGHUP): a smaller cap evicts down to it at the next insertion.
   * `index`: an Admission that also counts this map's keys by hash (see mayHave).
   */
  constructor(public cap: number, private readonly onEvict?: (k: K, v: V) => void, private index: Admission | null = null) {}

  get size(): number { return this.m.size; }
  get(k: K): V | undefined { return this.m.get(k)?.v; }
  has(k: K): boolean { return this.m.has(k); }

  /** false when no key with hash `h` is in the map (indexed maps); true when one may be */
  mayHave(h: number): boolean {
    return this.index === null || this.index.mayHave(h);
  }

  /** Sets (and marks most recent); `h`: the key's 32-bit hash, needed for a new key of an indexed map. */
  set(k: K, v: V, h = -1): void {
    let n = this.m.get(k);
    if (n !== undefined) {
      n.v = v;
      if (n !== this.tail) { this.unlink(n); this.append(n); }
      return;
    }
    while (this.m.size >= Math.max(1, this.cap) && this.head !== null) {
      const old = this.head;
      this.remove(old);
      this.evicted++;
      this.onEvict?.(old.k, old.v);
    }
    if (this.index !== null) {
      if (h < 0) this.index = null; // unindexed key: the index can no longer say "absent"
      else this.index.enter(h);
    }
    n = { k, v, h, prev: null, next: null };
    this.m.set(k, n);
    this.append(n);
  }

  /** Marks an entry most recent (inserting it if absent). */
  touch(k: K, v: V): void { this.set(k, v); }

  /** Moves the hash index to another Admission (a bigger one after SIGHUP), counting the keys already held. */
  reindex(index: Admission): void {
    for (let n = this.head; n !== null; n = n.next) {
      if (n.h < 0) { this.index = null; return; }
      index.enter(n.h);
    }
    this.index = index;
  }

  delete(k: K): boolean {
    const n = this.m.get(k);
    if (n === undefined) return false;
    this.remove(n);
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

  clear(): void { this.m.clear(); this.head = null; this.tail = null; this.index?.leaveAll(); }

  private remove(n: Node<K, V>): void {
    this.unlink(n);
    this.m.delete(n.k);
    if (this.index !== null && n.h >= 0) this.index.leave(n.h);
  }

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

/**
 * Admission: a "seen before?" prefilter in front of a detector's table, so a
 * key's FIRST occurrence creates no per-key state (no object, no Set, no
 * table entry, no key string). Under a spoofed-source flood every source is
 * seen once; before this every detector built a record for each of them and
 * evicted it again.
 *
 * A detector computes its key's 32-bit hash and asks its table (an LruMap
 * indexed by this Admission) `mayHave(h)`; only then does it build the key and
 * look it up. On a miss it offers the hash here:
 *   - `offer(h)` ≥ 0 when the key was (probably) not seen before: it is now
 *     remembered, and the result is the index in `data` of the key's slot:
 *     `data[i + 1 …]` (`payload` numbers) is where the caller stores what it
 *     needs of this first occurrence (port, time, kind …). Nothing else is
 *     created.
 *   - `offer(h)` = -1 when the key was seen before: admit it (create the
 *     record). `take(h)` then gives the slot still holding the key's first
 *     occurrence (or -1 when another key's first occurrence overwrote it), so
 *     the record is seeded with it — a port scan counts the first port too,
 *     and every threshold means what it meant without the filter.
 *
 * "Seen" is a blocked Bloom filter: 4 bits in one 32-bit word per key, 32
 * bits per key of `capacity` (≈ 0.3 % false "seen", which only admits a key
 * one occurrence early), in two generations: after `capacity` new keys the
 * current generation becomes the previous one and the older one is cleared.
 * A key is therefore remembered for at least `capacity` (at most 2 ×
 * capacity) other new keys, however fast they come. With capacity ≥ the
 * table's own cap the filter forgets nothing the table would have kept (an
 * LRU table of that cap forgot a one-event key after as many newer keys), and
 * once a key is admitted its table is no longer churned by one-off keys.
 * Both generations' words and the table's key count and fingerprint of a
 * hash bucket (see mayHave) share one 16-byte cell, so a look-up of a new key
 * touches one cache line for the table index and the filter, and one for its
 * slot (a flood's keys are all new: the memory
 * traffic is the cost). First occurrences are direct-mapped into
 * capacity/2 slots by hash: a later first occurrence with the same slot
 * replaces an earlier one (only that key's seeding is lost, never its
 * admission).
 *
 * Memory: 16 bytes per key of capacity (rounded up to a power of 2) plus
 * 8 × (1 + payload) bytes per slot; 50,000 keys with 2 payload numbers:
 * 1 MiB + 0.75 MiB.
 */
export class Admission {
  /** per bucket: [generation A bits, generation B bits, table keys in this bucket, their fingerprint bits] */
  private readonly b: Int32Array;
  private readonly bmask: number;
  /** offset (0 or 1) of the current generation's word in a cell */
  private cur = 0;
  /** keys recorded in the current generation */
  private n = 0;
  /** slots: [tag (the key's hash, -1 = empty), payload …] */
  readonly data: Float64Array;
  readonly stride: number;
  readonly slots: number;
  private readonly slotShift: number;
  readonly capacity: number;
  /** first occurrences kept out of the table */
  filtered = 0;
  /** keys admitted (seen before) */
  admitted = 0;

  constructor(capacity: number, readonly payload = 0) {
    this.capacity = Math.max(1024, Math.ceil(capacity));
    const buckets = pow2(this.capacity);
    this.b = new Int32Array(buckets * 4);
    this.bmask = buckets - 1;
    this.slots = pow2(this.capacity / 2);
    this.slotShift = 32 - Math.log2(this.slots);
    this.stride = 1 + payload;
    this.data = new Float64Array(this.slots * this.stride).fill(-1);
  }

  /** bytes held */
  get bytes(): number { return this.b.byteLength + this.data.byteLength; }

  /**
   * A table miss for the key with 32-bit hash `h`: -1 when it was seen before
   * (admit it), else the index in `data` of the slot for its first occurrence.
   */
  offer(h: number): number {
    h >>>= 0;
    const c = (h & this.bmask) << 2;
    const g = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    const bits = (1 << (g & 31)) | (1 << ((g >>> 5) & 31)) | (1 << ((g >>> 10) & 31)) | (1 << ((g >>> 15) & 31));
    const b = this.b, w = c + this.cur;
    if ((b[c]! & bits) === bits || (b[c + 1]! & bits) === bits) { this.admitted++; return -1; }
    b[w] = b[w]! | bits;
    if (++this.n >= this.capacity) this.rotate();
    this.filtered++;
    const i = (Math.imul(h, 0x9e3779b1) >>> this.slotShift) * this.stride;
    this.data[i] = h;
    return i;
  }

  /** After `offer(h)` returned -1: the index in `data` of h's first occurrence (the slot is released), or -1. */
  take(h: number): number {
    h >>>= 0;
    const i = (Math.imul(h, 0x9e3779b1) >>> this.slotShift) * this.stride;
    if (this.data[i] !== h) return -1;
    this.data[i] = -1;
    return i;
  }

  /**
   * The table holds no key with hash h (false), or may (true). Per bucket: the
   * number of table keys, and one bit (of 32, from the hash's top bits) per
   * key OR-ed, cleared when the bucket empties — so a full table still
   * answers "absent" for most new keys.
   */
  mayHave(h: number): boolean {
    const c = ((h & this.bmask) << 2) + 2;
    return this.b[c] !== 0 && (this.b[c + 1]! & (1 << (h >>> 27))) !== 0;
  }
  /** a key with hash h entered the table */
  enter(h: number): void {
    const c = ((h & this.bmask) << 2) + 2, b = this.b;
    b[c]!++;
    b[c + 1] = b[c + 1]! | (1 << (h >>> 27));
  }
  /** a key with hash h left the table */
  leave(h: number): void {
    const c = ((h & this.bmask) << 2) + 2, b = this.b;
    if (--b[c]! <= 0) { b[c] = 0; b[c + 1] = 0; }
  }
  /** the table was emptied */
  leaveAll(): void { const b = this.b; for (let i = 2; i < b.length; i += 4) { b[i] = 0; b[i + 1] = 0; } }

  /** the current generation becomes the previous one; the older one is cleared */
  private rotate(): void {
    const b = this.b, old = this.cur ^ 1;
    for (let i = old; i < b.length; i += 4) b[i] = 0;
    this.cur = old;
    this.n = 0;
  }
}

function pow2(n: number): number { let p = 1; while (p < n) p *= 2; return p; }

let memoS = '', memoH = 0, memoS2 = '', memoH2 = 0;

/**
 * hash32 with a two-entry memo: the detectors hash the same event's source
 * and destination one after another, so each string is hashed once per event.
 */
export function hash32m(s: string): number {
  if (s === memoS) return memoH;
  if (s === memoS2) return memoH2;
  const h = hash32(s);
  memoS2 = memoS; memoH2 = memoH;
  memoS = s; memoH = h;
  return h;
}

/** Combines two 32-bit hashes (or a hash and a small integer) into one key hash, order-sensitive. */
export function mixHash(a: number, b: number): number {
  let h = (Math.imul(a, 0x165667b1) + b) | 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * SIGHUP helper: the settings merged over the current ones, or null when a
 * key that cannot change in place (`fixed`) changed. Values are compared as
 * JSON (arrays of CIDRs, ports …).
 */
export function mergeSettings<C extends object>(cur: C, settings: object, fixed: readonly (keyof C)[] = []): C | null {
  const next = { ...cur, ...(settings as Partial<C>) };
  for (const k of fixed) if (JSON.stringify(next[k]) !== JSON.stringify(cur[k])) return null;
  return next;
}

/**
 * A ring of the latest times (written at n % length, n = times written) moved
 * into a ring of `size` entries, oldest first, keeping the latest
 * min(n, length, size) (SIGHUP changed a threshold that sizes the ring).
 * Returns the new ring; its count is min(n, r.length, size).
 */
export function resizeRing(r: Float64Array, n: number, size: number): Float64Array {
  const out = new Float64Array(size);
  const len = r.length, k = Math.min(n, len, size);
  for (let i = 0; i < k; i++) out[i] = r[(n - k + i) % len]!;
  return out;
}
