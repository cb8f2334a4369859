/**
 * host_sweep — one source touching many hosts on one port (MITRE T1046), or
 * pinging many hosts (ICMP echo/timestamp/address-mask requests, ICMPv6 echo:
 * MITRE T1018, remote system discovery).
 *
 * Port sweeps count only failed or probe-like attempts (the same
 * classification as port_scan: refused, pure unanswered SYNs, half-open,
 * answered-then-reset without data, FIN/NULL/Xmas/ACK probes, unanswered UDP
 * probes, ICMP unreachables quoting the probe), so a client that reaches 25
 * web servers is never a sweep. ICMP sweeps count every request sent (a
 * pinger learns from silence as much as from replies).
 *
 * Per (source, proto/port) — and per (source, ICMP) — the distinct hosts are
 * kept as 32-bit hashes with the times at which new hosts appeared:
 *   port sweep: ≥ hosts (25) new hosts within window (300 s)
 *   ICMP sweep: ≥ icmpHosts (25) new hosts within window (300 s)
 * One alert per source episode: once a source has alerted, sweeps of further
 * ports (nmap -sn sends echo, SYN/443, ACK/80, timestamp) join the same
 * episode and show in its evidence instead of raising new alerts. The episode
 * ends after idleTimeout (900 s) without a probe from that source, or at end
 * of input, with a final `update: true` alert: hosts (HyperLogLog estimate
 * past 64), probes, what was swept.
 *
 * Anchors: Zeek scan.zeek Address_Scan 25 hosts on one port in 5 min;
 * bro-simple-scan knock-knock 20 hosts on one port, 25 unique failures,
 * 15-min idle expiry; ntopng Scan Detection > 32 flows; Maltrail
 * INFECTION_SCANNING_THRESHOLD 32.
 *
 * The first probe of a (source, port) creates no record: an admission filter
 * (bounded-state.ts) keeps its host and time, and the second probe creates
 * the record and replays the first, so counts and thresholds are exact. A
 * spoofed-source flood (one probe per source) creates no records. Probes from
 * a source already in an episode are always counted.
 *
 * Bounded state: at most maxKeys (source, port) records, each ≤ 64 host
 * hashes before alerting (then its count restarts, counted) and a 1 KiB
 * HyperLogLog after; at most maxEpisodes alerted sources. Least recently
 * active evicted first and counted (an alerted episode gets its final alert).
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { HyperLogLog, LruMap, hash2lom } from './sketch.js';
import { ipv4, ipv4Text } from './ip.js';
import { Admission, resizeRing, hash32m, mixHash, mergeSettings } from './bounded-state.js';
import { classifyProbe, direction, type Probe } from './probe.js';
import { fmtDur } from './format.js';

export interface HostSweepConfig {
  hosts: number;
  icmpHosts: number;
  window: number;
  idleTimeout: number;
  /** count unanswered UDP probes and ICMP unreachables */
  udp: boolean;
  icmp: boolean;
  maxKeys: number;
  maxEpisodes: number;
  /** sources never judged (CIDR list: monitoring pingers, scanners, resolvers) */
  allow: string[];
}

export const HOST_SWEEP_DEFAULTS: HostSweepConfig = {
  hosts: 25, icmpHosts: 25, window: 300, idleTimeout: 900, udp: true, icmp: true,
  maxKeys: 50_000, maxEpisodes: 10_000, allow: [],
};

export const hostSweepSpec: DetectorSpec<HostSweepConfig> = {
  name: 'host_sweep', defaults: HOST_SWEEP_DEFAULTS, create: (c, ctx) => new HostSweep(c, ctx),
};

const PRE_ALERT_HOSTS = 64;
const MAX_RING = 1024;
const MAX_SWEEPS_LISTED = 20;

interface Sweep {
  src: string;
  /** "tcp/22", "udp/161", "icmp" */
  label: string;
  port: number | undefined;
  hosts: Set<number> | null;
  hll: HyperLogLog | null;
  ring: Float64Array; ringN: number;
  first: number; last: number;
  probes: number;
  /** of its probes, how many the source's episode has counted */
  counted: number;
  samples: string[];
  alerted: boolean;
}

interface Episode {
  src: string;
  first: number; last: number;
  /** swept labels with their distinct-host counts at the time they joined / last update */
  sweeps: Map<string, Sweep>;
  hll: HyperLogLog;
  probes: number;
  samples: string[];
  technique: string;
  dport: number | undefined;
  /** sweeps beyond the MAX_SWEEPS_LISTED kept in `sweeps` */
  moreSweeps: number;
}

export class HostSweep implements Detector {
  readonly name = 'host_sweep';
  readonly consumes: readonly EventType[] = ['conn', 'conn_rejected', 'icmp'];
  readonly keyBy = 'initiator' as const;
  private readonly keys: LruMap<string, Sweep>;
  private readonly episodes: LruMap<string, Episode>;
  private allow: CidrSet;
  private ringSize: number;
  private emitRef: Emit | null = null;
  private readonly scratch: Probe = { src: '', dst: '', dport: 0, proto: 'tcp', kind: 'rejected', ts: 0 };
  /** admission of new (source, port) records; the first probe of each not yet admitted in its slot (time, host hash, IPv4 host; other hosts in fDst) */
  private adm: Admission;
  private fDst: (string | undefined)[];
  alerts = 0;
  resets = 0;

  constructor(public cfg: HostSweepConfig = HOST_SWEEP_DEFAULTS, private readonly ctx: DetectorContext = { homeNet: new CidrSet() }) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.host_sweep.allow');
    this.ringSize = Math.max(1, Math.min(MAX_RING, Math.max(cfg.hosts, cfg.icmpHosts)));
    this.adm = new Admission(cfg.maxKeys, 3);
    this.keys = new LruMap(cfg.maxKeys, undefined, this.adm);
    this.episodes = new LruMap(cfg.maxEpisodes, (_k, ep) => this.finish(ep, this.emitRef, ep.last));
    this.fDst = new Array<string | undefined>(this.adm.slots);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type === 'icmp') {
      if (e.quoted === undefined) {
        if (!this.cfg.icmp) return;
        const v6 = e.proto === 'icmpv6';
        const req = v6 ? e.icmp_type === 128 : e.icmp_type === 8 || e.icmp_type === 13 || e.icmp_type === 15 || e.icmp_type === 17;
        if (!req || (!this.allow.empty && this.allow.has(e.src))) return;
        this.emitRef = emit;
        this.hit(e.src, 'icmp', undefined, e.dst, e.ts, emit);
        return;
      }
    } else if (e.type !== 'conn' && e.type !== 'conn_rejected') return;
    const pr = classifyProbe(e, this.cfg.udp, true, this.scratch);
    if (pr === null || (!this.allow.empty && this.allow.has(pr.src))) return;
    this.emitRef = emit;
    this.hit(pr.src, pr.proto, pr.dport, pr.dst, pr.ts, emit);
  }

  /** One probe (proto 'icmp' with no port for a ping). */
  private hit(src: string, proto: string, port: number | undefined, dst: string, ts: number, emit: Emit): void {
    // the key string is built only when the record may exist (a flood's new sources never build one)
    const k = mixHash(hash32m(src), port === undefined ? 0x10000 : (proto === 'udp' ? 0x20000 : 0) | port);
    let key = '';
    let s: Sweep | undefined;
    if (this.keys.mayHave(k)) { key = port === undefined ? `${src}|icmp` : `${src}|${proto}/${port}`; s = this.keys.get(key); }
    const hd = hash2lom(dst);
    if (s === undefined) {
      let j = -1;
      if (this.episodes.size === 0 || this.episodes.get(src) === undefined) {
        // A (source, port)'s first probe creates nothing (a spoofed flood is one probe per
        // source): the admission filter keeps its host and time; the second probe creates
        // the record and replays the first. A source already in an episode is always counted.
        const i = this.adm.offer(k);
        if (i >= 0) {
          const d = this.adm.data, v = ipv4(dst);
          d[i + 1] = ts; d[i + 2] = hd; d[i + 3] = v;
          if (v < 0) this.fDst[i / 4] = dst; // not IPv4: kept as text
          return;
        }
        j = this.adm.take(k);
      }
      const label = port === undefined ? 'icmp' : `${proto}/${port}`;
      s = {
        src, label, port, hosts: new Set(), hll: null, ring: new Float64Array(this.ringSize), ringN: 0,
        first: ts, last: ts, probes: 0, counted: 0, samples: [], alerted: false,
      };
      this.keys.set(`${src}|${label}`, s, k);
      if (j >= 0) {
        const d = this.adm.data, d0 = d[j + 3]! >= 0 ? ipv4Text(d[j + 3]!) : this.fDst[j / 4];
        this.fDst[j / 4] = undefined;
        // replayed only if the record would still be remembered (idle for less than idleTimeout)
        if (d0 !== undefined && ts - d[j + 1]! <= this.cfg.idleTimeout) this.add(s, d0, d[j + 2]!, d[j + 1]!, emit);
      }
    } else this.keys.touch(key, s);
    this.add(s, dst, hd, ts, emit);
  }

  /** Adds one probe of host `dst` (hash hd) to its (source, port) record. */
  private add(s: Sweep, dst: string, hd: number, ts: number, emit: Emit): void {
    const src = s.src;
    s.probes++;
    if (ts < s.first) s.first = ts;
    if (ts > s.last) s.last = ts;
    const ep = this.episodes.get(src);
    if (ep !== undefined) {
      this.episodes.touch(src, ep);
      ep.probes++;
      s.counted++;
      if (ts > ep.last) ep.last = ts;
    }
    ep?.hll.addHash32(hd);
    if (s.hll !== null) { s.hll.addHash32(hd); return; }
    const hosts = s.hosts!;
    if (hosts.has(hd)) return;
    if (hosts.size >= PRE_ALERT_HOSTS) {
      // many hosts gathered too slowly to alert: start over
      hosts.clear(); s.ringN = 0; s.samples.length = 0;
      this.resets++;
    }
    hosts.add(hd);
    if (s.samples.length < 10) s.samples.push(dst);
    if (s.ring.length < this.ringSize) { s.ring = resizeRing(s.ring, s.ringN, this.ringSize); s.ringN = Math.min(s.ringN, s.ring.length); } // a threshold raised on SIGHUP
    s.ring[s.ringN % s.ring.length] = ts;
    s.ringN++;
    if (ep !== undefined && ep.samples.length < 10 && !ep.samples.includes(dst)) ep.samples.push(dst);
    if (s.alerted) return;
    const need = s.port === undefined ? this.cfg.icmpHosts : this.cfg.hosts;
    if (need <= 0 || hosts.size < need || this.within(s) < need) return;
    this.trip(s, ts, emit);
  }

  private within(s: Sweep): number {
    const r = s.ring, n = Math.min(s.ringN, r.length);
    let latest = -Infinity;
    for (let i = 0; i < n; i++) if (r[i]! > latest) latest = r[i]!;
    let c = 0;
    for (let i = 0; i < n; i++) if (r[i]! >= latest - this.cfg.window) c++;
    return c;
  }

  private trip(s: Sweep, ts: number, emit: Emit): void {
    s.alerted = true;
    // from now on the hosts of this sweep are estimated (1 KiB), not kept
    s.hll = new HyperLogLog(10);
    for (const h of s.hosts!) s.hll.addHash32(h);
    const exact = s.hosts!.size;
    s.hosts = null;
    let ep = this.episodes.get(s.src);
    if (ep !== undefined) {
      // the source already alerted: this sweep joins its episode
      ep.hll.merge(s.hll);
      ep.probes += s.probes - s.counted;
      s.counted = s.probes;
      if (ep.sweeps.size < MAX_SWEEPS_LISTED || ep.sweeps.has(s.label)) ep.sweeps.set(s.label, s); else ep.moreSweeps++;
      return;
    }
    const icmp = s.label === 'icmp';
    ep = {
      src: s.src, first: s.first, last: s.last, sweeps: new Map([[s.label, s]]), hll: new HyperLogLog(10),
      probes: s.probes, samples: [...s.samples], technique: icmp ? 'T1018' : 'T1046', dport: s.port, moreSweeps: 0,
    };
    ep.hll.merge(s.hll);
    s.counted = s.probes;
    this.episodes.set(s.src, ep);
    this.alerts++;
    const what = icmp ? `ping sweep: ICMP requests to ${exact} hosts` : `${exact} hosts probed on ${s.label}, all failed or probe-like`;
    emit(makeAlert({
      kind: this.name, severity: 'medium', confidence: icmp ? 0.7 : 0.8, src: s.src, dport: s.port,
      ts, ts_first: s.first, ts_last: s.last, technique: ep.technique,
      summary: `${s.src} is sweeping hosts: ${what} within ${fmtDur(Math.max(0, s.last - s.first))} (≥ ${icmp ? this.cfg.icmpHosts : this.cfg.hosts} in ${this.cfg.window} s)`,
      evidence: {
        swept: s.label, distinct_hosts: exact, probes: s.probes, sample_hosts: [...s.samples],
        direction: direction(this.ctx.homeNet, s.src, s.samples[0] ?? s.src),
        thresholds: { hosts: this.cfg.hosts, icmp_hosts: this.cfg.icmpHosts, window_s: this.cfg.window, idle_timeout_s: this.cfg.idleTimeout },
      },
    }));
  }

  private finish(ep: Episode, emit: Emit | null, now: number): void {
    if (emit === null) return;
    const sweeps: Record<string, number> = {};
    for (const [label, s] of ep.sweeps) sweeps[label] = s.hll ? s.hll.estimate() : s.hosts?.size ?? 0;
    const hosts = ep.hll.estimate();
    const labels = Object.keys(sweeps);
    emit({
      ...makeAlert({
        kind: this.name, severity: hosts >= 256 ? 'high' : 'medium', confidence: 0.8, src: ep.src, dport: ep.dport,
        ts: Math.max(now, ep.last), ts_first: ep.first, ts_last: ep.last, technique: ep.technique,
        summary: `host sweep by ${ep.src} ended: ≈ ${hosts} hosts, ${ep.probes} probes on ${labels.join(', ')}${ep.moreSweeps ? ` and ${ep.moreSweeps} more` : ''} in ${fmtDur(ep.last - ep.first)}`,
        evidence: {
          distinct_hosts_est: hosts, probes: ep.probes, sweeps, more_sweeps: ep.moreSweeps, sample_hosts: [...ep.samples], final: true,
          thresholds: { hosts: this.cfg.hosts, icmp_hosts: this.cfg.icmpHosts, window_s: this.cfg.window, idle_timeout_s: this.cfg.idleTimeout },
        },
      }),
      update: true,
    });
  }

  /**
   * SIGHUP: every setting applies in place; each (source, port) keeps its
   * hosts, times and episode. A record's ring of new-host times grows at its
   * next new host when a raised hosts/icmpHosts needs more entries.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.host_sweep.allow');
    this.cfg = c;
    this.allow = allow;
    this.ringSize = Math.max(1, Math.min(MAX_RING, Math.max(c.hosts, c.icmpHosts)));
    this.keys.cap = c.maxKeys;
    this.episodes.cap = c.maxEpisodes;
    if (c.maxKeys > this.adm.capacity) {
      const adm = new Admission(c.maxKeys, 3);
      this.keys.reindex(adm);
      this.adm = adm;
      this.fDst = new Array<string | undefined>(adm.slots);
    }
    return true;
  }

  advance(now: number, emit: Emit): void {
    const limit = now - this.cfg.idleTimeout;
    for (const [k, s] of this.keys.entries()) {
      if (s.last >= limit) break;
      this.keys.delete(k);
    }
    for (const [k, ep] of this.episodes.entries()) {
      if (ep.last >= limit) break;
      this.episodes.delete(k);
      this.finish(ep, emit, now);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const ep of this.episodes.values()) this.finish(ep, emit, now);
    this.episodes.clear();
    this.keys.clear();
  }

  stats(): Record<string, number> {
    return {
      keys: this.keys.size, keys_evicted: this.keys.evicted, first_probes_filtered: this.adm.filtered, episodes: this.episodes.size,
      episodes_evicted: this.episodes.evicted, host_sets_reset: this.resets, alerts: this.alerts,
    };
  }
}
