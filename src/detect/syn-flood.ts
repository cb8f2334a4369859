/**
 * syn_flood — a surge of TCP connection attempts to ONE destination that are
 * not completed.
 *
 * Aggregated by destination, not by source, so a flood from spoofed random
 * sources (every source sends one SYN) is caught: per destination, SYNs
 * (`tcp_syn`) and completed handshakes (`conn_established`) are counted in
 * one-second buckets of packet time over a sliding `window`. It alerts when
 *   SYNs in the window ≥ rate × window  (default 256/s × 2 s = 512)
 *   and completed / SYNs < maxCompletion (default 0.2)
 * i.e. the attempt rate averaged over 2 s is at least ntopng's 256 SYN/s —
 * so a 0.6 s burst of 3,000 SYNs (5,000/s) is a flood, a busy web server
 * whose handshakes complete is not.
 *
 * A single source hitting many ports of the destination is a port scan, not
 * a flood (port_scan reports it): when one source holds ≥ half the SYNs and
 * no port does, no flood is raised.
 *
 * Once a destination has ≥ a quarter of the threshold in its window it gets
 * "hot" state: a HyperLogLog of sources (1 KiB, ≈ 3 % error) to report
 * "≈ N distinct sources (spoofed)", and Misra–Gries top-8 sources and ports
 * to name a dominant attacker and the target port. One alert per destination
 * episode; the episode ends after `quiet` seconds below the threshold, or at
 * end of input, with a final `update: true` alert (total SYNs, peak rate,
 * duration, sources ≈). The alert's src is the dominant source when one sent
 * ≥ half the SYNs, else absent (spoofed or distributed).
 *
 * Technique T1499.001 (Endpoint DoS: OS Exhaustion Flood): a SYN flood
 * exhausts the victim's TCP connection backlog (the technique's own example),
 * it need not saturate the link; a bandwidth flood is T1498 (volume_surge,
 * icmp_flood).
 *
 * Anchors: ntopng SYN Flood > 256 SYN/s per host (alert engaged while it
 * holds); Suricata threshold rules `track by_dst, count, seconds`; Kitsune's
 * "SYN DoS" capture. Bounded state: ≤ maxDests destinations (two small
 * counters per bucket each, least recently active evicted, counted), ≤ maxHot
 * destinations with sketches; a flood from a million random sources costs one
 * destination record.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { HyperLogLog, TopK } from './sketch.js';
import { FloodWindows, type FloodDest, type FloodEpisode } from './flood-window.js';
import { hash32m, mergeSettings } from './bounded-state.js';
import { fmtDur, heavy, pct, round3 } from './format.js';

export interface SynFloodConfig {
  /** SYNs per second, averaged over the window */
  rate: number;
  /** seconds (whole, 1..60) */
  window: number;
  maxCompletion: number;
  /** seconds below threshold that end an episode */
  quiet: number;
  maxDests: number;
  maxHot: number;
  /** destinations never judged (CIDR list: load-tested servers) */
  allow: string[];
}

export const SYN_FLOOD_DEFAULTS: SynFloodConfig = {
  rate: 256, window: 2, maxCompletion: 0.2, quiet: 10, maxDests: 100_000, maxHot: 1024, allow: [],
};

export const synFloodSpec: DetectorSpec<SynFloodConfig> = {
  name: 'syn_flood', defaults: SYN_FLOOD_DEFAULTS, create: (c) => new SynFlood(c),
};

interface Hot extends FloodEpisode {
  since: number;
  sources: HyperLogLog;
  topSrc: TopK;
  topPort: TopK<number>;
  syns: number; completed: number;
  peak: number;
  alertSrc: string | undefined;
  alertPort: number | undefined;
  scanLike: number;
}

/** the window's counters: SYNs, completed handshakes */
const SYN = 0, EST = 1;

export class SynFlood implements Detector {
  readonly name = 'syn_flood';
  readonly consumes: readonly EventType[] = ['tcp_syn', 'conn_established'];
  readonly keyBy = 'dst' as const;
  private readonly win: FloodWindows<Hot>;
  private allow: CidrSet;
  private readonly w: number;
  private threshold: number;
  private floor: number;
  alerts = 0;

  constructor(public cfg: SynFloodConfig = SYN_FLOOD_DEFAULTS, _ctx?: DetectorContext) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.syn_flood.allow');
    this.w = Math.max(1, Math.min(60, Math.round(cfg.window)));
    this.threshold = Math.max(1, Math.ceil(cfg.rate * this.w));
    this.floor = Math.max(1, Math.floor(this.threshold / 4));
    this.win = new FloodWindows<Hot>(this.w, 2, cfg.maxDests, (d, h, now, emit) => this.ended(d, h, now, emit));
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const t = e.type;
    if (t !== 'tcp_syn' && t !== 'conn_established') return;
    const sec = Math.floor(e.ts);
    const win = this.win, w = this.w;
    let d = win.find(e.dst);
    if (t === 'conn_established') {
      if (d === undefined) return;
      win.roll(d, sec);
      if (sec > d.sec - w) d.c[EST * w + (sec % w)]!++;
      if (d.hot) d.hot.completed++;
      return;
    }
    if (!this.allow.empty && this.allow.has(e.dst)) return;
    d = win.open(e.dst, sec, d, emit);
    // a SYN older than the window (out of order) still counts in the newest bucket
    const b = win.bucket(d, sec);
    const inBucket = ++d.c[SYN * w + b]!;
    let h = d.hot;
    if (h === null) {
      const inWin = win.sum(d, SYN);
      if (inWin < this.floor) return;
      const estWin = win.sum(d, EST);
      if (!win.room(this.cfg.maxHot)) return;
      // totals start from what the window already holds (the sketches from here on)
      h = {
        since: e.ts, sources: new HyperLogLog(10), topSrc: new TopK(8), topPort: new TopK<number>(8), syns: inWin - 1, completed: estWin,
        first: e.ts, last: e.ts, lastOver: -Infinity, lastWarm: e.ts, peak: 0, alerted: false, alertSrc: undefined, alertPort: undefined, scanLike: 0,
      };
      win.heat(d, h);
    }
    h.syns++;
    if (e.ts > h.last) h.last = e.ts;
    h.sources.addHash32(hash32m(e.src)); // the source's hash is shared with the other detectors
    h.topSrc.add(e.src);
    h.topPort.add(e.dport);
    if (inBucket > h.peak) h.peak = inBucket;
    const syns = win.sum(d, SYN);
    if (syns >= this.floor) h.lastWarm = e.ts;
    if (syns < this.threshold) return;
    const est = win.sum(d, EST);
    if (est / syns >= this.cfg.maxCompletion) return;
    h.lastOver = e.ts;
    if (h.alerted) return;
    const src = h.topSrc.dominant(0.5);
    const port = h.topPort.dominant(0.5);
    if (src !== null && port === null) { h.scanLike++; return; } // one source, many ports: a scan
    h.alerted = true;
    h.alertSrc = src?.item;
    h.alertPort = port ? port.item : undefined;
    this.alerts++;
    const sources = h.sources.estimate();
    const spoofed = src === null && sources >= 100;
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: est === 0 ? 0.9 : 0.75, src: h.alertSrc, dst: d.dst, dport: h.alertPort,
      ts: e.ts, ts_first: h.first, ts_last: e.ts, technique: 'T1499.001', proto: 'tcp',
      summary: `SYN flood on ${d.dst}${h.alertPort !== undefined ? `:${h.alertPort}` : ''}: ${syns} SYNs in ${this.w} s ` +
        `(≥ ${this.cfg.rate}/s), ${pct(est, syns)} completed, ${src ? `mostly from ${src.item}` : `≈ ${sources} distinct sources${spoofed ? ' (spoofed)' : ''}`}`,
      evidence: {
        syns_in_window: syns, completed_in_window: est, completion_ratio: round3(est / syns), window_s: this.w,
        threshold_syns: this.threshold, rate_per_s: this.cfg.rate, max_completion: this.cfg.maxCompletion,
        peak_per_s: h.peak, distinct_sources_est: sources, spoofed, dominant_source_share: src ? round3(src.share) : null,
        top_sources: heavy(h.topSrc), top_ports: heavy(h.topPort),
      },
    }));
  }

  /**
   * SIGHUP: rate, maxCompletion, quiet, allow and the caps apply in place (the
   * per-second counts and open episodes are kept). `window` sizes every
   * destination's ring of per-second buckets: a change rebuilds.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['window']);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.syn_flood.allow');
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
        kind: this.name, severity: 'high', confidence: h.completed === 0 ? 0.9 : 0.75, src: h.alertSrc, dst: d.dst, dport: h.alertPort,
        ts: Math.max(now, h.last), ts_first: h.first, ts_last: end, technique: 'T1499.001', proto: 'tcp',
        summary: `SYN flood on ${d.dst}${h.alertPort !== undefined ? `:${h.alertPort}` : ''} ended: ${h.syns} SYNs in ${fmtDur(dur)}, ` +
          `peak ${h.peak}/s, ${pct(h.completed, h.syns)} completed, ≈ ${sources} distinct sources`,
        evidence: {
          total_syns: h.syns, total_completed: h.completed, duration_s: round3(dur), peak_per_s: h.peak,
          distinct_sources_est: sources, top_sources: heavy(h.topSrc),
          top_ports: heavy(h.topPort), window_s: this.w, rate_per_s: this.cfg.rate, final: true,
        },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void { this.win.advance(now, this.cfg.quiet, emit); }

  flush(now: number, emit: Emit): void { this.win.flush(now, emit); }

  stats(): Record<string, number> { return { ...this.win.stats(), alerts: this.alerts }; }
}
