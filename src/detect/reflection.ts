/**
 * reflection — a host receiving the answers to requests it never sent
 * (MITRE T1498.002, reflection amplification): somebody spoofed its
 * address, and the reflectors' answers flood it.
 *
 * Two shapes, both judged per victim over `window` (60 s) of packet time:
 *
 * TCP backscatter / SYN-ACK reflection: flows that begin with the
 *   responder's SYN-ACK (history with `h` but no `S`: the flow table makes
 *   the SYN-ACK's destination the originator) or consist of bare RSTs sent
 *   to the host (history `R` only, nothing back, no payload). Alert at
 *   ≥ tcpFlows (100) such flows to ≥ tcpPorts (50) distinct ports of the
 *   victim within the window. A victim answers a stray SYN-ACK with a RST,
 *   which closes the flow quickly, so the conn summaries come within
 *   seconds; one that stays silent is summarised at the flow timeout.
 *
 * UDP amplification: flows on an amplifier's service port (`ampPorts`:
 *   DNS 53, NTP 123, SNMP 161, CLDAP 389, SSDP 1900, memcached 11211,
 *   chargen 19, QOTD 17, portmap 111, NetBIOS 137, WS-Discovery 3702,
 *   ARMS 3283, CoAP 5683, Ubiquiti 10001) whose answers (server → victim
 *   datagrams) average ≥ minResponseBytes (512) and ≥ ampFactor (10) × the
 *   largest request datagram the victim sent to any amplifier port in the
 *   window (a flow the victim sent nothing on — the usual case, its
 *   "queries" were forged elsewhere — is amplified by definition). Alert at
 *   ≥ udpAnswers (20) such answers carrying ≥ udpBytes (100 KiB) within the
 *   window. Answers, not flows: reflectors answering one victim port (the
 *   public RRSIG capture: every answer to port 22) put hundreds of answers
 *   in a few flows. Fragmented answers (EDNS RRSIG/ANY) count after
 *   reassembly. DNS (port 53) is judged per message from the `dns` events
 *   as the answers arrive (queries the victim sends give its request
 *   sizes), so the alert does not wait for the flows' summaries (written
 *   at the UDP timeout, 60 s, or at end of input); the other services from
 *   the conn summaries. A DNS answer the decoder could not parse (cut by
 *   the snap length) is not counted.
 *
 * One alert per (victim, shape) episode; the episode ends when the victim
 * has had no such flow for `window`, or at end of input, with a final
 * `update: true` alert carrying the totals (flows, bytes, reflectors).
 *
 * Anchors: ntopng's "DNS/NTP traffic" host checks alert on > 1 MB / 5 min
 * of DNS or NTP traffic to a host (volume only, solicited or not);
 * Suricata has no stateful rule for unsolicited responses (ET rules flag
 * `ANY` queries and NTP monlist requests — the attacker's side, which the
 * victim never sees); Zeek's weird.log reports `SYN_after_partial` /
 * `unsolicited_SYN_response` per flow without a threshold. The counts here
 * are far above what a host's own traffic produces: a client's DNS answers
 * are solicited and rarely 10× the query (DNSSEC answers are, but one
 * client does not take 50 of them in a minute from an amplifier port it
 * never asked more than a 60-byte query of), and a handful of mid-stream
 * RSTs at the start of a capture stay far below 100.
 *
 * Limits: a capture that sees only one direction of a host's own
 * connections (an asymmetric tap) makes every SYN-ACK it sees look
 * unsolicited; allow-list such hosts (`allow`). The flows' conn summaries
 * are the input, so a reflection is reported when its flows end.
 *
 * The window is six buckets of window/6 s by the flows' start times (conn
 * summaries arrive at a flow's end, out of time order; a flow older than
 * the buckets still counts in the episode's totals).
 *
 * Bounded state: at most maxVictims victims (LRU, evictions counted, an
 * alerted one gets its final alert); per victim and shape 8 buckets, an
 * exact port set ≤ 1024 ports (8 KiB bitset after the alert), a top-k and
 * a 256-byte HyperLogLog of reflectors.
 */
import type { Detector, Emit } from './detector.js';
import type { ConnEvent, DnsEvent, EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { LruMap, PortSet, TopK, HyperLogLog } from './sketch.js';
import { mergeSettings } from './bounded-state.js';
import { fmtDur, heavy } from './format.js';

export interface ReflectionConfig {
  window: number;
  tcpFlows: number;
  tcpPorts: number;
  udpAnswers: number;
  udpBytes: number;
  minResponseBytes: number;
  ampFactor: number;
  ampPorts: string[];
  maxVictims: number;
  /** hosts never judged as victims (CIDR list: asymmetric-tap hosts, a DNS resolver's own upstream traffic) */
  allow: string[];
}

export const REFLECTION_DEFAULTS: ReflectionConfig = {
  window: 60, tcpFlows: 100, tcpPorts: 50, udpAnswers: 20, udpBytes: 100 * 1024, minResponseBytes: 512, ampFactor: 10,
  ampPorts: ['17', '19', '53', '111', '123', '137', '161', '389', '1900', '3283', '3702', '5683', '10001', '11211'],
  maxVictims: 10_000, allow: [],
};

export const reflectionSpec: DetectorSpec<ReflectionConfig> = {
  name: 'reflection', defaults: REFLECTION_DEFAULTS, create: (c, ctx) => new Reflection(c, ctx),
};

const MAX_PORTS_PRE = 1024;
/** window buckets kept (six make the window; two spare for late flows' slots) */
const BUCKETS = 8;

/** One shape's episode at one victim. */
interface Episode {
  /** per bucket: its index (floor(ts / (window/6)), -1 empty), flows, answers, bytes */
  bIdx: Float64Array; bFlows: Float64Array; bAnswers: Float64Array; bBytes: Float64Array; maxIdx: number;
  flows: number; answers: number; bytes: number;
  ports: PortSet; portsCapped: boolean;
  reflectors: TopK<string>; reflectorsHll: HyperLogLog;
  services: Map<number, number>;
  first: number; last: number;
  /** packet-time clock when its latest flow arrived (conn summaries come at a flow's end, their ts is its start) */
  seen: number;
  alerted: boolean;
  /** solicited-but-amplified flows (the victim sent a small request) among `flows` */
  solicited: number;
}

interface Victim {
  addr: string;
  tcp: Episode | null; udp: Episode | null;
  /** largest request the victim sent to an amplifier port, and when */
  maxReq: number; maxReqTs: number;
  /** packet-time clock at its latest flow */
  last: number;
}

export type Backscatter = { victim: string; reflector: string; victimPort: number; reflectorPort: number; kind: 'syn_ack' | 'rst' };
export type UdpAnswer = {
  victim: string; reflector: string; service: number;
  /** payload bytes and datagrams each way */
  request: number; requests: number; response: number; answers: number;
};

/** A conn summary that is unsolicited TCP backscatter, and who got it; null otherwise. */
export function backscatter(e: ConnEvent): Backscatter | null {
  if (e.proto !== 'tcp') return null;
  const h = e.history;
  // SYN-ACK first: the flow table made its destination the originator (e.src)
  if (h.includes('h') && !h.includes('S') && e.resp_bytes === 0 && e.orig_bytes === 0) {
    return { victim: e.src, reflector: e.dst, victimPort: e.sport, reflectorPort: e.dport, kind: 'syn_ack' };
  }
  // bare RSTs to the host, nothing back
  if (h === 'R' && e.resp_pkts === 0 && e.orig_bytes === 0 && e.orig_pkts <= 3) {
    return { victim: e.dst, reflector: e.src, victimPort: e.dport, reflectorPort: e.sport, kind: 'rst' };
  }
  return null;
}

/** A UDP flow on an amplifier's port, oriented: who asked (the victim), what came back. */
export function udpAnswer(e: ConnEvent, ports: ReadonlySet<number>): UdpAnswer | null {
  if (e.proto !== 'udp') return null;
  const sAmp = ports.has(e.sport), dAmp = ports.has(e.dport);
  if (!sAmp && !dAmp) return null;
  // the server is the side on the amplifier port (both: the lower port, as a client's source port is ephemeral)
  const serverIsResp = dAmp && (!sAmp || e.dport <= e.sport);
  return serverIsResp
    ? { victim: e.src, reflector: e.dst, service: e.dport, request: e.orig_bytes, requests: e.orig_pkts, response: e.resp_bytes, answers: e.resp_pkts }
    : { victim: e.dst, reflector: e.src, service: e.sport, request: e.resp_bytes, requests: e.resp_pkts, response: e.orig_bytes, answers: e.orig_pkts };
}

function isGroup(a: string): boolean {
  if (a.includes(':')) return a.toLowerCase().startsWith('ff');
  const first = parseInt(a, 10);
  return a === '255.255.255.255' || a.endsWith('.255') || (first >= 224 && first <= 239);
}

export class Reflection implements Detector {
  readonly name = 'reflection';
  readonly consumes: readonly EventType[] = ['conn', 'dns'];
  /** the victim is the originator of a SYN-ACK-first flow but the responder of a RST or a UDP answer: one instance sees all */
  readonly keyBy = 'global' as const;
  private readonly victims: LruMap<string, Victim>;
  private allow: CidrSet;
  private amp: Set<number>;
  private emitRef: Emit | null = null;
  /** the latest packet time given to advance() */
  private clock = -Infinity;
  alerts = 0;
  tcpSeen = 0;
  udpSeen = 0;

  constructor(public cfg: ReflectionConfig = REFLECTION_DEFAULTS, _ctx?: DetectorContext) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.reflection.allow');
    this.amp = new Set(cfg.ampPorts.map(Number).filter((p) => Number.isInteger(p)));
    this.victims = new LruMap(cfg.maxVictims, (_k, v) => this.retireAll(v, this.emitRef, v.last));
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type === 'dns') { if (e.proto === 'udp') this.dns(e, emit); return; }
    if (e.type !== 'conn') return;
    this.emitRef = emit;
    const now = Math.max(this.clock, e.ts);
    if (e.proto === 'tcp') {
      const b = backscatter(e);
      if (b === null || this.skip(b.victim)) return;
      this.tcpSeen++;
      const v = this.victim(b.victim, now);
      const ep = v.tcp ??= this.episode(e.ts);
      this.count(ep, e.ts, now, b.victimPort, b.reflector, b.reflectorPort, 1, 0, false);
      if (!ep.alerted && ep.flows >= this.cfg.tcpFlows && ep.ports.size >= this.cfg.tcpPorts && this.windowSum(ep, ep.bFlows) >= this.cfg.tcpFlows) {
        this.raise(v, 'tcp', ep, now, emit);
      }
      return;
    }
    if (e.proto !== 'udp') return;
    const a = udpAnswer(e, this.amp);
    // DNS on 53 is judged per message as it arrives (dns events), not when its flow ends
    if (a === null || a.service === 53 || this.skip(a.victim)) return;
    this.answers(a, e.ts, now, emit);
  }

  /** a DNS message over UDP: a query sizes the victim's requests, an answer from port 53 may be amplified */
  private dns(e: DnsEvent, emit: Emit): void {
    this.emitRef = emit;
    const now = Math.max(this.clock, e.ts);
    if (e.is_response && e.sport === 53) {
      if (this.skip(e.dst)) return;
      // e.size: the message's bytes (one UDP datagram, after reassembly)
      this.answers({ victim: e.dst, reflector: e.src, service: 53, request: 0, requests: 0, response: e.size, answers: 1 }, e.ts, now, emit);
    } else if (!e.is_response && e.dport === 53 && !this.skip(e.src)) {
      const v = this.victims.get(e.src);
      // only a victim already tracked needs its request sizes (a busy resolver's clients create nothing)
      if (v !== undefined) this.request(v, e.size, e.ts);
      else if (e.size > 0) this.pendingReq(e.src, e.size, e.ts);
    }
  }

  /** the largest recent request (size, time) of hosts not tracked, so their first large answers are judged against it (4096, LRU) */
  private readonly reqs = new LruMap<string, [number, number]>(4096);
  private pendingReq(src: string, size: number, ts: number): void {
    const r = this.reqs.get(src);
    if (r === undefined || size >= r[0] || ts - r[1] > this.cfg.window) this.reqs.set(src, [size, ts]);
    else this.reqs.touch(src, r);
  }

  private request(v: Victim, req: number, ts: number): void {
    if (req > 0 && (req >= v.maxReq || ts - v.maxReqTs > this.cfg.window)) { v.maxReq = req; v.maxReqTs = ts; }
  }

  /** answers of a UDP service to a victim (a flow summary, or one DNS message) */
  private answers(a: UdpAnswer, ts: number, now: number, emit: Emit): void {
    const c = this.cfg;
    const req = a.requests > 0 ? a.request / a.requests : 0;
    const answer = a.answers > 0 ? a.response / a.answers : 0;
    if (answer < c.minResponseBytes) {
      // not amplified: only a host already tracked learns its request size (a busy network's clients create nothing)
      const t = this.victims.get(a.victim);
      if (t !== undefined) this.request(t, req, ts); else if (req > 0) this.pendingReq(a.victim, req, ts);
      return;
    }
    const v = this.victim(a.victim, now);
    const pend = this.reqs.get(a.victim);
    if (pend !== undefined) { this.request(v, pend[0], pend[1]); this.reqs.delete(a.victim); }
    this.request(v, req, ts);
    const ref = ts - v.maxReqTs <= c.window ? Math.max(v.maxReq, req) : req;
    if (ref > 0 && answer < c.ampFactor * ref) return;
    this.udpSeen++;
    const ep = v.udp ??= this.episode(ts);
    this.count(ep, ts, now, -1, a.reflector, a.service, a.answers, a.response, ref > 0);
    if (!ep.alerted && this.windowSum(ep, ep.bAnswers) >= c.udpAnswers && this.windowSum(ep, ep.bBytes) >= c.udpBytes) this.raise(v, 'udp', ep, now, emit);
  }

  private skip(victim: string): boolean {
    return isGroup(victim) || (!this.allow.empty && this.allow.has(victim));
  }

  private victim(addr: string, now: number): Victim {
    let v = this.victims.get(addr);
    if (v === undefined) {
      v = { addr, tcp: null, udp: null, maxReq: 0, maxReqTs: -Infinity, last: now };
      this.victims.set(addr, v);
    } else this.victims.touch(addr, v);
    if (now > v.last) v.last = now;
    // an episode without a new flow for a window is over: a later burst starts a new one
    if (v.tcp !== null && now - v.tcp.seen > this.cfg.window) this.retire(v, 'tcp', this.emitRef, now);
    if (v.udp !== null && now - v.udp.seen > this.cfg.window) this.retire(v, 'udp', this.emitRef, now);
    return v;
  }

  private episode(ts: number): Episode {
    return {
      bIdx: new Float64Array(BUCKETS).fill(-1), bFlows: new Float64Array(BUCKETS), bAnswers: new Float64Array(BUCKETS), bBytes: new Float64Array(BUCKETS),
      maxIdx: -1, flows: 0, answers: 0, bytes: 0,
      ports: new PortSet(), portsCapped: false, reflectors: new TopK(8), reflectorsHll: new HyperLogLog(8), services: new Map(),
      first: ts, last: ts, seen: ts, alerted: false, solicited: 0,
    };
  }

  private count(ep: Episode, ts: number, now: number, victimPort: number, reflector: string, service: number, answers: number, bytes: number, solicited: boolean): void {
    ep.flows++;
    if (now > ep.seen) ep.seen = now;
    ep.bytes += bytes;
    ep.answers += answers;
    const bi = Math.floor(ts / (this.cfg.window / 6)), slot = ((bi % BUCKETS) + BUCKETS) % BUCKETS;
    if (bi > ep.maxIdx) ep.maxIdx = bi;
    if (bi > ep.bIdx[slot]! && bi > ep.maxIdx - BUCKETS) {
      ep.bIdx[slot] = bi; ep.bFlows[slot] = 0; ep.bAnswers[slot] = 0; ep.bBytes[slot] = 0;
    }
    if (ep.bIdx[slot] === bi) { ep.bFlows[slot]! += 1; ep.bAnswers[slot]! += answers; ep.bBytes[slot]! += bytes; }
    if (solicited) ep.solicited++;
    if (ts < ep.first) ep.first = ts;
    if (ts > ep.last) ep.last = ts;
    if (victimPort >= 0) {
      if (ep.ports.size < MAX_PORTS_PRE || ep.ports.isBitset) ep.ports.add(victimPort); else ep.portsCapped = true;
    }
    ep.reflectors.add(reflector);
    ep.reflectorsHll.add(reflector);
    if (ep.services.size < 16 || ep.services.has(service)) ep.services.set(service, (ep.services.get(service) ?? 0) + 1);
  }

  /** a counter summed over the six latest buckets (one window) */
  private windowSum(ep: Episode, b: Float64Array): number {
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) if (ep.bIdx[i]! > ep.maxIdx - 6) sum += b[i]!;
    return sum;
  }

  private raise(v: Victim, shape: 'tcp' | 'udp', ep: Episode, ts: number, emit: Emit): void {
    ep.alerted = true;
    if (shape === 'tcp') ep.ports.upgrade();
    this.alerts++;
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: shape === 'tcp' ? 0.8 : ep.solicited === 0 ? 0.85 : 0.75,
      dst: v.addr, ts, ts_first: ep.first, ts_last: ep.last, technique: 'T1498.002',
      summary: shape === 'tcp'
        ? `${v.addr} is receiving TCP backscatter: ${ep.flows} SYN-ACK/RST flows it never opened, to ${ep.ports.size} of its ports, from ≈ ${ep.reflectorsHll.estimate()} reflectors in ${fmtDur(ep.last - ep.first)} (its address is being spoofed)`
        : `${v.addr} is the target of UDP amplification: ${ep.answers} answers (${Math.round(ep.bytes / 1024)} KiB) from ≈ ${ep.reflectorsHll.estimate()} reflectors on ${[...ep.services.keys()].map((p) => `udp/${p}`).join(', ')} in ${fmtDur(ep.last - ep.first)}, each ≥ ${this.cfg.ampFactor}× any request it sent`,
      evidence: this.evidence(v, shape, ep),
    }));
  }

  private evidence(v: Victim, shape: 'tcp' | 'udp', ep: Episode): Record<string, unknown> {
    const c = this.cfg;
    return {
      shape: shape === 'tcp' ? 'tcp_backscatter' : 'udp_amplification', victim: v.addr, flows: ep.flows,
      ...(shape === 'tcp' ? { victim_ports: ep.ports.size, victim_ports_capped: ep.portsCapped } : {
        answers: ep.answers, response_bytes: ep.bytes, mean_answer_bytes: ep.answers ? Math.round(ep.bytes / ep.answers) : 0,
        unsolicited_flows: ep.flows - ep.solicited, largest_request_bytes: Math.round(v.maxReq),
        amplification: v.maxReq > 0 && ep.answers > 0 ? Math.round(ep.bytes / ep.answers / v.maxReq) : null,
      }),
      reflectors_est: ep.reflectorsHll.estimate(), top_reflectors: heavy(ep.reflectors),
      services: Object.fromEntries([...ep.services].map(([p, n]) => [`${shape}/${p}`, n])),
      duration_s: Math.round((ep.last - ep.first) * 1000) / 1000,
      thresholds: shape === 'tcp'
        ? { window_s: c.window, tcp_flows: c.tcpFlows, tcp_ports: c.tcpPorts }
        : { window_s: c.window, udp_answers: c.udpAnswers, udp_bytes: c.udpBytes, min_response_bytes: c.minResponseBytes, amp_factor: c.ampFactor },
    };
  }

  private retire(v: Victim, shape: 'tcp' | 'udp', emit: Emit | null, now: number): void {
    const ep = shape === 'tcp' ? v.tcp : v.udp;
    if (shape === 'tcp') v.tcp = null; else v.udp = null;
    if (ep === null || !ep.alerted || emit === null) return;
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: 0.8, dst: v.addr,
        ts: Math.max(now, ep.seen), ts_first: ep.first, ts_last: ep.last, technique: 'T1498.002',
        summary: `${shape === 'tcp' ? 'TCP backscatter' : 'UDP amplification'} at ${v.addr} ended: ${shape === 'udp' ? `${ep.answers} answers in ${ep.flows} flows, ${Math.round(ep.bytes / 1024)} KiB` : `${ep.flows} flows`} from ≈ ${ep.reflectorsHll.estimate()} reflectors in ${fmtDur(ep.last - ep.first)}`,
        evidence: { ...this.evidence(v, shape, ep), final: true },
      }),
      update: true,
    });
  }

  private retireAll(v: Victim, emit: Emit | null, now: number): void {
    this.retire(v, 'tcp', emit, now);
    this.retire(v, 'udp', emit, now);
  }

  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    this.allow = CidrSet.parse(c.allow, 'detectors.reflection.allow');
    this.amp = new Set(c.ampPorts.map(Number).filter((p) => Number.isInteger(p)));
    this.cfg = c;
    this.victims.cap = c.maxVictims;
    return true;
  }

  advance(now: number, emit: Emit): void {
    if (now > this.clock) this.clock = now;
    const limit = now - this.cfg.window;
    for (const [k, v] of this.victims.entries()) {
      if (v.last >= limit) break;
      this.victims.delete(k);
      this.retireAll(v, emit, now);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const v of this.victims.values()) this.retireAll(v, emit, now);
    this.victims.clear();
  }

  stats(): Record<string, number> {
    return { victims: this.victims.size, victims_evicted: this.victims.evicted, backscatter_flows: this.tcpSeen, amplified_flows: this.udpSeen, alerts: this.alerts };
  }
}
