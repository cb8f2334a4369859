/**
 * The whole analysis path for one stream of packets:
 *   capture (PacketSink) → decode → flows and events → detectors → alerts.
 * `analyze` and `run` both drive this; only the packet source differs, so an
 * offline run and a live run over the same traffic raise the same alerts.
 */
import type { PacketSink, TsDigits } from './capture/types.js';
import { decodePacket } from './decode/decode.js';
import { Packet, DecodeIssue, DECODE_ISSUE_NAMES, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 } from './decode/packet.js';
import { Tracker, type TrackerOptions } from './flows/tracker.js';
import { EVENT_TYPES, type EventType, type NetEvent } from './events/types.js';
import type { Alert } from './alerts/types.js';
import type { Detector, Emit } from './detect/detector.js';
import { AlertDedup, type DedupOptions } from './alerts/dedup.js';
import { RecentFlows, type FlowRef } from './flows/recent.js';
import { UidGen, randomSeed } from './flows/uid.js';
import { GenericFold, type FoldOptions } from './alerts/fold.js';
import { Incidents, type IncidentOptions } from './alerts/incidents.js';
import { PacketRing, type RingOptions, type RingStats } from './flows/packet-ring.js';
import { PcapLog, type PcapLogOptions, type PcapLogStats } from './alerts/pcap-log.js';
import { detectorCaps, type CapReport } from './detect/caps.js';

export interface PipelineOptions {
  detectors: Detector[];
  onAlert: (a: Alert) => void;
  /** every decoded event (the event log); omitted when not asked for */
  onEvent?: (e: NetEvent) => void;
  tracker?: TrackerOptions;
  /** precision for sources that do not say (live capture) */
  defaultDigits?: TsDigits;
  /** alert suppression (Zeek-style, on packet time); omitted = defaults */
  suppression?: DedupOptions;
  /** seconds of packet time between updates of a folded alert (default 60) */
  updateEvery?: number;
  /** seed of flow uids and alert ids (flows/uid.ts); random per run when omitted */
  uidSeed?: [number, number];
  /** separates id sequences sharing a seed (one per worker) */
  uidStream?: number;
  /**
   * A flow worker's pipeline (parallel mode): the packets it sees are a share of the
   * stream, so it never moves its clock itself; the dispatcher calls advance() at
   * the packets where the whole stream's clock ticks.
   */
  externalClock?: boolean;
  /** generic alerts (event_rate …) folded into specific ones about the same host (src/alerts/fold.ts) */
  fold?: FoldOptions;
  /** incident records (kind "incident", src/alerts/incidents.ts); built only when given a receiver */
  onIncident?: (r: Alert) => void;
  incidents?: IncidentOptions;
  /** pcap on alert (alerts/pcap-log.ts): keep recent packets per flow, write those behind each alert; omitted = off, no ring */
  pcap?: Partial<RingOptions> & Partial<PcapLogOptions> & { dir: string; onError?: (msg: string) => void };
}

export interface PipelineStats {
  packets: number;
  bytes: number;
  ipPackets: number;
  /** IP fragments held for reassembly (a datagram is decoded once, from the fragment that completes it) */
  fragments: number;
  nonIp: number;
  decodeErrors: Record<string, number>;
  /**
   * DNS and HTTP pairing (flows/transactions.ts), non-zero counters only: answered, repeat and
   * unmatched responses, retransmitted, unanswered and evicted queries, HTTP overflows; dns_waiting is current
   */
  transactions: Record<string, number>;
  linktypes: Record<string, number>;
  events: Record<string, number>;
  /** alerts raised by detectors, by kind (before suppression) */
  alerts: Record<string, number>;
  /** alerts delivered: new ones plus updates of folded ones */
  alertsOut: number;
  suppressed: number;
  /** evidenceAddrs/evidenceEvicted: addresses whose recent flows are kept for alert evidence (flows/recent.ts) */
  /** generic alerts folded into a specific alert about the same host */
  foldedGeneric: number;
  /** incident records written (new and updates) */
  incidentRecords: number;
  flows: { active: number; created: number; evicted: number; evidenceAddrs: number; evidenceEvicted: number };
  /**
   * Every state cap: the flow table, the alert-evidence index, each detector's
   * tables — with what it holds and how many entries it evicted to stay under
   * its cap (the summary names each cap that evicted).
   */
  caps: CapReport[];
  /** packets whose timestamp went backwards by more than a second (kept, clock not moved back) */
  outOfOrder: number;
  firstTs: number;
  lastTs: number;
  /** pcap on alert: the packet ring and the files written (present only when enabled) */
  pcap?: { ring: RingStats; files: PcapLogStats };
  /** parallel mode: packets dispatched to and events produced by each flow worker (they add up to packets and events) */
  workers?: { packets: number; events: number }[];
}

/** addresses whose recent flows are kept for alert evidence (flows/recent.ts; a fixed cap, reported with the others) */
const EVIDENCE_ADDRS = 65536;

export class Pipeline implements PacketSink {
  private readonly pkt = new Packet();
  readonly tracker: Tracker;
  /** the detectors, in order; the daemon swaps the list on SIGHUP (setDetectors) */
  get detectors(): readonly Detector[] { return this.list; }
  private list: Detector[] = [];
  /** event type → the detectors that consume it, in registry order */
  private routes: Record<EventType, Detector[]> = routesFor([]);
  private readonly emitAlert: Emit;
  private readonly deliver: (a: Alert) => void;
  /** after folding: suppression, then delivery */
  private readonly suppress: (a: Alert) => void;
  readonly fold: GenericFold;
  readonly incidents: Incidents | null;
  private readonly writeIncident: (r: Alert) => void;
  /** one attack, one alert: repeats are folded and reported as updates */
  readonly dedup: AlertDedup;
  /** pcap on alert: recent packets per flow and the file writer; null when off (the hot path then checks one field) */
  private readonly ring: PacketRing | null;
  private readonly pcapLog: PcapLog | null;
  /** the last flows of each address, named in alert evidence */
  private readonly recent = new RecentFlows(EVIDENCE_ADDRS);
  private readonly onEvent: ((e: NetEvent) => void) | undefined;
  private readonly defaultDigits: TsDigits;
  /** packet-time clock: the latest timestamp seen; never goes back */
  now = 0;
  private tickSecond = -1;
  private lastUpdate = 0;
  private readonly externalClock: boolean;
  private readonly updateEvery: number;
  readonly stats: PipelineStats = {
    packets: 0, bytes: 0, ipPackets: 0, fragments: 0, nonIp: 0, decodeErrors: {}, transactions: {}, linktypes: {}, events: {}, alerts: {},
    alertsOut: 0, suppressed: 0, foldedGeneric: 0, incidentRecords: 0,
    flows: { active: 0, created: 0, evicted: 0, evidenceAddrs: 0, evidenceEvicted: 0 }, caps: [], outOfOrder: 0, firstTs: 0, lastTs: 0,
  };

  constructor(opts: PipelineOptions) {
    this.fold = new GenericFold(opts.fold ?? {});
    this.setDetectors(opts.detectors);
    this.onEvent = opts.onEvent;
    this.defaultDigits = opts.defaultDigits ?? 6;
    const seed = opts.uidSeed ?? randomSeed();
    // alert ids: their own sequence of the same seed (a flow uid and an alert id never share digits)
    this.dedup = new AlertDedup({ ...opts.suppression, ids: new UidGen('A', seed, 0x10000 + (opts.uidStream ?? 0)) });
    this.updateEvery = opts.updateEvery ?? 60;
    this.externalClock = opts.externalClock ?? false;
    this.incidents = opts.onIncident ? new Incidents({ updateEvery: this.updateEvery, ...opts.incidents }) : null;
    const onIncident = opts.onIncident;
    this.writeIncident = (r: Alert) => { this.stats.incidentRecords++; onIncident?.(r); };
    this.ring = opts.pcap ? new PacketRing(opts.pcap) : null;
    this.pcapLog = opts.pcap ? new PcapLog(opts.pcap) : null;
    if (this.pcapLog && opts.pcap?.onError) this.pcapLog.onError = opts.pcap.onError;
    this.deliver = (a: Alert) => {
      this.stats.alertsOut++;
      const out: Alert = { ...a, evidence: this.recent.evidenceFor(a) };
      if (this.pcapLog !== null && this.ring !== null) {
        const file = this.pcapLog.forAlert(out, this.ring);
        if (file !== null) out.pcap = file;
      }
      opts.onAlert(out);
      this.incidents?.offer(out, this.writeIncident);
    };
    this.suppress = (a: Alert) => {
      const pass = this.dedup.offer(a);
      if (pass) this.deliver(pass); else this.stats.suppressed++;
    };
    this.emitAlert = (a: Alert) => {
      this.stats.alerts[a.kind] = (this.stats.alerts[a.kind] ?? 0) + 1;
      this.fold.offer(a, this.suppress);
    };
    this.tracker = new Tracker({ ...opts.tracker, uidSeed: seed, ...(opts.uidStream !== undefined ? { uidStream: opts.uidStream } : {}) }, (e) => this.event(e));
    this.tracker.onFlow = (r) => this.noteFlow(r);
    const ring = this.ring;
    if (ring !== null) this.tracker.onPacket = (key, orig, resp, dport) => ring.addCurrent(key, orig, resp, dport);
  }

  packet(linktype: number, tsSec: number, tsNsec: number, buf: Buffer, off: number, caplen: number, wirelen: number, digits?: TsDigits): void {
    const p = this.pkt;
    const st = this.stats;
    st.packets++;
    st.bytes += wirelen;
    p.tsSec = tsSec;
    p.tsNsec = tsNsec;
    p.tsDigits = digits ?? this.defaultDigits;
    const ts = tsSec + tsNsec / 1e9;
    p.ts = ts;
    p.caplen = caplen;
    p.wirelen = wirelen;
    if (this.externalClock) { /* clock moved by the dispatcher */ } else if (ts > this.now) {
      if (st.firstTs === 0) st.firstTs = ts;
      this.now = ts;
      st.lastTs = ts;
      const sec = Math.floor(ts);
      if (sec !== this.tickSecond) { this.tickSecond = sec; this.advance(ts); }
    } else if (ts < this.now - 1) {
      st.outOfOrder++;
    }
    if (this.ring !== null) this.ring.frame(linktype, tsSec, tsNsec, buf, off, caplen, wirelen);
    const issue = decodePacket(p, linktype, buf, off, caplen);
    if (p.ipVer === 0) {
      if (issue === DecodeIssue.NotIp) st.nonIp++;
      else {
        this.countIssue(issue);
        if (issue === DecodeIssue.UnknownLinktype) st.linktypes[linktype] = (st.linktypes[linktype] ?? 0) + 1;
      }
      return;
    }
    st.ipPackets++;
    if (p.laterFragment || (p.firstFragment && !p.hasL4)) { st.fragments++; return; }
    if (issue !== DecodeIssue.None) { this.countIssue(issue); if (!p.hasL4) return; }
    switch (p.proto) {
      case IPPROTO_TCP: if (p.hasL4) this.tracker.tcp(p); break;
      case IPPROTO_UDP: if (p.hasL4) this.tracker.udp(p); break;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6: if (p.icmpType >= 0) this.tracker.icmp(p); break;
      default: break;
    }
  }

  /**
   * Installs the detector list and routes each event type to the detectors that
   * consume it (read again here: a reconfigured detector may consume other types).
   */
  setDetectors(list: readonly Detector[]): void {
    this.list = [...list];
    this.routes = routesFor(this.list);
    // with no specific detector enabled nothing can claim a generic alert: holding it would only delay it
    this.fold.setSpecificEnabled(this.list.some((d) => !this.fold.isGeneric(d.name)));
  }

  /** Packet time moved on (or, live, the capture clock did): expire flows, close windows. */
  advance(now: number): void {
    if (now > this.now) this.now = now;
    this.tracker.expire(this.now);
    for (const d of this.list) d.advance(this.now, this.emitAlert);
    this.fold.advance(this.now, this.suppress);
    this.incidents?.advance(this.now, this.writeIncident);
    // Updates of folded alerts go out at most once per updateEvery seconds of packet time.
    if (this.now - this.lastUpdate >= this.updateEvery) {
      this.lastUpdate = this.now;
      for (const u of this.dedup.flush(this.now)) this.deliver(u);
    }
  }

  /** End of input: write every open flow's summary, let detectors report what is pending. */
  finish(): PipelineStats {
    this.tracker.finish();
    for (const d of this.list) d.flush(this.now, this.emitAlert);
    this.fold.flush(this.suppress);
    for (const u of this.dedup.flush(Infinity)) this.deliver(u);
    this.incidents?.flush(this.now, this.writeIncident);
    return this.snapshot();
  }

  snapshot(): PipelineStats {
    const t = this.tracker.table;
    this.stats.flows = { active: t.size, created: t.created, evicted: t.evicted, evidenceAddrs: this.recent.size, evidenceEvicted: this.recent.evicted };
    // Parser give-ups and recoveries (HTTP gaps, oversize header blocks, bad DNS names) are reported with the decode errors.
    for (const [k, v] of Object.entries(this.tracker.issues)) if (v > 0) this.stats.decodeErrors[k] = v;
    const tx: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.tracker.tx)) if (v > 0) tx[k] = v;
    if (this.tracker.dnsWaiting > 0) tx['dns_waiting'] = this.tracker.dnsWaiting;
    this.stats.transactions = tx;
    this.stats.foldedGeneric = this.fold.c.folded;
    if (this.ring !== null && this.pcapLog !== null) this.stats.pcap = { ring: this.ring.snapshot(), files: this.pcapLog.stats };
    this.stats.caps = [
      { name: 'flow table', key: 'flows.maxFlows', cap: t.maxFlows, entries: t.size, evicted: t.evicted },
      { name: 'alert evidence addresses', key: '(fixed)', cap: EVIDENCE_ADDRS, entries: this.recent.size, evicted: this.recent.evicted },
      ...this.list.flatMap((d) => detectorCaps(d)),
    ];
    return this.stats;
  }

  /** a new flow for the alert-evidence index (parallel mode: from a flow worker) */
  noteFlow(r: FlowRef): void { this.recent.note(r); }

  /** One event into the detector stage (parallel mode: merged from the flow workers). */
  event(e: NetEvent): void {
    this.stats.events[e.type] = (this.stats.events[e.type] ?? 0) + 1;
    if (this.onEvent) this.onEvent(e);
    const ds = this.routes[e.type];
    for (let i = 0; i < ds.length; i++) ds[i]!.onEvent(e, this.emitAlert);
  }

  private countIssue(issue: DecodeIssue): void {
    const name = DECODE_ISSUE_NAMES[issue];
    this.stats.decodeErrors[name] = (this.stats.decodeErrors[name] ?? 0) + 1;
  }
}

function routesFor(list: readonly Detector[]): Record<EventType, Detector[]> {
  const r = {} as Record<EventType, Detector[]>;
  for (const t of EVENT_TYPES) r[t] = list.filter((d) => d.consumes.includes(t));
  return r;
}
