/**
 * slow_scan — one source probing few targets very slowly (MITRE T1046):
 * nmap -T1 "sneaky" (15 s between probes), -T0 "paranoid" (5 min), or any
 * scan paced to stay under the per-minute and per-15-minute windows of
 * port_scan and host_sweep. Those count probes within 60–900 s; a scan at
 * one probe per 5 minutes puts 3 probes in any 15 minutes.
 *
 * Unit: the failed or probe-like attempts of probe.ts (the same ones
 * port_scan counts: refused, unanswered SYNs, half-open, answered-then-reset
 * without data, FIN/NULL/Xmas/ACK, unanswered UDP probes, ICMP unreachables
 * quoting the probe). A target is (host, port).
 *
 * Per source, over a long horizon (`horizon`, 6 h without a probe ends the
 * episode), the distinct targets are kept exactly up to TARGETS (24) with
 * the time of the first and the latest new target. Alert when
 *   vertical:   ≥ minPorts (10) distinct ports on one host, or
 *   horizontal: ≥ minHosts (20) distinct hosts on one port,
 * and the new targets came slowly: mean gap between them ≥ minGap (5 s).
 * Faster scans are port_scan's and host_sweep's (which see them sooner);
 * slow_scan stays quiet on them, so one scan raises one kind of alert.
 *
 * Defaults beside the anchors: Zeek's scan.zeek counts 15 ports / 25 hosts
 * in 5 min and ncsa/bro-simple-scan 25 unique failures with a 15-min idle
 * expiry — both forget a -T0 scan between probes; ntopng's Port Scan is
 * 20 ports / 5 min; Suricata has no scan threshold of its own (ET rules
 * count SYNs per 60–120 s); scanlogd keeps ≤ 3 s between ports. The
 * vertical threshold is below all of them (10 ports) because slowness is
 * itself the signal: a client whose connections fail on 10 distinct ports
 * of one host, minutes apart, over hours, is not a browser.
 *
 * Bounded memory, whatever the number of sources (a million spoofed
 * sources use the same few MiB as ten):
 *   - a source's FIRST probe creates no record: an admission filter
 *     (bounded-state.ts: a two-generation Bloom filter of 16 bytes per key
 *     plus a slot with the probe's time, port and host) remembers it for at
 *     least `admit` (131,072) other new sources — at a spoofed flood's
 *     ~280 new sources a second that is 8 minutes, more than -T0's 5 — and
 *     the source's second probe creates the record and replays the first;
 *   - records live in a fixed set-associative table of `maxSources`
 *     (16,384, rounded to a multiple of 8): a source's hash picks a bucket
 *     of 8. A new record takes an empty or expired one of its bucket, else
 *     the one with the FEWEST targets (ties: least recently probed;
 *     alerted episodes last), so sources that have gathered targets keep
 *     their record. Each eviction is counted. The limit: a flood of
 *     sources with k targets each can push out a scanner that has no more
 *     than k yet.
 * Memory: maxSources × ~220 bytes + admit × 32 bytes (+ the sources'
 * address strings): 3.6 + 4 MiB with the defaults.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { Admission, hash32m, mergeSettings } from './bounded-state.js';
import { classifyProbe, direction, type Probe } from './probe.js';
import { fmtDur, round2 } from './format.js';

export interface SlowScanConfig {
  /** distinct ports on one host */
  minPorts: number;
  /** distinct hosts on one port */
  minHosts: number;
  /** seconds: mean gap between new targets at or above which a scan is slow */
  minGap: number;
  /** seconds without a probe that end a source's episode */
  horizon: number;
  /** count unanswered UDP probes and ICMP unreachables */
  udp: boolean;
  /** source records (fixed memory; rounded up to a multiple of 8) */
  maxSources: number;
  /** first probes remembered by the admission filter (at least this many other new sources) */
  admit: number;
  /** sources never judged (CIDR list: vulnerability scanners, monitoring) */
  allow: string[];
}

export const SLOW_SCAN_DEFAULTS: SlowScanConfig = {
  minPorts: 10, minHosts: 20, minGap: 5, horizon: 21_600, udp: true, maxSources: 16_384, admit: 131_072, allow: [],
};

export const slowScanSpec: DetectorSpec<SlowScanConfig> = {
  name: 'slow_scan', defaults: SLOW_SCAN_DEFAULTS, create: (c, ctx) => new SlowScan(c, ctx),
};

/** distinct targets kept per source (exact up to here; an alerted source counts further ones as "more") */
export const TARGETS = 24;
const WAYS = 8;

export class SlowScan implements Detector {
  readonly name = 'slow_scan';
  readonly consumes: readonly EventType[] = ['conn', 'conn_rejected', 'icmp'];
  readonly keyBy = 'initiator' as const;
  private allow: CidrSet;
  private readonly scratch: Probe = { src: '', dst: '', dport: 0, proto: 'tcp', kind: 'rejected', ts: 0 };
  // the table: record r at [r], its targets at [r * TARGETS …]
  private readonly slots: number;
  private readonly used: Uint8Array;
  private readonly srcH: Uint32Array;
  private readonly src: (string | undefined)[];
  private readonly first: Float64Array;
  private readonly last: Float64Array;
  private readonly n: Uint8Array;
  private readonly more: Uint32Array;
  private readonly probes: Uint32Array;
  private readonly alerted: Uint8Array;
  private readonly tHost: Uint32Array;
  private readonly tPort: Uint16Array;
  private readonly tUdp: Uint8Array;
  /** a sample host address per record (the latest new target's) */
  private readonly sampleDst: (string | undefined)[];
  private trigger: string[];
  /** first probes of sources without a record: [hash, ts, port | udp << 16, host hash] */
  private readonly adm: Admission;
  alerts = 0;
  evicted = 0;
  probeCount = 0;

  constructor(public cfg: SlowScanConfig = SLOW_SCAN_DEFAULTS, private readonly ctx: DetectorContext = { homeNet: new CidrSet() }) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.slow_scan.allow');
    const s = Math.max(WAYS, Math.ceil(cfg.maxSources / WAYS) * WAYS);
    this.slots = s;
    this.used = new Uint8Array(s);
    this.srcH = new Uint32Array(s);
    this.src = new Array<string | undefined>(s);
    this.first = new Float64Array(s);
    this.last = new Float64Array(s);
    this.n = new Uint8Array(s);
    this.more = new Uint32Array(s);
    this.probes = new Uint32Array(s);
    this.alerted = new Uint8Array(s);
    this.tHost = new Uint32Array(s * TARGETS);
    this.tPort = new Uint16Array(s * TARGETS);
    this.tUdp = new Uint8Array(s * TARGETS);
    this.sampleDst = new Array<string | undefined>(s);
    this.trigger = new Array<string>(s);
    this.adm = new Admission(cfg.admit, 3);
  }

  /** bytes of fixed state (strings not counted) */
  get bytes(): number {
    return this.slots * (1 + 4 + 8 + 8 + 1 + 4 + 4 + 1 + TARGETS * 7 + 3 * 8) + this.adm.bytes;
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const t = e.type;
    if (t !== 'conn' && t !== 'conn_rejected' && t !== 'icmp') return;
    const pr = classifyProbe(e, this.cfg.udp, true, this.scratch);
    if (pr === null || (!this.allow.empty && this.allow.has(pr.src))) return;
    this.probe(pr, emit);
  }

  private bucket(h: number): number { return ((Math.imul(h, 0x9e3779b1) >>> 0) % (this.slots / WAYS)) * WAYS; }

  /** the live record of `src` (hash h), or -1 (a record idle past the horizon is retired here) */
  private find(src: string, h: number, ts: number, emit: Emit): number {
    const b = this.bucket(h);
    for (let r = b; r < b + WAYS; r++) {
      if (this.used[r] === 0 || this.srcH[r] !== h || this.src[r] !== src) continue;
      if (ts - this.last[r]! > this.cfg.horizon) { this.retire(r, emit, ts); return -1; }
      return r;
    }
    return -1;
  }

  /** a new record for `src`: an empty or expired one of its bucket, else the weakest (see the file comment) */
  private place(src: string, h: number, ts: number, emit: Emit): number {
    const b = this.bucket(h);
    let victim = -1, vScore = Infinity;
    for (let r = b; r < b + WAYS; r++) {
      if (this.used[r] === 0) { if (vScore > -2) { victim = r; vScore = -2; } continue; }
      if (vScore <= -1) continue;
      if (ts - this.last[r]! > this.cfg.horizon) { victim = r; vScore = -1; continue; } // expired
      // fewest targets first, alerted episodes last, then the least recently probed
      const score = (this.alerted[r]! ? 1e6 : 0) + this.n[r]! * 1e4 + Math.min(9999, Math.max(0, this.last[r]! - ts + 9999));
      if (score < vScore) { victim = r; vScore = score; }
    }
    if (this.used[victim] !== 0) {
      if (vScore >= 0) this.evicted++;
      this.retire(victim, emit, ts);
    }
    return this.claim(victim, src, h, ts);
  }

  private claim(r: number, src: string, h: number, ts: number): number {
    this.used[r] = 1; this.srcH[r] = h; this.src[r] = src; this.first[r] = ts; this.last[r] = ts;
    this.n[r] = 0; this.more[r] = 0; this.probes[r] = 0; this.alerted[r] = 0; this.sampleDst[r] = undefined;
    return r;
  }

  private probe(pr: Probe, emit: Emit): void {
    this.probeCount++;
    const h = hash32m(pr.src), host = hash32m(pr.dst);
    let r = this.find(pr.src, h, pr.ts, emit);
    if (r < 0) {
      // the first probe creates nothing (a spoofed flood is one probe per source); the second creates the record and replays it
      const adm = this.adm, d = adm.data;
      const i = adm.offer(h);
      if (i >= 0) { d[i + 1] = pr.ts; d[i + 2] = pr.dport | (pr.proto === 'udp' ? 0x10000 : 0); d[i + 3] = host; return; }
      r = this.place(pr.src, h, pr.ts, emit);
      const j = adm.take(h);
      if (j >= 0 && pr.ts - d[j + 1]! <= this.cfg.horizon && d[j + 1]! <= pr.ts) {
        this.probes[r]!++;
        this.first[r] = d[j + 1]!;
        this.add(r, d[j + 1]!, d[j + 3]!, d[j + 2]! & 0xffff, d[j + 2]! >= 0x10000, undefined, pr, emit);
      }
    }
    this.probes[r]!++;
    if (pr.ts > this.last[r]!) this.last[r] = pr.ts;
    this.add(r, pr.ts, host, pr.dport, pr.proto === 'udp', pr.dst, pr, emit);
  }

  /** a target (host hash, port) for record r at time ts; `dst`: its address when known (a replayed first probe has only its hash) */
  private add(r: number, ts: number, host: number, port: number, udp: boolean, dst: string | undefined, pr: Probe, emit: Emit): void {
    const base = r * TARGETS, n = this.n[r]!;
    for (let i = base; i < base + n; i++) if (this.tHost[i] === host && this.tPort[i] === port) return;
    if (n >= TARGETS) { this.more[r]!++; return; }
    this.tHost[base + n] = host; this.tPort[base + n] = port; this.tUdp[base + n] = udp ? 1 : 0;
    this.n[r] = n + 1;
    if (dst !== undefined) this.sampleDst[r] = dst;
    if (n === 0) this.first[r] = ts;
    if (this.alerted[r] === 0 && dst !== undefined) this.judge(r, pr, host, emit);
  }

  /** ports on host `host` and hosts on port `port` among the record's targets */
  private counts(r: number, host: number, port: number): [number, number] {
    const base = r * TARGETS, n = this.n[r]!;
    let ports = 0, hosts = 0;
    for (let i = base; i < base + n; i++) {
      if (this.tHost[i] === host) ports++;
      if (this.tPort[i] === port) hosts++;
    }
    return [ports, hosts];
  }

  private judge(r: number, pr: Probe, host: number, emit: Emit): void {
    const c = this.cfg, n = this.n[r]!;
    if (n < Math.min(c.minPorts, c.minHosts)) return;
    const gap = (pr.ts - this.first[r]!) / (n - 1);
    if (gap < c.minGap) return;
    const [ports, hosts] = this.counts(r, host, pr.dport);
    let what: string;
    if (c.minPorts > 0 && ports >= c.minPorts) { what = `${ports} ports of ${pr.dst}`; this.trigger[r] = 'vertical'; }
    else if (c.minHosts > 0 && hosts >= c.minHosts) { what = `${hosts} hosts on ${pr.proto}/${pr.dport}`; this.trigger[r] = 'horizontal'; }
    else return;
    this.alerted[r] = 1;
    this.alerts++;
    const vertical = this.trigger[r] === 'vertical';
    emit(makeAlert({
      kind: this.name, severity: 'medium', confidence: gap >= 60 ? 0.8 : 0.7,
      src: pr.src, ...(vertical ? { dst: pr.dst } : { dport: pr.dport }),
      ts: pr.ts, ts_first: this.first[r]!, ts_last: this.last[r]!, technique: 'T1046',
      summary: `${pr.src} is scanning slowly: ${what}, one new target every ${fmtDur(gap)} on average over ${fmtDur(this.last[r]! - this.first[r]!)}, all failed or probe-like`,
      evidence: this.evidence(r, gap),
    }));
  }

  private evidence(r: number, gap: number): Record<string, unknown> {
    const c = this.cfg, base = r * TARGETS, n = this.n[r]!;
    const ports: number[] = [], hosts = new Set<number>();
    for (let i = base; i < base + n; i++) { if (!ports.includes(this.tPort[i]!)) ports.push(this.tPort[i]!); hosts.add(this.tHost[i]!); }
    let udp = 0;
    for (let i = base; i < base + n; i++) udp += this.tUdp[i]!;
    const dst = this.sampleDst[r] ?? '';
    return {
      distinct_targets: n + this.more[r]!, distinct_targets_exact: this.more[r] === 0, distinct_hosts: hosts.size,
      ports: ports.sort((a, b) => a - b).slice(0, 24), udp_targets: udp, probes: this.probes[r]!,
      mean_gap_s: round2(gap), duration_s: round2(this.last[r]! - this.first[r]!), trigger: this.trigger[r],
      sample_host: dst, direction: direction(this.ctx.homeNet, this.src[r]!, dst),
      thresholds: { min_ports: c.minPorts, min_hosts: c.minHosts, min_gap_s: c.minGap, horizon_s: c.horizon },
    };
  }

  /** Episode over (idle past the horizon, evicted, end of input): the final alert for an alerted source. */
  private retire(r: number, emit: Emit | null, now: number): void {
    if (this.used[r] === 0) return;
    this.used[r] = 0;
    if (this.alerted[r] === 0 || emit === null) return;
    const n = this.n[r]!, gap = n > 1 ? (this.last[r]! - this.first[r]!) / (n - 1) : 0;
    const total = n + this.more[r]!;
    emit({
      ...makeAlert({
        kind: this.name, severity: 'medium', confidence: gap >= 60 ? 0.8 : 0.7, src: this.src[r]!,
        ...(this.trigger[r] === 'vertical' ? { dst: this.sampleDst[r]! } : {}),
        ts: Math.max(now, this.last[r]!), ts_first: this.first[r]!, ts_last: this.last[r]!, technique: 'T1046',
        summary: `slow scan by ${this.src[r]!} ended: ${this.more[r]! > 0 ? '≥ ' : ''}${total} distinct targets, ${this.probes[r]!} probes in ${fmtDur(this.last[r]! - this.first[r]!)}`,
        evidence: { ...this.evidence(r, gap), final: true },
      }),
      update: true,
    });
  }

  /** SIGHUP: thresholds and the allow list apply in place; the table size is fixed (a changed maxSources rebuilds). */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['maxSources', 'admit']);
    if (c === null) return false;
    this.allow = CidrSet.parse(c.allow, 'detectors.slow_scan.allow');
    this.cfg = c;
    return true;
  }

  /** Episodes idle past the horizon end (a sweep of the table at most once per minute of packet time). */
  private nextSweep = -Infinity;
  advance(now: number, emit: Emit): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 60;
    const limit = now - this.cfg.horizon;
    for (let r = 0; r < this.slots; r++) if (this.used[r] !== 0 && this.last[r]! < limit) this.retire(r, emit, now);
  }

  flush(now: number, emit: Emit): void {
    for (let r = 0; r < this.slots; r++) this.retire(r, emit, now);
  }

  stats(): Record<string, number> {
    let used = 0;
    for (let r = 0; r < this.slots; r++) used += this.used[r]!;
    return {
      sources: used, capacity: this.slots, sources_evicted: this.evicted, first_probes_filtered: this.adm.filtered,
      probes: this.probeCount, alerts: this.alerts, state_bytes: this.bytes,
    };
  }
}
