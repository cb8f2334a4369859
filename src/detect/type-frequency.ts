/**
 * type_frequency — the seed's "one event type above 50 % of the window",
 * made right: the window slides on packet time, it needs `minEvents` events
 * before it judges (a quiet network where 3 of 4 events are DNS is not an
 * anomaly), only traffic events count (per-flow summaries would double
 * count), and it alerts once when a type crosses the share, re-arming only
 * after the share falls below `rearm` × threshold (hysteresis), so a flood
 * is one alert that is updated, not one per event.
 *
 * It also waits until packet time has covered one whole window (warm-up): the
 * first seconds of a capture are not a representative mix.
 *
 * Defaults: window 60 s, threshold 0.5 (the seed's), 500 events, rearm 0.8.
 * Comparable anchor: ntopng's per-host "flood" checks (256 SYN/s, 256 ICMP/s)
 * measure one type's rate; this measures its share of everything.
 */
import type { Detector, Emit } from './detector.js';
import { eventTypes, type EventType, type NetEvent } from '../events/types.js';
import { makeAlert, PRIMARY_EVENT_TYPES } from './alert.js';
import type { DetectorSpec } from './spec.js';
import { mergeSettings } from './bounded-state.js';

export interface TypeFrequencyConfig {
  window: number;
  threshold: number;
  minEvents: number;
  rearm: number;
  types: readonly string[];
  maxEvents: number;
}

export const TYPE_FREQUENCY_DEFAULTS: TypeFrequencyConfig = {
  window: 60, threshold: 0.5, minEvents: 500, rearm: 0.8, types: [...PRIMARY_EVENT_TYPES], maxEvents: 1_000_000,
};

export const typeFrequencySpec: DetectorSpec<TypeFrequencyConfig> = {
  name: 'type_frequency', defaults: TYPE_FREQUENCY_DEFAULTS, create: (c) => new TypeFrequency(c),
};

export class TypeFrequency implements Detector {
  readonly name = 'type_frequency';
  /** shares of the whole event stream */
  readonly keyBy = 'global' as const;
  /** `types` is fixed for the detector's life (a change rebuilds it) */
  readonly consumes: readonly EventType[];
  private readonly typeIndex = new Map<string, number>();
  private readonly counts: number[];
  private readonly firing: boolean[];
  private readonly firstTs: number[];
  private readonly ts: Float64Array;
  private readonly ty: Uint8Array;
  private head = 0;
  private len = 0;
  /** types currently firing */
  private nFiring = 0;
  capped = 0;
  alerts = 0;
  /** packet time of the first event: judging starts one window later */
  private start = -1;

  constructor(public cfg: TypeFrequencyConfig = TYPE_FREQUENCY_DEFAULTS) {
    cfg.types.forEach((t, i) => this.typeIndex.set(t, i));
    this.consumes = eventTypes(cfg.types);
    this.counts = cfg.types.map(() => 0);
    this.firing = cfg.types.map(() => false);
    this.firstTs = cfg.types.map(() => 0);
    this.ts = new Float64Array(cfg.maxEvents);
    this.ty = new Uint8Array(cfg.maxEvents);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const i = this.typeIndex.get(e.type);
    if (i === undefined) return;
    this.expire(e.ts);
    if (this.len === this.cfg.maxEvents) { this.shift(); this.capped++; }
    const at = (this.head + this.len) % this.cfg.maxEvents;
    this.ts[at] = e.ts;
    this.ty[at] = i;
    this.len++;
    this.counts[i]!++;
    if (this.start < 0) this.start = e.ts;
    if (this.len < this.cfg.minEvents || e.ts - this.start < this.cfg.window) return;
    const share = this.counts[i]! / this.len;
    if (!this.firing[i] && share > this.cfg.threshold) {
      this.firing[i] = true;
      this.nFiring++;
      this.firstTs[i] = this.oldestOf();
      this.alerts++;
      const dist: Record<string, number> = {};
      this.cfg.types.forEach((t, j) => { if (this.counts[j]) dist[t] = this.counts[j]!; });
      emit(makeAlert({
        kind: this.name, severity: 'low', confidence: 0.3 + 0.5 * Math.min(1, (share - this.cfg.threshold) / (1 - this.cfg.threshold)),
        ts: e.ts, ts_first: this.firstTs[i]!, ts_last: e.ts,
        summary: `${e.type} events are ${(share * 100).toFixed(0)}% of the last ${this.len} events (${this.cfg.window}s window)`,
        evidence: { type: e.type, share: Math.round(share * 1000) / 1000, count: this.counts[i], window_events: this.len,
          window_s: this.cfg.window, threshold: this.cfg.threshold, min_events: this.cfg.minEvents, distribution: dist },
      }));
    }
  }

  /**
   * SIGHUP: window, threshold, minEvents and rearm apply in place (the events
   * in the window are kept). `types` (the ring holds type indices) and
   * `maxEvents` (the ring's size) need a rebuild.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['types', 'maxEvents']);
    if (c === null) return false;
    this.cfg = c;
    return true;
  }

  advance(now: number): void { this.expire(now); }
  flush(): void { /* alerts are raised as shares cross */ }
  stats(): Record<string, number> { return { window_events: this.len, window_capped: this.capped, alerts: this.alerts }; }

  private oldestOf(): number { return this.len ? this.ts[this.head]! : 0; }

  private expire(now: number): void {
    const limit = now - this.cfg.window;
    while (this.len > 0 && this.ts[this.head]! < limit) this.shift();
    // Re-arm types whose share fell back (or whose window emptied).
    if (this.nFiring === 0) return;
    for (let i = 0; i < this.firing.length; i++) {
      if (this.firing[i] && (this.len === 0 || this.counts[i]! / this.len < this.cfg.threshold * this.cfg.rearm)) { this.firing[i] = false; this.nFiring--; }
    }
  }

  private shift(): void {
    this.counts[this.ty[this.head]!]!--;
    this.head = (this.head + 1) % this.cfg.maxEvents;
    this.len--;
  }
}
