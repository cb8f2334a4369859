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

export interface FlowTimeouts { attempt: number; established: number; closing: number; udp: number }
export const DEFAULT_TIMEOUTS: FlowTimeouts = { attempt: 5, established: 300, closing: 5, udp: 60 };
export const DEFAULT_MAX_FLOWS = 1_000_000;

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

export class FlowTable {
  private readonly map = new Map<number, Flow>();
  private readonly heads: (Flow | null)[] = new Array<Flow | null>(TIMEOUT_CLASSES).fill(null);
  private readonly tails: (Flow | null)[] = new Array<Flow | null>(TIMEOUT_CLASSES).fill(null);
  private readonly timeouts: number[];
  size = 0;
  evicted = 0;
  created = 0;
  /** set by lookup: whether the packet goes orig → resp */
  isOrig = true;

  constructor(timeouts: FlowTimeouts = DEFAULT_TIMEOUTS, readonly maxFlows = DEFAULT_MAX_FLOWS) {
    this.timeouts = [timeouts.attempt, timeouts.established, timeouts.closing, timeouts.udp];
  }

  /** Finds the packet's flow (setting isOrig), or null. */
  lookup(p: Packet, hash: number): Flow | null {
    let f = this.map.get(hash) ?? null;
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
    const f = new Flow();
    f.ver = p.ipVer; f.proto = p.proto; f.hash = hash;
    if (!reverse) {
      f.a0 = p.s0; f.a1 = p.s1; f.a2 = p.s2; f.a3 = p.s3; f.aport = p.sport;
      f.b0 = p.d0; f.b1 = p.d1; f.b2 = p.d2; f.b3 = p.d3; f.bport = p.dport;
    } else {
      f.a0 = p.d0; f.a1 = p.d1; f.a2 = p.d2; f.a3 = p.d3; f.aport = p.dport;
      f.b0 = p.s0; f.b1 = p.s1; f.b2 = p.s2; f.b3 = p.s3; f.bport = p.sport;
    }
    f.chain = this.map.get(hash) ?? null;
    this.map.set(hash, f);
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
    let h = this.map.get(f.hash) ?? null;
    if (h === f) {
      if (f.chain) this.map.set(f.hash, f.chain); else this.map.delete(f.hash);
    } else {
      while (h !== null && h.chain !== f) h = h.chain;
      if (h !== null) h.chain = f.chain;
    }
    f.chain = null;
    this.size--;
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
