/**
 * Alert suppression in the style of Zeek's notice framework
 * (base/frameworks/notice/main.zeek): the first alert for a key passes; the
 * same key within `interval` seconds of it is suppressed and folded into it;
 * after the interval the next one passes again and starts a new window.
 *
 * - Key: (kind, src, dst). Zeek keys on (note, identifier); tapwatch alerts
 *   carry src/dst, so two scans by one scanner against different victims are
 *   NOT folded (the per-entity complaint in zeek/zeek#1167).
 * - Interval: default 3600 s (Zeek's default_suppression_interval), per-kind
 *   overrides (Zeek's type_suppression_intervals); 0 disables for that kind.
 *   The window is fixed from the first alert's time, not sliding.
 * - Time is PACKET time (alert.ts), never the wall clock, so replaying a
 *   pcap gives the same result as the live run. An alert with a ts earlier
 *   than its window start (out of order) is inside the window.
 * - flush() returns one update per group that folded something since the
 *   last flush: the first alert with count (total folded, cumulative),
 *   ts_first/ts_last widened, ts = latest folded alert's ts, severity raised
 *   to the highest seen, update: true.
 * - Bounded: at most maxEntries windows; the oldest is evicted first (its
 *   pending update is kept for the next flush, never silently lost) and
 *   counted. Pending updates are bounded the same way (oldest dropped, counted).
 */
import type { Alert, Severity } from './types.js';
import { UidGen, randomSeed } from '../flows/uid.js';

export interface DedupOptions {
  /** suppression interval in seconds (default 3600); 0 disables */
  interval?: number;
  /** per-kind interval overrides in seconds; 0 disables for that kind */
  perKind?: Readonly<Record<string, number>>;
  /** most windows kept (default 10000) */
  maxEntries?: number;
  /** alert id generator (default: random seed) */
  ids?: UidGen;
}

export const DEFAULT_SUPPRESSION_INTERVAL = 3600;

const SEV_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

interface Window {
  first: Alert;
  /** window start, packet time of the first alert */
  start: number;
  interval: number;
  /** total raw alerts folded, including the first (sum of their counts) */
  count: number;
  ts_first: number;
  ts_last: number;
  latest: number;
  severity: Severity;
  /** folded something since the last update was emitted */
  dirty: boolean;
  /** the detector's own latest update of this attack (final counts, summary), if it sent one */
  detail: Alert | null;
}

export class AlertDedup {
  private readonly interval: number;
  private readonly perKind: Readonly<Record<string, number>>;
  private readonly maxEntries: number;
  private readonly ids: UidGen;
  private readonly windows = new Map<string, Window>();
  private readonly lastIds = new Map<string, string>();
  private pending: Alert[] = [];
  /** highest packet time seen */
  private now = -Infinity;
  private readonly c = {
    offered: 0,
    passed: 0,
    suppressed: 0,
    evictions: 0,
    expired: 0,
    updates: 0,
    dropped_updates: 0,
  };

  constructor(opts: DedupOptions = {}) {
    this.interval = opts.interval ?? DEFAULT_SUPPRESSION_INTERVAL;
    this.perKind = opts.perKind ?? {};
    this.maxEntries = Math.max(1, opts.maxEntries ?? 10_000);
    this.ids = opts.ids ?? new UidGen('A', randomSeed());
  }

  /**
   * The alert if it passes (a copy with its `id`), null if it was suppressed
   * (folded into an earlier one, whose id its update will carry).
   */
  offer(raw: Alert): Alert | null {
    this.c.offered++;
    if (Number.isFinite(raw.ts) && raw.ts > this.now) this.now = raw.ts;
    const interval = this.intervalFor(raw.kind);
    const key = keyOf(raw);
    // a detector's own update (an episode's final counts) carries the id of the alert it updates,
    // even once that alert's suppression window is over (a scan longer than the interval)
    const inherited = raw.update ? this.lastIds.get(key) : undefined;
    const alert: Alert = { id: inherited ?? this.ids.next(), ...raw };
    if (!(interval > 0)) {
      if (inherited === undefined) this.rememberId(key, alert.id!);
      this.c.passed++;
      return alert;
    }
    this.expireFront();
    const w = this.windows.get(key);
    if (w && alert.ts - w.start < w.interval) {
      this.fold(w, alert);
      this.c.suppressed++;
      return null;
    }
    if (w) {
      this.retire(key, w);
      this.c.expired++;
    }
    this.windows.set(key, {
      first: alert,
      start: alert.ts,
      interval,
      count: alert.count ?? 1,
      ts_first: alert.ts_first,
      ts_last: alert.ts_last,
      latest: alert.ts,
      severity: alert.severity,
      dirty: false,
      detail: null,
    });
    while (this.windows.size > this.maxEntries) {
      const [k, old] = this.windows.entries().next().value as [string, Window];
      this.retire(k, old);
      this.c.evictions++;
    }
    if (inherited === undefined) this.rememberId(key, alert.id!); // only ids that go out are remembered
    this.c.passed++;
    return alert;
  }

  /**
   * Updates for every group that folded alerts since the last flush (in the
   * order the groups started). With `now` (packet time), windows that ended
   * by then are also forgotten; flush(Infinity) at end of input forgets all.
   */
  flush(now?: number): Alert[] {
    const out = this.pending;
    this.pending = [];
    // flush(Infinity) at end of input forgets everything, but an infinite (or
    // NaN) horizon must not stick in the clock used by later offers
    if (now !== undefined && Number.isFinite(now) && now > this.now) this.now = now;
    const horizon = now === undefined || Number.isNaN(now) ? undefined : Math.max(now, this.now);
    for (const [key, w] of this.windows) {
      if (w.dirty) {
        out.push(this.update(w));
        w.dirty = false;
      }
      if (horizon !== undefined && horizon - w.start >= w.interval) {
        this.windows.delete(key);
        this.c.expired++;
      }
    }
    this.c.updates += out.length;
    return out;
  }

  stats(): Record<string, number> {
    return { ...this.c, entries: this.windows.size, pending_updates: this.pending.length };
  }

  /** the latest id of each (kind, src, dst), at most maxEntries (least recent forgotten) */
  private rememberId(key: string, id: string): void {
    this.lastIds.delete(key);
    this.lastIds.set(key, id);
    if (this.lastIds.size > this.maxEntries) this.lastIds.delete(this.lastIds.keys().next().value as string);
  }

  private intervalFor(kind: string): number {
    return Object.prototype.hasOwnProperty.call(this.perKind, kind) ? this.perKind[kind]! : this.interval;
  }

  private fold(w: Window, a: Alert): void {
    // A detector's own update describes the same attack (not a new one): keep its
    // summary and evidence for the update we write, don't count it as a repeat.
    if (a.update) w.detail = a;
    else w.count += a.count ?? 1;
    if (a.ts_first < w.ts_first) w.ts_first = a.ts_first;
    if (a.ts_last > w.ts_last) w.ts_last = a.ts_last;
    if (a.ts > w.latest) w.latest = a.ts;
    if (SEV_RANK[a.severity] > SEV_RANK[w.severity]) w.severity = a.severity;
    w.dirty = true;
  }

  private update(w: Window): Alert {
    const d = w.detail;
    return {
      ...w.first,
      ...(d ? { summary: d.summary, evidence: d.evidence, confidence: Math.max(d.confidence, w.first.confidence) } : {}),
      ts: w.latest,
      ts_first: w.ts_first,
      ts_last: w.ts_last,
      severity: w.severity,
      count: w.count,
      update: true,
    };
  }

  /** drop a window, keeping its unreported update for the next flush */
  private retire(key: string, w: Window): void {
    this.windows.delete(key);
    if (!w.dirty) return;
    this.pending.push(this.update(w));
    if (this.pending.length > this.maxEntries) {
      this.pending.shift();
      this.c.dropped_updates++;
    }
  }

  /** forget windows at the front (oldest) that ended by the latest packet time */
  private expireFront(): void {
    for (const [key, w] of this.windows) {
      if (this.now - w.start < w.interval) break;
      this.retire(key, w);
      this.c.expired++;
    }
  }
}

/** (kind, src, dst); an alert without a victim (a sweep) is keyed by its port instead. */
function keyOf(a: Alert): string {
  return `${a.kind}\u0000${a.src ?? ''}\u0000${a.dst ?? (a.dport !== undefined ? `:${a.dport}` : '')}`;
}
