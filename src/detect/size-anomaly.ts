/**
 * size_anomaly — the seed's "size above threshold × average", made right.
 *
 * Looks at connection summaries (bytes per finished connection, both ways)
 * and flags one that is far above what the window has seen:
 *   ratio rule:  size > ratio × mean of the window
 *   sigma rule:  size > mean + k · stddev
 * Both need `minSamples` connections in the window before they judge, and a
 * connection must also exceed `minBytes` so a window of tiny flows does not
 * make an ordinary page load look huge. The window slides on packet time.
 *
 * Defaults: both rules must agree, window 300 s, ratio 10, k 4, 30 samples,
 * 10 MiB. Connection sizes are heavy-tailed (one download among many small
 * requests is normal), so either rule alone alarms on ordinary traffic: on
 * the 1.2 M-packet benchmark mix the ratio rule alone with a 1 MiB floor
 * raised 183 alerts. (No direct anchor
 * default: ntopng's "flow anomaly" and Zeek's conn-size thresholds are
 * per-deployment settings; the per-host exfiltration detector is the
 * baseline-aware version of this rule.)
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import { SampleWindow, BoundedMap } from './window.js';
import { mergeSettings } from './bounded-state.js';
import { makeAlert } from './alert.js';
import type { DetectorSpec } from './spec.js';

export interface SizeAnomalyConfig {
  /** which rule must fire: both (default: fewer false alarms on heavy-tailed traffic), either, ratio, sigma */
  rule: 'both' | 'either' | 'ratio' | 'sigma';
  window: number;
  ratio: number;
  k: number;
  minSamples: number;
  minBytes: number;
  /** cap on samples held in the window */
  maxSamples: number;
}

export const SIZE_ANOMALY_DEFAULTS: SizeAnomalyConfig = {
  rule: 'both', window: 300, ratio: 10, k: 4, minSamples: 30, minBytes: 10 << 20, maxSamples: 100_000,
};

export const sizeAnomalySpec: DetectorSpec<SizeAnomalyConfig> = {
  name: 'size_anomaly', defaults: SIZE_ANOMALY_DEFAULTS, create: (c) => new SizeAnomaly(c),
};

export class SizeAnomaly implements Detector {
  readonly name = 'size_anomaly';
  readonly consumes: readonly EventType[] = ['conn'];
  /** the window mean is over every connection */
  readonly keyBy = 'global' as const;
  private readonly win: SampleWindow;
  /** src|dst pairs alerted recently: one alert per pair per window */
  private readonly recent = new BoundedMap<string, number>(10_000);
  alerts = 0;

  constructor(public cfg: SizeAnomalyConfig = SIZE_ANOMALY_DEFAULTS) {
    this.win = new SampleWindow(cfg.window, cfg.maxSamples);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'conn') return;
    const w = this.win;
    w.expire(e.ts);
    const size = e.size;
    if (w.count >= this.cfg.minSamples && size >= this.cfg.minBytes) {
      const mean = w.mean, sd = w.stddev;
      const byRatio = size > this.cfg.ratio * mean;
      const bySigma = size > mean + this.cfg.k * sd;
      const r = this.cfg.rule;
      if (r === 'both' ? byRatio && bySigma : r === 'either' ? byRatio || bySigma : r === 'ratio' ? byRatio : bySigma) {
        const key = `${e.src}|${e.dst}`;
        const last = this.recent.get(key);
        if (last === undefined || e.ts - last > this.cfg.window) {
          this.recent.set(key, e.ts);
          this.alerts++;
          emit(makeAlert({
            kind: this.name, severity: byRatio && bySigma ? 'medium' : 'low', confidence: byRatio && bySigma ? 0.6 : 0.4,
            src: e.src, dst: e.dst, dport: e.dport, ts: e.ts + e.duration, ts_first: e.ts, ts_last: e.ts + e.duration, flow: e,
            summary: `connection of ${size} bytes from ${e.src} to ${e.dst}:${e.dport} is ${(size / (mean || 1)).toFixed(1)}x the window mean`,
            evidence: {
              bytes: size, orig_bytes: e.orig_bytes, resp_bytes: e.resp_bytes, window_mean: Math.round(mean),
              window_stddev: Math.round(sd), window_samples: w.count, window_s: this.cfg.window,
              ratio_threshold: this.cfg.ratio, k_threshold: this.cfg.k, crossed: [byRatio ? 'ratio' : null, bySigma ? 'sigma' : null].filter(Boolean),
            },
          }));
        }
      }
    }
    w.push(e.ts, size);
  }

  /**
   * SIGHUP: rule, ratio, k, minSamples, minBytes and the window length apply
   * in place (the samples held are kept; a shorter window drops the older ones
   * at the next event). maxSamples sizes the sample ring: a change rebuilds.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['maxSamples']);
    if (c === null) return false;
    this.cfg = c;
    this.win.span = c.window;
    return true;
  }

  advance(now: number): void { this.win.expire(now); }
  flush(): void { /* nothing pending: alerts are raised when the connection ends */ }
  stats(): Record<string, number> {
    return { window_samples: this.win.count, window_capped: this.win.capped, alerts: this.alerts };
  }
}
