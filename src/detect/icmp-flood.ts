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
import type { EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { HyperLogLog, TopK } from './sketch.js';
import { FloodWindows, type FloodDest, type FloodEpisode } from './flood-window.js';
import { fmtDur, heavy, round3 } from './format.js';
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

interface Hot extends FloodEpisode {
  sources: HyperLogLog;
  topSrc: TopK;
  topType: TopK;
  packets: number;
  peak: number;
  alertSrc: string | undefined;
}

/** the window's counters: ICMP to it other than echo replies, echo replies to it, echo requests it sent */
const OTHER = 0, REP = 1, REQ = 2;

const isReply = (v6: boolean, t: number): boolean => (v6 ? t === 129 : t === 0);
const isRequest = (v6: boolean, t: number): boolean => (v6 ? t === 128 : t === 8);

export class IcmpFlood implements Detector {
  readonly name = 'icmp_flood';
  readonly consumes: readonly EventType[] = ['icmp'];
  /** an echo request also reads its sender's record (its replies are excused): keyed by both ends */
  readonly keyBy = 'global' as const;
  private readonly win: FloodWindows<Hot>;
  private allow: CidrSet;
  private readonly w: number;
  private threshold: number;
  private floor: number;
  alerts = 0;

  constructor(public cfg: IcmpFloodConfig = ICMP_FLOOD_DEFAULTS, _ctx?: DetectorContext) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.icmp_flood.allow');
    this.w = Math.max(1, Math.min(60, Math.round(cfg.window)));
    this.threshold = Math.max(1, Math.ceil(cfg.rate * this.w));
    this.floor = Math.max(1, Math.floor(this.threshold / 4));
    this.win = new FloodWindows<Hot>(this.w, 3, cfg.maxDests, (d, h, now, emit) => this.ended(d, h, now, emit));
  }

  /** flood-counted messages in the window: replies the destination did not ask for count */
  private count(d: FloodDest<Hot>): number {
    const win = this.win;
    return win.sum(d, OTHER) + Math.max(0, win.sum(d, REP) - win.sum(d, REQ));
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'icmp') return;
    const v6 = e.proto === 'icmpv6';
    const sec = Math.floor(e.ts);
    const win = this.win, w = this.w;
    if (isRequest(v6, e.icmp_type)) {
      // the sender's own requests excuse the replies it gets back
      const s = win.find(e.src);
      if (s !== undefined) { win.roll(s, sec); s.c[REQ * w + win.bucket(s, sec)]!++; }
    }
    if (!this.allow.empty && this.allow.has(e.dst)) return;
    const d = win.open(e.dst, sec, win.find(e.dst), emit);
    const b = win.bucket(d, sec);
    const reply = isReply(v6, e.icmp_type);
    d.c[(reply ? REP : OTHER) * w + b]!++;
    const n = this.count(d);
    let h = d.hot;
    if (h === null) {
      if (n < this.floor || !win.room(this.cfg.maxHot)) return;
      h = {
        sources: new HyperLogLog(10), topSrc: new TopK(8), topType: new TopK(8), packets: n - 1,
        first: e.ts, last: e.ts, lastOver: -Infinity, lastWarm: e.ts, peak: 0, alerted: false, alertSrc: undefined,
      };
      win.heat(d, h);
    }
    if (n >= this.floor) h.lastWarm = e.ts;
    // solicited replies (n did not grow past the floor because of them) are not the flood's
    if (reply && n < this.floor) return;
    h.packets++;
    if (e.ts > h.last) h.last = e.ts;
    h.sources.add(e.src);
    h.topSrc.add(e.src);
    h.topType.add(`${e.icmp_type}/${e.icmp_code}`);
    const perSec = d.c[OTHER * w + b]! + d.c[REP * w + b]!;
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
      ts: e.ts, ts_first: h.first, ts_last: e.ts, technique: 'T1498.001', proto: d.dst.includes(':') ? 'icmpv6' : 'icmp',
      summary: `ICMP flood on ${d.dst}: ${n} messages in ${this.w} s (≥ ${this.cfg.rate}/s, type ${types.join(', ')}), ` +
        `${src ? `mostly from ${src.item}` : `≈ ${sources} distinct sources${spoofed ? ' (spoofed)' : ''}`}`,
      evidence: {
        messages_in_window: n, window_s: this.w, threshold_messages: this.threshold, rate_per_s: this.cfg.rate, peak_per_s: h.peak,
        icmp_types: types, distinct_sources_est: sources, spoofed, dominant_source_share: src ? round3(src.share) : null,
        top_sources: heavy(h.topSrc),
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
    this.win.maxDests = c.maxDests;
    return true;
  }

  /** A flooded destination's episode ended: the final alert. */
  private ended(d: FloodDest<Hot>, h: Hot, now: number, emit: Emit): void {
    const end = Math.max(h.first, h.lastOver);
    const dur = end - h.first;
    const sources = h.sources.estimate();
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: 0.8, src: h.alertSrc, dst: d.dst,
        ts: Math.max(now, h.last), ts_first: h.first, ts_last: end, technique: 'T1498.001', proto: d.dst.includes(':') ? 'icmpv6' : 'icmp',
        summary: `ICMP flood on ${d.dst} ended: ${h.packets} messages in ${fmtDur(dur)}, peak ${h.peak}/s, ≈ ${sources} distinct sources`,
        evidence: {
          total_messages: h.packets, duration_s: round3(dur), peak_per_s: h.peak, distinct_sources_est: sources,
          icmp_types: h.topType.top().slice(0, 3).map(([t]) => t), top_sources: heavy(h.topSrc),
          window_s: this.w, rate_per_s: this.cfg.rate, final: true,
        },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void { this.win.advance(now, this.cfg.quiet, emit); }

  flush(now: number, emit: Emit): void { this.win.flush(now, emit); }

  stats(): Record<string, number> { return { ...this.win.stats(), alerts: this.alerts }; }
}
