/**
 * volume_surge — traffic to one destination far above ITS OWN baseline
 * (MITRE T1498, network denial of service).
 *
 * Per destination, the packet-level events addressed to it (`types`: SYNs,
 * ICMP, DNS messages, HTTP requests — events that carry their own size when
 * they happen; `conn` summaries only know their bytes at the end and HTTP
 * responses include the declared body at once, so both are left out) are
 * summed per `bucket` (10 s) as messages and bytes (bytes of `byteTypes`
 * only: SYNs, ICMP, DNS — an HTTP request's size includes its declared body,
 * and a large upload is the exfiltration detector's business). Each closed bucket updates
 * an exponentially weighted mean and variance (weight `alpha`, default 0.1:
 * ≈ the last 10 buckets) — quiet buckets count as zeros. After `learnBuckets`
 * buckets (30 = 5 min) since the destination was first seen, a bucket alerts
 * when, for messages or for bytes,
 *   value > mean + k·sd   (k = 6)
 *   value > ratio × mean  (ratio = 3: a steady busy host is not alarmed by +20 %)
 *   value ≥ minRate / minByteRate per second × bucket (200 msg/s, 1 MB/s)
 * The check also runs inside the open bucket, so a surge alerts as soon as it
 * crosses, not at the bucket's end. Anomalous buckets are learned clipped at
 * the threshold (a long attack is not absorbed into the baseline at once —
 * MIDAS's weakness, RejectMIDAS's fix). One alert per destination episode;
 * `quietBuckets` (3) normal buckets in a row, or end of input, end it with a
 * final `update: true` alert (peak, total, dominant source).
 *
 * Anchors: ntopng's host traffic-volume/score anomaly checks (per-host
 * baselines, engaged/released), Kitsune's damped per-host statistics, MIDAS
 * (per-edge counts vs history). None publishes a packet-rate default; the
 * absolute floors here follow ntopng's 256/s flood rates.
 *
 * Bounded: ≤ maxDests destinations (one small record each, least recently
 * active evicted and counted; an episode in progress gets its final alert).
 * A destination first seen during a flood has no baseline: syn_flood and
 * icmp_flood judge absolute rates.
 */
import type { Detector, Emit } from './detector.js';
import { eventTypes, type EventType, type NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { LruMap, TopK } from './sketch.js';
import { fmtDur, round2 } from './format.js';
import { mergeSettings } from './bounded-state.js';

export interface VolumeSurgeConfig {
  /** seconds per bucket */
  bucket: number;
  alpha: number;
  k: number;
  ratio: number;
  learnBuckets: number;
  /** messages per second: floor for an alert */
  minRate: number;
  /** bytes per second: floor for an alert */
  minByteRate: number;
  quietBuckets: number;
  maxDests: number;
  /** events counted as messages */
  types: string[];
  /** events whose size counts as bytes (an HTTP request's size includes its declared body: an upload is exfiltration's business) */
  byteTypes: string[];
  /** destinations never judged (CIDR list: backup targets, busy servers) */
  allow: string[];
}

export const VOLUME_SURGE_DEFAULTS: VolumeSurgeConfig = {
  bucket: 10, alpha: 0.1, k: 6, ratio: 3, learnBuckets: 30, minRate: 200, minByteRate: 1_000_000,
  quietBuckets: 3, maxDests: 50_000, types: ['tcp_syn', 'icmp', 'dns', 'http_request'],
  byteTypes: ['tcp_syn', 'icmp', 'dns'], allow: [],
};

export const volumeSurgeSpec: DetectorSpec<VolumeSurgeConfig> = {
  name: 'volume_surge', defaults: VOLUME_SURGE_DEFAULTS, create: (c) => new VolumeSurge(c),
};

/** Buckets of zeros applied one by one at most; longer gaps decay in closed form. */
const MAX_ZERO_STEPS = 64;

interface Episode {
  first: number; last: number;
  msgs: number; bytes: number;
  peakMsgs: number; peakBytes: number;
  quiet: number;
  top: TopK;
  metric: string;
  baseline: { msgs_mean: number; msgs_sd: number; bytes_mean: number; bytes_sd: number };
}

interface Dest {
  dst: string;
  /** index of the open bucket */
  b: number;
  msgs: number; bytes: number;
  mM: number; vM: number; mB: number; vB: number;
  /** buckets learned */
  n: number;
  /** thresholds for the open bucket (Infinity while learning) */
  thrM: number; thrB: number;
  ep: Episode | null;
  last: number;
}

export class VolumeSurge implements Detector {
  readonly name = 'volume_surge';
  readonly keyBy = 'dst' as const;
  consumes: readonly EventType[];
  private readonly dests: LruMap<string, Dest>;
  private readonly episodes = new Set<Dest>();
  private types: Set<string>;
  private byteTypes: Set<string>;
  private allow: CidrSet;
  private readonly span: number;
  private emitRef: Emit | null = null;
  /** the destination of the latest message (still in `dests`) */
  private lastDest: Dest | null = null;
  alerts = 0;

  constructor(public cfg: VolumeSurgeConfig = VOLUME_SURGE_DEFAULTS, _ctx?: DetectorContext) {
    this.types = new Set(cfg.types);
    this.consumes = eventTypes(cfg.types);
    this.byteTypes = new Set(cfg.byteTypes);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.volume_surge.allow');
    this.span = Math.max(1, cfg.bucket);
    this.dests = new LruMap(cfg.maxDests, (_k, d) => {
      if (this.lastDest === d) this.lastDest = null;
      if (d.ep) this.end(d, this.emitRef, d.last);
    });
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (!this.types.has(e.type)) return;
    if (!this.allow.empty && this.allow.has(e.dst)) return;
    this.emitRef = emit;
    const b = Math.floor(e.ts / this.span);
    // one-entry memo: a flood's messages all go to one destination (each flow's address is a
    // new string, whose hash the map would compute again)
    const m = this.lastDest;
    let d = m !== null && m.dst === e.dst ? m : this.dests.get(e.dst);
    if (d === undefined) {
      d = { dst: e.dst, b, msgs: 0, bytes: 0, mM: 0, vM: 0, mB: 0, vB: 0, n: 0, thrM: Infinity, thrB: Infinity, ep: null, last: e.ts };
      this.dests.set(e.dst, d);
    } else if (b > d.b) {
      this.roll(d, b, emit);
      this.dests.touch(e.dst, d);
    }
    this.lastDest = d;
    const size = this.byteTypes.has(e.type) ? e.size : 0;
    d.msgs++;
    d.bytes += size;
    if (e.ts > d.last) d.last = e.ts;
    const ep = d.ep;
    if (ep !== null) {
      ep.msgs++; ep.bytes += size; ep.top.add(e.src);
      if (e.ts > ep.last) ep.last = e.ts;
      return;
    }
    const overM = d.msgs > d.thrM, overB = d.bytes > d.thrB;
    if (overM || overB) this.start(d, e.ts, e.src, overM ? 'messages' : 'bytes', emit);
  }

  /**
   * SIGHUP: alpha, k, ratio, learnBuckets, the rate floors, quietBuckets,
   * types, byteTypes, allow and maxDests apply in place — baselines and open
   * episodes are kept; new thresholds take effect from the next bucket.
   * `bucket` is the unit of every learned baseline (messages per bucket): a
   * change rebuilds.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['bucket']);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.volume_surge.allow');
    this.cfg = c;
    this.allow = allow;
    this.types = new Set(c.types);
    this.consumes = eventTypes(c.types);
    this.byteTypes = new Set(c.byteTypes);
    this.dests.cap = c.maxDests;
    // thresholds of the open buckets, from the current baselines
    for (const d of this.dests.values()) {
      if (d.n >= c.learnBuckets) {
        d.thrM = this.threshold(d.mM, d.vM, c.minRate);
        d.thrB = this.threshold(d.mB, d.vB, c.minByteRate);
      } else { d.thrM = Infinity; d.thrB = Infinity; }
    }
    return true;
  }

  private threshold(mean: number, variance: number, floor: number): number {
    return Math.max(mean + this.cfg.k * Math.sqrt(Math.max(0, variance)), this.cfg.ratio * mean, floor * this.span);
  }

  private learn(d: Dest, xM: number, xB: number): void {
    const a = this.cfg.alpha;
    // clip what a surge teaches the baseline
    if (d.n >= this.cfg.learnBuckets) { xM = Math.min(xM, d.thrM); xB = Math.min(xB, d.thrB); }
    let diff = xM - d.mM, inc = a * diff;
    d.mM += inc; d.vM = (1 - a) * (d.vM + diff * inc);
    diff = xB - d.mB; inc = a * diff;
    d.mB += inc; d.vB = (1 - a) * (d.vB + diff * inc);
    d.n++;
  }

  /** Closes buckets up to (not including) bucket b: learn, judge, open b. */
  private roll(d: Dest, b: number, emit: Emit | null): void {
    if (b <= d.b) return;
    const xM = d.msgs, xB = d.bytes;
    const anomalous = xM > d.thrM || xB > d.thrB;
    this.learn(d, xM, xB);
    const ep = d.ep;
    if (ep !== null) {
      if (xM > ep.peakMsgs) ep.peakMsgs = xM;
      if (xB > ep.peakBytes) ep.peakBytes = xB;
      ep.quiet = anomalous ? 0 : ep.quiet + 1;
    }
    let gap = b - d.b - 1;
    if (gap > 0) {
      if (ep !== null) ep.quiet += gap;
      const steps = Math.min(gap, MAX_ZERO_STEPS);
      for (let i = 0; i < steps; i++) this.learn(d, 0, 0);
      gap -= steps;
      if (gap > 0) {
        const f = (1 - this.cfg.alpha) ** gap;
        d.mM *= f; d.vM *= f; d.mB *= f; d.vB *= f; d.n += gap;
      }
    }
    d.b = b;
    d.msgs = 0; d.bytes = 0;
    if (d.n >= this.cfg.learnBuckets) {
      d.thrM = this.threshold(d.mM, d.vM, this.cfg.minRate);
      d.thrB = this.threshold(d.mB, d.vB, this.cfg.minByteRate);
    }
    if (ep !== null && ep.quiet >= this.cfg.quietBuckets) this.end(d, emit, b * this.span);
  }

  private start(d: Dest, ts: number, src: string, metric: string, emit: Emit): void {
    const sdM = Math.sqrt(Math.max(0, d.vM)), sdB = Math.sqrt(Math.max(0, d.vB));
    const ep: Episode = {
      first: Math.max(d.b * this.span, ts - this.span), last: ts, msgs: d.msgs, bytes: d.bytes, peakMsgs: d.msgs, peakBytes: d.bytes, quiet: 0,
      top: new TopK(8), metric,
      baseline: { msgs_mean: round2(d.mM), msgs_sd: round2(sdM), bytes_mean: round2(d.mB), bytes_sd: round2(sdB) },
    };
    ep.top.add(src);
    d.ep = ep;
    this.episodes.add(d);
    this.alerts++;
    const isMsgs = metric === 'messages';
    const val = isMsgs ? d.msgs : d.bytes, mean = isMsgs ? d.mM : d.mB;
    emit(makeAlert({
      kind: this.name, severity: 'medium', confidence: 0.6, dst: d.dst, ts, ts_first: ep.first, ts_last: ts, technique: 'T1498',
      summary: `traffic to ${d.dst} surged: ${val} ${isMsgs ? 'messages' : 'bytes'} in the current ${this.span} s bucket vs a baseline of ${round2(mean)} (${mean > 0 ? `${Math.round(val / mean)}x` : 'from zero'})`,
      evidence: {
        metric, bucket_s: this.span, bucket_messages: d.msgs, bucket_bytes: d.bytes, ...ep.baseline,
        threshold_messages: Math.round(d.thrM), threshold_bytes: Math.round(d.thrB), k: this.cfg.k, ratio: this.cfg.ratio,
        min_rate_per_s: this.cfg.minRate, min_byte_rate_per_s: this.cfg.minByteRate, learned_buckets: d.n,
      },
    }));
  }

  private end(d: Dest, emit: Emit | null, now: number): void {
    const ep = d.ep;
    if (ep === null) return;
    d.ep = null;
    this.episodes.delete(d);
    if (emit === null) return;
    const dom = ep.top.dominant(0.5);
    const dur = Math.max(0, ep.last - ep.first);
    emit({
      ...makeAlert({
        kind: this.name, severity: 'medium', confidence: 0.6, dst: d.dst, ts: Math.max(now, ep.last), ts_first: ep.first, ts_last: ep.last, technique: 'T1498',
        summary: `traffic surge to ${d.dst} ended: ${ep.msgs} messages, ${ep.bytes} bytes in ${fmtDur(dur)}, peak ${ep.peakMsgs} messages per ${this.span} s${dom ? `, mostly from ${dom.item}` : ''}`,
        evidence: {
          metric: ep.metric, total_messages: ep.msgs, total_bytes: ep.bytes, peak_bucket_messages: ep.peakMsgs, peak_bucket_bytes: ep.peakBytes,
          bucket_s: this.span, ...ep.baseline, dominant_source: dom?.item ?? null, top_sources: ep.top.top().slice(0, 5).map(([s]) => s), final: true,
        },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void {
    const b = Math.floor(now / this.span);
    for (const d of [...this.episodes]) this.roll(d, b, emit);
  }

  flush(now: number, emit: Emit): void {
    for (const d of [...this.episodes]) {
      const ep = d.ep!;
      if (d.msgs > ep.peakMsgs) ep.peakMsgs = d.msgs;
      if (d.bytes > ep.peakBytes) ep.peakBytes = d.bytes;
      this.end(d, emit, now);
    }
  }

  stats(): Record<string, number> {
    return { dests: this.dests.size, dests_evicted: this.dests.evicted, episodes: this.episodes.size, alerts: this.alerts };
  }
}

