/**
 * dns_nxdomain_burst — one client's look-ups failing for many distinct names
 * across many domains in a short time: a domain generation algorithm
 * searching for its rendezvous (T1568.002, Dynamic Resolution: DGA).
 *
 * Looks at DNS responses; the client is the response's destination. Per
 * client over a window of `window` seconds (anchored at the client's first
 * response, restarted when it ends without an alert): responses, NXDOMAIN
 * responses, distinct NXDOMAIN names and distinct registered domains among
 * them (exact up to 64, then a 1 KiB HyperLogLog each). Alert when
 *   distinct NXDOMAIN names ≥ `minDistinct` (50)
 *   AND NXDOMAIN share of the client's responses ≥ `minRatio` (0.5)
 *   AND distinct registered domains among them ≥ `minDomains` (20).
 * The last condition is what makes it a DGA rather than a search-list
 * expansion (host.corp.example.com.corp.example.com …: one domain) or a DNS
 * tunnel / random-subdomain flood under one domain (dns_tunnel's case): DGA
 * names are each a new registered domain.
 *
 * One alert per client episode (dst = the resolver that answered first); it
 * keeps counting, and after `idle` seconds with no NXDOMAIN for that client
 * (or at end of input) a final `update: true` alert carries the totals.
 * Reverse look-ups (.arpa) and mDNS/LLMNR are not counted.
 * State: ≤ `maxClients` clients, least recently active evicted (counted).
 *
 * Anchors: Maltrail NO_SUCH_NAME_PER_HOUR_THRESHOLD = 20–30 NXDOMAIN per hour
 * per domain (sensor-side, "excessive no such domain"), and its
 * DNS_EXHAUSTION_THRESHOLD = 1000; ntopng's DGA flow check judges single
 * names. Our 50 in 5 minutes across ≥ 20 domains is stricter on volume and
 * looser on per-name heuristics (no per-name entropy test: modern DGAs use
 * dictionary words).
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, DnsEvent, NetEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { DistinctCounter, LruMap, mergeSettings } from './bounded-state.js';
import { CidrSet } from '../util/cidr.js';
import { matchesSuffix, notJudged, splitName } from './dns-name.js';
import type { DetectorSpec } from './spec.js';

export interface DnsNxdomainBurstConfig {
  /** seconds */
  window: number;
  /** distinct names answered NXDOMAIN in the window */
  minDistinct: number;
  /** NXDOMAIN responses / all responses to the client in the window */
  minRatio: number;
  /** distinct registered domains among the NXDOMAIN names */
  minDomains: number;
  /** seconds without an NXDOMAIN that end an alerted episode */
  idle: number;
  maxClients: number;
  /** clients never alerted (resolvers forwarding for others, security scanners) */
  allow: string[];
  /** names under these suffixes are not counted */
  allowDomains: string[];
}

export const DNS_NXDOMAIN_BURST_DEFAULTS: DnsNxdomainBurstConfig = {
  window: 300, minDistinct: 50, minRatio: 0.5, minDomains: 20, idle: 300, maxClients: 50_000, allow: [], allowDomains: [],
};

export const dnsNxdomainBurstSpec: DetectorSpec<DnsNxdomainBurstConfig> = {
  name: 'dns_nxdomain_burst', defaults: DNS_NXDOMAIN_BURST_DEFAULTS, create: (c) => new DnsNxdomainBurst(c),
};

interface Client {
  resolver: string;
  dport: number;
  start: number;
  first: number;
  last: number;
  lastNx: number;
  responses: number;
  nx: number;
  names: DistinctCounter;
  domains: DistinctCounter;
  samples: string[];
  alerted: boolean;
}

export class DnsNxdomainBurst implements Detector {
  readonly name = 'dns_nxdomain_burst';
  readonly consumes: readonly EventType[] = ['dns'];
  /** the client: responses go to it */
  readonly keyBy = 'dst' as const;
  private readonly clients: LruMap<string, Client>;
  private allow: CidrSet;
  private allowDomains: string[];
  alerts = 0;

  constructor(public cfg: DnsNxdomainBurstConfig = DNS_NXDOMAIN_BURST_DEFAULTS) {
    this.clients = new LruMap(cfg.maxClients);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.dns_nxdomain_burst.allow');
    this.allowDomains = cfg.allowDomains.map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, '')).filter((d) => d !== '');
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'dns' || !e.is_response || notJudged(e)) return;
    const client = e.dst;
    const isNx = e.rcode === 'NXDOMAIN';
    let c = this.clients.get(client);
    if (c !== undefined && c.alerted && e.ts - c.lastNx > this.cfg.idle) {
      // an alerted client that kept resolving normally: its burst is over
      this.clients.delete(client);
      this.finish(client, c, e.ts, emit);
      c = undefined;
    }
    if (c !== undefined && !c.alerted && e.ts - c.start > this.cfg.window) c = undefined; // window over: start again
    if (c === undefined) {
      if (!isNx || this.allow.has(client)) return; // nothing to judge until a failure arrives
      c = {
        resolver: e.src, dport: e.sport, start: e.ts, first: e.ts, last: e.ts, lastNx: e.ts, responses: 0, nx: 0,
        names: new DistinctCounter(), domains: new DistinctCounter(), samples: [], alerted: false,
      };
    }
    this.clients.set(client, c); // most recently active last
    c.responses++;
    if (e.ts > c.last) c.last = e.ts;
    if (!isNx) return;
    const { domain } = splitName(e.qname);
    if (matchesSuffix(domain, this.allowDomains)) { c.responses--; return; }
    c.nx++;
    if (e.ts > c.lastNx) c.lastNx = e.ts;
    if (c.names.addString(e.qname.toLowerCase()) && c.samples.length < 10) c.samples.push(e.qname);
    c.domains.addString(domain);
    if (!c.alerted) this.judge(client, c, e, emit);
  }

  /** SIGHUP: every setting applies in place; each client keeps its counts and episode. */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.dns_nxdomain_burst.allow');
    this.cfg = c;
    this.allow = allow;
    this.allowDomains = c.allowDomains.map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, '')).filter((d) => d !== '');
    this.clients.cap = c.maxClients;
    return true;
  }

  private judge(client: string, c: Client, e: DnsEvent, emit: Emit): void {
    const cfg = this.cfg;
    if (c.nx / c.responses < cfg.minRatio || !c.names.reaches(cfg.minDistinct) || !c.domains.reaches(cfg.minDomains)) return;
    c.alerted = true;
    this.alerts++;
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: this.confidence(c), src: client, dst: c.resolver, dport: c.dport,
      ts: e.ts, ts_first: c.first, ts_last: c.last, technique: 'T1568.002',
      summary: `${client} got NXDOMAIN for ${c.names.count} distinct names in ${c.domains.count} domains within ${Math.round(c.last - c.first)} s (DGA-like)`,
      evidence: this.evidence(c),
    }));
  }

  private confidence(c: Client): number { return Math.min(0.9, 0.5 + 0.4 * (c.nx / (c.responses || 1))); }

  private evidence(c: Client): Record<string, unknown> {
    const cfg = this.cfg;
    return {
      nxdomain_names: c.names.count, nxdomain_domains: c.domains.count, nxdomain_responses: c.nx, responses: c.responses,
      nxdomain_ratio: Math.round((c.nx / (c.responses || 1)) * 100) / 100, sample_names: c.samples,
      min_distinct: cfg.minDistinct, min_ratio: cfg.minRatio, min_domains: cfg.minDomains, window_s: cfg.window,
    };
  }

  private finish(client: string, c: Client, now: number, emit: Emit): void {
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: this.confidence(c), src: client, dst: c.resolver, dport: c.dport, ts: now,
        ts_first: c.first, ts_last: c.last, technique: 'T1568.002',
        summary: `${client} NXDOMAIN burst ended: ${c.names.count} distinct failed names in ${c.domains.count} domains`,
        evidence: { ...this.evidence(c), episode_end: true },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void {
    const soonest = Math.min(this.cfg.idle, this.cfg.window);
    for (const [k, c] of this.clients.entries()) {
      const age = now - (c.alerted ? c.lastNx : c.last);
      if (now - c.last <= soonest) break; // least recently active first
      if (age <= (c.alerted ? this.cfg.idle : this.cfg.window)) continue;
      this.clients.delete(k);
      if (c.alerted) this.finish(k, c, now, emit);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const [k, c] of this.clients.entries()) if (c.alerted) this.finish(k, c, now, emit);
    this.clients.clear();
  }

  stats(): Record<string, number> {
    return { clients: this.clients.size, clients_evicted: this.clients.evicted, alerts: this.alerts };
  }
}
