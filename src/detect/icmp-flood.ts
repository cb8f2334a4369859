/**
 * icmp_flood — ICMP packets to ONE destination at flood rate (MITRE
 * T1498.001, direct network flood).
 *
 * Per destination, ICMP messages are counted in one-second buckets of packet
 * time over a sliding `window`; it alerts when the window holds at least
 * rate × window (default 256/s × 2 s = 512), i.e. ntopng's ICMP flood rate
 * averaged over 2 s (a 0.6 s burst of 3,000 pings is a flood).
 *
 * What counts: every ICMP message to the destination except echo replies that
 * answer its own echo requests. A ping flood's victim answers every request,
 * so without this the attacker, receiving the replies, would look flooded
 * too; replies the destination never asked for (a smurf reflection, spoofed
 * backscatter) still count: replies − requests it sent, per window.
 *
 * Once a destination has a quarter of the threshold it gets sketches: a
 * HyperLogLog of sources (≈ N distinct, spoofed?), Misra–Gries top sources
 * and top ICMP type/code. The alert's src is the dominant source (≥ half the
 * packets), else absent. One alert per destination episode; the episode ends
 * after `quiet` seconds below threshold, or at end of input, with a final
 * `update: true` alert (total, peak/s, duration, sources ≈).
 *
 * Anchors: ntopng ICMP Flood > 256/s per host; Suricata threshold rules
 * `track by_dst`. Bounded: ≤ maxDests destinations (three small counters per
 * bucket, least recently active evicted and counted; a sender's own requests
 * are only counted when it already has a record, so a spoofed flood does not
 * create records for its sources), ≤ maxHot with sketches.
 */
import type { Detector, Emit } from './detector.js';
import type { NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './index.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { HyperLogLog, LruMap, TopK } from './sketch.js';
import { fmtDur } from './port-scan.js';
import { mergeSettings } from './bounded-state.js';

export interface IcmpFloodConfig {
  /** ICMP messages per second, averaged over the window */
  rate: number;
  /** seconds (whole, 1..60) */
  window: number;
  quiet: number;
  maxDests: number;
  maxHot: number;
  /** destinations never judged (CIDR list) */
  allow: string[];
}

export const ICMP_FLOOD_DEFAULTS: IcmpFloodConfig = {
  rate: 256, window: 2, quiet: 10, maxDests: 100_000, maxHot: 1024, allow: [],
};

export const icmpFloodSpec: DetectorSpec<IcmpFloodConfig> = {
  name: 'icmp_flood', defaults: ICMP_FLOOD_DEFAULTS, create: (c) => new IcmpFlood(c),
};

interface Hot {
  sources: HyperLogLog;
  topSrc: TopK;
  topType: TopK;
  packets: number;
  first: number; last: number;
  lastOver: number; lastWarm: number;
  peak: number;
  alerted: boolean;
  alertSrc: string | undefined;
}

interface Dest {
  dst: string;
  sec: number;
  /** ICMP to it other than echo replies */
  other: Int32Array;
  /** echo replies to it */
  rep: Int32Array;
  /** echo requests it sent */
  req: Int32Array;
  hot: Hot | null;
}

const isReply = (v6: boolean, t: number): boolean => (v6 ? t === 129 : t === 0);
const isRequest = (v6: boolean, t: number): boolean => (v6 ? t === 128 : t === 8);

export class IcmpFlood implements Detector {
  readonly name = 'icmp_flood';
  private readonly dests: LruMap<string, Dest>;
  private readonly hot = new Set<Dest>();
  private allow: CidrSet;
  private readonly w: number;
  private threshold: number;
  private floor: number;
  private emitRef: Emit | null = null;
  alerts = 0;
  hotRefused = 0;

  constructor(public cfg: IcmpFloodConfig = ICMP_FLOOD_DEFAULTS, _ctx?: DetectorContext) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.icmp_flood.allow');
    this.w = Math.max(1, Math.min(60, Math.round(cfg.window)));
    this.threshold = Math.max(1, Math.ceil(cfg.rate * this.w));
    this.floor = Math.max(1, Math.floor(this.threshold / 4));
    this.dests = new LruMap(cfg.maxDests, (_k, d) => { if (d.hot) this.cool(d, this.emitRef, d.hot.last); });
  }

  private roll(d: Dest, sec: number): void {
    if (sec <= d.sec) return;
    const n = Math.min(sec - d.sec, this.w);
    for (let i = 1; i <= n; i++) { const j = (d.sec + i) % this.w; d.other[j] = 0; d.rep[j] = 0; d.req[j] = 0; }
    d.sec = sec;
  }

  /** flood-counted messages in the window */
  private count(d: Dest): number {
    let o = 0, rep = 0, req = 0;
    for (let i = 0; i < this.w; i++) { o += d.other[i]!; rep += d.rep[i]!; req += d.req[i]!; }
    return o + Math.max(0, rep - req);
  }

  private bucket(d: Dest, sec: number): number { return (sec > d.sec - this.w ? sec : d.sec) % this.w; }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'icmp') return;
    const v6 = e.proto === 'icmpv6';
    const sec = Math.floor(e.ts);
    if (isRequest(v6, e.icmp_type)) {
      // the sender's own requests excuse the replies it gets back
      const s = this.dests.get(e.src);
      if (s !== undefined) { this.roll(s, sec); s.req[this.bucket(s, sec)]!++; }
    }
    if (!this.allow.empty && this.allow.has(e.dst)) return;
    this.emitRef = emit;
    let d = this.dests.get(e.dst);
    if (d === undefined) {
      d = { dst: e.dst, sec, other: new Int32Array(this.w), rep: new Int32Array(this.w), req: new Int32Array(this.w), hot: null };
      this.dests.set(e.dst, d);
    } else if (sec > d.sec) {
      this.roll(d, sec);
      this.dests.touch(e.dst, d);
    }
    const b = this.bucket(d, sec);
    const reply = isReply(v6, e.icmp_type);
    if (reply) d.rep[b]!++; else d.other[b]!++;
    const n = this.count(d);
    let h = d.hot;
    if (h === null) {
      if (n < this.floor) return;
      if (this.hot.size >= this.cfg.maxHot) { this.hotRefused++; return; }
      h = d.hot = {
        sources: new HyperLogLog(10), topSrc: new TopK(8), topType: new TopK(8), packets: n - 1,
        first: e.ts, last: e.ts, lastOver: -Infinity, lastWarm: e.ts, peak: 0, alerted: false, alertSrc: undefined,
      };
      this.hot.add(d);
    }
    if (n >= this.floor) h.lastWarm = e.ts;
    // solicited replies (n did not grow past the floor because of them) are not the flood's
    if (reply && n < this.floor) return;
    h.packets++;
    if (e.ts > h.last) h.last = e.ts;
    h.sources.add(e.src);
    h.topSrc.add(e.src);
    h.topType.add(`${e.icmp_type}/${e.icmp_code}`);
    const perSec = d.other[b]! + d.rep[b]!;
    if (perSec > h.peak) h.peak = perSec;
    if (n < this.threshold) return;
    h.lastOver = e.ts;
    if (h.alerted) return;
    h.alerted = true;
    const src = h.topSrc.dominant(0.5);
    h.alertSrc = src?.item;
    this.alerts++;
    const sources = h.sources.estimate();
    const spoofed = src === null && sources >= 100;
    const types = h.topType.top().slice(0, 3).map(([t]) => t);
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: 0.8, src: h.alertSrc, dst: d.dst,
      ts: e.ts, ts_first: h.first, ts_last: e.ts, technique: 'T1498.001',
      summary: `ICMP flood on ${d.dst}: ${n} messages in ${this.w} s (≥ ${this.cfg.rate}/s, type ${types.join(', ')}), ` +
        `${src ? `mostly from ${src.item}` : `≈ ${sources} distinct sources${spoofed ? ' (spoofed)' : ''}`}`,
      evidence: {
        messages_in_window: n, window_s: this.w, threshold_messages: this.threshold, rate_per_s: this.cfg.rate, peak_per_s: h.peak,
        icmp_types: types, distinct_sources_est: sources, spoofed, dominant_source_share: src ? Math.round(src.share * 1000) / 1000 : null,
        top_sources: h.topSrc.top().filter(([, c]) => c >= 0.05 * h.topSrc.n).slice(0, 5).map(([s]) => s),
      },
    }));
  }

  /**
   * SIGHUP: rate, quiet, allow and the caps apply in place (the per-second
   * counts and open episodes are kept). `window` sizes every destination's
   * ring of per-second buckets: a change rebuilds.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['window']);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.icmp_flood.allow');
    this.cfg = c;
    this.allow = allow;
    this.threshold = Math.max(1, Math.ceil(c.rate * this.w));
    this.floor = Math.max(1, Math.floor(this.threshold / 4));
    this.dests.cap = c.maxDests;
    return true;
  }

  private cool(d: Dest, emit: Emit | null, now: number): void {
    const h = d.hot;
    if (h === null) return;
    d.hot = null;
    this.hot.delete(d);
    if (!h.alerted || emit === null) return;
    const end = Math.max(h.first, h.lastOver);
    const dur = end - h.first;
    const sources = h.sources.estimate();
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: 0.8, src: h.alertSrc, dst: d.dst,
        ts: Math.max(now, h.last), ts_first: h.first, ts_last: end, technique: 'T1498.001',
        summary: `ICMP flood on ${d.dst} ended: ${h.packets} messages in ${fmtDur(dur)}, peak ${h.peak}/s, ≈ ${sources} distinct sources`,
        evidence: {
          total_messages: h.packets, duration_s: Math.round(dur * 1000) / 1000, peak_per_s: h.peak, distinct_sources_est: sources,
          icmp_types: h.topType.top().slice(0, 3).map(([t]) => t), top_sources: h.topSrc.top().filter(([, c]) => c >= 0.05 * h.topSrc.n).slice(0, 5).map(([s]) => s),
          window_s: this.w, rate_per_s: this.cfg.rate, final: true,
        },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void {
    // forget destinations whose window is empty (least recently active first)
    const idle = Math.floor(now) - this.w;
    for (const [k, d] of this.dests.entries()) {
      if (d.sec >= idle) break;
      if (d.hot === null) this.dests.delete(k);
    }
    for (const d of [...this.hot]) {
      const h = d.hot!;
      if (h.alerted ? now - h.lastOver >= this.cfg.quiet : now - h.lastWarm >= this.cfg.quiet) this.cool(d, emit, now);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const d of [...this.hot]) this.cool(d, emit, now);
  }

  stats(): Record<string, number> {
    return { dests: this.dests.size, dests_evicted: this.dests.evicted, hot: this.hot.size, hot_refused: this.hotRefused, alerts: this.alerts };
  }
}
