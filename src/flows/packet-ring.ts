/**
 * The recent packets of each flow, kept so that when an alert fires the
 * packets of the flows behind it can be written to a pcap (alerts/pcap-log.ts):
 * Suricata's pcap-log "conditional: alerts" mode, without a full-take capture
 * on disk. Off by default; when off the pipeline holds no ring at all and the
 * per-packet cost is one null check.
 *
 * A flow is keyed by its uid (TCP/UDP, flows/uid.ts) or, for ICMP, which has
 * no flow here, by its Community ID. Per flow the first half of `flowPackets`
 * packets are kept (handshake, banners, the request) and the latest half as a
 * ring, each cut to `snaplen` bytes, and at most `flowBytes` bytes (the ring's
 * oldest go first; a flow whose kept packets fill it stops keeping). Over all
 * flows at most `ringBytes` (each packet and each flow charged its
 * bookkeeping as well, so a spoofed flood of one-packet flows is bounded too):
 * beyond it the flow that started first is forgotten (counted in `evicted`);
 * a flow that goes on after that starts again from its next packet. Flows are
 * kept after they end, so a scan or a brute force alerted at its 20th
 * connection still has the first ones.
 */

export interface RingOptions {
  /** bytes of packets (and bookkeeping) kept over all flows */
  ringBytes: number;
  /** packets kept per flow: the first half and the latest half */
  flowPackets: number;
  /** bytes kept per flow */
  flowBytes: number;
  /** bytes kept of each packet */
  snaplen: number;
}

export const RING_DEFAULTS: RingOptions = { ringBytes: 64 * 1024 * 1024, flowPackets: 64, flowBytes: 256 * 1024, snaplen: 65535 };

/** bookkeeping charged per packet and per flow (object, Map entry, queue slot), so the bound holds for tiny packets */
const PACKET_OVERHEAD = 64;
const FLOW_OVERHEAD = 256;
/** seconds around an alert's evidence span whose flows belong to it */
const SLACK = 5;

export interface StoredPacket { sec: number; nsec: number; wirelen: number; linktype: number; data: Buffer }

export class FlowPackets {
  /** the first packets, kept */
  readonly first: StoredPacket[] = [];
  /** the latest packets, a ring from `head` */
  readonly last: StoredPacket[] = [];
  head = 0;
  bytes = FLOW_OVERHEAD;
  /** packets seen but not kept (ring overwritten, or over flowBytes) */
  dropped = 0;
  /** packet time of its first and latest packet seen (seconds) */
  firstTs = 0;
  lastTs = 0;
  constructor(readonly key: string, readonly orig: string, readonly resp: string, readonly dport: number) {}

  /** the kept packets in arrival order */
  packets(): StoredPacket[] {
    return [...this.first, ...this.last.slice(this.head), ...this.last.slice(0, this.head)];
  }
}

export interface RingStats { flows: number; bytes: number; packets: number; evicted: number; dropped: number }

export class PacketRing {
  private readonly flows = new Map<string, FlowPackets>();
  /** flows in the order they were first kept: who is evicted first */
  private queue: FlowPackets[] = [];
  private qhead = 0;
  private bytes = 0;
  private readonly o: RingOptions;
  private readonly firstN: number;
  private readonly lastN: number;
  readonly stats: RingStats = { flows: 0, bytes: 0, packets: 0, evicted: 0, dropped: 0 };

  constructor(o: Partial<RingOptions> = {}) {
    this.o = { ...RING_DEFAULTS, ...o };
    this.firstN = Math.ceil(this.o.flowPackets / 2);
    this.lastN = this.o.flowPackets - this.firstN;
  }

  // The packet being analysed, set by the pipeline before decoding (no copy), kept by addCurrent()
  // when the tracker has found its flow: before any event of the packet, so an alert the packet
  // raises finds the packet in the ring.
  private cLink = 0; private cSec = 0; private cNsec = 0; private cBuf: Buffer = Buffer.alloc(0);
  private cOff = 0; private cCaplen = 0; private cWirelen = 0;

  frame(linktype: number, sec: number, nsec: number, buf: Buffer, off: number, caplen: number, wirelen: number): void {
    this.cLink = linktype; this.cSec = sec; this.cNsec = nsec; this.cBuf = buf; this.cOff = off; this.cCaplen = caplen; this.cWirelen = wirelen;
  }

  /** keeps the current frame (see frame()) for flow `key` */
  addCurrent(key: string, orig: string, resp: string, dport: number): void {
    this.add(key, orig, resp, dport, this.cLink, this.cSec, this.cNsec, this.cBuf, this.cOff, this.cCaplen, this.cWirelen);
  }

  /** one packet of flow `key` (orig/resp/dport name the flow for look-ups by endpoint); the bytes are copied */
  add(key: string, orig: string, resp: string, dport: number, linktype: number, sec: number, nsec: number, buf: Buffer, off: number, caplen: number, wirelen: number): void {
    let f = this.flows.get(key);
    if (f === undefined) {
      f = new FlowPackets(key, orig, resp, dport);
      this.flows.set(key, f);
      this.queue.push(f);
      this.bytes += f.bytes;
      f.firstTs = sec + nsec / 1e9;
    }
    f.lastTs = sec + nsec / 1e9;
    const len = Math.min(caplen, this.o.snaplen);
    const cost = len + PACKET_OVERHEAD;
    const full = f.first.length >= this.firstN;
    if (full && this.lastN === 0) { f.dropped++; this.stats.dropped++; return; }
    // over the flow's byte budget: make room from the latest packets, or stop keeping
    while (f.bytes + cost > this.o.flowBytes && f.last.length > 0) this.dropOldestLast(f);
    if (f.bytes + cost > this.o.flowBytes) { f.dropped++; this.stats.dropped++; return; }
    // its own memory, not a slice of the shared 8 KiB pool: a kept slice would hold its whole slab
    // and the byte bound would not be the memory bound
    const data = Buffer.allocUnsafeSlow(len);
    buf.copy(data, 0, off, off + len);
    const pkt: StoredPacket = { sec, nsec, wirelen, linktype, data };
    if (!full) f.first.push(pkt);
    else if (f.last.length < this.lastN) f.last.splice(f.head, 0, pkt), f.head = (f.head + 1) % f.last.length;
    else {
      const old = f.last[f.head]!;
      f.bytes -= old.data.length + PACKET_OVERHEAD;
      this.bytes -= old.data.length + PACKET_OVERHEAD;
      f.dropped++; this.stats.dropped++;
      f.last[f.head] = pkt;
      f.head = (f.head + 1) % this.lastN;
    }
    f.bytes += cost;
    this.bytes += cost;
    while (this.bytes > this.o.ringBytes && this.qhead < this.queue.length) this.evictOldest();
  }

  get(key: string): FlowPackets | undefined { return this.flows.get(key); }

  /**
   * The kept flows behind an alert, newest first, at most `max`: those named by key
   * (its uids and Community IDs), then those between its endpoints (on its
   * dport when it has one), as flows/recent.ts picks them, but over every kept
   * flow, and only flows with packets within the alert's evidence span
   * (ts_first..ts_last, ± SLACK s): a port scan's pcap holds the scan, not
   * the same hosts' SSH session an hour later.
   */
  select(a: { src?: string | undefined; dst?: string | undefined; dport?: number | undefined; ts_first: number; ts_last: number }, keys: readonly string[], max: number): FlowPackets[] {
    const out: FlowPackets[] = [];
    const seen = new Set<string>();
    // flows that overlap the alert's evidence span (a little slack for the packets around it); also
    // for the flows it names: an update's evidence names the hosts' latest flows, whatever they were
    const from = a.ts_first - SLACK, to = a.ts_last + SLACK;
    const during = (f: FlowPackets): boolean => f.lastTs >= from && f.firstTs <= to;
    for (const k of keys) {
      const f = this.flows.get(k);
      if (f && !seen.has(k) && out.length < max && during(f)) { out.push(f); seen.add(k); }
    }
    const { src, dst, dport } = a;
    if (src === undefined && dst === undefined) return out;
    const port = (f: FlowPackets): boolean => (dport === undefined || f.dport === dport || f.dport === 0) && during(f);
    const ok = src !== undefined && dst !== undefined
      ? (f: FlowPackets) => ((f.orig === src && f.resp === dst) || (f.orig === dst && f.resp === src)) && port(f)
      : src !== undefined ? (f: FlowPackets) => f.orig === src && port(f)
        : (f: FlowPackets) => f.resp === dst && port(f);
    for (let i = this.queue.length - 1; i >= this.qhead && out.length < max; i--) {
      const f = this.queue[i]!;
      if (!seen.has(f.key) && this.flows.get(f.key) === f && ok(f)) { out.push(f); seen.add(f.key); }
    }
    return out;
  }

  snapshot(): RingStats {
    this.stats.flows = this.flows.size;
    this.stats.bytes = this.bytes;
    let n = 0;
    for (const f of this.flows.values()) n += f.first.length + f.last.length;
    this.stats.packets = n;
    return this.stats;
  }

  private dropOldestLast(f: FlowPackets): void {
    // the ring's oldest is at head; take it out and keep the order of the rest
    const old = f.last.splice(f.head, 1)[0]!;
    if (f.head >= f.last.length) f.head = 0;
    f.bytes -= old.data.length + PACKET_OVERHEAD;
    this.bytes -= old.data.length + PACKET_OVERHEAD;
    f.dropped++; this.stats.dropped++;
  }

  private evictOldest(): void {
    const f = this.queue[this.qhead]!;
    this.queue[this.qhead++] = undefined as unknown as FlowPackets;
    // compact the queue now and then instead of shifting it per eviction
    if (this.qhead > 4096 && this.qhead * 2 > this.queue.length) { this.queue = this.queue.slice(this.qhead); this.qhead = 0; }
    if (this.flows.get(f.key) !== f) return;
    this.flows.delete(f.key);
    this.bytes -= f.bytes;
    this.stats.evicted++;
  }
}
