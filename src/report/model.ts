/**
 * The data of the HTML report (`tapwatch report`, `analyze --report`): pure
 * functions and one accumulator, no I/O, no HTML. What goes in: alert and
 * incident records as written to the alert file (parsed JSON), optionally the
 * events (the event log, or the pipeline's events) and packets per second of
 * packet time (analyze only: the alert and event files do not hold packets).
 * What comes out (`ReportData`) is plain JSON that render.ts embeds in the
 * page and the page's script draws, with textContent only.
 *
 * Time is packet time throughout. Captures recorded days apart would leave a
 * linear axis empty but for two slivers, so the axis is cut into segments of
 * activity: a stretch of more than `gapFor(span)` seconds with no packet, no
 * event and no alert is collapsed into a break that says how long it was.
 *
 * Bounded: alerts and incidents are folded by id (an update replaces its
 * alert's counters, never adds a mark); per-second counters are one number
 * per second that saw traffic; the talker table holds at most MAX_HOSTS hosts
 * (the rest are counted, and the report says so). Nothing is dropped silently:
 * lines that are not alerts or events are counted and named in `notes`.
 */

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export interface ReportAlert {
  /** the alert's id (updates share it); `line-N` for a record without one */
  id: string;
  kind: string;
  severity: Severity;
  confidence: number | null;
  /** packet time the alert was first raised: where its mark sits on the timeline */
  ts: number;
  ts_first: number;
  ts_last: number;
  src: string | null;
  dst: string | null;
  dport: number | null;
  /** the summary as first raised */
  summary: string;
  /** the latest update's summary when it differs (an episode's final totals), else null */
  summary_latest: string | null;
  technique: string | null;
  /** raw detections folded into it (the latest update's count) */
  count: number;
  /** updates written after the first record */
  updates: number;
  /** the latest evidence */
  evidence: Record<string, unknown>;
  /** pcap file written for this alert (pcap-on-alert), if any */
  pcap: string | null;
}

export interface ReportIncident {
  id: string;
  severity: Severity;
  ts_first: number;
  ts_last: number;
  summary: string;
  stages: string[];
  attackers: string[];
  victims: string[];
  alerts: number;
  timeline: Record<string, unknown>[];
}

export interface HostGroup {
  host: string;
  /** ids of its alerts, in time order */
  alerts: string[];
  kinds: string[];
  /** the other side of its alerts (victims of an attacker, attackers of a victim) */
  peers: string[];
  severity: Severity;
  first: number;
  last: number;
}

export interface Talker { host: string; bytes: number; flows: number; events: number }

/** One stretch of activity on the time axis and where it sits (x0..x1, fractions of the plot width). */
export interface Segment { start: number; end: number; x0: number; x1: number }

export interface ReportData {
  title: string;
  inputs: string[];
  span: { first: number; last: number } | null;
  segments: Segment[];
  /** seconds per bucket of the rate plot */
  bucket: number;
  /** bucket start times, and per bucket the packets (null: not known) and events */
  series: { t: number[]; packets: number[] | null; events: number[] };
  alerts: ReportAlert[];
  incidents: ReportIncident[];
  byAttacker: HostGroup[];
  byVictim: HostGroup[];
  talkers: Talker[];
  eventCounts: Record<string, number>;
  totals: { packets: number | null; events: number; alerts: number; incidents: number; bySeverity: Record<Severity, number>; byKind: Record<string, number> };
  /** what the reader had to leave out or could not read, said in the page */
  notes: string[];
}

/** hosts kept for the talker table (a spoofed flood brings one per packet) */
export const MAX_HOSTS = 200_000;
export const TOP_TALKERS = 15;
/** rate-plot buckets at most */
export const MAX_BUCKETS = 400;
/** idle stretches longer than this are collapsed on the time axis */
export function gapFor(span: number): number { return Math.max(300, span / 100); }
/** a segment never gets less than this share of the axis, so a burst of a second stays visible */
const MIN_SHARE = 0.06;
/** share of the axis each break takes */
const BREAK_SHARE = 0.03;
const BUCKET_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/**
 * Active stretches of packet time from the seconds that saw something:
 * consecutive seconds closer than `gap` are one segment; each segment ends at
 * the end of its last second. Laid out on [0, 1] with a break between segments.
 */
export function segmentsOf(seconds: readonly number[], gap: number): Segment[] {
  if (seconds.length === 0) return [];
  const s = [...new Set(seconds.map(Math.floor))].sort((a, b) => a - b);
  const raw: { start: number; end: number }[] = [];
  let start = s[0]!, prev = s[0]!;
  for (let i = 1; i < s.length; i++) {
    const v = s[i]!;
    if (v - prev > gap) { raw.push({ start, end: prev + 1 }); start = v; }
    prev = v;
  }
  raw.push({ start, end: prev + 1 });
  const total = raw.reduce((n, r) => n + (r.end - r.start), 0);
  const avail = 1 - BREAK_SHARE * (raw.length - 1);
  // proportional shares, raised to MIN_SHARE where too small, the others scaled to what is left
  const share = raw.map((r) => (r.end - r.start) / total);
  const small = share.map((x) => x * avail < MIN_SHARE && raw.length > 1);
  const fixed = small.filter(Boolean).length * MIN_SHARE;
  const rest = share.reduce((n, x, i) => n + (small[i] ? 0 : x), 0);
  let x = 0;
  return raw.map((r, i) => {
    const w = small[i] ? MIN_SHARE : rest > 0 ? ((avail - fixed) * share[i]!) / rest : avail / raw.length;
    const seg = { start: r.start, end: r.end, x0: x, x1: x + w };
    x += w + BREAK_SHARE;
    return seg;
  });
}

/** The smallest bucket length from BUCKET_STEPS that keeps the buckets over all segments ≤ max. */
export function bucketFor(segments: readonly Segment[], max = MAX_BUCKETS): number {
  for (const b of BUCKET_STEPS) {
    let n = 0;
    for (const g of segments) n += Math.ceil(g.end / b) - Math.floor(g.start / b);
    if (n <= max) return b;
  }
  return BUCKET_STEPS[BUCKET_STEPS.length - 1]!;
}

/** Per-bucket sums of a per-second counter over the segments (every bucket of a segment, zeros included). */
export function bucketize(perSecond: ReadonlyMap<number, number>, segments: readonly Segment[], bucket: number): { t: number[]; v: number[] } {
  const t: number[] = [], v: number[] = [];
  const index = new Map<number, number>();
  for (const g of segments) {
    for (let b = Math.floor(g.start / bucket) * bucket; b < g.end; b += bucket) {
      if (index.has(b)) continue; // two segments sharing a bucket (bucket longer than the gap)
      index.set(b, t.length);
      t.push(b);
      v.push(0);
    }
  }
  for (const [sec, n] of perSecond) {
    const i = index.get(Math.floor(sec / bucket) * bucket);
    if (i !== undefined) v[i]! += n;
  }
  return { t, v };
}

/** Where packet time `ts` sits on the axis (0..1), or null when it falls in no segment. */
export function axisX(segments: readonly Segment[], ts: number): number | null {
  for (const g of segments) {
    if (ts >= g.start && ts <= g.end) return g.x0 + ((ts - g.start) / Math.max(1e-9, g.end - g.start)) * (g.x1 - g.x0);
  }
  return null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const sevOf = (v: unknown): Severity => (SEVERITIES.includes(v as Severity) ? (v as Severity) : 'low');
const sevMax = (a: Severity, b: Severity): Severity => (SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b);

/** the fields of an event the report reads (NetEvent and a parsed event line both fit) */
export interface EventLike { ts: unknown; type: unknown; src?: unknown; dst?: unknown; orig_bytes?: unknown; resp_bytes?: unknown }

interface HostAcc { bytes: number; flows: number; events: number }

export class ReportBuilder {
  private readonly alerts = new Map<string, ReportAlert>();
  /** kind|src|dst → id of the latest alert with those */
  private readonly lastByKey = new Map<string, string>();
  private readonly incidents = new Map<string, ReportIncident>();
  private readonly packetsPerSec = new Map<number, number>();
  private readonly eventsPerSec = new Map<number, number>();
  private readonly eventCounts: Record<string, number> = {};
  private readonly hosts = new Map<string, HostAcc>();
  private hostsOverflow = 0;
  private events = 0;
  private packets: number | null = null;
  private readonly skipped = new Map<string, number>();
  private line = 0;

  /**
   * One alert or incident record. An update (same id) folds into the alert it
   * updates. Returns false (and counts it under `source`) when it is neither.
   */
  addAlert(rec: unknown, source = 'alerts'): boolean {
    this.line++;
    if (!isObj(rec) || typeof rec.kind !== 'string' || num(rec.ts) === null) return this.skip(source);
    const ts = num(rec.ts)!;
    const ev = isObj(rec.evidence) ? rec.evidence : {};
    if (rec.kind === 'incident') {
      const id = str(ev.incident_id) ?? `incident-${this.line}`;
      const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
      const prev = this.incidents.get(id);
      this.incidents.set(id, {
        id, severity: sevOf(rec.severity), ts_first: Math.min(num(rec.ts_first) ?? ts, prev?.ts_first ?? Infinity), ts_last: Math.max(num(rec.ts_last) ?? ts, prev?.ts_last ?? -Infinity),
        summary: str(rec.summary) ?? '', stages: strs(ev.stages), attackers: strs(ev.attackers), victims: strs(ev.victims),
        alerts: num(ev.alerts) ?? 0, timeline: Array.isArray(ev.timeline) ? ev.timeline.filter(isObj) : [],
      });
      return true;
    }
    const src = str(rec.src), dst = str(rec.dst);
    const key = `${rec.kind}|${src ?? ''}|${dst ?? ''}`;
    let id = str(rec.id) ?? `line-${this.line}`;
    // A detector's end-of-episode record (update: true) comes through suppression with an id of its own:
    // it is the final word on the alert with the same kind and hosts (suppression's key), not a new alert.
    if (rec.update === true && !this.alerts.has(id)) id = this.lastByKey.get(key) ?? id;
    const prev = this.alerts.get(id);
    this.lastByKey.set(key, id);
    const a: ReportAlert = {
      id, kind: rec.kind, severity: sevOf(rec.severity), confidence: num(rec.confidence),
      ts: prev ? prev.ts : ts, ts_first: num(rec.ts_first) ?? ts, ts_last: num(rec.ts_last) ?? ts,
      src, dst, dport: num(rec.dport), summary: prev ? prev.summary : str(rec.summary) ?? '', summary_latest: null, technique: str(rec.technique),
      count: num(rec.count) ?? 1, updates: prev ? prev.updates + 1 : 0, evidence: ev, pcap: str(rec.pcap) ?? prev?.pcap ?? null,
    };
    if (prev) {
      a.severity = sevMax(prev.severity, a.severity);
      a.ts_first = Math.min(prev.ts_first, a.ts_first);
      a.ts_last = Math.max(prev.ts_last, a.ts_last);
      a.src ??= prev.src; a.dst ??= prev.dst; a.dport ??= prev.dport;
      const latest = str(rec.summary);
      a.summary_latest = latest !== null && latest !== a.summary ? latest : prev.summary_latest;
    }
    this.alerts.set(id, a);
    return true;
  }

  /** One event (for the rate plot, the event counts and the talkers); false when it is not one. */
  addEvent(e: EventLike | unknown, source = 'events'): boolean {
    if (!isObj(e)) return this.skip(source);
    const ts = num(e.ts), type = str(e.type);
    if (ts === null || type === null) return this.skip(source);
    this.events++;
    const sec = Math.floor(ts);
    this.eventsPerSec.set(sec, (this.eventsPerSec.get(sec) ?? 0) + 1);
    this.eventCounts[type] = (this.eventCounts[type] ?? 0) + 1;
    const src = str(e.src), dst = str(e.dst);
    if (type === 'conn') {
      const bytes = (num(e.orig_bytes) ?? 0) + (num(e.resp_bytes) ?? 0);
      for (const h of src === dst ? [src] : [src, dst]) {
        const acc = h !== null ? this.host(h) : null;
        if (acc) { acc.bytes += bytes; acc.flows++; }
      }
    } else if (src !== null) {
      const acc = this.host(src);
      if (acc) acc.events++;
    }
    return true;
  }

  /** `n` packets in packet-time second `sec` (analyze counts them as they are read) */
  addPackets(sec: number, n: number): void {
    this.packets = (this.packets ?? 0) + n;
    this.packetsPerSec.set(sec, (this.packetsPerSec.get(sec) ?? 0) + n);
  }

  /** a line of an input that was not JSON at all */
  addUnreadable(source: string): void { this.skip(source); }

  build(title: string, inputs: string[]): ReportData {
    const alerts = [...this.alerts.values()].sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
    const incidents = [...this.incidents.values()].sort((a, b) => a.ts_first - b.ts_first);
    const seconds: number[] = [...this.packetsPerSec.keys(), ...this.eventsPerSec.keys()];
    for (const a of alerts) seconds.push(a.ts, a.ts_first, a.ts_last);
    let first = Infinity, last = -Infinity;
    for (const s of seconds) { if (s < first) first = s; if (s > last) last = s; }
    const span = seconds.length ? { first, last } : null;
    const segments = segmentsOf(seconds, gapFor(span ? last - first : 0));
    const bucket = bucketFor(segments);
    const ev = bucketize(this.eventsPerSec, segments, bucket);
    const pk = this.packets !== null ? bucketize(this.packetsPerSec, segments, bucket).v : null;
    const bySeverity: Record<Severity, number> = { low: 0, medium: 0, high: 0, critical: 0 };
    const byKind: Record<string, number> = {};
    for (const a of alerts) { bySeverity[a.severity]++; byKind[a.kind] = (byKind[a.kind] ?? 0) + 1; }
    const notes: string[] = [];
    for (const [source, n] of this.skipped) notes.push(`${n} line${n === 1 ? '' : 's'} of ${source} were not ${source === 'events' ? 'events' : 'alerts'} and were left out`);
    if (this.hostsOverflow > 0) notes.push(`talkers: ${MAX_HOSTS} hosts counted; ${this.hostsOverflow} events of further hosts were not attributed`);
    if (this.events === 0) notes.push('no events given: event counts, talkers and the event rate need the event log (tapwatch analyze -e EVENTS.jsonl)');
    const talkers = [...this.hosts].map(([host, h]) => ({ host, ...h }))
      .sort((a, b) => b.bytes - a.bytes || b.flows - a.flows || b.events - a.events || a.host.localeCompare(b.host)).slice(0, TOP_TALKERS);
    return {
      title, inputs, span, segments, bucket, series: { t: ev.t, packets: pk, events: ev.v },
      alerts, incidents, byAttacker: groupBy(alerts, 'src'), byVictim: groupBy(alerts, 'dst'), talkers,
      eventCounts: Object.fromEntries(Object.entries(this.eventCounts).sort((a, b) => b[1] - a[1])),
      totals: { packets: this.packets, events: this.events, alerts: alerts.length, incidents: incidents.length, bySeverity, byKind },
      notes,
    };
  }

  private host(h: string): HostAcc | null {
    let acc = this.hosts.get(h);
    if (acc === undefined) {
      if (this.hosts.size >= MAX_HOSTS) { this.hostsOverflow++; return null; }
      this.hosts.set(h, (acc = { bytes: 0, flows: 0, events: 0 }));
    }
    return acc;
  }

  private skip(source: string): false {
    this.skipped.set(source, (this.skipped.get(source) ?? 0) + 1);
    return false;
  }
}

/** label of the group of alerts with no host on that side */
export const NO_HOST = { src: '(no single source)', dst: '(no single victim)' } as const;

/** Alerts grouped by one side (attacker = src, victim = dst), most severe and busiest first. */
export function groupBy(alerts: readonly ReportAlert[], side: 'src' | 'dst'): HostGroup[] {
  const other = side === 'src' ? 'dst' : 'src';
  const groups = new Map<string, HostGroup>();
  for (const a of alerts) {
    const host = a[side] ?? NO_HOST[side];
    let g = groups.get(host);
    if (!g) groups.set(host, (g = { host, alerts: [], kinds: [], peers: [], severity: 'low', first: a.ts_first, last: a.ts_last }));
    g.alerts.push(a.id);
    if (!g.kinds.includes(a.kind)) g.kinds.push(a.kind);
    const peer = a[other];
    if (peer !== null && !g.peers.includes(peer)) g.peers.push(peer);
    g.severity = sevMax(g.severity, a.severity);
    g.first = Math.min(g.first, a.ts_first);
    g.last = Math.max(g.last, a.ts_last);
  }
  return [...groups.values()].sort((a, b) => SEVERITIES.indexOf(b.severity) - SEVERITIES.indexOf(a.severity) || b.alerts.length - a.alerts.length || a.host.localeCompare(b.host));
}
