/**
 * event_rate — the seed dropped events above a per-second rate; a security
 * monitor must never do that. Here an excess *raises an alert* and every
 * event is still analysed.
 *
 * Counts what a source *initiates* (connection attempts, DNS queries, HTTP
 * requests, ICMP requests, SSH logins: src/events/direction.ts) per second
 * of packet time, never the answers it gives: a server answering a scan, a
 * flood or a web scan sends as many packets as its attacker and is not the
 * one to blame. A rate alert about a host that a specific detector (port_scan,
 * icmp_flood …) already named for the same window is folded into that alert
 * by the pipeline (src/alerts/fold.ts), not raised a second time.
 *
 * A source above `maxPerSecond` raises one alert; while it stays above, the
 * alert is not repeated for `window` seconds (the suppression layer folds
 * repeats further). State is one small record per source active in the
 * current second, capped at `maxSources` (evictions counted).
 *
 * A source's first event creates no record: an admission filter (see
 * bounded-state.ts) remembers it with its second and one destination, and
 * the source's second event creates the record seeded with the first (so the
 * count is exact). A spoofed-source flood, one event per source, therefore
 * costs a hash and a few bit probes per event instead of a record per source.
 *
 * Defaults: 500 events/s per source, window 60 s. Comparable anchors:
 * ntopng's SYN and ICMP flood checks (256/s per host, one type each),
 * Suricata's `threshold: type both, count, seconds` rate rules.
 */
import type { Detector, Emit } from './detector.js';
import { eventTypes, type EventType, type NetEvent } from '../events/types.js';
import { makeAlert, PRIMARY_EVENT_TYPES } from './alert.js';
import { BoundedMap } from './window.js';
import { Admission, hash32m, mergeSettings } from './bounded-state.js';
import { ipv4, ipv4Text } from './ip.js';
import { isInitiation } from '../events/direction.js';
import type { DetectorSpec } from './spec.js';

export interface EventRateConfig {
  maxPerSecond: number;
  window: number;
  maxSources: number;
  types: readonly string[];
}

export const EVENT_RATE_DEFAULTS: EventRateConfig = {
  maxPerSecond: 500, window: 60, maxSources: 100_000, types: [...PRIMARY_EVENT_TYPES],
};

interface SourceRate { second: number; count: number; firstOver: number; lastAlert: number; dsts: string[] }

const MAX_DSTS = 5;

export const eventRateSpec: DetectorSpec<EventRateConfig> = {
  name: 'event_rate', defaults: EVENT_RATE_DEFAULTS, create: (c) => new EventRate(c),
};

export class EventRate implements Detector {
  readonly name = 'event_rate';
  readonly keyBy = 'src' as const;
  consumes: readonly EventType[];
  private readonly sources: BoundedMap<string, SourceRate>;
  private types: Set<string>;
  /** admission of new sources; a first event's second and IPv4 destination in its slot (other destinations in firstDst) */
  private adm: Admission;
  private firstDst: (string | undefined)[];
  alerts = 0;

  constructor(public cfg: EventRateConfig = EVENT_RATE_DEFAULTS) {
    this.adm = new Admission(cfg.maxSources, 2);
    this.sources = new BoundedMap(cfg.maxSources, undefined, this.adm);
    this.types = new Set(cfg.types);
    this.consumes = eventTypes(cfg.types);
    this.firstDst = new Array<string | undefined>(this.adm.slots);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (!this.types.has(e.type) || !isInitiation(e)) return;
    const sec = Math.floor(e.ts);
    const h = hash32m(e.src);
    let s = this.sources.mayHave(h) ? this.sources.get(e.src) : undefined;
    if (s === undefined) {
      const adm = this.adm, d = adm.data;
      const i = adm.offer(h);
      if (i >= 0) { // first event: remembered, no record
        const v = ipv4(e.dst);
        d[i + 1] = sec; d[i + 2] = v;
        if (v < 0) this.firstDst[i / 3] = e.dst;
        return;
      }
      s = { second: sec, count: 0, firstOver: 0, lastAlert: -Infinity, dsts: [] };
      const j = adm.take(h);
      if (j >= 0) {
        if (d[j + 1] === sec) { s.count = 1; s.dsts.push(d[j + 2]! >= 0 ? ipv4Text(d[j + 2]!) : this.firstDst[j / 3]!); }
        this.firstDst[j / 3] = undefined;
      }
      this.sources.set(e.src, s, h);
    } else if (s.second !== sec) {
      s.second = sec;
      s.count = 0;
      s.dsts.length = 0;
      this.sources.set(e.src, s); // most recent last: advance() scans from the front
    }
    s.count++;
    if (s.dsts.length < MAX_DSTS && !s.dsts.includes(e.dst)) s.dsts.push(e.dst);
    if (s.count === this.cfg.maxPerSecond + 1) {
      if (s.firstOver === 0 || e.ts - s.lastAlert > this.cfg.window) s.firstOver = sec;
      if (e.ts - s.lastAlert > this.cfg.window) {
        s.lastAlert = e.ts;
        this.alerts++;
        emit(makeAlert({
          kind: this.name, severity: 'medium', confidence: 0.5, src: e.src, ts: e.ts, ts_first: sec, ts_last: e.ts,
          summary: `${e.src} initiated more than ${this.cfg.maxPerSecond} connections/requests in one second`,
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

  /** SIGHUP: every setting applies in place; the sources' counts of the current second are kept. */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    this.cfg = c;
    this.types = new Set(c.types);
    this.consumes = eventTypes(c.types);
    this.sources.cap = c.maxSources;
    if (c.maxSources > this.adm.capacity) {
      // a bigger table needs a filter that remembers as many keys (the new one starts empty)
      const adm = new Admission(c.maxSources, 2);
      this.sources.reindex(adm);
      this.adm = adm;
      this.firstDst = new Array<string | undefined>(adm.slots);
    }
    return true;
  }

  flush(): void { /* nothing pending */ }
  stats(): Record<string, number> {
    return { sources: this.sources.size, sources_evicted: this.sources.evicted, first_events_filtered: this.adm.filtered, alerts: this.alerts };
  }
}
