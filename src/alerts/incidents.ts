/**
 * Incidents: the alerts about one attacker (or one victim) told as one story,
 * which is what an analyst does by hand first. No peer does this out of the
 * box (Zeek notices, Suricata and ntopng alerts stay one per detection).
 *
 * An alert joins the open incident that already holds its source as an
 * attacker or as a victim (a compromised host that now scans or exfiltrates),
 * or its destination as a victim; otherwise it opens a new incident. An
 * incident stays open `horizon` seconds of packet time after its last alert.
 * Alerts without a source (a spoofed flood) are grouped by their victim.
 *
 * The incident is written as its own record, `kind: "incident"`, to the same
 * outputs as the alerts, once it holds two alerts (one alert is its own
 * story) and again (`update: true`, same id) whenever a new alert adds a
 * kill-chain stage or raises the severity; other growth is written at most
 * every `updateEvery` seconds of packet time and when the incident closes.
 * Its evidence: `incident_id` (stable: derived from its first alert, so an
 * offline and a live run give the same id), `stages` in kill-chain order
 * (scan → brute_force → login → c2 → exfiltration, plus impact and anomaly),
 * `attackers`, `victims`, and `timeline`: one entry per alert (kind, stage,
 * time, hosts, severity, count of folded repeats).
 *
 * Combined severity: the highest of its alerts, one level higher when the
 * alerts cover two or more stages of the chain, critical with four.
 *
 * Bounded: ≤ `maxIncidents` open incidents (the least recently active is
 * closed early and counted), ≤ 50 timeline entries and 32 hosts per side per
 * incident (the rest counted in `timeline_more` / `hosts_more`).
 */
import { createHash } from 'node:crypto';
import type { Alert, Severity } from './types.js';

export interface IncidentOptions {
  /** seconds of packet time after its last alert that an incident stays open (default 3600, Zeek's suppression interval) */
  horizon?: number;
  /** seconds of packet time between updates written for growth that adds no stage (default 60) */
  updateEvery?: number;
  maxIncidents?: number;
}

export const INCIDENT_DEFAULTS = { horizon: 3600, updateEvery: 60, maxIncidents: 10_000 } as const;

/** Kill-chain stages in order; `impact` and `anomaly` sit outside the chain. */
export const STAGES = ['scan', 'brute_force', 'login', 'c2', 'exfiltration', 'impact', 'anomaly'] as const;
export type Stage = (typeof STAGES)[number];
const CHAIN: ReadonlySet<Stage> = new Set(['scan', 'brute_force', 'login', 'c2', 'exfiltration']);

const KIND_STAGE: Readonly<Record<string, Stage>> = {
  port_scan: 'scan', host_sweep: 'scan', http_scan: 'scan', slow_scan: 'scan', distributed_scan: 'scan',
  ssh_bruteforce: 'brute_force', ssh_login_after_bruteforce: 'login',
  beaconing: 'c2', dns_tunnel: 'c2', dns_nxdomain_burst: 'c2', threat_intel: 'c2', icmp_tunnel: 'c2',
  exfiltration: 'exfiltration',
  syn_flood: 'impact', icmp_flood: 'impact', volume_surge: 'impact', reflection: 'impact',
};

/** ATT&CK technique prefixes for kinds not in the table (detectors added later) */
const TECHNIQUE_STAGE: readonly [string, Stage][] = [
  ['T1046', 'scan'], ['T1595', 'scan'], ['T1018', 'scan'], ['T1110', 'brute_force'], ['T1078', 'login'],
  ['T1071', 'c2'], ['T1568', 'c2'], ['T1572', 'c2'], ['T1095', 'c2'], ['T1048', 'exfiltration'], ['T1041', 'exfiltration'],
  ['T1498', 'impact'], ['T1499', 'impact'],
];

/** The kill-chain stage an alert stands for. */
export function stageOf(a: Pick<Alert, 'kind' | 'technique'>): Stage {
  const k = KIND_STAGE[a.kind];
  if (k) return k;
  if (/scan|sweep/.test(a.kind)) return 'scan';
  if (a.technique) for (const [t, s] of TECHNIQUE_STAGE) if (a.technique.startsWith(t)) return s;
  return 'anomaly';
}

const SEV: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Highest severity of the alerts, +1 for two chain stages, critical for four. */
export function combinedSeverity(severities: Iterable<Severity>, stages: Iterable<Stage>): Severity {
  let max = 0;
  for (const s of severities) max = Math.max(max, SEV.indexOf(s));
  let chain = 0;
  for (const s of stages) if (CHAIN.has(s)) chain++;
  if (chain >= 4) return 'critical';
  return SEV[Math.min(3, max + (chain >= 2 ? 1 : 0))]!;
}

const MAX_TIMELINE = 50;
const MAX_HOSTS = 32;

interface Entry {
  key: string; kind: string; stage: Stage; ts: number; ts_first: number; ts_last: number;
  severity: Severity; confidence: number; src?: string; dst?: string; dport?: number; summary: string; count: number;
}

interface Incident {
  id: string;
  first: number; last: number;
  attackers: string[]; victims: string[]; hostsMore: number;
  timeline: Entry[]; more: number; alerts: number;
  stages: Set<Stage>;
  severity: Severity;
  /** the highest severity of the alerts themselves (also those beyond the timeline cap) */
  peak: Severity;
  /** written at least once, and when */
  written: boolean; lastWrite: number;
  dirty: boolean;
}

export class Incidents {
  private readonly horizon: number;
  private readonly updateEvery: number;
  private readonly maxIncidents: number;
  /** open incidents, least recently active first */
  private readonly open = new Map<string, Incident>();
  /** host → id of the open incident that names it */
  private readonly byHost = new Map<string, string>();
  /** alert key (kind, src, dst) → incident id, for updates of alerts already placed */
  private readonly byAlert = new Map<string, string>();
  readonly c = { incidents: 0, records: 0, closed_early: 0 };

  constructor(o: IncidentOptions = {}) {
    this.horizon = o.horizon ?? INCIDENT_DEFAULTS.horizon;
    this.updateEvery = o.updateEvery ?? INCIDENT_DEFAULTS.updateEvery;
    this.maxIncidents = Math.max(1, o.maxIncidents ?? INCIDENT_DEFAULTS.maxIncidents);
  }

  /** One delivered alert (or update); `out` receives incident records. */
  offer(a: Alert, out: (r: Alert) => void): void {
    if (a.kind === 'incident') return;
    const key = `${a.kind}\u0000${a.src ?? ''}\u0000${a.dst ?? ''}`;
    let inc = this.lookup(key, a);
    const stage = stageOf(a);
    if (inc === undefined) inc = this.create(a);
    this.open.delete(inc.id); // most recently active last
    this.open.set(inc.id, inc);
    inc.last = Math.max(inc.last, a.ts);
    const known = inc.timeline.find((e) => e.key === key);
    const sevBefore = inc.severity, stagesBefore = inc.stages.size;
    if (known) {
      known.ts_last = Math.max(known.ts_last, a.ts_last);
      known.count = a.count ?? known.count;
      if (SEV.indexOf(a.severity) > SEV.indexOf(known.severity)) known.severity = a.severity;
      known.summary = a.summary;
    } else if (a.update && this.byAlert.get(key) === inc.id && inc.timeline.length >= MAX_TIMELINE) {
      // an update of an alert beyond the timeline cap: counted with it already
    } else {
      inc.alerts++;
      const e: Entry = {
        key, kind: a.kind, stage, ts: a.ts, ts_first: a.ts_first, ts_last: a.ts_last, severity: a.severity,
        confidence: a.confidence, summary: a.summary, count: a.count ?? 1,
      };
      if (a.src !== undefined) e.src = a.src;
      if (a.dst !== undefined) e.dst = a.dst;
      if (a.dport !== undefined) e.dport = a.dport;
      if (inc.timeline.length < MAX_TIMELINE) inc.timeline.push(e); else inc.more++;
      this.byAlert.set(key, inc.id);
      if (this.byAlert.size > 4 * this.maxIncidents) this.byAlert.delete(this.byAlert.keys().next().value as string);
    }
    inc.stages.add(stage);
    this.addHosts(inc, a);
    inc.first = Math.min(inc.first, a.ts_first);
    // from the alerts' own severities: feeding the combined one back in raised it a level per update
    if (SEV.indexOf(a.severity) > SEV.indexOf(inc.peak)) inc.peak = a.severity;
    inc.severity = combinedSeverity([inc.peak], inc.stages);
    inc.dirty = true;
    const story = inc.alerts >= 2;
    const news = !inc.written || inc.stages.size > stagesBefore || inc.severity !== sevBefore;
    // news goes out at once; mere growth waits for advance()/close(), so a burst of updates at one
    // packet time (end of input) writes one record, not one per update
    if (story && news) this.write(inc, a.ts, out);
    while (this.open.size > this.maxIncidents) {
      const oldest = this.open.values().next().value as Incident;
      this.c.closed_early++;
      this.close(oldest, a.ts, out);
    }
  }

  /** Packet time reached `now`: write pending growth, close incidents past the horizon. */
  advance(now: number, out: (r: Alert) => void): void {
    for (const inc of this.open.values()) {
      if (now - inc.last <= this.horizon) {
        if (inc.dirty && inc.written && now - inc.lastWrite >= this.updateEvery) this.write(inc, now, out);
        continue;
      }
      this.close(inc, now, out);
    }
  }

  /** End of input: every incident's last state. */
  flush(now: number, out: (r: Alert) => void): void {
    for (const inc of [...this.open.values()]) this.close(inc, now, out);
  }

  stats(): Record<string, number> { return { ...this.c, open: this.open.size }; }

  private lookup(key: string, a: Alert): Incident | undefined {
    const cand = [this.byAlert.get(key), a.src !== undefined ? this.byHost.get(a.src) : undefined, a.dst !== undefined ? this.byHost.get(a.dst) : undefined];
    for (const id of cand) {
      if (id === undefined) continue;
      const inc = this.open.get(id);
      if (inc !== undefined && a.ts - inc.last <= this.horizon) return inc;
    }
    return undefined;
  }

  private create(a: Alert): Incident {
    const seed = `${a.kind}|${a.src ?? ''}|${a.dst ?? ''}|${a.ts_first.toFixed(6)}`;
    const id = 'inc-' + createHash('sha1').update(seed).digest('hex').slice(0, 16);
    this.c.incidents++;
    const inc: Incident = {
      id, first: a.ts_first, last: a.ts, attackers: [], victims: [], hostsMore: 0, timeline: [], more: 0, alerts: 0,
      stages: new Set(), severity: a.severity, peak: a.severity, written: false, lastWrite: -Infinity, dirty: false,
    };
    this.open.set(id, inc);
    return inc;
  }

  private addHosts(inc: Incident, a: Alert): void {
    // a victim that acts (exfiltrates, scans onwards) stays a victim: it is the same story
    if (a.src !== undefined && !inc.victims.includes(a.src)) this.addHost(inc, inc.attackers, a.src);
    if (a.dst !== undefined && !inc.attackers.includes(a.dst)) this.addHost(inc, inc.victims, a.dst);
  }

  private addHost(inc: Incident, list: string[], h: string): void {
    if (list.includes(h)) return;
    if (list.length >= MAX_HOSTS) { inc.hostsMore++; return; }
    list.push(h);
    const cur = this.byHost.get(h);
    if (cur === undefined || !this.open.has(cur)) this.byHost.set(h, inc.id);
  }

  private close(inc: Incident, now: number, out: (r: Alert) => void): void {
    if (inc.dirty && inc.alerts >= 2) this.write(inc, Math.max(now, inc.last), out);
    this.open.delete(inc.id);
    for (const h of [...inc.attackers, ...inc.victims]) if (this.byHost.get(h) === inc.id) this.byHost.delete(h);
  }

  private write(inc: Incident, now: number, out: (r: Alert) => void): void {
    const stages = STAGES.filter((s) => inc.stages.has(s));
    let conf = 1;
    for (const e of inc.timeline) conf *= 1 - e.confidence;
    const who = inc.attackers.length ? inc.attackers.slice(0, 3).join(', ') + (inc.attackers.length > 3 ? ` +${inc.attackers.length - 3}` : '') : 'unnamed sources';
    const whom = inc.victims.length ? inc.victims.slice(0, 3).join(', ') + (inc.victims.length > 3 ? ` +${inc.victims.length - 3}` : '') : 'many hosts';
    const r: Alert = {
      // the incident's stable id is the record's id too (ECS event.id, CEF externalId), as an alert's is
      id: inc.id, kind: 'incident', severity: inc.severity, confidence: Math.round(Math.min(0.99, 1 - conf) * 100) / 100,
      ts: now, ts_first: inc.first, ts_last: inc.last,
      summary: `incident ${inc.id}: ${who} against ${whom}: ${stages.join(' -> ')} (${inc.alerts} alerts)`,
      evidence: {
        incident_id: inc.id, stages, alerts: inc.alerts, attackers: [...inc.attackers], victims: [...inc.victims],
        ...(inc.hostsMore ? { hosts_more: inc.hostsMore } : {}),
        timeline: inc.timeline.map(({ key: _k, confidence: _c, ...e }) => e),
        ...(inc.more ? { timeline_more: inc.more } : {}),
      },
      count: inc.alerts,
    };
    if (inc.attackers[0] !== undefined) r.src = inc.attackers[0];
    if (inc.victims.length === 1) r.dst = inc.victims[0]!;
    if (inc.written) r.update = true;
    inc.written = true;
    inc.lastWrite = now;
    inc.dirty = false;
    this.c.records++;
    out(r);
  }
}
