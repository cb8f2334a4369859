/**
 * port_scan — one source probing many ports of one host (MITRE T1046).
 *
 * Counts only FAILED or probe-like attempts, as ncsa/bro-simple-scan does, so
 * a client that connects successfully to many services of one server (FTP
 * passive data ports, a developer's dozen local services) is never counted:
 *   - TCP refused: `conn_rejected` (at once; the later conn `REJ` summary of
 *     the same attempt is not counted again);
 *   - TCP unanswered: conn `S0` whose history is exactly `S` (a pure attempt;
 *     "SD" means the capture missed the replies, not a probe);
 *   - TCP half-open probes: `RSTOS0`, `SH` (SYN then RST/FIN, never answered);
 *   - TCP answered then torn down without one payload byte: `RSTO`/`RSTR`
 *     with history `S…h…`, no data (a SYN scan's open port: SYN, SYN-ACK,
 *     RST; a connect scan's open port: handshake then RST);
 *   - TCP stealth probes (FIN, NULL, Xmas, ACK, Maimon): conn `OTH` without
 *     S/h/D/d/f/R (history "", F, r, Fr), ≤ 3 packets, no payload, unanswered
 *     or answered only by RST (a bare RST is backscatter, not a probe);
 *   - UDP: conn `S0` with ≤ 4 packets and ≤ 1024 bytes (a probe, not a
 *     one-way stream), not to multicast/broadcast, not from a service port
 *     (< 1024) to an ephemeral one (a late reply), not to the traceroute
 *     range 33434–33534 (`ignoreTraceroute`);
 *   - ICMP destination unreachable (v4 3/{1,3,9,10,13}, v6 1/{1,3,4}) whose
 *     quoted TCP/UDP tuple names the prober and the port — evidence for the
 *     quoted source (a UDP scan's closed ports) when the error is addressed to
 *     that source (else forged or replayed), same UDP filters.
 *
 * Per (scanner, victim) pair the distinct failed ports are kept exactly (a
 * small Set, an 8 KiB bitset once the pair alerts) with the times at which
 * new ports appeared. Three triggers:
 *   fast:   ≥ fastPorts (15) new ports within fastWindow (60 s)
 *   slow:   ≥ slowPorts (25) new ports within slowWindow (900 s); the pair is
 *           forgotten after idleTimeout (900 s) without a probe — catches
 *           nmap -T2 (0.4 s/probe) and -T1 (15 s/probe: 25 ports in 375 s)
 *   weight: scanlogd's rule — privileged ports weigh privWeight (3), others
 *           1; alert at weightThreshold (21) with at most weightGap (3 s)
 *           between new ports (7 privileged ports in a quick burst)
 * One alert per (scanner, victim) episode; the episode ends after idleTimeout
 * without a probe (or at end of input), with a final `update: true` alert
 * carrying the totals (distinct ports, probes by kind, open ports seen).
 *
 * Anchors: Zeek scan.zeek Port_Scan 15 ports / 5 min; bro-simple-scan 25
 * unique (host, port) failures, 15-min idle expiry; ntopng Port Scan 20 ports
 * / 5 min; scanlogd weights 3/1, threshold 21, ≤ 3 s between ports;
 * Maltrail PORT_SCANNING_THRESHOLD 10.
 *
 * A pair's first probe creates no state: an admission filter
 * (bounded-state.ts) keeps its port, time and kind, and the pair's second
 * probe creates the pair and replays the first, so every count and trigger is
 * what it would be without the filter. A spoofed-source SYN flood (one probe
 * per pair) costs a hash and a few bit probes per evicted flow instead of a
 * pair record each.
 *
 * Bounded state: at most maxPairs pairs (least recently probed evicted and
 * counted; an alerted one gets its final alert first); before alerting a
 * pair holds ≤ 64 ports (then its count restarts, counted as a reset);
 * at most maxBitsets alerted pairs hold an 8 KiB bitset, the rest stop
 * adding ports at 1024 (distinct count then "≥").
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { LruMap, PortSet } from './sketch.js';
import { Admission, resizeRing, hash32m, mixHash, mergeSettings } from './bounded-state.js';
import { classifyProbe, direction, PROBE_KINDS, type Probe, type ProbeKind } from './probe.js';
import { fmtDur } from './format.js';

export interface PortScanConfig {
  fastPorts: number;
  fastWindow: number;
  slowPorts: number;
  slowWindow: number;
  idleTimeout: number;
  privWeight: number;
  weightThreshold: number;
  weightGap: number;
  /** count UDP S0 flows and ICMP unreachables as probes */
  udp: boolean;
  ignoreTraceroute: boolean;
  maxPairs: number;
  maxBitsets: number;
  /** scanners never judged (CIDR list: vulnerability scanners, monitoring) */
  allow: string[];
}

export const PORT_SCAN_DEFAULTS: PortScanConfig = {
  fastPorts: 15, fastWindow: 60, slowPorts: 25, slowWindow: 900, idleTimeout: 900,
  privWeight: 3, weightThreshold: 21, weightGap: 3, udp: true, ignoreTraceroute: true,
  maxPairs: 50_000, maxBitsets: 4096, allow: [],
};

export const portScanSpec: DetectorSpec<PortScanConfig> = {
  name: 'port_scan', defaults: PORT_SCAN_DEFAULTS, create: (c, ctx) => new PortScan(c, ctx),
};


const PRE_ALERT_PORTS = 64;
/** admission payload: kind index | UDP_BIT */
const UDP_BIT = 8;
const NO_BITSET_PORTS = 1024;
const MAX_RING = 1024;

interface Pair {
  src: string; dst: string;
  first: number; last: number;
  ports: PortSet;
  /** times at which new ports appeared (ring of the latest R), allocated at the 2nd port; t0: the 1st */
  ring: Float64Array | null; ringN: number; t0: number;
  wSum: number; wLast: number;
  probes: number;
  byKind: Record<ProbeKind, number>;
  protos: { tcp: number; udp: number };
  privPorts: number;
  samples: number[];
  open: number[];
  alerted: boolean; trigger: string; alertTs: number;
  saturated: boolean;
}

export class PortScan implements Detector {
  readonly name = 'port_scan';
  readonly consumes: readonly EventType[] = ['conn', 'conn_rejected', 'icmp'];
  readonly keyBy = 'initiator' as const;
  private readonly pairs: LruMap<string, Pair>;
  private allow: CidrSet;
  private ringSize: number;
  private emitRef: Emit | null = null;
  private readonly scratch: Probe = { src: '', dst: '', dport: 0, proto: 'tcp', kind: 'rejected', ts: 0 };
  private bitsets = 0;
  /** admission of new pairs; the first probe of each pair not yet admitted in its slot (time; port | kind << 16) */
  private adm: Admission;
  alerts = 0;
  probes = 0;
  resets = 0;

  constructor(public cfg: PortScanConfig = PORT_SCAN_DEFAULTS, private readonly ctx: DetectorContext = { homeNet: new CidrSet() }) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.port_scan.allow');
    this.ringSize = Math.max(1, Math.min(MAX_RING, Math.max(cfg.fastPorts, cfg.slowPorts)));
    this.adm = new Admission(cfg.maxPairs, 2);
    this.pairs = new LruMap(cfg.maxPairs, (_k, p) => this.retire(p, this.emitRef, p.last), this.adm);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const t = e.type;
    if (t !== 'conn' && t !== 'conn_rejected' && t !== 'icmp') return;
    const pr = classifyProbe(e, this.cfg.udp, this.cfg.ignoreTraceroute, this.scratch);
    if (pr === null || (!this.allow.empty && this.allow.has(pr.src))) return;
    this.emitRef = emit;
    this.probe(pr, emit);
  }

  private probe(pr: Probe, emit: Emit): void {
    this.probes++;
    // the key string is built only when the pair may exist (a flood's new pairs never build one)
    const h = mixHash(hash32m(pr.src), hash32m(pr.dst));
    let key = '';
    let p: Pair | undefined;
    if (this.pairs.mayHave(h)) { key = `${pr.src}|${pr.dst}`; p = this.pairs.get(key); }
    if (p === undefined) {
      // A pair's first probe creates nothing: the admission filter keeps it (port, time,
      // kind) and the pair's second probe creates the pair, replaying the first.
      const adm = this.adm, d = adm.data;
      const i = adm.offer(h);
      if (i >= 0) {
        d[i + 1] = pr.ts;
        d[i + 2] = pr.dport | ((PROBE_KINDS.indexOf(pr.kind) | (pr.proto === 'udp' ? UDP_BIT : 0)) << 16);
        return;
      }
      p = this.newPair(pr);
      this.pairs.set(`${pr.src}|${pr.dst}`, p, h);
      const j = adm.take(h);
      // replayed only if the pair would still be remembered (not idle longer than idleTimeout)
      if (j >= 0 && pr.ts - d[j + 1]! <= this.cfg.idleTimeout) {
        const x = d[j + 2]!, k = x >>> 16;
        this.count(p, { src: pr.src, dst: pr.dst, dport: x & 0xffff, proto: (k & UDP_BIT) !== 0 ? 'udp' : 'tcp', kind: PROBE_KINDS[k & ~UDP_BIT]!, ts: d[j + 1]! }, emit);
      }
    } else {
      this.pairs.touch(key, p);
    }
    this.count(p, pr, emit);
  }

  private newPair(pr: Probe): Pair {
    return {
      src: pr.src, dst: pr.dst, first: pr.ts, last: pr.ts, ports: new PortSet(), ring: null, ringN: 0, t0: pr.ts,
      wSum: 0, wLast: -Infinity, probes: 0,
      byKind: { rejected: 0, unanswered: 0, half_open: 0, reset_no_data: 0, stealth: 0, udp_no_reply: 0, icmp_unreachable: 0 },
      protos: { tcp: 0, udp: 0 }, privPorts: 0, samples: [], open: [], alerted: false, trigger: '', alertTs: 0, saturated: false,
    };
  }

  /** Adds one probe to its pair: distinct ports, the rings, the triggers. */
  private count(p: Pair, pr: Probe, emit: Emit): void {
    p.probes++;
    p.byKind[pr.kind]++;
    if (pr.proto === 'udp') p.protos.udp++; else p.protos.tcp++;
    if (pr.ts < p.first) p.first = pr.ts;
    if (pr.ts > p.last) p.last = pr.ts;
    if (pr.kind === 'reset_no_data' && p.open.length < 10 && !p.open.includes(pr.dport)) p.open.push(pr.dport);

    // distinct ports: a UDP and a TCP probe of the same number count once (the
    // question is how many services were tried, and the bitset stays 8 KiB)
    if (p.ports.has(pr.dport)) return;
    if (!p.ports.isBitset) {
      const cap = p.alerted ? NO_BITSET_PORTS : PRE_ALERT_PORTS;
      if (p.ports.size >= cap) {
        if (p.alerted) { p.saturated = true; return; }
        // a pair that gathered many ports too slowly to alert: start over
        p.ports.clear(); p.ringN = 0; p.wSum = 0; p.privPorts = 0; p.samples.length = 0;
        this.resets++;
      }
    }
    p.ports.add(pr.dport);
    if (p.samples.length < 10) p.samples.push(pr.dport);
    const priv = pr.dport < 1024;
    if (priv) p.privPorts++;
    // scanlogd: a run of new ports, each within weightGap of the latest one
    if (Math.abs(pr.ts - p.wLast) > this.cfg.weightGap) p.wSum = 0;
    p.wSum += priv ? this.cfg.privWeight : 1;
    p.wLast = Math.max(p.wLast, pr.ts);
    if (p.ring === null) {
      if (p.ports.size === 1) p.t0 = pr.ts;
      else { p.ring = new Float64Array(this.ringSize); p.ring[0] = p.t0; p.ringN = 1; }
    }
    if (p.ring !== null && p.ring.length < this.ringSize) { p.ring = resizeRing(p.ring, p.ringN, this.ringSize); p.ringN = Math.min(p.ringN, p.ring.length); } // a threshold raised on SIGHUP
    if (p.ring !== null) { p.ring[p.ringN % p.ring.length] = pr.ts; p.ringN++; }
    if (!p.alerted) this.judge(p, pr.ts, emit);
  }

  /** new ports within `window` of the latest one, among the ring's entries */
  private within(p: Pair, window: number): number {
    const r = p.ring;
    if (r === null) return p.ports.size;
    const n = Math.min(p.ringN, r.length);
    let latest = -Infinity;
    for (let i = 0; i < n; i++) if (r[i]! > latest) latest = r[i]!;
    let c = 0;
    for (let i = 0; i < n; i++) if (r[i]! >= latest - window) c++;
    return c;
  }

  private judge(p: Pair, ts: number, emit: Emit): void {
    const c = this.cfg;
    let trigger = '';
    if (c.fastPorts > 0 && p.ports.size >= c.fastPorts && this.within(p, c.fastWindow) >= c.fastPorts) trigger = 'fast';
    else if (c.slowPorts > 0 && p.ports.size >= c.slowPorts && this.within(p, c.slowWindow) >= c.slowPorts) trigger = 'slow';
    else if (c.weightThreshold > 0 && p.wSum >= c.weightThreshold) trigger = 'weight';
    if (trigger === '') return;
    p.alerted = true;
    p.trigger = trigger;
    p.alertTs = ts;
    if (this.bitsets < c.maxBitsets) { p.ports.upgrade(); this.bitsets++; }
    this.alerts++;
    const n = p.ports.size;
    const what = trigger === 'fast' ? `${n} ports within ${c.fastWindow} s`
      : trigger === 'slow' ? `${n} ports within ${c.slowWindow} s (slow scan)`
        : `port weight ${p.wSum} ≥ ${c.weightThreshold} (${p.privPorts} privileged ports, ≤ ${c.weightGap} s apart)`;
    emit(makeAlert({
      kind: this.name, severity: 'medium', confidence: trigger === 'fast' ? 0.8 : 0.7,
      src: p.src, dst: p.dst, ts, ts_first: p.first, ts_last: p.last, technique: 'T1046', ...oneProto(p),
      summary: `${p.src} is scanning ${p.dst}: ${what}, all failed or probe-like (${scanType(p)})`,
      evidence: this.evidence(p),
    }));
  }

  private evidence(p: Pair): Record<string, unknown> {
    const c = this.cfg;
    return {
      distinct_ports: p.ports.size, distinct_ports_capped: p.saturated, privileged_ports: p.privPorts,
      probes: p.probes, by_kind: { ...p.byKind }, protocols: { ...p.protos }, scan_type: scanType(p),
      sample_ports: [...p.samples], open_ports_seen: [...p.open], trigger: p.trigger,
      duration_s: Math.round((p.last - p.first) * 1000) / 1000,
      direction: direction(this.ctx.homeNet, p.src, p.dst),
      thresholds: { fast_ports: c.fastPorts, fast_window_s: c.fastWindow, slow_ports: c.slowPorts, slow_window_s: c.slowWindow,
        weight_threshold: c.weightThreshold, priv_weight: c.privWeight, weight_gap_s: c.weightGap, idle_timeout_s: c.idleTimeout },
    };
  }

  /** Episode over (idle, evicted, end of input): the final alert with the totals. */
  private retire(p: Pair, emit: Emit | null, now: number): void {
    if (p.ports.isBitset) this.bitsets--;
    if (!p.alerted || emit === null) return;
    const n = p.ports.size;
    emit({
      ...makeAlert({
        kind: this.name, severity: n >= 100 ? 'high' : 'medium', confidence: n >= 100 ? 0.9 : p.trigger === 'fast' ? 0.8 : 0.7,
        src: p.src, dst: p.dst, ts: Math.max(now, p.last), ts_first: p.first, ts_last: p.last, technique: 'T1046', ...oneProto(p),
        summary: `scan of ${p.dst} by ${p.src} ended: ${p.saturated ? '≥ ' : ''}${n} distinct ports, ${p.probes} failed or probe-like attempts in ${fmtDur(p.last - p.first)} (${scanType(p)})`,
        evidence: { ...this.evidence(p), final: true },
      }),
      update: true,
    });
  }

  /**
   * SIGHUP: every setting applies in place; each pair keeps its ports, probe
   * counts, times and episode. A pair's ring of new-port times grows at its
   * next new port when a raised fastPorts/slowPorts needs more entries.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.port_scan.allow');
    this.cfg = c;
    this.allow = allow;
    this.ringSize = Math.max(1, Math.min(MAX_RING, Math.max(c.fastPorts, c.slowPorts)));
    this.pairs.cap = c.maxPairs;
    if (c.maxPairs > this.adm.capacity) { const adm = new Admission(c.maxPairs, 2); this.pairs.reindex(adm); this.adm = adm; }
    return true;
  }

  advance(now: number, emit: Emit): void {
    const limit = now - this.cfg.idleTimeout;
    for (const [k, p] of this.pairs.entries()) {
      if (p.last >= limit) break; // least recently probed first
      this.pairs.delete(k);
      this.retire(p, emit, now);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const p of this.pairs.values()) this.retire(p, emit, now);
    this.pairs.clear();
  }

  stats(): Record<string, number> {
    return {
      pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, first_probes_filtered: this.adm.filtered, bitsets: this.bitsets,
      port_sets_reset: this.resets, probes: this.probes, alerts: this.alerts,
    };
  }
}

/** the alert's transport when the scan used only one (ECS network.transport, CEF proto); none for a TCP+UDP scan */
function oneProto(p: Pair): { proto?: 'tcp' | 'udp' } {
  return p.protos.udp === 0 ? { proto: 'tcp' } : p.protos.tcp === 0 ? { proto: 'udp' } : {};
}

function scanType(p: Pair): string {
  const k = p.byKind, parts: string[] = [];
  if (p.protos.tcp > 0) {
    if (k.stealth > (k.rejected + k.unanswered + k.half_open + k.reset_no_data)) parts.push('TCP FIN/NULL/Xmas/ACK');
    else parts.push('TCP');
  }
  if (p.protos.udp > 0) parts.push('UDP');
  return parts.join('+') || 'TCP';
}
