/**
 * behavior_anomaly — an unsupervised streaming score of each host's
 * behaviour, for what no rule names. Per source host (what the host
 * INITIATES: SYNs, UDP flows, ICMP requests, DNS queries, HTTP requests,
 * connection outcomes and SSH authentication results as originator),
 * damped incremental statistics in the manner of Kitsune's AfterImage
 * (ymirsky/Kitsune-py netStat.py): every counter decays as 2^(−λ·Δt) at
 * three time scales, λ = 5, 1, 0.1 /s (half-lives 0.2 s, 1 s, 10 s; Kitsune
 * uses 5, 3, 1, 0.1, 0.01 per packet). Six features per scale, 18 in all:
 *   events_per_s      initiated events
 *   new_dsts_per_s    events to a destination not among the host's recent
 *                     ones (a 32-slot fingerprint cache: approximate distinct
 *                     destinations, constant memory)
 *   new_ports_per_s   the same for destination ports
 *   fail_ratio        failed outcomes (rejected, unanswered, SSH auth failure)
 *                     / (outcomes + 2) — the +2 keeps one failure from
 *                     looking like 100 %
 *   dns_per_s         DNS queries
 *   log2_bytes_per_conn  bytes (both ways) per finished connection
 *
 * Model: each host is compared with ITS OWN baseline — an EWMA mean and
 * variance per feature (weight `alpha` per sample), sampled once per second
 * in which the host is active (so a burst is one sample, not thousands). A
 * host seen for the first time after the learning period starts from the
 * POPULATION baseline (the same statistics over all hosts' samples, weight
 * `populationAlpha`), so a brand-new scanner is judged against "a typical
 * host" at once. Per feature z = (x − mean) / max(sd, floor), floors: 3
 * events per half-life and half the usual value for rates, 0.15 for the
 * ratio, 2 for log2 bytes (without them a very steady host alerts on one
 * extra connection); only the "more than usual" side counts, clipped at 50.
 * Each behaviour's z is its largest over the three time scales; the score is
 * the RMS of the `topFeatures` largest behaviour z's (so one behaviour seen
 * at three scales is not counted three times; one extreme behaviour, z 50,
 * scores 29). A feature is judged only after `minObservations` defined
 * samples (bytes/conn is undefined until connections finish). Every event is
 * scored (a flood is caught within its first second); the baseline is not
 * learned while the host is in an anomalous episode (for at most
 * `maxEpisode` s, so a lasting change is absorbed eventually).
 *
 * Learning: nothing is scored during the first `learnSeconds` of packet
 * time, nor before the population has `minObservations` samples; a host not
 * seeded from the population needs `minObservations` own samples.
 *
 * One alert per host episode (src = the host, severity low, medium at 2×
 * threshold, confidence 0.3 at the threshold rising toward 0.9), evidence =
 * the top features with value, baseline mean, sd and z; the episode ends
 * after `idleTimeout` s without an anomalous event, with a final
 * `update: true` alert carrying the peak score and counts. Bounded: ≤
 * `maxHosts` hosts (LRU, evictions counted), about 1 KiB each.
 *
 * Admission: a host gets its record at its SECOND initiated event (SYN, UDP
 * flow, ICMP request, DNS query, HTTP request), replayed from its first one
 * (kept in an admission filter, bounded-state.ts), so its counters are as if
 * it had been tracked from the start; outcomes and connection summaries of a
 * host without a record are not counted. A spoofed-source SYN flood (one SYN
 * per source) therefore creates no host at all — before this it created one
 * per SYN, outcome and summary (3 per source), 2.2 s of a 6.7 s flood run —
 * and no longer feeds thousands of one-event "hosts" into the population
 * baseline either.
 *
 * Defaults, next to the anchors: learn 600 s and 60 samples (Kitsune: 5,000
 * packets to learn its feature map, 50,000 to train), alpha 0.02, population
 * 0.005, threshold 8, top 3 features, idle 120 s, episode learning freeze
 * ≤ 600 s, ≤ 20k hosts. ntopng's host "score anomaly" check compares a
 * host's score with its own history similarly (disabled by default).
 *
 * Measured on the 21 lab captures (pcaps/*.pcap) and the 57 public ones
 * (../shared/pcaps/public). They last 0–91 s each (the whole lab sequence
 * 356 s): with the DEFAULT learning period (600 s, 60 samples) the detector
 * judges nothing in any of them — 0 alerts, which proves nothing. Shortened
 * runs (learnSeconds=0, minObservations=5, "short"):
 *
 *   run                                         alerts  right  false positives
 *   each capture alone, defaults                   0      –     0 (nothing judged)
 *   each capture alone, short                      0      –     0; highest benign score 7.29
 *                                                                (chrissanders arppoison), 4.00
 *                                                                (benign-dns); no attacker is
 *                                                                flagged: its only history is
 *                                                                the attack itself
 *   benign history (dns-basic, http-basic,         8      8/8   0 on benign-browsing, -dns,
 *   ssh-login: 10 s, ~8 samples of 10.77.0.1)                   -ssh, -busy after the history
 *   then ONE capture, short; flagged 10.77.0.1 (the attacker) within 0.0–2.6 s of the start,
 *   score 8.0–8.2, in: nmap-syn-scan, nmap-connect-scan, nmap-udp-scan, nmap-ping-sweep,
 *   hping3-icmp-flood, dns-tunnel, dns-nxdomain-burst, http-path-scan. Missed (max score):
 *   nmap-slow-scan 2.1, hping3-syn-flood 1.3 (spoofed sources: each "host" sends one SYN),
 *   ssh-bruteforce-fail 2.5 / -success 3.1, large-upload 1.3, beacon 1.3 — the rule
 *   detectors' cases (port_scan, syn_flood, ssh_bruteforce, exfiltration, beaconing)
 *   all 21 lab captures in time order, short      1      1/1   0; 10.77.0.1 at the start of
 *                                                                nmap-syn-scan; the attacker
 *                                                                never idles 120 s, so the one
 *                                                                episode absorbs its later attacks
 *   the 7 benign lab captures in time order        0      –     0; highest score 6.76
 *   unit test: 30 min, 40 simulated browsers,      0      –     0 (> 10k events judged)
 *   defaults
 *
 * So: on this corpus no false positive in any setting, but the evidence for
 * the defaults is the synthetic unit test only; the bundled captures are too
 * short for a 10-minute learning period.
 *
 * The first real capture long enough for the defaults, pcaps/benign-workday.pcap
 * (15.5 min of two workstations' ordinary traffic, npm run score): ONE FALSE
 * POSITIVE — 10.77.19.12 during an apt-like update (60 packages over 8
 * parallel connections, 11.7 min in): events_per_s@hl1s 30 vs 0.93, score
 * 8.07 at the alert, peak 13.0. The attackers flagged above scored 8.0–8.2, so
 * no threshold separates them from this burst. So it is OFF by default
 * (`detectors.behavior_anomaly.enabled: true` turns it on): the rule
 * detectors name every one of those attacks already, and an unsupervised
 * score that alarms on an ordinary update burst costs more trust than it
 * adds (README "Detection scorecard").
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { round3 } from './format.js';
import { BoundedMap } from './window.js';
import { Admission, hash32m, mergeSettings } from './bounded-state.js';
import { ipv4, ipv4Text } from './ip.js';
import { CidrSet } from '../util/cidr.js';
import type { DetectorSpec } from './spec.js';

export interface BehaviorAnomalyConfig {
  /** seconds of packet time, from the first event, during which nothing is scored */
  learnSeconds: number;
  /** population samples before scoring; own samples for a host not seeded from the population */
  minObservations: number;
  /** EWMA weight of a host's own per-second sample */
  alpha: number;
  /** EWMA weight of any host's sample in the population baseline */
  populationAlpha: number;
  /** RMS of the top z-scores that raises an alert */
  threshold: number;
  topFeatures: number;
  /** seconds without an anomalous event that end an episode */
  idleTimeout: number;
  /** seconds an episode may freeze its host's baseline */
  maxEpisode: number;
  maxHosts: number;
  /** CIDRs never scored */
  allow: string[];
}

export const BEHAVIOR_ANOMALY_DEFAULTS: BehaviorAnomalyConfig = {
  learnSeconds: 600, minObservations: 60, alpha: 0.02, populationAlpha: 0.005, threshold: 8, topFeatures: 3,
  idleTimeout: 120, maxEpisode: 600, maxHosts: 20_000, allow: [],
};

export const behaviorAnomalySpec: DetectorSpec<BehaviorAnomalyConfig> = {
  name: 'behavior_anomaly', defaults: BEHAVIOR_ANOMALY_DEFAULTS, enabledByDefault: false, create: (c) => new BehaviorAnomaly(c),
};

/** decay rates per second; half-life 1/λ s */
export const LAMBDAS = [5, 1, 0.1] as const;
const NL = LAMBDAS.length;
// damped counters per λ
const C_N = 0, C_ND = 1, C_NP = 2, C_OUT = 3, C_FAIL = 4, C_DNS = 5, C_BYTES = 6, C_CONNS = 7, NC = 8;
const BASE_FEATURES = ['events_per_s', 'new_dsts_per_s', 'new_ports_per_s', 'fail_ratio', 'dns_per_s', 'log2_bytes_per_conn'] as const;
const NB = BASE_FEATURES.length;
export const NF = NB * NL;
export const FEATURE_NAMES: readonly string[] = LAMBDAS.flatMap((l) => BASE_FEATURES.map((f) => `${f}@hl${1 / l}s`));
/**
 * sd floors: a rate must rise by more than 3 events per half-life (and by half
 * its usual value) per unit of z; the failure ratio by 0.15; log2 bytes by 2
 * (a factor of 4). Without them a host with a very steady baseline would
 * alert on one extra connection.
 */
const ABS_FLOOR = LAMBDAS.flatMap((l) => [3 * l * Math.LN2, 3 * l * Math.LN2, 3 * l * Math.LN2, 0.15, 3 * l * Math.LN2, 2]);
const REL_FLOOR = LAMBDAS.flatMap(() => [0.5, 0.5, 0.5, 0, 0.5, 0]);
const Z_CLIP = 50;
const CACHE = 32;
const LN2 = Math.LN2;
// what an event adds to its initiator (bit flags)
const F_COUNT = 1, F_NOVEL = 2, F_OUTCOME = 4, F_FAIL = 8, F_DNS = 16, F_CONN = 32;

interface Episode { first: number; last: number; events: number; peak: number; peakTop: TopFeature[]; dsts: string[] }
export interface TopFeature { feature: string; value: number; baseline_mean: number; baseline_sd: number; z: number }

interface Host {
  /** NL × NC damped counters */
  c: Float64Array;
  /** baseline mean and variance per feature, and how many defined samples each learned */
  mean: Float64Array;
  var: Float64Array;
  fobs: Float64Array;
  /** destination and port fingerprint caches */
  dstCache: Uint32Array;
  portCache: Uint32Array;
  t: number;
  sampleSec: number;
  obs: number;
  seeded: boolean;
  recentDsts: string[];
  ep: Episode | null;
}

/** FNV-1a, never 0 (0 marks an empty cache slot). */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return (h >>> 0) || 1;
}


export class BehaviorAnomaly implements Detector {
  readonly name = 'behavior_anomaly';
  readonly consumes: readonly EventType[] = ['tcp_syn', 'conn', 'conn_established', 'conn_rejected', 'conn_unanswered', 'ssh_auth', 'dns', 'http_request', 'icmp'];
  /** hosts are also judged against the population baseline */
  readonly keyBy = 'global' as const;
  private readonly hosts: BoundedMap<string, Host>;
  private readonly open = new Map<string, Host>();
  private allow: CidrSet;
  private readonly popMean = new Float64Array(NF);
  private readonly popVar = new Float64Array(NF);
  private readonly popFobs = new Float64Array(NF);
  private popObs = 0;
  private start = -1;
  private readonly x = new Float64Array(NF);
  private readonly z = new Float64Array(NF);
  private readonly best: number[] = Array<number>(NB).fill(0);
  alerts = 0;
  scored = 0;
  evicted = 0;
  /** highest score seen (stats: how close benign traffic comes to the threshold) */
  maxScore = 0;
  /** admission of new hosts, and the first initiated event of each host not yet admitted (per slot) */
  private adm: Admission;
  /** per slot: the first event's destination when not IPv4 (its time, flags, bytes, port and IPv4 destination are in the slot) */
  private fDst: (string | undefined)[];

  constructor(public cfg: BehaviorAnomalyConfig = BEHAVIOR_ANOMALY_DEFAULTS) {
    this.adm = new Admission(cfg.maxHosts, 5);
    this.hosts = new BoundedMap(cfg.maxHosts, undefined, this.adm);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.behavior_anomaly.allow');
    this.fDst = new Array<string | undefined>(this.adm.slots);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    // what the event adds to its initiator: events, novelty, outcome, failure, DNS, finished connection (+ bytes)
    let f = 0, bytes = 0;
    const src = e.src;
    switch (e.type) {
      case 'tcp_syn': f = F_COUNT | F_NOVEL; break;
      case 'conn':
        f = F_CONN; bytes = e.orig_bytes + e.resp_bytes;
        if (e.proto === 'udp') f |= F_COUNT | F_NOVEL;
        break;
      case 'conn_established': f = F_OUTCOME; break;
      case 'conn_rejected': case 'conn_unanswered': f = F_OUTCOME | F_FAIL; break;
      case 'ssh_auth': if (e.auth !== 'unknown') f = e.auth === 'failure' ? F_OUTCOME | F_FAIL : F_OUTCOME; break;
      case 'dns': if (e.is_response) return; f = F_COUNT | F_DNS; break;
      case 'http_request': f = F_COUNT; break;
      case 'icmp': {
        const t = e.icmp_type;
        // requests only: not echo replies (0, 129) nor errors (3, 4, 5, 11, 12; v6 1-4), which answer someone else
        if (e.proto === 'icmp' ? t === 0 || t === 3 || t === 4 || t === 5 || t === 11 || t === 12 : t === 129 || t < 128) return;
        f = F_COUNT | F_NOVEL;
        break;
      }
      default: return;
    }
    if (!this.allow.empty && this.allow.has(src)) return;
    if (this.start < 0) this.start = e.ts;
    const k = hash32m(src);
    let h = this.hosts.mayHave(k) ? this.hosts.get(src) : undefined;
    if (h === undefined) {
      // Outcomes and connection summaries only update hosts already tracked; a host is
      // admitted at its second initiated event, seeded with its first (a spoofed source
      // sends one SYN: it never gets a record).
      if ((f & F_COUNT) === 0) return;
      const adm = this.adm, d = adm.data, st = adm.stride;
      const i = adm.offer(k);
      if (i >= 0) {
        const v = ipv4(e.dst);
        d[i + 1] = e.ts; d[i + 2] = f; d[i + 3] = bytes; d[i + 4] = e.dport; d[i + 5] = v;
        if (v < 0) this.fDst[i / st] = e.dst; // not IPv4: kept as text
        return;
      }
      const j = adm.take(k);
      const dst = j < 0 ? undefined : d[j + 5]! >= 0 ? ipv4Text(d[j + 5]!) : this.fDst[j / st];
      if (j >= 0) this.fDst[j / st] = undefined;
      if (j >= 0 && dst !== undefined && d[j + 1]! <= e.ts) {
        h = this.newHost(d[j + 1]!, emit);
        this.hosts.set(src, h, k);
        this.apply(src, h, d[j + 1]!, d[j + 2]!, d[j + 3]!, dst, d[j + 4]!, emit);
      } else {
        h = this.newHost(e.ts, emit);
      }
      this.hosts.set(src, h, k);
    } else this.hosts.set(src, h);
    this.apply(src, h, e.ts, f, bytes, e.dst, e.dport, emit);
  }

  private apply(src: string, h: Host, ts: number, f: number, bytes: number, dst: string, dport: number, emit: Emit): void {
    const t = Math.max(ts, h.t);
    this.decay(h, t);
    const c = h.c;
    let nd = 0, np = 0;
    if ((f & F_NOVEL) !== 0) {
      const hd = fnv(dst);
      if (h.dstCache[hd & (CACHE - 1)] !== hd) {
        h.dstCache[hd & (CACHE - 1)] = hd; nd = 1;
        h.recentDsts.push(dst); if (h.recentDsts.length > 5) h.recentDsts.shift();
      }
      const hp = ((dport + 1) * 2654435761) >>> 0 || 1;
      if (h.portCache[(hp >>> 27) & (CACHE - 1)] !== hp) { h.portCache[(hp >>> 27) & (CACHE - 1)] = hp; np = 1; }
    }
    const count = (f & F_COUNT) !== 0 ? 1 : 0, outcome = (f & F_OUTCOME) !== 0 ? 1 : 0, fail = (f & F_FAIL) !== 0 ? 1 : 0;
    const dns = (f & F_DNS) !== 0 ? 1 : 0, conn = (f & F_CONN) !== 0 ? 1 : 0;
    for (let i = 0; i < NL; i++) {
      const o = i * NC;
      c[o + C_N]! += count;
      c[o + C_ND]! += nd;
      c[o + C_NP]! += np;
      c[o + C_OUT]! += outcome;
      c[o + C_FAIL]! += fail;
      c[o + C_DNS]! += dns;
      if (conn) { c[o + C_BYTES]! += bytes; c[o + C_CONNS]! += 1; }
    }
    this.features(h);
    if (this.judging(h, t)) this.score(src, h, t, dst, emit);
    // one sample per active second
    const sec = Math.floor(t);
    if (sec !== h.sampleSec) {
      h.sampleSec = sec;
      const frozen = h.ep !== null && t - h.ep.first <= this.cfg.maxEpisode;
      if (!frozen) { this.learn(h.mean, h.var, h.fobs, this.cfg.alpha); h.obs++; }
      if (h.ep === null) { this.learn(this.popMean, this.popVar, this.popFobs, this.cfg.populationAlpha); this.popObs++; }
    }
  }

  /**
   * A host's state, seeded from the population once it is ready. At the cap
   * the least recently active host is evicted and its arrays are reused, so
   * a flood of new sources allocates nothing.
   */
  private newHost(ts: number, emit: Emit): Host {
    const seeded = this.popObs >= this.cfg.minObservations && ts - this.start >= this.cfg.learnSeconds;
    let h: Host | undefined;
    if (this.hosts.size >= this.cfg.maxHosts) {
      const first = this.hosts.entries().next();
      if (!first.done) {
        const [k, old] = first.value;
        if (old.ep !== null) this.end(k, old, ts, emit);
        this.hosts.delete(k);
        this.evicted++;
        h = old;
        h.c.fill(0); h.dstCache.fill(0); h.portCache.fill(0);
        h.recentDsts.length = 0;
      }
    }
    if (h === undefined) {
      h = {
        c: new Float64Array(NL * NC), mean: new Float64Array(NF), var: new Float64Array(NF), fobs: new Float64Array(NF),
        dstCache: new Uint32Array(CACHE), portCache: new Uint32Array(CACHE), t: ts, sampleSec: -1, obs: 0, seeded,
        recentDsts: [], ep: null,
      };
    }
    if (seeded) { h.mean.set(this.popMean); h.var.set(this.popVar); h.fobs.set(this.popFobs); }
    else { h.mean.fill(0); h.var.fill(0); h.fobs.fill(0); }
    h.t = ts; h.sampleSec = -1; h.obs = 0; h.seeded = seeded; h.ep = null;
    return h;
  }

  /**
   * SIGHUP: every setting applies in place; each host keeps its counters,
   * baseline and episode, and the population baseline is kept.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.behavior_anomaly.allow');
    this.cfg = c;
    this.allow = allow;
    this.hosts.cap = c.maxHosts;
    if (c.maxHosts > this.adm.capacity) {
      const adm = new Admission(c.maxHosts, 5);
      this.hosts.reindex(adm);
      this.adm = adm;
      this.fDst = new Array<string | undefined>(adm.slots);
    }
    return true;
  }

  private decay(h: Host, t: number): void {
    const dt = t - h.t;
    if (dt > 0) {
      const c = h.c;
      for (let i = 0; i < NL; i++) {
        const f = Math.exp(-LAMBDAS[i]! * dt * LN2);
        const o = i * NC;
        for (let j = 0; j < NC; j++) c[o + j]! *= f;
      }
    }
    h.t = t;
  }

  /** the 18 features of the host's current counters into this.x */
  private features(h: Host): void {
    const c = h.c, x = this.x;
    for (let i = 0; i < NL; i++) {
      const o = i * NC, k = i * NB, perS = LAMBDAS[i]! * LN2; // damped count → rate per second
      x[k] = c[o + C_N]! * perS;
      x[k + 1] = c[o + C_ND]! * perS;
      x[k + 2] = c[o + C_NP]! * perS;
      x[k + 3] = c[o + C_FAIL]! / (c[o + C_OUT]! + 2);
      x[k + 4] = c[o + C_DNS]! * perS;
      // undefined (NaN: neither learned nor scored) while no finished connection is recent
      const conns = c[o + C_CONNS]!;
      x[k + 5] = conns > 0.01 ? Math.log2(1 + c[o + C_BYTES]! / conns) : NaN;
    }
  }

  /** EWMA mean/variance update with the defined features of this.x; the first samples use the running mean */
  private learn(mean: Float64Array, v: Float64Array, fobs: Float64Array, alpha: number): void {
    const x = this.x;
    for (let j = 0; j < NF; j++) {
      const xj = x[j]!;
      if (Number.isNaN(xj)) continue;
      const n = fobs[j]!;
      fobs[j] = n + 1;
      if (n === 0) { mean[j] = xj; v[j] = 0; continue; }
      const a = Math.max(alpha, 1 / (n + 1));
      const d = xj - mean[j]!;
      const inc = a * d;
      mean[j]! += inc;
      v[j] = (1 - a) * (v[j]! + d * inc);
    }
  }

  private judging(h: Host, t: number): boolean {
    const c = this.cfg;
    if (t - this.start < c.learnSeconds || this.popObs < c.minObservations) return false;
    return h.seeded || h.obs >= c.minObservations;
  }

  private score(src: string, h: Host, t: number, dst: string, emit: Emit): void {
    const x = this.x, z = this.z, minObs = this.cfg.minObservations;
    for (let j = 0; j < NF; j++) {
      const xj = x[j]!;
      if (Number.isNaN(xj) || h.fobs[j]! < minObs) { z[j] = 0; continue; }
      const m = h.mean[j]!;
      const sd = Math.max(Math.sqrt(Math.max(0, h.var[j]!)), ABS_FLOOR[j]!, REL_FLOOR[j]! * Math.abs(m));
      const v = (xj - m) / sd;
      z[j] = v > 0 ? Math.min(v, Z_CLIP) : 0;
    }
    // one z per behaviour (the largest over the time scales), then the top k behaviours
    const best = this.best;
    for (let b = 0; b < NB; b++) {
      let jb = b;
      for (let i = 1; i < NL; i++) if (z[i * NB + b]! > z[jb]!) jb = i * NB + b;
      best[b] = jb;
    }
    const k = Math.max(1, Math.min(NB, Math.round(this.cfg.topFeatures)));
    const top = [...best].sort((a, b) => z[b]! - z[a]!).slice(0, k);
    let ss = 0;
    for (const j of top) ss += z[j]! * z[j]!;
    const s = Math.sqrt(ss / k);
    this.scored++;
    if (s > this.maxScore) this.maxScore = s;
    if (s < this.cfg.threshold) return;
    const feats = (): TopFeature[] => top.filter((j) => z[j]! > 0).map((j) => ({
      feature: FEATURE_NAMES[j]!, value: round3(x[j]!), baseline_mean: round3(h.mean[j]!),
      baseline_sd: round3(Math.sqrt(Math.max(0, h.var[j]!))), z: round3(z[j]!),
    }));
    if (h.ep === null) {
      h.ep = { first: t, last: t, events: 1, peak: s, peakTop: feats(), dsts: [...h.recentDsts, dst].filter((d, i, a) => a.indexOf(d) === i).slice(-5) };
      this.open.set(src, h);
      this.alerts++;
      emit(this.alert(src, h, t, false));
    } else {
      const ep = h.ep;
      ep.last = t; ep.events++;
      if (s > ep.peak) { ep.peak = s; ep.peakTop = feats(); }
      if (!ep.dsts.includes(dst) && ep.dsts.length < 10) ep.dsts.push(dst);
    }
  }

  private alert(src: string, h: Host, ts: number, update: boolean) {
    const ep = h.ep!, c = this.cfg;
    const a = makeAlert({
      kind: this.name, severity: ep.peak >= 2 * c.threshold ? 'medium' : 'low',
      confidence: Math.min(0.9, 0.3 + 0.6 * (1 - c.threshold / Math.max(ep.peak, c.threshold))),
      src, ts, ts_first: ep.first, ts_last: ep.last,
      summary: update
        ? `${src} behaved unlike its baseline for ${Math.round(ep.last - ep.first)} s (${ep.events} anomalous events, peak score ${round3(ep.peak)}; episode ended)`
        : `${src} behaves unlike its ${h.seeded && h.obs < c.minObservations ? 'population' : 'own'} baseline (score ${round3(ep.peak)} ≥ ${c.threshold}): ${ep.peakTop.map((f) => `${f.feature} ${f.value} vs ${f.baseline_mean}`).join(', ')}`,
      evidence: {
        score: round3(ep.peak), threshold: c.threshold, top_features: ep.peakTop, anomalous_events: ep.events,
        baseline: h.seeded && h.obs < c.minObservations ? 'population' : 'host', host_samples: h.obs,
        sample_destinations: ep.dsts,
        ...(update ? { idle_timeout_s: c.idleTimeout } : {}),
      },
    });
    if (update) a.update = true;
    return a;
  }

  advance(now: number, emit: Emit): void {
    for (const [k, h] of this.open) {
      if (h.ep === null) { this.open.delete(k); continue; }
      if (now - h.ep.last > this.cfg.idleTimeout || this.hosts.get(k) !== h) this.end(k, h, now, emit);
    }
  }

  private end(k: string, h: Host, now: number, emit: Emit): void {
    this.open.delete(k);
    if (h.ep !== null && h.ep.events > 1) { this.alerts++; emit(this.alert(k, h, Math.max(now, h.ep.last), true)); }
    h.ep = null;
  }

  flush(now: number, emit: Emit): void {
    for (const [k, h] of [...this.open]) this.end(k, h, now, emit);
  }

  stats(): Record<string, number> {
    return {
      hosts: this.hosts.size, hosts_evicted: this.evicted + this.hosts.evicted, first_events_filtered: this.adm.filtered, population_samples: this.popObs,
      episodes_open: this.open.size, scored: this.scored, max_score_x1000: Math.round(this.maxScore * 1000), alerts: this.alerts,
    };
  }
}
