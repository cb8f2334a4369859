/**
 * distributed_scan — one target's ports probed by many sources, each
 * taking its own share of the ports (MITRE T1046): a scan split over
 * several addresses (botnet, cloud instances, `nmap -S` decoys doing real
 * work) so that no single source crosses port_scan's thresholds.
 *
 * Unit: the failed or probe-like attempts of probe.ts (as port_scan). Per
 * target host, per source: the distinct ports it probed (exact, ≤ 64) and
 * when. A source is a contributor once it probed ≥ minPortsPerSource (5)
 * distinct ports of the target. Alert when, among the target's sources
 * that probed it within the last `active` (120 s) — a split scan runs its
 * sources at once; an internet host's background scanners (a Censys, a
 * Mirai, a masscan sweep) come and go one by one:
 *   - ≥ minSources (3) contributors,
 *   - their ports together ≥ minPorts (20) distinct ports,
 *   - the port sets are disjoint: at most maxOverlap (20 %) of the ports
 *     they probed were probed by another contributor too (a split scan
 *     hands each port to one source; many scanners of the same service
 *     list — internet background noise on 22/23/80/443 — overlap), and
 *   - no contributor holds more than maxShare (60 %) of those ports (then it
 *     is one scan with stragglers, and port_scan's business).
 * The alert names the target (dst) and every contributor with its ports.
 * One alert per target episode; more contributors joining show in the
 * final `update: true` alert when the target has been quiet for `window`
 * or at end of input.
 *
 * Anchors: none of Zeek (scan.zeek / bro-simple-scan key per scanner),
 * Suricata (thresholds track by_src/by_dst counts, not port-set
 * disjointness) or ntopng (per-host checks) correlates sources; the closest
 * is Suricata's `track by_dst` threshold, which would count a split scan's
 * SYNs to the target and a busy server's alike. The total (20 ports)
 * follows ntopng's Port Scan (20 ports / 5 min) for the union; sources are
 * remembered for Zeek's 1 h notice suppression. The per-source floor (5
 * ports) and the 120 s concurrency come from the public corpus: the
 * stopddos RRSIG capture's internet background (5 unrelated scanners with
 * 3–6 random ports each within 28 s of an exposed host) must stay quiet.
 *
 * Bounded state: at most maxTargets targets (LRU, evictions counted, an
 * alerted one gets its final alert); per target at most maxSourcesPerTarget
 * sources — when full, the source with the fewest ports (then the least
 * recent) gives way; per source ≤ 64 ports. A (source, target)'s first
 * probe creates no source entry: an admission filter (bounded-state.ts,
 * `admit` keys, 32 bytes each) keeps its port and time, and the second
 * probe creates the entry and replays it — so a spoofed one-probe flood at
 * the target (every SYN from a new address) never enters the table and
 * never pushes out the sources that carry the scan.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { LruMap } from './sketch.js';
import { Admission, hash32m, mixHash, mergeSettings } from './bounded-state.js';
import { classifyProbe, direction, type Probe } from './probe.js';
import { fmtDur, round2 } from './format.js';

export interface DistributedScanConfig {
  minSources: number;
  minPortsPerSource: number;
  minPorts: number;
  /** share of the contributors' ports probed by more than one of them */
  maxOverlap: number;
  /** share of the union one contributor may hold */
  maxShare: number;
  /** seconds: sources older than this are forgotten; a target quiet this long ends its episode */
  window: number;
  /** seconds: contributors must all have probed the target this recently (they scan at once) */
  active: number;
  udp: boolean;
  maxTargets: number;
  maxSourcesPerTarget: number;
  /** (source, target) first probes remembered by the admission filter */
  admit: number;
  /** sources never counted (CIDR list) */
  allow: string[];
}

export const DISTRIBUTED_SCAN_DEFAULTS: DistributedScanConfig = {
  minSources: 3, minPortsPerSource: 5, minPorts: 20, maxOverlap: 0.2, maxShare: 0.6, window: 3600, active: 120, udp: true,
  maxTargets: 10_000, maxSourcesPerTarget: 64, admit: 65_536, allow: [],
};

export const distributedScanSpec: DetectorSpec<DistributedScanConfig> = {
  name: 'distributed_scan', defaults: DISTRIBUTED_SCAN_DEFAULTS, create: (c, ctx) => new DistributedScan(c, ctx),
};

const MAX_PORTS = 64;

interface Source { src: string; ports: Set<number>; first: number; last: number; probes: number }
interface Target {
  dst: string;
  sources: Map<string, Source>;
  first: number; last: number;
  alerted: boolean; alertTs: number;
  /** contributors at the alert (named in the final update too) */
  named: string[];
}

/** What the contributors of a target look like (pure: the unit tests call it). */
export interface SplitVerdict {
  contributors: Source[]; union: number; overlap: number; maxShare: number;
}

export function judgeSplit(sources: Iterable<Source>, now: number, c: DistributedScanConfig, within = c.active): SplitVerdict {
  const contributors: Source[] = [];
  for (const s of sources) if (s.ports.size >= c.minPortsPerSource && now - s.last <= within) contributors.push(s);
  const seen = new Map<number, number>();
  let sum = 0;
  for (const s of contributors) for (const p of s.ports) { seen.set(p, (seen.get(p) ?? 0) + 1); sum++; }
  let shared = 0;
  for (const n of seen.values()) if (n > 1) shared += n;
  let max = 0;
  for (const s of contributors) max = Math.max(max, s.ports.size);
  return {
    contributors, union: seen.size, overlap: sum ? shared / sum : 0, maxShare: seen.size ? max / seen.size : 0,
  };
}

export class DistributedScan implements Detector {
  readonly name = 'distributed_scan';
  readonly consumes: readonly EventType[] = ['conn', 'conn_rejected', 'icmp'];
  /** by target: the destination of a connection attempt, the sender of the ICMP error that answers one */
  readonly keyBy = { conn: 'dst', conn_rejected: 'dst', icmp: 'src' } as const;
  private readonly targets: LruMap<string, Target>;
  private allow: CidrSet;
  private emitRef: Emit | null = null;
  private readonly scratch: Probe = { src: '', dst: '', dport: 0, proto: 'tcp', kind: 'rejected', ts: 0 };
  /** first probes of (source, target) pairs without a source entry: [hash, ts, port] */
  private readonly adm: Admission;
  alerts = 0;
  probes = 0;
  sourcesDisplaced = 0;

  constructor(public cfg: DistributedScanConfig = DISTRIBUTED_SCAN_DEFAULTS, private readonly ctx: DetectorContext = { homeNet: new CidrSet() }) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.distributed_scan.allow');
    this.targets = new LruMap(cfg.maxTargets, (_k, t) => this.retire(t, this.emitRef, t.last));
    this.adm = new Admission(cfg.admit, 2);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const t = e.type;
    if (t !== 'conn' && t !== 'conn_rejected' && t !== 'icmp') return;
    const pr = classifyProbe(e, this.cfg.udp, true, this.scratch);
    if (pr === null || (!this.allow.empty && this.allow.has(pr.src))) return;
    this.emitRef = emit;
    this.probes++;
    let tg = this.targets.get(pr.dst);
    let s = tg?.sources.get(pr.src);
    let first = -1;
    if (s === undefined) {
      // a (source, target)'s first probe creates nothing; the second creates the source and replays it
      const h = mixHash(hash32m(pr.src), hash32m(pr.dst)), d = this.adm.data;
      const i = this.adm.offer(h);
      if (i >= 0) { d[i + 1] = pr.ts; d[i + 2] = pr.dport; return; }
      const j = this.adm.take(h);
      if (j >= 0 && pr.ts - d[j + 1]! <= this.cfg.window && d[j + 2] !== pr.dport) first = j;
    }
    if (tg === undefined) {
      tg = { dst: pr.dst, sources: new Map(), first: pr.ts, last: pr.ts, alerted: false, alertTs: 0, named: [] };
      this.targets.set(pr.dst, tg);
    } else this.targets.touch(pr.dst, tg);
    if (pr.ts > tg.last) tg.last = pr.ts;
    if (s === undefined) {
      if (tg.sources.size >= this.cfg.maxSourcesPerTarget) this.displace(tg, pr.ts);
      s = { src: pr.src, ports: new Set(), first: pr.ts, last: pr.ts, probes: 0 };
      tg.sources.set(pr.src, s);
      if (first >= 0) { const d = this.adm.data; s.ports.add(d[first + 2]!); s.probes++; s.first = Math.min(s.first, d[first + 1]!); }
    }
    s.probes++;
    if (pr.ts > s.last) s.last = pr.ts;
    if (s.ports.has(pr.dport) || s.ports.size >= MAX_PORTS) return;
    s.ports.add(pr.dport);
    if (!tg.alerted && s.ports.size >= this.cfg.minPortsPerSource) this.judge(tg, pr.ts, emit);
  }

  /** a full target makes room: sources past the window first, else the one with the fewest ports, least recent */
  private displace(tg: Target, now: number): void {
    let worst: Source | undefined;
    for (const s of tg.sources.values()) {
      if (now - s.last > this.cfg.window) { worst = s; break; }
      if (worst === undefined || s.ports.size < worst.ports.size || (s.ports.size === worst.ports.size && s.last < worst.last)) worst = s;
    }
    if (worst !== undefined) { tg.sources.delete(worst.src); this.sourcesDisplaced++; }
  }

  private judge(tg: Target, ts: number, emit: Emit): void {
    const c = this.cfg;
    const v = judgeSplit(tg.sources.values(), ts, c);
    if (v.contributors.length < c.minSources || v.union < c.minPorts || v.overlap > c.maxOverlap || v.maxShare > c.maxShare) return;
    tg.alerted = true;
    tg.alertTs = ts;
    tg.named = v.contributors.map((s) => s.src);
    this.alerts++;
    let first = Infinity;
    for (const s of v.contributors) first = Math.min(first, s.first);
    emit(makeAlert({
      kind: this.name, severity: 'medium', confidence: v.contributors.length >= 5 ? 0.8 : 0.7,
      dst: tg.dst, ts, ts_first: first, ts_last: ts, technique: 'T1046',
      summary: `${tg.dst} is being scanned by ${v.contributors.length} sources splitting the ports: ${v.union} distinct ports in ${fmtDur(ts - first)}, ${Math.round(v.overlap * 100)}% overlap, sources ${tg.named.slice(0, 8).join(', ')}${tg.named.length > 8 ? ` and ${tg.named.length - 8} more` : ''}`,
      evidence: this.evidence(tg, v),
    }));
  }

  private evidence(tg: Target, v: SplitVerdict): Record<string, unknown> {
    const c = this.cfg;
    return {
      target: tg.dst, sources: v.contributors.slice(0, 32).map((s) => ({
        src: s.src, ports: [...s.ports].sort((a, b) => a - b).slice(0, 32), probes: s.probes,
      })),
      source_count: v.contributors.length, distinct_ports: v.union, overlap: round2(v.overlap), max_share: round2(v.maxShare),
      direction: direction(this.ctx.homeNet, v.contributors[0]?.src ?? tg.dst, tg.dst),
      thresholds: {
        min_sources: c.minSources, min_ports_per_source: c.minPortsPerSource, min_ports: c.minPorts, max_overlap: c.maxOverlap,
        max_share: c.maxShare, active_s: c.active, window_s: c.window,
      },
    };
  }

  private retire(tg: Target, emit: Emit | null, now: number): void {
    if (!tg.alerted || emit === null) return;
    const v = judgeSplit(tg.sources.values(), tg.last, this.cfg, this.cfg.window);
    emit({
      ...makeAlert({
        kind: this.name, severity: v.contributors.length >= 10 ? 'high' : 'medium', confidence: v.contributors.length >= 5 ? 0.8 : 0.7,
        dst: tg.dst, ts: Math.max(now, tg.last), ts_first: tg.first, ts_last: tg.last, technique: 'T1046',
        summary: `distributed scan of ${tg.dst} ended: ${v.contributors.length} sources, ${v.union} distinct ports in ${fmtDur(tg.last - tg.first)}`,
        evidence: { ...this.evidence(tg, v), final: true },
      }),
      update: true,
    });
  }

  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['admit']);
    if (c === null) return false;
    this.allow = CidrSet.parse(c.allow, 'detectors.distributed_scan.allow');
    this.cfg = c;
    this.targets.cap = c.maxTargets;
    return true;
  }

  advance(now: number, emit: Emit): void {
    const limit = now - this.cfg.window;
    for (const [k, t] of this.targets.entries()) {
      if (t.last >= limit) break; // least recently probed first
      this.targets.delete(k);
      this.retire(t, emit, now);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const t of this.targets.values()) this.retire(t, emit, now);
    this.targets.clear();
  }

  stats(): Record<string, number> {
    return {
      targets: this.targets.size, targets_evicted: this.targets.evicted, sources_displaced: this.sourcesDisplaced,
      first_probes_filtered: this.adm.filtered, probes: this.probes, alerts: this.alerts,
    };
  }
}
