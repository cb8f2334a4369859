/**
 * The flow table: 5-tuple → Flow, with numeric hashing (no string key per
 * packet), idle timeouts driven by packet time, and a hard cap on entries
 * (the least recently active flow is evicted and counted).
 *
 * Timeouts (defaults, compared with Zeek's):
 *   attempt      5 s   a SYN with no answer yet        (Zeek tcp_SYN_timeout 5 s)
 *   established  300 s idle TCP                        (Zeek tcp_inactivity_timeout 5 min)
 *   closing      5 s   after FIN both ways or RST      (Zeek tcp_close_delay / tcp_reset_delay 5 s)
 *   udp          60 s  idle UDP                        (Zeek udp_inactivity_timeout 1 min)
 */
import { Flow, TimeoutClass, TIMEOUT_CLASSES } from './flow.js';
import type { Packet } from '../decode/packet.js';
import { DEFAULT_MEMORY_MIB, flowsForBudget } from '../limits.js';

export interface FlowTimeouts { attempt: number; established: number; closing: number; udp: number }
export const DEFAULT_TIMEOUTS: FlowTimeouts = { attempt: 5, established: 300, closing: 5, udp: 60 };
/**
 * The flow cap at the default memory budget (src/limits.ts): half of what is
 * above the base at FLOW_ENTRY_BYTES a flow. Suricata: flow.memcap 32 MiB;
 * Zeek: no cap.
 */
export const DEFAULT_MAX_FLOWS = flowsForBudget(DEFAULT_MEMORY_MIB);

function mix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Direction-independent hash of the packet's 5-tuple: 30 bits, so it is a small
 * integer (Smi) for V8 and a Map lookup boxes no number (a uint32 above 2^30 is a
 * heap number: one allocation per packet).
 */
export function tupleHash(p: Packet): number {
  const x = (p.s0 ^ p.d0) ^ Math.imul(p.s1 ^ p.d1, 0x9e3779b1) ^ Math.imul(p.s2 ^ p.d2, 0x7feb352d) ^ Math.imul(p.s3 ^ p.d3, 0x846ca68b);
  const y = (p.s0 + p.d0 + p.s3 + p.d3) | 0;
  const ports = (p.sport ^ p.dport) | (((p.sport + p.dport) & 0xffff) << 16);
  return mix(mix(x ^ Math.imul(y, 0x27d4eb2d)) ^ ports ^ (p.proto << 24)) & 0x3fffffff;
}

/** Closed flow records kept for reuse (at most this many). */
const SPARE_MAX = 65_536;
const MIN_BUCKETS = 1 << 16;

export class FlowTable {
  /**
   * Open hash table of bucket heads (chained through Flow.chain), doubled when
   * the load passes 1: a Map<number, Flow> cost 2–3× the bytes per flow and its
   * deletions made V8 rehash under eviction churn (lookup + remove were 21 % of
   * a spoofed SYN flood's profile).
   */
  private buckets: (Flow | null)[] = new Array<Flow | null>(MIN_BUCKETS).fill(null);
  private mask = MIN_BUCKETS - 1;
  /** closed records, reused by create (see release) */
  private readonly spare: Flow[] = [];
  private readonly heads: (Flow | null)[] = new Array<Flow | null>(TIMEOUT_CLASSES).fill(null);
  private readonly tails: (Flow | null)[] = new Array<Flow | null>(TIMEOUT_CLASSES).fill(null);
  private readonly timeouts: number[];
  size = 0;
  evicted = 0;
  created = 0;
  /**
   * Sequence number of the packet being processed, set by a flow worker (parallel
   * mode): stamped on each touched flow, so expiries from several tables merge in
   * the order one table would have expired them. 0 in single-thread mode.
   */
  clock = 0;
  /** set by lookup: whether the packet goes orig → resp */
  isOrig = true;

  constructor(timeouts: FlowTimeouts = DEFAULT_TIMEOUTS, readonly maxFlows = DEFAULT_MAX_FLOWS) {
    this.timeouts = [timeouts.attempt, timeouts.established, timeouts.closing, timeouts.udp];
  }

  /** Finds the packet's flow (setting isOrig), or null. */
  lookup(p: Packet, hash: number): Flow | null {
    let f: Flow | null = this.buckets[hash & this.mask]!;
    while (f !== null) {
      if (f.proto === p.proto && f.ver === p.ipVer) {
        if (f.aport === p.sport && f.bport === p.dport && f.a0 === p.s0 && f.b0 === p.d0 &&
            f.a1 === p.s1 && f.a2 === p.s2 && f.a3 === p.s3 && f.b1 === p.d1 && f.b2 === p.d2 && f.b3 === p.d3) {
          this.isOrig = true;
          return f;
        }
        if (f.aport === p.dport && f.bport === p.sport && f.a0 === p.d0 && f.b0 === p.s0 &&
            f.a1 === p.d1 && f.a2 === p.d2 && f.a3 === p.d3 && f.b1 === p.s1 && f.b2 === p.s2 && f.b3 === p.s3) {
          this.isOrig = false;
          return f;
        }
      }
      f = f.chain;
    }
    return null;
  }

  /**
   * Creates a flow for the packet. `reverse` makes the packet's destination the
   * originator (a SYN-ACK seen before its SYN). Evicts the least recently
   * active flow first when the table is full; the evicted flow is returned
   * through `onEvict` so its summary is still written.
   */
  create(p: Packet, hash: number, reverse: boolean, cls: TimeoutClass, onEvict: (f: Flow) => void): Flow {
    if (this.size >= this.maxFlows) {
      const victim = this.oldest();
      if (victim) { this.remove(victim); this.evicted++; onEvict(victim); }
    }
    // a recycled record: a flood that churns the table allocates no flows, so the old generation stays still
    const f = this.spare.pop() ?? new Flow();
    f.ver = p.ipVer; f.proto = p.proto; f.hash = hash;
    if (!reverse) {
      f.a0 = p.s0; f.a1 = p.s1; f.a2 = p.s2; f.a3 = p.s3; f.aport = p.sport;
      f.b0 = p.d0; f.b1 = p.d1; f.b2 = p.d2; f.b3 = p.d3; f.bport = p.dport;
    } else {
      f.a0 = p.d0; f.a1 = p.d1; f.a2 = p.d2; f.a3 = p.d3; f.aport = p.dport;
      f.b0 = p.s0; f.b1 = p.s1; f.b2 = p.s2; f.b3 = p.s3; f.bport = p.sport;
    }
    if (this.size >= this.buckets.length) this.grow();
    const bi = hash & this.mask;
    f.chain = this.buckets[bi]!;
    this.buckets[bi] = f;
    f.cls = cls;
    this.append(f);
    this.size++;
    this.created++;
    this.isOrig = !reverse;
    return f;
  }

  /** Marks activity: moves the flow to the tail of its (possibly new) class list. */
  touch(f: Flow, now: number, cls: TimeoutClass): void {
    f.last = now;
    f.touchSeq = this.clock;
    if (f.cls === cls && this.tails[cls] === f) return;
    this.unlink(f);
    f.cls = cls;
    this.append(f);
  }

  /** Removes and returns, one by one, flows idle past their class timeout at packet time `now`. */
  *expire(now: number): Generator<Flow> {
    for (let c = 0; c < TIMEOUT_CLASSES; c++) {
      const limit = now - this.timeouts[c]!;
      let f: Flow | null = this.heads[c] ?? null;
      while (f !== null && f.last < limit) {
        const next: Flow | null = f.next;
        this.remove(f);
        yield f;
        f = next;
      }
    }
  }

  /** Removes and returns every flow (end of input). */
  *drain(): Generator<Flow> {
    for (let c = 0; c < TIMEOUT_CLASSES; c++) {
      while (this.heads[c] !== null) {
        const f = this.heads[c]!;
        this.remove(f);
        yield f;
      }
    }
  }

  remove(f: Flow): void {
    this.unlink(f);
    const bi = f.hash & this.mask;
    let h: Flow | null = this.buckets[bi]!;
    if (h === f) {
      this.buckets[bi] = f.chain;
    } else {
      while (h !== null && h.chain !== f) h = h.chain;
      if (h !== null) h.chain = f.chain;
    }
    f.chain = null;
    this.size--;
  }

  /**
   * A removed flow whose summary has been written: its record may be reused by
   * a later create. The caller keeps no reference to it (nor does anything the
   * flow's events reached: events carry copies of its fields).
   */
  release(f: Flow): void {
    f.reset();
    if (this.spare.length < SPARE_MAX) this.spare.push(f);
  }

  /** Doubles the bucket array and rechains every flow (found through the class lists). */
  private grow(): void {
    const n = this.buckets.length * 2;
    const b = new Array<Flow | null>(n).fill(null);
    const mask = n - 1;
    for (let c = 0; c < TIMEOUT_CLASSES; c++) {
      for (let f = this.heads[c] ?? null; f !== null; f = f.next) {
        const bi = f.hash & mask;
        f.chain = b[bi]!;
        b[bi] = f;
      }
    }
    this.buckets = b;
    this.mask = mask;
  }

  private oldest(): Flow | null {
    let best: Flow | null = null;
    for (let c = 0; c < TIMEOUT_CLASSES; c++) {
      const h = this.heads[c]!;
      if (h !== null && (best === null || h.last < best.last)) best = h;
    }
    return best;
  }

  private append(f: Flow): void {
    const c = f.cls;
    f.prev = this.tails[c]!;
    f.next = null;
    if (f.prev) f.prev.next = f; else this.heads[c] = f;
    this.tails[c] = f;
  }

  private unlink(f: Flow): void {
    const c = f.cls;
    if (f.prev) f.prev.next = f.next; else if (this.heads[c] === f) this.heads[c] = f.next;
    if (f.next) f.next.prev = f.prev; else if (this.tails[c] === f) this.tails[c] = f.prev;
    f.prev = f.next = null;
  }
}
