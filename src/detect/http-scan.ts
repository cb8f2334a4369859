/**
 * http_scan — web content discovery and vulnerability scanning against one
 * server: T1595 (Active Scanning), T1595.003 (Wordlist Scanning).
 *
 * Two rules per (client, server) pair, one alert per pair episode:
 *   wordlist  — the client requested ≥ `minPaths` (50) distinct paths (the
 *               URI up to '?') within `window` (300 s, anchored at the pair's
 *               first request, restarted when it ends without an alert) AND
 *               of the answers seen, ≥ `minAnswered` (20) exist and a share
 *               ≥ `minErrorRatio` (0.5) are 4xx (404/403/401/400…: the
 *               wordlist's misses). A crawler or mirror asks for many paths
 *               but gets 200s; a browser asks for a few dozen.
 *   agent     — any request whose User-Agent contains a known scanner's
 *               token (case-insensitive substring, `scannerAgents`): nikto,
 *               sqlmap, Nmap Scripting Engine, masscan, zgrab, gobuster,
 *               dirbuster, wfuzz, ffuf ("Fuzz Faster U Fool"), nuclei,
 *               acunetix, w3af, hydra, wpscan, feroxbuster, openvas, nessus,
 *               arachni, skipfish, zmeu, commix, whatweb, netsparker. NOT
 *               curl, wget, python-requests, Go-http-client, libwww-perl:
 *               generic clients that monitoring and scripts use every day (a
 *               scan with them is caught by the wordlist rule). Tools whose
 *               default agent imitates a browser (dirb, Burp) are caught only
 *               by the wordlist rule.
 * Requests and responses are paired per connection (the response event has
 * src = server, dst = client and the same ports; answers come in request
 * order, HTTP/1.1 pipelining included), so the alert names the paths that
 * missed. The alert is raised by whichever rule fires first; the pair keeps
 * being counted, and after `idle` seconds without a request (or at end of
 * input) a final `update: true` alert carries the totals and both rules'
 * state.
 *
 * Anchors: Maltrail WEB_SCANNING_THRESHOLD = 10 (distinct suspicious/404
 * requests per source) and SUSPICIOUS_UA_REGEX; Suricata ET SCAN rules match
 * scanner agents one request at a time (threshold by_src). Our path
 * threshold is higher than Maltrail's 10 because a page with a few broken
 * links must not alarm.
 *
 * State: ≤ `maxPairs` pairs and ≤ `maxConnections` connections with pending
 * requests (≤ 64 pending each), least recently active evicted (counted).
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, HttpRequestEvent, NetEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { DistinctCounter, LruMap, mergeSettings } from './bounded-state.js';
import { CidrSet } from '../util/cidr.js';
import type { DetectorSpec } from './spec.js';

export interface HttpScanConfig {
  /** seconds */
  window: number;
  /** distinct paths from one client to one server in the window */
  minPaths: number;
  /** answers needed before the 4xx share is judged */
  minAnswered: number;
  /** 4xx share of the answers */
  minErrorRatio: number;
  /** User-Agent substrings (case-insensitive) of scanning tools; [] disables the rule */
  scannerAgents: string[];
  /** seconds without a request that end an alerted episode */
  idle: number;
  maxPairs: number;
  maxConnections: number;
  /** clients never alerted (the organisation's own vulnerability scanner) */
  allow: string[];
}

export const HTTP_SCAN_DEFAULTS: HttpScanConfig = {
  window: 300, minPaths: 50, minAnswered: 20, minErrorRatio: 0.5,
  scannerAgents: ['nikto', 'sqlmap', 'nmap scripting engine', 'masscan', 'zgrab', 'gobuster', 'dirbuster', 'wfuzz',
    'fuzz faster u fool', 'ffuf', 'nuclei', 'acunetix', 'w3af', 'hydra', 'wpscan', 'feroxbuster', 'openvas', 'nessus',
    'arachni', 'skipfish', 'zmeu', 'commix', 'whatweb', 'netsparker'],
  idle: 300, maxPairs: 20_000, maxConnections: 50_000, allow: [],
};

export const httpScanSpec: DetectorSpec<HttpScanConfig> = {
  name: 'http_scan', defaults: HTTP_SCAN_DEFAULTS, create: (c) => new HttpScan(c),
};

const MAX_PENDING = 64;

interface Pair {
  client: string;
  server: string;
  dport: number;
  host: string | null;
  start: number;
  first: number;
  last: number;
  requests: number;
  paths: DistinctCounter;
  answered: number;
  errors: number;
  missPaths: DistinctCounter;
  statuses: Map<number, number>;
  missSamples: string[];
  pathSamples: string[];
  methods: Map<string, number>;
  /** first scanner agent seen, and which token matched */
  agent: string | null;
  agentToken: string | null;
  agents: string[];
  rules: string[];
  alerted: boolean;
}

/** the path of a request URI: query and fragment dropped, absolute-form reduced to its path */
export function pathOf(uri: string): string {
  let u = uri;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(u);
  if (m) u = u.slice(m[0].length) || '/';
  const q = u.search(/[?#]/);
  return q >= 0 ? u.slice(0, q) : u;
}

export class HttpScan implements Detector {
  readonly name = 'http_scan';
  readonly consumes: readonly EventType[] = ['http_request', 'http_response'];
  readonly keyBy = 'pair' as const;
  private readonly pairs: LruMap<string, Pair>;
  private readonly conns: LruMap<string, { pair: Pair; paths: string[] }>;
  private allow: CidrSet;
  private agents: string[];
  alerts = 0;

  constructor(public cfg: HttpScanConfig = HTTP_SCAN_DEFAULTS) {
    this.pairs = new LruMap(cfg.maxPairs);
    this.conns = new LruMap(cfg.maxConnections);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.http_scan.allow');
    this.agents = cfg.scannerAgents.map((a) => a.toLowerCase()).filter((a) => a !== '');
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type === 'http_request') this.request(e, emit);
    else if (e.type === 'http_response' && e.status >= 200) { // 1xx are interim: the real answer follows
      const ck = `${e.dst}|${e.dport}|${e.src}|${e.sport}`;
      const c = this.conns.get(ck);
      if (c === undefined) return; // no request seen on this connection (or not tracked)
      const path = c.paths.shift();
      if (c.paths.length === 0) this.conns.delete(ck);
      const p = c.pair;
      p.answered++;
      if (p.statuses.size < 10 || p.statuses.has(e.status)) p.statuses.set(e.status, (p.statuses.get(e.status) ?? 0) + 1);
      if (e.status >= 400 && e.status < 500) {
        p.errors++;
        if (path !== undefined && p.missPaths.addString(path) && p.missSamples.length < 10) p.missSamples.push(path);
      }
      if (!p.alerted) this.judge(p, e.ts, emit);
    }
  }

  private request(e: HttpRequestEvent, emit: Emit): void {
    if (this.allow.has(e.src)) return;
    const id = `${e.src}|${e.dst}|${e.dport}`;
    let p = this.pairs.get(id);
    if (p !== undefined && p.alerted && e.ts - p.last > this.cfg.idle) {
      this.pairs.delete(id);
      this.finish(p, e.ts, emit);
      p = undefined;
    }
    if (p !== undefined && !p.alerted && e.ts - p.start > this.cfg.window) p = undefined; // window over: start again
    if (p === undefined) {
      p = {
        client: e.src, server: e.dst, dport: e.dport, host: e.host, start: e.ts, first: e.ts, last: e.ts, requests: 0,
        paths: new DistinctCounter(), answered: 0, errors: 0, missPaths: new DistinctCounter(), statuses: new Map(),
        missSamples: [], pathSamples: [], methods: new Map(), agent: null, agentToken: null, agents: [], rules: [], alerted: false,
      };
    }
    this.pairs.set(id, p); // most recently active last
    p.requests++;
    if (e.ts > p.last) p.last = e.ts;
    const path = pathOf(e.uri);
    if (p.paths.addString(path) && p.pathSamples.length < 10) p.pathSamples.push(path);
    if (p.methods.size < 10 || p.methods.has(e.method)) p.methods.set(e.method, (p.methods.get(e.method) ?? 0) + 1);
    const ck = `${e.src}|${e.sport}|${e.dst}|${e.dport}`;
    let c = this.conns.get(ck);
    if (c === undefined || c.pair !== p) { c = { pair: p, paths: [] }; }
    this.conns.set(ck, c);
    if (c.paths.length >= MAX_PENDING) c.paths.shift();
    c.paths.push(path);
    const ua = e.user_agent;
    if (ua !== null && this.agents.length > 0) {
      const low = ua.toLowerCase();
      const tok = this.agents.find((a) => low.includes(a));
      if (tok !== undefined) {
        if (p.agent === null) { p.agent = ua; p.agentToken = tok; }
        if (p.agents.length < 5 && !p.agents.includes(ua)) p.agents.push(ua);
      }
    }
    if (!p.alerted) this.judge(p, e.ts, emit);
  }

  /** SIGHUP: every setting applies in place; each (client, server) keeps its paths, answers and episode. */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.http_scan.allow');
    this.cfg = c;
    this.allow = allow;
    this.agents = c.scannerAgents.map((a) => a.toLowerCase()).filter((a) => a !== '');
    this.pairs.cap = c.maxPairs;
    this.conns.cap = c.maxConnections;
    return true;
  }

  private wordlist(p: Pair): boolean {
    const c = this.cfg;
    return p.answered >= c.minAnswered && p.errors / p.answered >= c.minErrorRatio && p.paths.reaches(c.minPaths);
  }

  private rulesOf(p: Pair): string[] {
    const r: string[] = [];
    if (p.agent !== null) r.push('scanner_user_agent');
    if (this.wordlist(p)) r.push('wordlist');
    return r;
  }

  private judge(p: Pair, ts: number, emit: Emit): void {
    const rules = this.rulesOf(p);
    if (rules.length === 0) return;
    p.alerted = true;
    p.rules = rules;
    this.alerts++;
    const what = rules.includes('wordlist')
      ? `requested ${p.paths.count} distinct paths, ${p.errors} of ${p.answered} answers 4xx`
      : `used scanner agent "${p.agent}"`;
    emit(makeAlert({
      kind: this.name, severity: rules.length > 1 ? 'high' : 'medium', confidence: rules.length > 1 ? 0.9 : rules[0] === 'wordlist' ? 0.7 : 0.8,
      src: p.client, dst: p.server, dport: p.dport, ts, ts_first: p.first, ts_last: p.last,
      technique: rules.includes('wordlist') ? 'T1595.003' : 'T1595', proto: 'tcp',
      summary: `${p.client} scanning web server ${p.server}:${p.dport}: ${what}`,
      evidence: this.evidence(p, rules),
    }));
  }

  private evidence(p: Pair, rules: string[]): Record<string, unknown> {
    const c = this.cfg;
    return {
      rules, requests: p.requests, distinct_paths: p.paths.count, answered: p.answered, errors_4xx: p.errors,
      error_ratio: p.answered ? Math.round((p.errors / p.answered) * 100) / 100 : null, distinct_missed_paths: p.missPaths.count,
      statuses: Object.fromEntries(p.statuses), methods: Object.fromEntries(p.methods), host: p.host,
      sample_missed_paths: p.missSamples, sample_paths: p.pathSamples, scanner_agent: p.agent, scanner_token: p.agentToken,
      scanner_agents: p.agents, min_paths: c.minPaths, min_error_ratio: c.minErrorRatio, window_s: c.window,
    };
  }

  private finish(p: Pair, now: number, emit: Emit): void {
    const rules = [...new Set([...p.rules, ...this.rulesOf(p)])];
    emit({
      ...makeAlert({
        kind: this.name, severity: rules.length > 1 ? 'high' : 'medium', confidence: rules.length > 1 ? 0.9 : 0.75,
        src: p.client, dst: p.server, dport: p.dport, ts: now, ts_first: p.first, ts_last: p.last,
        technique: rules.includes('wordlist') ? 'T1595.003' : 'T1595', proto: 'tcp',
        summary: `${p.client} web scan of ${p.server}:${p.dport} ended: ${p.requests} requests, ${p.paths.count} distinct paths, ${p.errors} of ${p.answered} answers 4xx`,
        evidence: { ...this.evidence(p, rules), episode_end: true },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void {
    const soonest = Math.min(this.cfg.idle, this.cfg.window);
    for (const [k, p] of this.pairs.entries()) {
      const age = now - p.last;
      if (age <= soonest) break; // least recently active first
      if (age <= (p.alerted ? this.cfg.idle : this.cfg.window)) continue;
      this.pairs.delete(k);
      if (p.alerted) this.finish(p, now, emit);
    }
    // connections whose answers never came: drop with their pair
    for (const [k, c] of this.conns.entries()) {
      if (now - c.pair.last <= soonest) break;
      if (this.pairs.get(`${c.pair.client}|${c.pair.server}|${c.pair.dport}`) !== c.pair) this.conns.delete(k);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const p of this.pairs.values()) if (p.alerted) this.finish(p, now, emit);
    this.pairs.clear();
    this.conns.clear();
  }

  stats(): Record<string, number> {
    return {
      pairs: this.pairs.size, pairs_evicted: this.pairs.evicted, connections: this.conns.size,
      connections_evicted: this.conns.evicted, alerts: this.alerts,
    };
  }
}
