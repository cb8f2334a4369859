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
import type { NetEvent } from '../events/types.js';
import type { DetectorContext, DetectorSpec } from './index.js';
import { makeAlert } from './alert.js';
import { CidrSet } from '../util/cidr.js';
import { HyperLogLog, LruMap, TopK } from './sketch.js';
import { hash32m, mergeSettings } from './bounded-state.js';
import { fmtDur } from './port-scan.js';

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

interface Hot {
  since: number;
  sources: HyperLogLog;
  topSrc: TopK;
  topPort: TopK<number>;
  syns: number; completed: number;
  first: number; last: number;
  /** last time the window was at or above the threshold */
  lastOver: number;
  /** last time the window held at least the hot floor */
  lastWarm: number;
  peak: number;
  alerted: boolean;
  alertSrc: string | undefined;
  alertPort: number | undefined;
  scanLike: number;
}

interface Dest {
  dst: string;
  /** second of the newest bucket */
  sec: number;
  syn: Int32Array;
  est: Int32Array;
  hot: Hot | null;
}

export class SynFlood implements Detector {
  readonly name = 'syn_flood';
  private readonly dests: LruMap<string, Dest>;
  private readonly hot = new Set<Dest>();
  private allow: CidrSet;
  private readonly w: number;
  private threshold: number;
  private floor: number;
  private emitRef: Emit | null = null;
  /** the destination of the latest SYN (still in `dests`) */
  private last: Dest | null = null;
  alerts = 0;
  hotRefused = 0;

  constructor(public cfg: SynFloodConfig = SYN_FLOOD_DEFAULTS, _ctx?: DetectorContext) {
    this.allow = CidrSet.parse(cfg.allow, 'detectors.syn_flood.allow');
    this.w = Math.max(1, Math.min(60, Math.round(cfg.window)));
    this.threshold = Math.max(1, Math.ceil(cfg.rate * this.w));
    this.floor = Math.max(1, Math.floor(this.threshold / 4));
    this.dests = new LruMap(cfg.maxDests, (_k, d) => {
      if (this.last === d) this.last = null;
      if (d.hot) this.cool(d, this.emitRef, d.hot.last);
    });
  }

  private roll(d: Dest, sec: number): void {
    if (sec <= d.sec) return;
    const n = Math.min(sec - d.sec, this.w);
    for (let i = 1; i <= n; i++) { const j = (d.sec + i) % this.w; d.syn[j] = 0; d.est[j] = 0; }
    d.sec = sec;
  }

  private synSum(d: Dest): number {
    let s = 0;
    for (let i = 0; i < this.w; i++) s += d.syn[i]!;
    return s;
  }

  private estSum(d: Dest): number {
    let s = 0;
    for (let i = 0; i < this.w; i++) s += d.est[i]!;
    return s;
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const t = e.type;
    if (t !== 'tcp_syn' && t !== 'conn_established') return;
    const sec = Math.floor(e.ts);
    // one-entry memo: a flood's SYNs all go to one destination (each flow's address is a
    // new string, whose hash the map would compute again)
    const m = this.last;
    let d = m !== null && m.dst === e.dst ? m : this.dests.get(e.dst);
    if (t === 'conn_established') {
      if (d === undefined) return;
      this.roll(d, sec);
      if (sec > d.sec - this.w) d.est[sec % this.w]!++;
      if (d.hot) d.hot.completed++;
      return;
    }
    if (!this.allow.empty && this.allow.has(e.dst)) return;
    this.emitRef = emit;
    if (d === undefined) {
      d = { dst: e.dst, sec, syn: new Int32Array(this.w), est: new Int32Array(this.w), hot: null };
      this.dests.set(e.dst, d);
    } else if (sec > d.sec) {
      this.roll(d, sec);
      this.dests.touch(e.dst, d); // most recently active last
    }
    this.last = d;
    // a SYN older than the window (out of order) still counts in the newest bucket
    const b = sec > d.sec - this.w ? sec % this.w : d.sec % this.w;
    d.syn[b]!++;
    let h = d.hot;
    if (h === null) {
      const inWin = this.synSum(d);
      if (inWin < this.floor) return;
      const estWin = this.estSum(d);
      if (this.hot.size >= this.cfg.maxHot) { this.hotRefused++; return; }
      // totals start from what the window already holds (the sketches from here on)
      h = d.hot = {
        since: e.ts, sources: new HyperLogLog(10), topSrc: new TopK(8), topPort: new TopK<number>(8), syns: inWin - 1, completed: estWin,
        first: e.ts, last: e.ts, lastOver: -Infinity, lastWarm: e.ts, peak: 0, alerted: false, alertSrc: undefined, alertPort: undefined, scanLike: 0,
      };
      this.hot.add(d);
    }
    h.syns++;
    if (e.ts > h.last) h.last = e.ts;
    h.sources.addHash32(hash32m(e.src)); // the source's hash is shared with the other detectors
    h.topSrc.add(e.src);
    h.topPort.add(e.dport);
    if (d.syn[b]! > h.peak) h.peak = d.syn[b]!;
    const syns = this.synSum(d);
    if (syns >= this.floor) h.lastWarm = e.ts;
    if (syns < this.threshold) return;
    const est = this.estSum(d);
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
      ts: e.ts, ts_first: h.first, ts_last: e.ts, technique: 'T1499.001',
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
    this.dests.cap = c.maxDests;
    return true;
  }

  /** A hot destination goes quiet: final alert if it flooded, free its sketches. */
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
        kind: this.name, severity: 'high', confidence: h.completed === 0 ? 0.9 : 0.75, src: h.alertSrc, dst: d.dst, dport: h.alertPort,
        ts: Math.max(now, h.last), ts_first: h.first, ts_last: end, technique: 'T1499.001',
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

  advance(now: number, emit: Emit): void {
    // forget destinations whose window is empty (least recently active first)
    const idle = Math.floor(now) - this.w;
    for (const [k, d] of this.dests.entries()) {
      if (d.sec >= idle) break;
      if (d.hot === null) { this.dests.delete(k); if (this.last === d) this.last = null; }
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

/** the top-k items holding at least 5 % of the stream each (spoofed sources hold none) */
function heavy<K>(t: TopK<K>): K[] {
  return t.top().filter(([, c]) => c >= 0.05 * t.n).slice(0, 5).map(([k]) => k);
}
function pct(a: number, b: number): string { return `${b ? Math.round((1000 * a) / b) / 10 : 0}%`; }
function round3(x: number): number { return Math.round(x * 1000) / 1000; }
