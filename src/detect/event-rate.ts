/**
 * event_rate — the seed dropped events above a per-second rate; a security
 * monitor must never do that. Here an excess *raises an alert* and every
 * event is still analysed.
 *
 * Counts traffic events per source in one-second buckets of packet time.
 * A source above `maxPerSecond` raises one alert; while it stays above, the
 * alert is not repeated for `window` seconds (the suppression layer folds
 * repeats further). State is one small record per source active in the
 * current second, capped at `maxSources` (evictions counted).
 *
 * Defaults: 500 events/s per source, window 60 s. Comparable anchors:
 * ntopng's SYN and ICMP flood checks (256/s per host, one type each),
 * Suricata's `threshold: type both, count, seconds` rate rules.
 */
import type { Detector, Emit } from './detector.js';
import type { NetEvent } from '../events/types.js';
import { makeAlert, PRIMARY_EVENT_TYPES } from './alert.js';
import { BoundedMap } from './window.js';
import type { DetectorSpec } from './index.js';

export interface EventRateConfig {
  maxPerSecond: number;
  window: number;
  maxSources: number;
  types: readonly string[];
}

export const EVENT_RATE_DEFAULTS: EventRateConfig = {
  maxPerSecond: 500, window: 60, maxSources: 100_000, types: [...PRIMARY_EVENT_TYPES],
};

interface SourceRate { second: number; count: number; peak: number; firstOver: number; lastAlert: number; dsts: Set<string> }

export const eventRateSpec: DetectorSpec<EventRateConfig> = {
  name: 'event_rate', defaults: EVENT_RATE_DEFAULTS, create: (c) => new EventRate(c),
};

export class EventRate implements Detector {
  readonly name = 'event_rate';
  private readonly sources: BoundedMap<string, SourceRate>;
  private readonly types: Set<string>;
  alerts = 0;

  constructor(readonly cfg: EventRateConfig = EVENT_RATE_DEFAULTS) {
    this.sources = new BoundedMap(cfg.maxSources);
    this.types = new Set(cfg.types);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (!this.types.has(e.type)) return;
    const sec = Math.floor(e.ts);
    let s = this.sources.get(e.src);
    if (s === undefined) {
      s = { second: sec, count: 0, peak: 0, firstOver: 0, lastAlert: -Infinity, dsts: new Set() };
      this.sources.set(e.src, s);
    } else if (s.second !== sec) {
      s.second = sec;
      s.count = 0;
      s.dsts.clear();
      this.sources.set(e.src, s); // most recent last: advance() scans from the front
    }
    s.count++;
    if (s.dsts.size < 5) s.dsts.add(e.dst);
    if (s.count === this.cfg.maxPerSecond + 1) {
      if (s.firstOver === 0 || e.ts - s.lastAlert > this.cfg.window) s.firstOver = sec;
      if (e.ts - s.lastAlert > this.cfg.window) {
        s.lastAlert = e.ts;
        this.alerts++;
        emit(makeAlert({
          kind: this.name, severity: 'medium', confidence: 0.5, src: e.src, ts: e.ts, ts_first: sec, ts_last: e.ts,
          summary: `${e.src} produced more than ${this.cfg.maxPerSecond} events in one second`,
          evidence: { events_in_second: s.count, threshold_per_s: this.cfg.maxPerSecond, second: sec,
            sample_destinations: [...s.dsts], last_type: e.type, suppress_s: this.cfg.window },
        }));
      }
    }
  }

  advance(now: number): void {
    // Forget sources idle for longer than the suppression window.
    const limit = Math.floor(now) - this.cfg.window;
    for (const [k, s] of this.sources.entries()) {
      if (s.second >= limit) break; // insertion order ≈ last activity order
      this.sources.delete(k);
    }
  }

  flush(): void { /* nothing pending */ }
  stats(): Record<string, number> { return { sources: this.sources.size, sources_evicted: this.sources.evicted, alerts: this.alerts }; }
}
