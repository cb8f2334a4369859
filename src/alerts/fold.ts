/**
 * Generic alerts folded into specific ones. The generic rules (event_rate,
 * type_frequency, size_anomaly) see the same attacks the specific detectors
 * name better: an nmap scan is a port_scan *and* more than 500 SYNs a second.
 * Raising both tells the analyst the same thing twice. Here a generic alert
 * about a host that a specific detector named within `window` seconds (packet
 * time) is not raised: it is appended to the specific alert's evidence
 * (`evidence.folded`), which goes out as an update of that alert.
 *
 * A generic alert may come first (a flood crosses 500/s before the flood
 * detector's 2 s window fills): it is held for `hold` seconds of packet time
 * and released only if no specific alert about its host arrived by then.
 *
 * Matching: the generic alert's `src` is the specific alert's `src` (the
 * attacker), or, for a size alert, the same pair either way round (an
 * exfiltration alert names the inside host as src whichever side opened the
 * connection). A generic alert without a host is passed on at once.
 *
 * Bounded: at most `maxEntries` specific alerts remembered (least recent
 * forgotten), `maxEntries` held generic alerts (beyond that the oldest is
 * released early, counted), 10 folded items kept per specific alert (the rest
 * counted in `folded_more`). Packet time only.
 */
import type { Alert } from './types.js';

export interface FoldOptions {
  /** kinds whose alerts are folded into specific ones (default event_rate, type_frequency, size_anomaly) */
  generic?: readonly string[];
  /** seconds of packet time a generic alert waits for a specific one (default 5) */
  hold?: number;
  /** a specific alert this many seconds before (or `hold` after) a generic one covers it (default 300) */
  window?: number;
  maxEntries?: number;
}

export const FOLD_DEFAULTS = { generic: ['event_rate', 'type_frequency', 'size_anomaly'], hold: 5, window: 300 } as const;

const MAX_FOLDED = 10;

interface Specific {
  /** the latest alert (or update) of this specific attack: updates are built on it */
  latest: Alert;
  /** packet time of the latest alert or update */
  seen: number;
  folded: Record<string, unknown>[];
  more: number;
}

interface Held { a: Alert; until: number }

export class GenericFold {
  private readonly generic: Set<string>;
  private readonly hold: number;
  private readonly window: number;
  private readonly maxEntries: number;
  /** specific attacks by (kind, src, dst); Map order = least recently seen first */
  private readonly byKey = new Map<string, Specific>();
  /** keys of specific attacks per host (src), most recent last, at most 8 */
  private readonly byHost = new Map<string, string[]>();
  private held: Held[] = [];
  /** generic (kind, src, dst) keys whose first alert was folded: their later updates are folded too */
  private readonly foldedKeys = new Map<string, true>();
  readonly c = { folded: 0, released: 0, released_early: 0, forgotten: 0 };
  /** false when only generic detectors run: then a generic alert goes on at once (nothing could claim it) */
  private specificEnabled = true;

  constructor(o: FoldOptions = {}) {
    this.generic = new Set(o.generic ?? FOLD_DEFAULTS.generic);
    this.hold = o.hold ?? FOLD_DEFAULTS.hold;
    this.window = o.window ?? FOLD_DEFAULTS.window;
    this.maxEntries = Math.max(1, o.maxEntries ?? 10_000);
  }

  isGeneric(kind: string): boolean { return this.generic.has(kind); }

  /** The pipeline says whether any specific detector is enabled (at start and on every reload). */
  setSpecificEnabled(on: boolean): void { this.specificEnabled = on; }

  /** Takes one alert from a detector; `out` receives what goes on (now or, for held ones, later). */
  offer(a: Alert, out: (a: Alert) => void): void {
    if (!this.generic.has(a.kind)) { this.specific(a, out); return; }
    const key = keyOf(a);
    if (this.foldedKeys.has(key)) { this.c.folded++; return; }
    if (a.src === undefined || !this.specificEnabled) { out(a); return; }
    if (this.held.some((h) => keyOf(h.a) === key)) { this.held.push({ a, until: a.ts + this.hold }); return; }
    const s = this.cover(a);
    if (s) { this.fold(s, a, out); return; }
    if (a.update) { out(a); return; } // the first alert of this episode was already released
    this.held.push({ a, until: a.ts + this.hold });
    if (this.held.length > this.maxEntries) { this.c.released_early++; this.release(this.held.shift()!, out); }
  }

  /** Packet time reached `now`: release generic alerts no specific alert claimed. */
  advance(now: number, out: (a: Alert) => void): void {
    if (this.held.length === 0 || this.held[0]!.until > now) return;
    const keep: Held[] = [];
    for (const h of this.held) {
      if (h.until <= now) this.release(h, out); else keep.push(h);
    }
    this.held = keep;
  }

  /** End of input: everything held goes on. */
  flush(out: (a: Alert) => void): void {
    const all = this.held;
    this.held = [];
    for (const h of all) this.release(h, out);
  }

  stats(): Record<string, number> {
    return { ...this.c, held: this.held.length, specific: this.byKey.size };
  }

  private specific(a: Alert, out: (a: Alert) => void): void {
    const key = keyOf(a);
    let s = this.byKey.get(key);
    if (s === undefined) {
      s = { latest: a, seen: a.ts, folded: [], more: 0 };
      if (a.src !== undefined) {
        const list = this.byHost.get(a.src) ?? [];
        list.push(key);
        if (list.length > 8) list.shift();
        this.byHost.delete(a.src); // most recent last
        this.byHost.set(a.src, list);
        if (this.byHost.size > this.maxEntries) this.byHost.delete(this.byHost.keys().next().value as string);
      }
    } else {
      this.byKey.delete(key); // re-insert: most recently seen last
      s.seen = Math.max(s.seen, a.ts);
      // a detector's own update replaces the evidence: what was folded before stays appended
      if (a.update && s.folded.length > 0) a = withFolded(a, s);
      s.latest = a;
    }
    this.byKey.set(key, s);
    if (this.byKey.size > this.maxEntries) {
      this.byKey.delete(this.byKey.keys().next().value as string);
      this.c.forgotten++;
    }
    out(a);
    // generic alerts waiting for this host are folded now
    if (this.held.length === 0 || a.src === undefined) return;
    const keep: Held[] = [];
    for (const h of this.held) {
      if (matches(s, h.a, this.window, this.hold)) this.fold(s, h.a, out); else keep.push(h);
    }
    this.held = keep;
  }

  /** the most recent specific attack that covers generic alert `g`, if any */
  private cover(g: Alert): Specific | undefined {
    const hosts = g.dst !== undefined ? [g.src!, g.dst] : [g.src!];
    let best: Specific | undefined;
    for (const h of hosts) {
      for (const k of this.byHost.get(h) ?? []) {
        const s = this.byKey.get(k);
        if (s && matches(s, g, this.window, this.hold) && (!best || s.seen > best.seen)) best = s;
      }
    }
    return best;
  }

  private fold(s: Specific, g: Alert, out: (a: Alert) => void): void {
    this.c.folded++;
    const gk = keyOf(g);
    this.foldedKeys.delete(gk);
    this.foldedKeys.set(gk, true);
    if (this.foldedKeys.size > this.maxEntries) this.foldedKeys.delete(this.foldedKeys.keys().next().value as string);
    if (s.folded.length < MAX_FOLDED) s.folded.push({ kind: g.kind, ts: g.ts, ts_first: g.ts_first, summary: g.summary, evidence: g.evidence });
    else s.more++;
    const base = s.latest;
    const u: Alert = withFolded({ ...base, update: true, ts: Math.max(base.ts, g.ts), ts_last: Math.max(base.ts_last, g.ts_last) }, s);
    s.latest = u;
    out(u);
  }

  private release(h: Held, out: (a: Alert) => void): void {
    this.c.released++;
    out(h.a);
  }
}

function keyOf(a: Alert): string {
  return `${a.kind}\u0000${a.src ?? ''}\u0000${a.dst ?? ''}`;
}

/** a specific alert `s` covers generic `g`: same attacker (or same pair) and close in packet time */
function matches(s: Specific, g: Alert, window: number, hold: number): boolean {
  const a = s.latest;
  const host = a.src === g.src || (g.dst !== undefined && a.src === g.dst && a.dst === g.src);
  return host && s.seen >= g.ts_first - window && a.ts_first <= g.ts + hold;
}

function withFolded(a: Alert, s: Specific): Alert {
  const folded = s.more > 0 ? [...s.folded, { more: s.more }] : [...s.folded];
  return { ...a, evidence: { ...a.evidence, folded } };
}
