/**
 * Flows and events: follows TCP and UDP flows through the flow table, turns
 * packets into events (tcp_syn, connection outcomes, conn summaries, ICMP,
 * DNS, HTTP, SSH) and hands TCP payload to the application parsers of the
 * flows that have one.
 */
import { FlowTable, tupleHash, DEFAULT_TIMEOUTS, DEFAULT_MAX_FLOWS, type FlowTimeouts } from './flow-table.js';
import { App, Flow, TimeoutClass, SERVICE_NAMES, SVC_DNS, SVC_HTTP, SVC_SSH, SVC_TLS } from './flow.js';
import { DnsPending, DnsTransactions, newTxStats, type DnsPair, type DnsTxLimits } from './transactions.js';
import { CidrSet } from '../util/cidr.js';
import { TcpStream, copyTime, type StreamConsumer } from './stream.js';
import { connState } from './conn-state.js';
import { addrToString } from '../decode/addr.js';
import { Packet, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, IPPROTO_ICMPV6, IPPROTO_TCP } from '../decode/packet.js';
import { parseDns, DnsTcpHalf, type DnsMessage } from '../decode/dns.js';
import { HttpConnection, HttpHalf, looksLikeRequest, looksLikeResponse, newHttpIssues, type HttpRequestInfo, type HttpResponseInfo } from '../decode/http.js';
import { SshConnection, SshHalf, looksLikeSsh } from '../decode/ssh.js';
import { TlsClientHalf, looksLikeTlsClientHello, looksLikeStartTls, type TlsClientHelloInfo } from '../decode/tls.js';
import { decodeQuoted, isIcmpError } from '../decode/icmp.js';
import { communityId, icmpCommunityId } from './community-id.js';
import { UidGen, randomSeed } from './uid.js';
import type { FlowRef } from './recent.js';
import type { ConnEvent, IcmpEvent, NetEvent, PacketTime, Transport } from '../events/types.js';

export interface TrackerOptions {
  timeouts?: Partial<FlowTimeouts>;
  maxFlows?: number;
  /** seed of the flow uids (flows/uid.ts); random per run when omitted */
  uidSeed?: [number, number];
  /** separates uid sequences sharing a seed (one per worker) */
  uidStream?: number;
  /** conn_progress events for long-lived flows; 0 turns a trigger off */
  progress?: Partial<ProgressOptions>;
  /** HOME_NET as CIDR text (conn local_orig/local_resp); empty or omitted: the fields are left out */
  homeNet?: readonly string[];
  /** caps on DNS queries waiting for their answer (flows/transactions.ts) */
  dnsPending?: Partial<DnsTxLimits>;
}

export interface ProgressOptions {
  /** seconds of packet time between reports of a flow that carried new payload (default 10) */
  interval: number;
  /** payload bytes (both ways) that trigger a report whatever the time (default 8 MiB) */
  bytes: number;
}

export const DEFAULT_PROGRESS: ProgressOptions = { interval: 10, bytes: 8 * 1024 * 1024 };

/** Ports on which UDP payloads are read as DNS: DNS, mDNS, LLMNR. */
export function isDnsPort(port: number): boolean {
  return port === 53 || port === 5353 || port === 5355;
}

/** Payload segments looked at before a flow is declared "no parser" */
const MAX_PROBES = 3;

/**
 * A jump in sequence space larger than this is not taken for lost bytes (a
 * forged or stray segment, far outside any window): neither counted nor followed.
 */
const MAX_HOLE = 1 << 30;

export class Tracker {
  readonly table: FlowTable;
  readonly emit: (e: NetEvent) => void;
  /** SSH state of the flows that carry SSH (read again when the flow closes) */
  private readonly ssh = new WeakMap<Flow, SshConnection>();
  /** HTTP state of the flows taken for HTTP (a CONNECT tunnel or a STARTTLS may turn them into TLS) */
  private readonly http = new WeakMap<Flow, { conn: HttpConnection; clientIsOrig: boolean }>();
  private readonly onEvict = (f: Flow): void => this.close(f, 'evicted');
  /** What the application parsers gave up on or recovered from, over all flows (reported with the decode errors) */
  readonly issues = { ...newHttpIssues(), dns_name_too_long: 0, dns_bad_name: 0 };
  private readonly uids: UidGen;
  /** Community IDs of recent ICMP type/code pairs: ICMP has no flow here, so this cache is what keeps the hash per "flow" */
  private readonly icmpIds = new Map<string, string>();
  /** called once per new flow, after its uid and Community ID are set (the alert evidence index) */
  onFlow: ((r: FlowRef) => void) | null = null;
  /**
   * called per packet once its flow is known, before any of its events (pcap on alert: the packet
   * ring, flows/packet-ring.ts); key = the flow's uid, for ICMP its Community ID. null = off.
   */
  onPacket: ((key: string, orig: string, resp: string, dport: number) => void) | null = null;
  /** conn_progress triggers (Infinity = off) */
  private readonly progInterval: number;
  private readonly progBytes: number;
  /** what DNS and HTTP pairing could not pair or had to drop (flows/transactions.ts), over all flows */
  readonly tx = newTxStats();
  private readonly dnsTx: DnsTransactions;
  /** HOME_NET for local_orig/local_resp; null: none configured */
  private home: CidrSet | null = null;

  constructor(opts: TrackerOptions, emit: (e: NetEvent) => void) {
    this.table = new FlowTable({ ...DEFAULT_TIMEOUTS, ...opts.timeouts }, opts.maxFlows ?? DEFAULT_MAX_FLOWS);
    this.emit = emit;
    this.uids = new UidGen('C', opts.uidSeed ?? randomSeed(), opts.uidStream ?? 0);
    const pr = { ...DEFAULT_PROGRESS, ...opts.progress };
    this.progInterval = pr.interval > 0 ? pr.interval : Infinity;
    this.progBytes = pr.bytes > 0 ? pr.bytes : Infinity;
    this.dnsTx = new DnsTransactions(this.tx, opts.dnsPending);
    this.setHomeNet(opts.homeNet ?? []);
  }

  /** HOME_NET (validated by the configuration): conn summaries written from now on use it. */
  setHomeNet(cidrs: readonly string[]): void {
    const set = CidrSet.parse(cidrs, 'network.homeNet');
    this.home = set.empty ? null : set;
  }

  /** DNS queries waiting for an answer, over all flows */
  get dnsWaiting(): number { return this.dnsTx.size; }

  tcp(p: Packet): void {
    const flags = p.tcpFlags;
    const syn = (flags & TCP_SYN) !== 0, ack = (flags & TCP_ACK) !== 0;
    const rst = (flags & TCP_RST) !== 0, fin = (flags & TCP_FIN) !== 0;
    const hash = tupleHash(p);
    let f = this.table.lookup(p, hash);
    if (f === null) {
      f = this.table.create(p, hash, syn && ack, syn && !ack ? TimeoutClass.Attempt : TimeoutClass.Established, this.onEvict);
      this.init(f, p);
    }
    const orig = this.table.isOrig;
    if (this.onPacket !== null) this.onPacket(f.uid, f.origAddr, f.respAddr, f.bport);
    if (syn && !ack) {
      // Built as one literal (no spreads): this is the per-SYN hot path of a scan or flood.
      this.emit({
        ts: p.ts, tsSec: p.tsSec, tsNsec: p.tsNsec, tsDigits: p.tsDigits, type: 'tcp_syn',
        src: orig ? f.origAddr : f.respAddr, sport: orig ? f.aport : f.bport,
        dst: orig ? f.respAddr : f.origAddr, dport: orig ? f.bport : f.aport, proto: 'tcp', size: p.wirelen,
        uid: f.uid, community_id: f.community_id,
      });
    }
    this.count(f, orig, p);
    this.missed(f, orig, p, syn, fin);
    if (orig) {
      if (syn && !ack) { f.origSyn = true; hist(f, H_S, 'S'); }
      if (ack && !syn && !rst && f.respSynAck && !f.established) {
        f.established = true;
        this.outcome(f, 'conn_established', p);
      }
      if (fin) { f.origFin = true; hist(f, H_F, 'F'); }
      if (rst) { f.origRst = true; hist(f, H_R, 'R'); }
      if (p.payLen > 0) hist(f, H_D, 'D');
    } else {
      if (syn && ack) { f.respSynAck = true; hist(f, H_h, 'h'); }
      if (fin) { f.respFin = true; hist(f, H_f, 'f'); }
      if (rst) {
        f.respRst = true; hist(f, H_r, 'r');
        if (f.origSyn && !f.respSynAck) this.outcome(f, 'conn_rejected', p);
      }
      if (p.payLen > 0) hist(f, H_d, 'd');
    }
    const cls = f.origRst || f.respRst || (f.origFin && f.respFin) ? TimeoutClass.Closing
      : f.origSyn && !f.respSynAck && f.respPkts === 0 ? TimeoutClass.Attempt : TimeoutClass.Established;
    this.table.touch(f, p.ts, cls);
    if (f.app !== App.None && (p.payWire > 0 || syn)) this.app(f, orig, p, syn);
    if (p.payWire > 0) this.progress(f, p);
  }

  udp(p: Packet): void {
    const hash = tupleHash(p);
    let f = this.table.lookup(p, hash);
    if (f === null) {
      f = this.table.create(p, hash, false, TimeoutClass.Udp, this.onEvict);
      this.init(f, p);
    }
    const orig = this.table.isOrig;
    if (this.onPacket !== null) this.onPacket(f.uid, f.origAddr, f.respAddr, f.bport);
    this.count(f, orig, p);
    this.table.touch(f, p.ts, TimeoutClass.Udp);
    if (p.payWire > 0) this.progress(f, p);
    if ((isDnsPort(p.sport) || isDnsPort(p.dport)) && p.payLen > 0) {
      const m = parseDns(p.buf, p.payOff, p.payLen);
      if (m) this.dns(f, m, this.base(f, orig, p, 'udp'), p.payWire, p);
    }
  }

  icmp(p: Packet): void {
    const v6 = p.proto === IPPROTO_ICMPV6;
    const proto: Transport = v6 ? 'icmpv6' : 'icmp';
    const src = addrToString(p.ipVer, p.s0, p.s1, p.s2, p.s3);
    const dst = addrToString(p.ipVer, p.d0, p.d1, p.d2, p.d3);
    let quoted: { proto: Transport; src: string; sport: number; dst: string; dport: number } | undefined;
    if (isIcmpError(v6, p.icmpType)) {
      const q = decodeQuoted(p.buf, p.payOff, p.end);
      if (q) {
        quoted = {
          proto: q.proto === IPPROTO_TCP ? 'tcp' : q.proto === 17 ? 'udp' : q.proto === 1 ? 'icmp' : 'icmpv6',
          src: addrToString(q.ver, q.s[0]!, q.s[1]!, q.s[2]!, q.s[3]!), sport: q.sport,
          dst: addrToString(q.ver, q.d[0]!, q.d[1]!, q.d[2]!, q.d[3]!), dport: q.dport,
        };
      }
    }
    const cid = this.icmpId(v6, src, dst, p);
    if (this.onPacket !== null) this.onPacket(cid, src, dst, 0);
    const e: IcmpEvent = {
      ts: p.ts, tsSec: p.tsSec, tsNsec: p.tsNsec, tsDigits: p.tsDigits, type: 'icmp', src, sport: 0, dst, dport: 0,
      proto, size: p.wirelen, community_id: cid, icmp_type: p.icmpType, icmp_code: p.icmpCode,
    };
    if (quoted) e.quoted = quoted;
    else if (v6 ? p.icmpType === 128 || p.icmpType === 129 : p.icmpType === 8 || p.icmpType === 0) echoPayload(e, p);
    this.emit(e);
  }

  /** Packet time reached `now`: write out flows idle past their timeout. */
  expire(now: number): void {
    for (const f of this.table.expire(now)) this.close(f, 'timeout');
  }

  /** End of input: every flow still open gets its summary. */
  finish(): void {
    for (const f of this.table.drain()) this.close(f, 'end');
  }

  // --- internals -----------------------------------------------------------

  private init(f: Flow, p: Packet): void {
    f.origAddr = addrToString(f.ver, f.a0, f.a1, f.a2, f.a3);
    f.respAddr = addrToString(f.ver, f.b0, f.b1, f.b2, f.b3);
    f.startTs = p.ts; f.startSec = p.tsSec; f.startNsec = p.tsNsec; f.startDigits = p.tsDigits;
    f.last = p.ts;
    f.uid = this.uids.next();
    f.community_id = communityId(f.ver, f.proto, f.a0, f.a1, f.a2, f.a3, f.aport, f.b0, f.b1, f.b2, f.b3, f.bport);
    if (this.onFlow !== null) this.onFlow({ uid: f.uid, community_id: f.community_id, orig: f.origAddr, resp: f.respAddr, dport: f.bport, ts: p.ts });
    f.progTs = p.ts;
  }

  /** ICMP Community ID, cached per (src, dst, type, code): a ping flood hashes once, not per packet. */
  private icmpId(v6: boolean, src: string, dst: string, p: Packet): string {
    const key = `${src} ${dst} ${p.icmpType} ${p.icmpCode}`;
    let id = this.icmpIds.get(key);
    if (id === undefined) {
      id = icmpCommunityId(v6, p.s0, p.s1, p.s2, p.s3, p.d0, p.d1, p.d2, p.d3, p.icmpType, p.icmpCode);
      // bounded: forget the oldest pair (Map keeps insertion order)
      if (this.icmpIds.size >= 4096) this.icmpIds.delete(this.icmpIds.keys().next().value as string);
      this.icmpIds.set(key, id);
      if (this.onFlow !== null) this.onFlow({ uid: '', community_id: id, orig: src, resp: dst, dport: 0, ts: p.ts });
    }
    return id;
  }

  /** A packet with payload: report the flow's counters if its interval or byte step is due. */
  private progress(f: Flow, p: Packet): void {
    const newOrig = f.origBytes - f.progOrig, newResp = f.respBytes - f.progResp;
    if (newOrig + newResp < this.progBytes && p.ts - f.progTs < this.progInterval) return;
    f.progTs = p.ts;
    f.progOrig = f.origBytes;
    f.progResp = f.respBytes;
    this.emit({
      ts: p.ts, tsSec: p.tsSec, tsNsec: p.tsNsec, tsDigits: p.tsDigits, type: 'conn_progress',
      src: f.origAddr, sport: f.aport, dst: f.respAddr, dport: f.bport, proto: f.proto === IPPROTO_TCP ? 'tcp' : 'udp',
      uid: f.uid, community_id: f.community_id,
      size: f.origBytes + f.respBytes, duration: Math.max(0, p.ts - f.startTs),
      orig_bytes: f.origBytes, resp_bytes: f.respBytes, orig_pkts: f.origPkts, resp_pkts: f.respPkts,
      orig_bytes_delta: newOrig, resp_bytes_delta: newResp,
    });
  }

  private count(f: Flow, orig: boolean, p: Packet): void {
    if (orig) { f.origPkts++; f.origBytes += p.payWire; }
    else { f.respPkts++; f.respBytes += p.payWire; }
  }

  /**
   * Zeek's missed_bytes: payload bytes of the flow that were never captured,
   * counted from sequence numbers for every TCP flow (no reassembly, nothing
   * copied): a segment starting past the next expected byte leaves a hole; a
   * late (reordered) segment that fills the latest hole is taken back out;
   * the tail of a segment cut by the snap length is missed too.
   */
  private missed(f: Flow, orig: boolean, p: Packet, syn: boolean, fin: boolean): void {
    if (p.payWire > p.payLen) f.missedBytes += p.payWire - p.payLen;
    const seq = syn ? (p.seq + 1) >>> 0 : p.seq;
    const len = p.payWire + (fin ? 1 : 0);
    const next = orig ? f.origSeqNext : f.respSeqNext;
    let to = -1;
    if (next < 0) {
      if (syn || len > 0) to = (seq + len) >>> 0;
    } else if (len > 0) {
      const rel = (seq - next) | 0;
      if (rel > 0) {
        if (rel > MAX_HOLE) return;
        f.missedBytes += rel;
        f.holeStart = next; f.holeEnd = seq; f.holeOrig = orig;
        to = (seq + len) >>> 0;
      } else if (rel + len > 0) {
        to = (seq + len) >>> 0;
      } else if (f.holeOrig === orig && f.holeEnd !== f.holeStart) {
        // Old bytes: a retransmission, or a reordered segment arriving into the latest hole.
        const s = ((seq - f.holeStart) | 0) > 0 ? seq : f.holeStart;
        const e = (((seq + len) >>> 0) - f.holeEnd | 0) < 0 ? (seq + len) >>> 0 : f.holeEnd;
        const n = (e - s) | 0;
        if (n > 0) {
          f.missedBytes -= n;
          if (s === f.holeStart) f.holeStart = e; else f.holeEnd = s;
        }
      }
    }
    if (to >= 0) { if (orig) f.origSeqNext = to; else f.respSeqNext = to; }
  }

  /** The common event fields, from the sender's side of the flow (one literal, no spreads: hot path). */
  private base<P extends 'tcp' | 'udp'>(f: Flow, fromOrig: boolean, t: PacketTime, proto: P) {
    return {
      ts: t.ts, tsSec: t.tsSec, tsNsec: t.tsNsec, tsDigits: t.tsDigits,
      src: fromOrig ? f.origAddr : f.respAddr, sport: fromOrig ? f.aport : f.bport,
      dst: fromOrig ? f.respAddr : f.origAddr, dport: fromOrig ? f.bport : f.aport, proto,
      uid: f.uid, community_id: f.community_id,
    };
  }

  private outcome(f: Flow, type: 'conn_established' | 'conn_rejected' | 'conn_unanswered', p: Packet | null): void {
    if (f.outcome) return;
    f.outcome = true;
    // without a packet (unanswered at close) the attempt is stamped with the flow's start, read inline
    this.emit({
      ts: p ? p.ts : f.startTs, tsSec: p ? p.tsSec : f.startSec, tsNsec: p ? p.tsNsec : f.startNsec, tsDigits: p ? p.tsDigits : f.startDigits,
      type, src: f.origAddr, sport: f.aport,
      dst: f.respAddr, dport: f.bport, proto: 'tcp', size: f.origBytes + f.respBytes,
      uid: f.uid, community_id: f.community_id,
    });
  }

  /** the flow whose closing events are being emitted (parallel mode orders them by it), else null */
  closing: Flow | null = null;

  private close(f: Flow, reason: ConnEvent['reason']): void {
    this.closing = f;
    try { this.closeFlow(f, reason); } finally { this.closing = null; }
  }

  private closeFlow(f: Flow, reason: ConnEvent['reason']): void {
    f.origStream?.finish();
    f.respStream?.finish();
    const isTcp = f.proto === IPPROTO_TCP;
    if (isTcp && f.origSyn && !f.respSynAck && f.respPkts === 0) this.outcome(f, 'conn_unanswered', null);
    const s = this.ssh.get(f);
    if (s && s.sawClientEncrypted && !s.decided && s.attempts === 0) this.sshAuth(f, s, 'unknown', s.attempts, null);
    const e: ConnEvent = {
      ts: f.startTs, tsSec: f.startSec, tsNsec: f.startNsec, tsDigits: f.startDigits, src: f.origAddr, sport: f.aport,
      dst: f.respAddr, dport: f.bport, proto: isTcp ? 'tcp' : 'udp',
      type: 'conn',
      size: f.origBytes + f.respBytes,
      uid: f.uid, community_id: f.community_id,
      duration: Math.max(0, f.last - f.startTs),
      orig_bytes: f.origBytes, resp_bytes: f.respBytes, orig_pkts: f.origPkts, resp_pkts: f.respPkts,
      conn_state: connState(f), history: f.history, missed_bytes: f.missedBytes, reason,
    };
    if (f.progOrig + f.progResp > 0) { e.reported_orig_bytes = f.progOrig; e.reported_resp_bytes = f.progResp; }
    const svc = f.services;
    if (svc !== 0) e.service = SERVICE_NAMES[svc]!;
    const home = this.home;
    if (home !== null) {
      e.local_orig = f.ver === 4 ? home.hasV4(f.a0 >>> 0) : home.has(f.origAddr);
      e.local_resp = f.ver === 4 ? home.hasV4(f.b0 >>> 0) : home.has(f.respAddr);
    }
    if (f.dns !== null) this.dnsTx.close(f.dns);
    this.emit(e);
    // The flow is out of the table and its last event written: its record is reused.
    if (s !== undefined) this.ssh.delete(f);
    this.http.delete(f);
    this.table.release(f);
  }

  /** @param done the time the message was complete (its last TCP segment; for UDP its packet): rtt runs between these, as in Zeek and Wireshark */
  private dns(f: Flow, m: DnsMessage, b: ReturnType<Tracker['base']> & { proto: 'tcp' | 'udp' }, size: number, done: PacketTime): void {
    if (m.nameTooLong) this.issues.dns_name_too_long++;
    if (m.badName) this.issues.dns_bad_name++;
    f.addService(SVC_DNS);
    // pairing by id on this flow (flows/transactions.ts): a response gets its query's time and the rtt
    let pair: DnsPair | null = null;
    if (m.isResponse) pair = this.dnsTx.response(f.dns, m.id, done);
    else this.dnsTx.query(f.dns ??= new DnsPending(), m.id, b, done);
    this.emit({
      ts: b.ts, tsSec: b.tsSec, tsNsec: b.tsNsec, tsDigits: b.tsDigits, src: b.src, sport: b.sport, dst: b.dst,
      dport: b.dport, proto: b.proto, type: 'dns', size, uid: b.uid, community_id: b.community_id, id: m.id, is_response: m.isResponse, opcode: m.opcode, qname: m.qname,
      qtype: m.qtype, rcode: m.rcode, qdcount: m.qdcount, ancount: m.ancount, answers: m.answers, truncated: m.truncated,
      // undefined (left out of the JSON) rather than absent: one object shape for every DNS event
      rtt: pair?.rtt, query_ts: pair?.query.ts, queryTsSec: pair?.query.tsSec, queryTsNsec: pair?.query.tsNsec,
    });
  }

  /** Application layer: pick a parser from the first payload bytes, then feed the ordered stream. */
  private app(f: Flow, orig: boolean, p: Packet, syn: boolean): void {
    const b = p.buf, o = p.payOff, n = p.payLen;
    if (f.app === App.Undecided) {
      if (n === 0) return;
      // Either side may speak first (and a capture may start mid-connection): a request
      // names its sender the client, a response names the other side.
      if (looksLikeSsh(b, o, n)) this.startSsh(f);
      else if (looksLikeTlsClientHello(b, o, n)) this.startTls(f, orig);
      else if (looksLikeRequest(b, o, n)) this.startHttp(f, orig);
      else if (looksLikeResponse(b, o, n)) this.startHttp(f, !orig);
      else if (isDnsPort(f.bport) || isDnsPort(f.aport)) this.startDnsTcp(f);
      else if (!f.sawStartTls && looksLikeStartTls(b, o, n)) { f.sawStartTls = true; f.probes = 0; return; } // the ClientHello comes after the server's go-ahead
      else if (++f.probes >= MAX_PROBES) { f.app = App.None; return; }
      else return;
    } else if (f.app === App.Http && n > 0) {
      if (looksLikeSsh(b, o, n) && !(orig ? f.origStream : f.respStream)?.started) {
        // An SSH server answering an HTTP probe (a GET sent to port 22): its banner still counts.
        this.startSsh(f);
      } else if (b[o] === 0x16 && looksLikeTlsClientHello(b, o, n)) {
        // TLS from the client of a CONNECT tunnel, or after a STARTTLS in a text protocol
        // taken for HTTP by its first line (SMTP "EHLO x", FTP "AUTH TLS"): no request seen.
        const h = this.http.get(f);
        if (h !== undefined && h.clientIsOrig === orig && (h.conn.tunnel || h.conn.requests === 0)) this.startTls(f, orig);
      }
    }
    const stream = orig ? f.origStream : f.respStream;
    // Data carried in a SYN starts one past the SYN's sequence number. The packet record
    // itself is the segment's time (no object per segment): consumers copy what they keep.
    if (stream !== null) stream.segment(syn ? (p.seq + 1) >>> 0 : p.seq, b, o, n, p, p.payWire);
  }

  private startHttp(f: Flow, clientIsOrig: boolean): void {
    f.app = App.Http;
    const conn = new HttpConnection({
      // One literal per event (no spreads): these run once per HTTP message.
      request: (r: HttpRequestInfo) => {
        const c = clientIsOrig, t = r.t;
        f.addService(SVC_HTTP);
        this.emit({
          ts: t.ts, tsSec: t.tsSec, tsNsec: t.tsNsec, tsDigits: t.tsDigits, type: 'http_request',
          src: c ? f.origAddr : f.respAddr, sport: c ? f.aport : f.bport, dst: c ? f.respAddr : f.origAddr, dport: c ? f.bport : f.aport,
          proto: 'tcp', size: r.size, uid: f.uid, community_id: f.community_id, method: r.method, host: r.host, uri: r.uri, version: r.version, user_agent: r.userAgent,
          trans_depth: r.depth,
        });
      },
      response: (r: HttpResponseInfo) => {
        const c = !clientIsOrig, t = r.t, q = r.request;
        f.addService(SVC_HTTP);
        this.emit({
          ts: t.ts, tsSec: t.tsSec, tsNsec: t.tsNsec, tsDigits: t.tsDigits, type: 'http_response',
          src: c ? f.origAddr : f.respAddr, sport: c ? f.aport : f.bport, dst: c ? f.respAddr : f.origAddr, dport: c ? f.bport : f.aport,
          proto: 'tcp', size: r.size, uid: f.uid, community_id: f.community_id, status: r.status, version: r.version, reason_phrase: r.reason, length: r.length,
          // the request answered, by order (undefined: left out of the JSON)
          trans_depth: q?.depth, method: q?.method, uri: q?.uri,
        });
      },
    }, this.tx);
    conn.issues = this.issues;
    this.http.set(f, { conn, clientIsOrig });
    f.origStream = new TcpStream(new HttpHalf(clientIsOrig, conn));
    f.respStream = new TcpStream(new HttpHalf(!clientIsOrig, conn));
  }

  /** TLS: the client's ClientHello is read, then nothing more of the connection (it is encrypted). */
  private startTls(f: Flow, clientIsOrig: boolean): void {
    f.app = App.Tls;
    const stream = new TcpStream(new TlsClientHalf((h: TlsClientHelloInfo | null) => {
      if (h !== null) {
        const c = clientIsOrig, t = h.t;
        f.addService(SVC_TLS);
        this.emit({
          ts: t.ts, tsSec: t.tsSec, tsNsec: t.tsNsec, tsDigits: t.tsDigits, type: 'tls_client_hello',
          src: c ? f.origAddr : f.respAddr, sport: c ? f.aport : f.bport, dst: c ? f.respAddr : f.origAddr, dport: c ? f.bport : f.aport,
          proto: 'tcp', size: h.size, uid: f.uid, community_id: f.community_id, sni: h.sni, version: h.version, alpn: h.alpn,
        });
      }
      // Done either way: later segments of this connection are not looked at.
      f.origStream = null;
      f.respStream = null;
    }));
    f.origStream = clientIsOrig ? stream : null;
    f.respStream = clientIsOrig ? null : stream;
  }

  private startSsh(f: Flow): void {
    f.app = App.Ssh;
    const conn: SshConnection = new SshConnection({
      banner: (isClient, banner, t) => (f.addService(SVC_SSH), this.emit({
        ...this.base(f, isClient, t, 'tcp'), type: 'ssh_banner', proto: 'tcp', size: banner.length, banner,
        role: isClient ? 'client' : 'server',
      })),
      auth: (outcome, attempt, t) => this.sshAuth(f, conn, outcome, attempt, t),
    });
    this.ssh.set(f, conn);
    f.origStream = new TcpStream(new SshHalf(true, conn));
    f.respStream = new TcpStream(new SshHalf(false, conn));
  }

  private sshAuth(f: Flow, s: SshConnection, auth: 'success' | 'failure' | 'unknown', attempt: number, t: PacketTime | null): void {
    this.emit({
      ...this.base(f, true, t ?? f.start, 'tcp'), type: 'ssh_auth', proto: 'tcp', size: f.origBytes + f.respBytes,
      auth, attempt, client_banner: s.clientBanner, server_banner: s.serverBanner,
    });
  }

  private startDnsTcp(f: Flow): void {
    f.app = App.Dns;
    const half = (fromOrig: boolean): StreamConsumer => {
      const d = new DnsTcpHalf((m, size, first, last) => this.dns(f, m, this.base(f, fromOrig, first as PacketTime, 'tcp'), size, last as PacketTime));
      // DnsTcpHalf keeps the time of a message's first segment: give it its own copy.
      return { data: (b, o, n, t) => d.data(b, o, n, copyTime(t)), gap: (n) => d.gap(n) };
    };
    f.origStream = new TcpStream(half(true));
    f.respStream = new TcpStream(half(false));
  }
}

/** Zeek-style history: each letter recorded the first time it happens. */
function hist(f: Flow, bit: number, c: string): void {
  if ((f.historyBits & bit) === 0) { f.historyBits |= bit; f.history += c; }
}
const H_S = 1, H_F = 2, H_R = 4, H_D = 8, H_h = 16, H_f = 32, H_r = 64, H_d = 128;

/** at most this many captured data bytes are looked at per echo (a 64 KB ping costs no more than a 1 KB one) */
const ECHO_SCAN = 1024;
const echoHist = new Uint16Array(256);
const LOG2 = new Float64Array(ECHO_SCAN + 1).map((_, i) => (i > 0 ? Math.log2(i) : 0));

/** payload_len / payload_entropy / payload_digest of an echo (see IcmpEvent). */
function echoPayload(e: IcmpEvent, p: Packet): void {
  e.payload_len = p.payWire;
  const n = Math.min(p.payLen, ECHO_SCAN);
  if (n <= 0) return;
  const buf = p.buf, off = p.payOff;
  let h = 0x811c9dc5;
  echoHist.fill(0);
  for (let i = 0; i < n; i++) {
    const b = buf[off + i]!;
    echoHist[b]!++;
    if (i >= 16) h = Math.imul(h ^ b, 0x01000193);
  }
  e.payload_digest = h >>> 0;
  if (n < 16) return;
  // H = log2 n − Σ c·log2 c / n
  let s = 0;
  for (let i = 0; i < 256; i++) { const c = echoHist[i]!; if (c > 1) s += c * LOG2[c]!; }
  e.payload_entropy = Math.round((LOG2[n]! - s / n) * 1000) / 1000;
}
