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
 * When a type crosses, the window is read once to find who drives the share:
 * the top sources and flows (src → dst, with their ports) of that type. The
 * alert names them (`src`/`dst` when one source / one destination dominates)
 * — and stays silent when the share is explained by a normal server: mostly
 * answers (DNS responses, HTTP responses, ICMP replies: `answer_share` ≥
 * 0.8), a leading source (≥ half the type) that is a server answering (≥ 80 %
 * of its events answers), or requests spread over many clients of one server
 * (≥ `serverClients` sources, none above 20 %, one destination with ≥ half).
 * A silent crossing is counted (`explained`) and re-arms like an alert.
 *
 * Defaults: window 60 s, threshold 0.5 (the seed's), 500 events, rearm 0.8;
 * the window holds at most maxEvents 250,000 events (beyond that the oldest
 * leave early, counted as window_capped): 27 bytes a slot preallocated plus
 * the source string each slot keeps alive — at 1 M slots a spoofed flood
 * kept 1 M source strings (≈ 60 MiB) alive for the window's 60 s.
 * Comparable anchor: ntopng's per-host "flood" checks (256 SYN/s, 256 ICMP/s)
 * measure one type's rate; this measures its share of everything.
 */
import type { Detector, Emit } from './detector.js';
import { eventTypes, type EventType, type NetEvent } from '../events/types.js';
import { makeAlert, PRIMARY_EVENT_TYPES } from './alert.js';
import type { DetectorSpec } from './spec.js';
import { mergeSettings, DistinctCounter } from './bounded-state.js';
import { isInitiation } from '../events/direction.js';

export interface TypeFrequencyConfig {
  window: number;
  threshold: number;
  minEvents: number;
  rearm: number;
  types: readonly string[];
  maxEvents: number;
  /** distinct clients of one destination that make a share "a busy server", not an attack */
  serverClients: number;
}

export const TYPE_FREQUENCY_DEFAULTS: TypeFrequencyConfig = {
  window: 60, threshold: 0.5, minEvents: 500, rearm: 0.8, types: [...PRIMARY_EVENT_TYPES], maxEvents: 250_000,
  serverClients: 10,
};

/** bit 7 of a ring slot's type byte: the event is an answer (its sender did not initiate it) */
const ANSWER = 0x80;
const TOP = 3;
/** distinct ports counted per flow in the evidence */
const MAX_PORTS = 1000;

/** keys of each kind (source, flow, destination) followed when the window is read for its drivers */
const CANDIDATES = 4096;

/**
 * Misra–Gries heavy hitters: at most CANDIDATES counters; a new key when all
 * are taken lowers every counter by one (dropping those at zero) instead of
 * entering. Any key with more than n / (CANDIDATES + 1) of n offers keeps a
 * counter. Amortised O(1) per offer: the counters lose at most what was offered.
 */
class Heavy {
  private readonly m = new Map<string, number>();
  offer(k: string): void {
    const c = this.m.get(k);
    if (c !== undefined) { this.m.set(k, c + 1); return; }
    if (this.m.size < CANDIDATES) { this.m.set(k, 1); return; }
    for (const [x, v] of this.m) { if (v <= 1) this.m.delete(x); else this.m.set(x, v - 1); }
  }
  has(k: string): boolean { return this.m.has(k); }
}

interface Drivers {
  sources: { src: string; events: number; share: number; answer_share: number }[];
  /** src → dst pairs, with how many destination ports they used */
  flows: { src: string; dst: string; events: number; dports: number; sample_dports: number[] }[];
  distinctSources: number;
  answerShare: number;
  topDst: { dst: string; events: number; share: number; sources: number } | null;
}

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
  /** who sent each event (references to the events' own strings, no copies) */
  private readonly src: (string | undefined)[];
  private readonly dst: (string | undefined)[];
  private readonly dport: Uint16Array;
  explained = 0;
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
    this.src = new Array<string | undefined>(cfg.maxEvents);
    this.dst = new Array<string | undefined>(cfg.maxEvents);
    this.dport = new Uint16Array(cfg.maxEvents);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    const i = this.typeIndex.get(e.type);
    if (i === undefined) return;
    this.expire(e.ts);
    if (this.len === this.cfg.maxEvents) { this.shift(); this.capped++; }
    const at = (this.head + this.len) % this.cfg.maxEvents;
    this.ts[at] = e.ts;
    this.ty[at] = isInitiation(e) ? i : i | ANSWER;
    this.src[at] = e.src;
    this.dst[at] = e.dst;
    this.dport[at] = e.dport;
    this.len++;
    this.counts[i]!++;
    if (this.start < 0) this.start = e.ts;
    if (this.len < this.cfg.minEvents || e.ts - this.start < this.cfg.window) return;
    const share = this.counts[i]! / this.len;
    if (!this.firing[i] && share > this.cfg.threshold) {
      this.firing[i] = true;
      this.nFiring++;
      this.firstTs[i] = this.oldestOf();
      const d = this.drivers(i);
      if (this.explainedByServer(d)) { this.explained++; return; }
      this.alerts++;
      const dist: Record<string, number> = {};
      this.cfg.types.forEach((t, j) => { if (this.counts[j]) dist[t] = this.counts[j]!; });
      const lead = d.sources[0];
      const src = lead && lead.share >= 0.5 ? lead.src : undefined;
      const leadFlows = src === undefined ? [] : d.flows.filter((f) => f.src === src);
      const dst = src !== undefined && leadFlows[0] && leadFlows[0].events >= 0.5 * lead!.events ? leadFlows[0].dst : undefined;
      const who = src !== undefined ? `, ${(lead!.share * 100).toFixed(0)}% of them from ${src}${dst ? ` to ${dst}` : ''}`
        : `, spread over ${d.distinctSources} sources (top ${d.sources.map((x) => x.src).join(', ')})`;
      emit(makeAlert({
        kind: this.name, severity: 'low', confidence: 0.3 + 0.5 * Math.min(1, (share - this.cfg.threshold) / (1 - this.cfg.threshold)),
        ts: e.ts, ts_first: this.firstTs[i]!, ts_last: e.ts, ...(src !== undefined ? { src } : {}), ...(dst !== undefined ? { dst } : {}),
        summary: `${e.type} events are ${(share * 100).toFixed(0)}% of the last ${this.len} events (${this.cfg.window}s window)${who}`,
        evidence: { type: e.type, share: Math.round(share * 1000) / 1000, count: this.counts[i], window_events: this.len,
          window_s: this.cfg.window, threshold: this.cfg.threshold, min_events: this.cfg.minEvents, distribution: dist,
          top_sources: d.sources, top_flows: d.flows, distinct_sources: d.distinctSources, answer_share: d.answerShare },
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
  stats(): Record<string, number> { return { window_events: this.len, window_capped: this.capped, explained: this.explained, alerts: this.alerts }; }

  private oldestOf(): number { return this.len ? this.ts[this.head]! : 0; }

  /**
   * Who sends type `i`, to whom, and how much of it is answers — in memory
   * bounded whatever the window holds. Counting every source, flow and
   * destination of a 1 M-event window of a spoofed-source flood took a
   * record (and a Set) per distinct key: hundreds of MiB at once, the peak
   * of an ICMP flood. So the first pass keeps at most CANDIDATES keys of each
   * kind (Misra–Gries: every key with more than 1/(CANDIDATES + 1) of the
   * type's events is among them, so a source with half of them cannot be
   * missed), and the second pass counts the candidates exactly. With fewer
   * distinct keys than that (every ordinary capture) nothing is dropped and
   * the result is what counting everything gave. Distinct sources are
   * counted exactly up to CANDIDATES, estimated (HyperLogLog) beyond.
   */
  private drivers(i: number): Drivers {
    const cap = this.cfg.maxEvents;
    const candSrc = new Heavy(), candFlow = new Heavy(), candDst = new Heavy();
    for (let k = 0, at = this.head; k < this.len; k++, at = at + 1 === cap ? 0 : at + 1) {
      if ((this.ty[at]! & ~ANSWER) !== i) continue;
      const s = this.src[at]!, d = this.dst[at]!;
      candSrc.offer(s); candFlow.offer(`${s}\u0000${d}`); candDst.offer(d);
    }
    const bySrc = new Map<string, { events: number; answers: number }>();
    const byFlow = new Map<string, { events: number; ports: Set<number> }>();
    const byDst = new Map<string, { events: number; srcs: Set<string> }>();
    const distinct = new Set<string>();
    let more: DistinctCounter | null = null;
    let n = 0, answers = 0;
    for (let k = 0, at = this.head; k < this.len; k++, at = at + 1 === cap ? 0 : at + 1) {
      const t = this.ty[at]!;
      if ((t & ~ANSWER) !== i) continue;
      n++;
      const ans = (t & ANSWER) !== 0;
      if (ans) answers++;
      const s = this.src[at]!, d = this.dst[at]!;
      if (more !== null) more.addString(s);
      else if (!distinct.has(s)) {
        distinct.add(s);
        if (distinct.size > CANDIDATES) { more = new DistinctCounter(CANDIDATES); for (const x of distinct) more.addString(x); distinct.clear(); }
      }
      if (candSrc.has(s)) {
        let rs = bySrc.get(s);
        if (rs === undefined) { rs = { events: 0, answers: 0 }; bySrc.set(s, rs); }
        rs.events++;
        if (ans) rs.answers++;
      }
      const fk = `${s}\u0000${d}`;
      if (candFlow.has(fk)) {
        let rf = byFlow.get(fk);
        if (rf === undefined) { rf = { events: 0, ports: new Set() }; byFlow.set(fk, rf); }
        rf.events++;
        if (rf.ports.size < MAX_PORTS) rf.ports.add(this.dport[at]!);
      }
      if (candDst.has(d)) {
        let r = byDst.get(d);
        if (r === undefined) { r = { events: 0, srcs: new Set() }; byDst.set(d, r); }
        r.events++;
        if (r.srcs.size <= this.cfg.serverClients) r.srcs.add(s);
      }
    }
    const top = <T extends { events: number }>(m: Map<string, T>) => [...m].sort((a, b) => b[1].events - a[1].events).slice(0, TOP);
    const share = (x: number, of = n) => Math.round((x / Math.max(1, of)) * 1000) / 1000;
    const dTop = top(byDst)[0];
    return {
      sources: top(bySrc).map(([src, r]) => ({ src, events: r.events, share: share(r.events), answer_share: share(r.answers, r.events) })),
      flows: top(byFlow).map(([k, r]) => {
        const [src, dst] = k.split('\u0000') as [string, string];
        return { src, dst, events: r.events, dports: r.ports.size, sample_dports: [...r.ports].slice(0, 5) };
      }),
      distinctSources: more !== null ? more.count : distinct.size,
      answerShare: share(answers),
      topDst: dTop ? { dst: dTop[0], events: dTop[1].events, share: share(dTop[1].events), sources: dTop[1].srcs.size } : null,
    };
  }

  /**
   * Ordinary service, not an anomaly: the type is mostly answers, or its
   * leading source is a server answering, or many clients of one server send
   * it with none dominant.
   */
  private explainedByServer(d: Drivers): boolean {
    if (d.answerShare >= 0.8) return true;
    const t = d.topDst, lead = d.sources[0];
    if (lead !== undefined && lead.share >= 0.5 && lead.answer_share >= 0.8) return true;
    return t !== null && t.share >= 0.5 && t.sources >= this.cfg.serverClients && (lead === undefined || lead.share <= 0.2);
  }

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
    this.counts[this.ty[this.head]! & ~ANSWER]!--;
    this.src[this.head] = undefined; // let the window's strings go
    this.dst[this.head] = undefined;
    this.head = (this.head + 1) % this.cfg.maxEvents;
    this.len--;
  }
}
