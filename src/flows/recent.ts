/**
 * Which flows are behind an alert: the last few flows of each address, so an
 * alert can name the uids and Community IDs of the flows between its
 * endpoints (evidence.uids, evidence.community_ids) and an analyst can pivot
 * to the event log, Zeek's conn.log or Suricata's EVE.
 *
 * Detectors keep counts, not flows, so the pipeline remembers flows here, once
 * per new flow (never per packet): per address a ring of the last PER_ADDR
 * flows it originated or answered, for at most `maxAddrs` addresses (the
 * oldest address is forgotten first, counted in `evicted`). For an alert the
 * flows between src and dst (on dport when it has one) are taken, newest
 * first; with only a source or only a destination, that side's flows.
 * ICMP has no flows in tapwatch: its messages are remembered by Community ID
 * only (no uid).
 */
import type { Alert } from '../alerts/types.js';

export interface FlowRef {
  uid: string; community_id: string; orig: string; resp: string; dport: number;
  /** packet time of the flow's first packet */
  ts: number;
}

/** flows remembered per address */
const PER_ADDR = 8;
/** uids / community ids named per alert */
export const EVIDENCE_FLOWS = 5;

export class RecentFlows {
  private readonly byAddr = new Map<string, FlowRef[]>();
  /**
   * byAddr's keys in insertion order, as a ring once full (`head`: the oldest). Evicting through
   * `byAddr.keys().next()` walked V8's deleted slots at the front of the Map on every new address
   * (see LruMap in detect/bounded-state.ts): 48 % of a spoofed SYN flood's time.
   */
  private readonly order: string[] = [];
  private head = 0;
  evicted = 0;

  constructor(private readonly maxAddrs = 65536) {
    if (!Number.isInteger(maxAddrs) || maxAddrs < 1) throw new RangeError(`RecentFlows: maxAddrs must be a positive integer, not ${maxAddrs}`);
  }

  note(r: FlowRef): void {
    this.push(r.orig, r);
    if (r.resp !== r.orig) this.push(r.resp, r);
  }

  get size(): number { return this.byAddr.size; }

  /** the flows behind an alert, newest first (at most EVIDENCE_FLOWS), by its src/dst/dport */
  lookup(a: Pick<Alert, 'src' | 'dst' | 'dport'> & { ts_last?: number }): FlowRef[] {
    const { src, dst, dport } = a;
    // a flow that began after the alert's evidence ends is not behind it (a scan's final update at
    // end of input must not name the brute force the same pair went on to)
    const until = a.ts_last === undefined ? Infinity : a.ts_last + 1;
    const port = (r: FlowRef): boolean => (dport === undefined || r.dport === dport) && r.ts <= until;
    if (src !== undefined && dst !== undefined) {
      const between = this.pick(src, (r) => (r.resp === dst || r.orig === dst) && port(r));
      if (between.length > 0) return between;
    }
    if (src !== undefined) {
      const out = this.pick(src, (r) => r.orig === src && port(r));
      return out.length > 0 ? out : this.pick(src, port);
    }
    if (dst !== undefined) return this.pick(dst, (r) => r.resp === dst && port(r));
    return [];
  }

  /** evidence with `uids` and `community_ids` of the alert's flows added (a new object; none found: unchanged) */
  evidenceFor(a: Alert): Record<string, unknown> {
    const flows = this.lookup(a);
    if (flows.length === 0) return a.evidence;
    const uids: string[] = [], ids: string[] = [];
    for (const f of flows) {
      if (f.uid !== '' && !uids.includes(f.uid)) uids.push(f.uid);
      if (!ids.includes(f.community_id)) ids.push(f.community_id);
    }
    return uids.length > 0 ? { ...a.evidence, uids, community_ids: ids } : { ...a.evidence, community_ids: ids };
  }

  private pick(addr: string, ok: (r: FlowRef) => boolean): FlowRef[] {
    const ring = this.byAddr.get(addr);
    const out: FlowRef[] = [];
    if (ring === undefined) return out;
    for (let i = ring.length - 1; i >= 0 && out.length < EVIDENCE_FLOWS; i--) if (ok(ring[i]!)) out.push(ring[i]!);
    return out;
  }

  private push(addr: string, r: FlowRef): void {
    let ring = this.byAddr.get(addr);
    if (ring === undefined) {
      if (this.order.length >= this.maxAddrs) {
        // addresses leave only here, so the ring's oldest is the Map's first key
        this.byAddr.delete(this.order[this.head]!);
        this.order[this.head] = addr;
        this.head = (this.head + 1) % this.maxAddrs;
        this.evicted++;
      } else {
        this.order.push(addr);
      }
      this.byAddr.set(addr, (ring = []));
    }
    if (ring.length >= PER_ADDR) ring.shift();
    ring.push(r);
  }
}
