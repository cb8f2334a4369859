/**
 * beaconing — one source connecting to one destination(:port) at regular
 * intervals with low jitter over a long span: malware checking in with its
 * command-and-control server (T1071 Application Layer Protocol; the channel
 * is often encrypted, T1573, which changes nothing here: only timing is used).
 *
 * Input, one "beat" per connection:
 *   - TCP: `tcp_syn` (a retransmitted SYN — same source port as the pair's
 *     previous beat — is not a new beat);
 *   - UDP: `conn` summaries of UDP flows (a flow's start time is the beat);
 *   - DNS (only with `dns: true`): queries, keyed by source and qname (the
 *     destination is the resolver), a retry with the same id is no new beat.
 * Pair = (source, destination, destination port, protocol). For each pair
 * the last `maxIntervals` inter-arrival times are kept; pairs live in an LRU
 * map of at most `maxPairs` (evictions counted). A pair's first beat creates
 * no record (an admission filter keeps its time and tag, bounded-state.ts);
 * its second creates the pair from the first, so counts are exact.
 *
 * Score — RITA's timestamp beacon score (activecm/rita-legacy
 * pkg/beacon/analyzer.go), made relative to the period so a 2 s beacon and
 * a 1 h beacon are judged alike:
 *   skew   = 1 − |Bowley skew| · min(1, (IQR/median) / 0.2), Bowley skew =
 *            (Q1 + Q3 − 2·median)/(Q3 − Q1) (0 when Q1 = median or median =
 *            Q3, as RITA). RITA works on whole-second timestamps where
 *            sub-second jitter vanishes; here the shape of a jitter that is
 *            a small part of the period counts proportionally less.
 *   madm   = max(0, 1 − MAD / median)      (RITA: 1 − MAD / 30 s)
 *   count  = min(1, median / mean)         (share of the expected beats that
 *            were seen; RITA: connections / (dataset span / 10))
 *   score  = (skew + madm + count) / 3
 * A pair alerts when it has ≥ `minConnections` beats over ≥ `minSpan` s,
 * its median interval is within [minPeriod, maxPeriod], its robust
 * coefficient of variation 1.4826·MAD/median (≈ CV for normal jitter, but
 * a few missed beats or one late beat barely move it) is ≤ `maxDispersion`,
 * and score ≥ `minScore`. RITA's data-size half of the score is not used:
 * sizes are only known when a connection ends.
 *
 * One alert per pair episode; the pair keeps counting beats; when it has
 * been silent for max(`idleTimeout`, 4 periods) — or at end of input — a
 * final alert with `update: true` carries the total beats and span.
 *
 * Only sources inside HOME_NET are considered (`fromHomeOnly`): the
 * beaconing host is ours; periodic inbound traffic (uptime probes, a
 * brute-forcer's steady retries, backscatter) is not a beacon.
 *
 * Benign periodic traffic: DNS (53), NTP (123), mDNS (5353), LLMNR (5355),
 * NetBIOS (137, 138), DHCP (67, 68, 546, 547) and SSDP (1900) destination
 * ports are ignored by default (`ignorePorts`); `allow` lists CIDRs (as
 * source or destination) of known pollers — monitoring servers, update
 * services. The 1 s minimum period keeps tight client retry loops and
 * keep-alive bursts out.
 *
 * Defaults, next to the anchors: ≥ 10 connections over ≥ 60 s, period
 * 1 s – 1 h, robust CV ≤ 0.2, score ≥ 0.8, 64 intervals, ≤ 100k pairs.
 * RITA (legacy) needs ≥ 23 connections (`DefaultConnectionThresh`) over a
 * whole day of logs and only ranks pairs by score; ntopng's "periodic flow"
 * check reports flows repeating at a stable period; Zeek ships no beacon
 * script. Our thresholds are lower because a sensor must answer within
 * minutes, which is why the dispersion test is strict.
 *
 * Jittered tier (C2 frameworks' "jitter" setting: Cobalt Strike, Sliver,
 * Mythic sleep period × (1 ± J) with J up to 50 %): uniform ±J jitter has
 * robust CV 0.74·J (0.37 at 50 %), far above the strict 0.2 — but its
 * intervals stay inside an envelope around the period, which random
 * (Poisson-like) human or application traffic never does: its 10th
 * percentile is 0.15 × the median and its 90th 3.3 ×. A pair alerts in
 * this tier with ≥ `jitterMinConnections` (20) beats, median ≥
 * `jitterMinPeriod` (2 s), robust CV ≤ `jitterMaxDispersion` (0.5),
 * P10 ≥ `jitterLow` (0.4) × median and P90 ≤ `jitterHigh` (1.7) × median
 * (±50 % jitter: 0.6 and 1.4; a missed beat now and then stays above P90),
 * and score ≥ minScore. The evidence says which tier (`tier`). RITA has no
 * jitter tier (its MAD term simply decays); ntopng's periodic-flow check
 * needs a stable period. Only timing is used, so TLS (or any encrypted)
 * beacons are judged alike: each new connection's SYN is the beat.
 *
 * Limitations: beacons over one persistent connection (HTTP keep-alive,
 * WebSocket, long-lived TLS) open no new connections and are not seen;
 * jitter beyond ~±60 % leaves the envelope and is not told from random
 * traffic by design.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, DnsEvent, NetEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { round3 } from './format.js';
import { BoundedMap } from './window.js';
import { CidrSet } from '../util/cidr.js';
import { inSet } from './ip.js';
import { Admission, hash32m, mixHash, mergeSettings } from './bounded-state.js';
import type { DetectorSpec, DetectorContext } from './spec.js';

export interface BeaconingConfig {
  minConnections: number;
  /** seconds between the first and last beat kept */
  minSpan: number;
  /** seconds: median interval range */
  minPeriod: number;
  maxPeriod: number;
  /** 1.4826 · MAD / median of the intervals */
  maxDispersion: number;
  /** RITA-style timestamp score, 0..1 */
  minScore: number;
  /** jittered tier (0 turns it off): beats, shortest median period, robust CV, P10/median floor, P90/median ceiling */
  jitterMinConnections: number;
  jitterMinPeriod: number;
  jitterMaxDispersion: number;
  jitterLow: number;
  jitterHigh: number;
  /** intervals kept per pair */
  maxIntervals: number;
  maxPairs: number;
  /** seconds of silence (at least 4 periods) that end an episode */
  idleTimeout: number;
  /** also look at DNS queries (source → qname) */
  dns: boolean;
  /** only sources inside HOME_NET (the infected host is ours; inbound periodic probes are someone else's) */
  fromHomeOnly: boolean;
  /** destination ports never considered (benign periodic services) */
  ignorePorts: string[];
  /** CIDRs ignored as source or destination */
  allow: string[];
}

export const BEACONING_DEFAULTS: BeaconingConfig = {
  minConnections: 10, minSpan: 60, minPeriod: 1, maxPeriod: 3600, maxDispersion: 0.2, minScore: 0.8,
  jitterMinConnections: 20, jitterMinPeriod: 2, jitterMaxDispersion: 0.5, jitterLow: 0.4, jitterHigh: 1.7,
  maxIntervals: 64, maxPairs: 100_000, idleTimeout: 300, dns: false, fromHomeOnly: true,
  ignorePorts: ['53', '123', '5353', '5355', '137', '138', '67', '68', '546', '547', '1900'],
  allow: [],
};

export const beaconingSpec: DetectorSpec<BeaconingConfig> = {
  name: 'beaconing', defaults: BEACONING_DEFAULTS, create: (c, ctx) => new Beaconing(c, ctx),
};

interface Pair {
  src: string; dst: string; dport: number; proto: string; qname: string | null;
  /** the TLS server name of the pair's latest ClientHello (an encrypted beacon's only cleartext name) */
  sni: string | null;
  first: number; last: number;
  /** sport (tcp) or DNS id of the last beat, -1 when not used */
  lastTag: number;
  /** ring of intervals (grows up to maxIntervals, then wraps) */
  iv: number[]; head: number;
  beats: number;
  alerted: boolean;
  /** what the alert said, for the final update */
  period: number; mad: number; score: number; alertTs: number; beatsAtAlert: number;
  tier: 'strict' | 'jittered';
}

/** Which tier a pair's interval statistics pass, or null (pure: the unit tests call it). */
export function beaconTier(st: BeaconStats, beats: number, c: BeaconingConfig): 'strict' | 'jittered' | null {
  if (st.median < c.minPeriod || st.median > c.maxPeriod || st.score < c.minScore) return null;
  if (st.dispersion <= c.maxDispersion) return 'strict';
  if (c.jitterMinConnections <= 0 || beats < c.jitterMinConnections || st.median < c.jitterMinPeriod) return null;
  if (st.dispersion > c.jitterMaxDispersion) return null;
  if (st.p10 < c.jitterLow * st.median || st.p90 > c.jitterHigh * st.median) return null;
  return 'jittered';
}

export interface BeaconStats {
  n: number; span: number; mean: number; median: number; q1: number; q3: number; mad: number;
  /** 10th and 90th percentiles (the jitter envelope) */
  p10: number; p90: number;
  dispersion: number; skew: number; skewScore: number; madScore: number; countScore: number; score: number;
}

/** IQR/median at which the Bowley skew counts in full */
export const SKEW_FULL = 0.2;

/** Nearest-rank quantile as RITA takes it: index round(q·(n−1)) of the sorted list. */
function at(sorted: number[], q: number): number { return sorted[Math.round(q * (sorted.length - 1))]!; }

/** The beacon statistics of a list of intervals (seconds). */
export function beaconStats(intervals: readonly number[]): BeaconStats {
  const s = [...intervals].sort((a, b) => a - b);
  const n = s.length;
  let span = 0;
  for (const x of s) span += x;
  const mean = n ? span / n : 0;
  if (n === 0) {
    return { n, span: 0, mean: 0, median: 0, q1: 0, q3: 0, mad: 0, p10: 0, p90: 0, dispersion: Infinity, skew: 0, skewScore: 0, madScore: 0, countScore: 0, score: 0 };
  }
  const q1 = at(s, 0.25), median = at(s, 0.5), q3 = at(s, 0.75);
  const dev = s.map((x) => Math.abs(x - median)).sort((a, b) => a - b);
  const mad = at(dev, 0.5);
  const den = q3 - q1;
  const skew = den !== 0 && median !== q1 && median !== q3 ? (q1 + q3 - 2 * median) / den : 0;
  // The shape of the jitter only matters when the jitter is a real part of the
  // period: |skew| is weighted by IQR/median up to SKEW_FULL (RITA works on
  // whole seconds, where sub-second jitter vanishes and the skew is 0).
  const skewScore = 1 - Math.abs(skew) * (median > 0 ? Math.min(1, den / median / SKEW_FULL) : 1);
  const madScore = median > 0 ? Math.max(0, 1 - mad / median) : 0;
  const countScore = mean > 0 ? Math.min(1, median / mean) : 0;
  return {
    n, span, mean, median, q1, q3, mad, p10: n ? at(s, 0.1) : 0, p90: n ? at(s, 0.9) : 0, dispersion: median > 0 ? (1.4826 * mad) / median : Infinity,
    skew, skewScore, madScore, countScore, score: (skewScore + madScore + countScore) / 3,
  };
}


export class Beaconing implements Detector {
  readonly name = 'beaconing';
  readonly consumes: readonly EventType[] = ['tcp_syn', 'conn', 'dns', 'tls_client_hello'];
  readonly keyBy = 'src' as const;
  private readonly pairs: BoundedMap<string, Pair>;
  /** alerted pairs, scanned in advance() for the end of their episode */
  private readonly open = new Map<string, Pair>();
  private ignore: Set<number>;
  private allow: CidrSet;
  alerts = 0;
  beats = 0;
  retransmits = 0;
  outOfOrder = 0;
  evaluations = 0;

  private home: CidrSet | null;
  /** admission of new pairs; the first beat of each pair not yet admitted in its slot (time, tag) */
  private adm: Admission;

  constructor(public cfg: BeaconingConfig = BEACONING_DEFAULTS, private readonly ctx?: DetectorContext) {
    this.home = cfg.fromHomeOnly && ctx ? ctx.homeNet : null;
    this.adm = new Admission(cfg.maxPairs, 2);
    this.pairs = new BoundedMap(cfg.maxPairs, undefined, this.adm);
    this.ignore = new Set(cfg.ignorePorts.map((p) => Number(p)).filter((p) => Number.isInteger(p)));
    this.allow = CidrSet.parse(cfg.allow, 'detectors.beaconing.allow');
  }

  onEvent(e: NetEvent, emit: Emit): void {
    // kind: 1 TCP SYN, 2 UDP flow, 3 DNS query; the cheap filters come before any key is built
    let kind: number, tag: number;
    switch (e.type) {
      case 'tcp_syn': kind = 1; tag = e.sport; break;
      case 'conn': if (e.proto !== 'udp') return; kind = 2; tag = -1; break;
      case 'dns':
        if (!this.cfg.dns || e.is_response || e.qname === '' || e.dport === 5353 || e.dport === 5355) return;
        kind = 3; tag = e.id; break;
      case 'tls_client_hello': {
        // names the server of a TCP pair already counting beats; never creates one
        if (e.sni === null) return;
        const th = mixHash(mixHash(hash32m(e.src), hash32m(e.dst)), (1 << 16) | e.dport);
        if (!this.pairs.mayHave(th)) return;
        const tp = this.pairs.get(this.keyOf(1, e.src, e.dst, e.dport, null));
        if (tp !== undefined) tp.sni = e.sni;
        return;
      }
      default: return;
    }
    if (kind !== 3 && this.ignore.has(e.dport)) return;
    if (this.home !== null && !inSet(this.home, e.src)) return;
    if (!this.allow.empty && (inSet(this.allow, e.src) || inSet(this.allow, e.dst))) return;
    const qname = kind === 3 ? (e as DnsEvent).qname : null;
    const h = mixHash(mixHash(hash32m(e.src), hash32m(qname ?? e.dst)), kind === 3 ? 0x30000 : (kind << 16) | e.dport);
    this.beat(h, kind, e.ts, e.src, e.dst, e.dport, e.proto, tag, qname, emit);
  }

  private keyOf(kind: number, src: string, dst: string, dport: number, qname: string | null): string {
    return kind === 1 ? `t|${src}|${dst}|${dport}` : kind === 2 ? `u|${src}|${dst}|${dport}` : `d|${src}|${qname}`;
  }

  private beat(h: number, kind: number, ts: number, src: string, dst: string, dport: number, proto: string, tag: number, qname: string | null, emit: Emit): void {
    // the key string is built only when the pair may exist (a flood's new pairs never build one)
    let key = '';
    let p: Pair | undefined;
    if (this.pairs.mayHave(h)) { key = this.keyOf(kind, src, dst, dport, qname); p = this.pairs.get(key); }
    if (p === undefined) {
      // A pair's first beat creates nothing: the admission filter keeps its time and tag,
      // and the second beat creates the pair from the first, then counts as usual.
      const adm = this.adm, d = adm.data;
      const i = adm.offer(h);
      if (i >= 0) { d[i + 1] = ts; d[i + 2] = tag; this.beats++; return; }
      const j = adm.take(h);
      const t0 = j >= 0 ? d[j + 1]! : ts, tag0 = j >= 0 ? d[j + 2]! : tag;
      p = { src, dst, dport, proto, qname, sni: null, first: t0, last: t0, lastTag: tag0, iv: [], head: 0, beats: 1, alerted: false, period: 0, mad: 0, score: 0, alertTs: 0, beatsAtAlert: 0, tier: 'strict' };
      key = this.keyOf(kind, src, dst, dport, qname);
      this.pairs.set(key, p, h);
      if (j < 0) { this.beats++; return; } // the first beat was lost (its slot reused): this one is the first
    }
    if (tag >= 0 && tag === p.lastTag) { this.retransmits++; return; }
    if (ts < p.last) { this.outOfOrder++; return; }
    this.pairs.set(key, p); // most recent last
    this.beats++;
    const d = ts - p.last;
    p.last = ts;
    p.lastTag = tag;
    p.beats++;
    if (p.iv.length < this.cfg.maxIntervals) p.iv.push(d);
    else { p.iv[p.head] = d; p.head = (p.head + 1) % this.cfg.maxIntervals; }
    if (p.alerted) return;
    this.evaluate(key, p, ts, emit);
  }

  private evaluate(key: string, p: Pair, ts: number, emit: Emit): void {
    const c = this.cfg;
    const n = p.iv.length;
    if (n + 1 < c.minConnections) return;
    let span = 0;
    for (const x of p.iv) span += x;
    if (span < c.minSpan) return;
    const mean = span / n;
    if (mean < c.minPeriod / 2 || mean > c.maxPeriod * 2) return; // cheap reject: floods and sparse pairs
    this.evaluations++;
    const st = beaconStats(p.iv);
    const tier = beaconTier(st, n + 1, c);
    if (tier === null) return;
    p.alerted = true;
    p.tier = tier;
    p.period = st.median; p.mad = st.mad; p.score = st.score; p.alertTs = ts; p.beatsAtAlert = p.beats;
    this.open.set(key, p);
    this.alerts++;
    emit(this.alert(p, ts, st, false));
    // amortised: end the episodes of pairs evicted from the bounded map
    if (this.open.size > 2 * c.maxPairs) for (const [k, x] of this.open) if (this.pairs.get(k) !== x) this.end(k, x, ts, emit);
  }

  private alert(p: Pair, ts: number, st: BeaconStats | null, update: boolean) {
    const c = this.cfg;
    const target = p.qname !== null ? `${p.qname} (via ${p.dst})` : `${p.dst}:${p.dport}/${p.proto}${p.sni !== null ? ` (TLS ${p.sni})` : ''}`;
    const span = p.last - p.first;
    const a = makeAlert({
      kind: this.name, severity: 'medium', confidence: Math.max(0.5, Math.min(0.95, p.score)),
      src: p.src, dst: p.dst, ...(p.qname === null ? { dport: p.dport } : {}),
      ts, ts_first: p.first, ts_last: p.last,
      summary: update
        ? `${p.src} beaconed to ${target} every ${round3(p.period)} s: ${p.beats} connections over ${Math.round(span)} s (episode ended)`
        : `${p.src} connects to ${target} every ${round3(p.period)} s ±${round3(p.mad)} s${p.tier === 'jittered' ? ' (jittered)' : ''}: ${p.beats} connections over ${Math.round(span)} s, beacon score ${round3(p.score)}`,
      evidence: {
        connections: p.beats, span_s: round3(span), period_s: round3(p.period), mad_s: round3(p.mad), score: round3(p.score), tier: p.tier,
        ...(st ? {
          intervals_used: st.n, dispersion: round3(st.dispersion), bowley_skew: round3(st.skew), skew_score: round3(st.skewScore),
          madm_score: round3(st.madScore), count_score: round3(st.countScore), q1_s: round3(st.q1), q3_s: round3(st.q3),
          p10_s: round3(st.p10), p90_s: round3(st.p90),
          sample_intervals_s: p.iv.slice(-10).map(round3),
        } : { idle_timeout_s: Math.max(c.idleTimeout, 4 * p.period) }),
        proto: p.proto, ...(p.qname !== null ? { qname: p.qname } : {}), ...(p.sni !== null ? { sni: p.sni } : {}),
        thresholds: {
          min_connections: c.minConnections, min_span_s: c.minSpan, period_s: [c.minPeriod, c.maxPeriod], max_dispersion: c.maxDispersion, min_score: c.minScore,
          jitter: { min_connections: c.jitterMinConnections, min_period_s: c.jitterMinPeriod, max_dispersion: c.jitterMaxDispersion, p10_over_median: c.jitterLow, p90_over_median: c.jitterHigh },
        },
      },
      technique: 'T1071',
    });
    if (update) a.update = true;
    return a;
  }

  /**
   * SIGHUP: every setting applies in place; the pairs' beats and intervals
   * are kept. A smaller `maxIntervals` keeps each pair's latest intervals.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.beaconing.allow');
    const old = this.cfg.maxIntervals;
    this.cfg = c;
    this.allow = allow;
    this.ignore = new Set(c.ignorePorts.map((p) => Number(p)).filter((p) => Number.isInteger(p)));
    this.home = c.fromHomeOnly && this.ctx ? this.ctx.homeNet : null;
    this.pairs.cap = c.maxPairs;
    if (c.maxIntervals !== old) {
      // each ring in time order, the latest maxIntervals kept; it grows or wraps from there
      for (const p of this.pairs.values()) {
        const iv = p.iv.length === old ? [...p.iv.slice(p.head), ...p.iv.slice(0, p.head)] : p.iv;
        p.iv = iv.slice(-Math.max(1, c.maxIntervals));
        p.head = 0;
      }
    }
    return true;
  }

  advance(now: number, emit: Emit): void {
    for (const [k, p] of this.open) {
      const evicted = this.pairs.get(k) !== p;
      if (evicted || now - p.last > Math.max(this.cfg.idleTimeout, 4 * p.period)) this.end(k, p, now, emit);
    }
  }

  private end(k: string, p: Pair, now: number, emit: Emit): void {
    this.open.delete(k);
    if (this.pairs.get(k) === p) this.pairs.delete(k); // a later resumption starts a new episode
    if (p.beats === p.beatsAtAlert) return; // nothing new since the alert
    this.alerts++;
    emit(this.alert(p, Math.max(now, p.last), null, true));
  }

  flush(now: number, emit: Emit): void {
    for (const [k, p] of [...this.open]) this.end(k, p, now, emit);
  }

  stats(): Record<string, number> {
    return {
      pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, first_beats_filtered: this.adm.filtered, episodes_open: this.open.size, beats: this.beats,
      syn_retransmits: this.retransmits, out_of_order: this.outOfOrder, evaluations: this.evaluations, alerts: this.alerts,
    };
  }
}
