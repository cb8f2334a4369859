/**
 * dns_tunnel — data carried in DNS query names (iodine, dnscat2, DNSExfiltrator,
 * malware C2 over DNS): T1071.004 (Application Layer Protocol: DNS), and
 * T1048 (Exfiltration Over Alternative Protocol) when the names carry a lot
 * of bytes.
 *
 * Looks at queries (not responses) per (client, registered domain). The
 * registered domain approximates eTLD+1 as the last two labels, or three when
 * the second-level label is a common public suffix part under a two-letter
 * country code (co.uk, com.au, ne.jp …); the subdomain is what precedes it.
 * Per query:
 *   long     — a subdomain label longer than `longLabel` (Maltrail: 24);
 *   entropy  — Shannon entropy of the subdomain's characters (dots removed)
 *              above `entropy` (Maltrail: 3.5 bits), judged only on
 *              subdomains of at least `minEntropyLength` characters (a short
 *              string cannot show its randomness);
 *   rareType — the query type is one tunnels favour (TXT, NULL, CNAME, MX).
 * Per (client, domain) over a window of `window` seconds (anchored at the
 * key's first query, restarted when it ends without an alert) the detector
 * counts queries, distinct names (exact up to 64, then a 1 KiB
 * HyperLogLog), the queries of each kind above, and the subdomain bytes.
 *
 * Score (documented, all defaults):
 *   required: distinct names ≥ `minUnique` (50) — one name asked many times
 *             is a busy client, not a channel;
 *   +1  long-label share of queries ≥ 0.5;
 *   +1  high-entropy share ≥ 0.5;
 *   +1  rare-type share ≥ 0.25;
 *   +1  subdomain bytes ≥ `exfilBytes` (4096): the channel carries data.
 *   Alert at score ≥ `minScore` (2): many distinct names AND two signs.
 * CDN names (a1.espncdn.com, d1x2y3z4.cloudfront.net, r3---sn-xxx.googlevideo.com)
 * reach at most one sign (short hashed labels), and rarely 50 distinct names
 * under one domain from one client in 5 minutes. Reverse lookups (.arpa),
 * mDNS/LLMNR (ports 5353/5355, .local) and `allowDomains` (suffixes; by
 * default services that answer look-ups through encoded names: Sophos,
 * McAfee GTI, Spamhaus/SURBL/Barracuda DNSBLs) are never judged.
 *
 * One alert per (client, domain) episode, dst = the resolver first asked; it
 * keeps counting, and after `idle` seconds without a query for that domain
 * (or at end of input) a final `update: true` alert carries the totals.
 * State: ≤ `maxKeys` (client, domain) keys, least recently active evicted
 * (counted); each key is bounded (distinct counter ≤ 1 KiB or 64 hashes,
 * ≤ 10 sample names).
 *
 * Anchors: Maltrail flags single names (label length > 24, entropy > 3.5,
 * > 9 consonants) and alerts per name; ntopng's "DNS suspicious" / "DGA"
 * flow checks judge one flow. Neither counts per client and domain; this
 * combination is ours.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, DnsEvent, NetEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { DistinctCounter, LruMap, mergeSettings } from './bounded-state.js';
import { CidrSet } from '../util/cidr.js';
import type { DetectorSpec } from './spec.js';
import { matchesSuffix, notJudged, splitName } from './dns-name.js';
import { round2 } from './format.js';

export interface DnsTunnelConfig {
  /** seconds */
  window: number;
  /** distinct names under one domain from one client in the window (required) */
  minUnique: number;
  /** a label longer than this is "long" (Maltrail 24) */
  longLabel: number;
  /** subdomain entropy (bits per character) above this is "high" (Maltrail 3.5) */
  entropy: number;
  /** subdomains shorter than this are not judged for entropy */
  minEntropyLength: number;
  /** share of queries with a long label that scores a point */
  longShare: number;
  /** share of queries with high entropy that scores a point */
  entropyShare: number;
  /** query types tunnels favour */
  rareTypes: string[];
  /** share of rare-type queries that scores a point */
  rareTypeShare: number;
  /** subdomain bytes in the window that score a point (and mark exfiltration, T1048) */
  exfilBytes: number;
  /** points (besides the required distinct names) that raise the alert */
  minScore: number;
  /** seconds without a query that end an alerted episode */
  idle: number;
  /** (client, domain) keys tracked at once */
  maxKeys: number;
  /** clients never alerted (resolvers forwarding for others, mail relays doing DNSBL look-ups) */
  allow: string[];
  /** registered domains (or any suffix) never judged */
  allowDomains: string[];
}

export const DNS_TUNNEL_DEFAULTS: DnsTunnelConfig = {
  window: 300, minUnique: 50, longLabel: 24, entropy: 3.5, minEntropyLength: 12, longShare: 0.5, entropyShare: 0.5,
  rareTypes: ['TXT', 'NULL', 'CNAME', 'MX'], rareTypeShare: 0.25, exfilBytes: 4096, minScore: 2, idle: 300,
  maxKeys: 20_000, allow: [],
  allowDomains: ['sophosxl.net', 'mcafee.com', 'spamhaus.org', 'surbl.org', 'barracudacentral.org', 'spamcop.net'],
};

export const dnsTunnelSpec: DetectorSpec<DnsTunnelConfig> = {
  name: 'dns_tunnel', defaults: DNS_TUNNEL_DEFAULTS, create: (c) => new DnsTunnel(c),
};

/** Shannon entropy in bits per character, dots ignored. */
export function shannon(s: string): number {
  const counts = new Map<number, number>();
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) continue;
    counts.set(c, (counts.get(c) ?? 0) + 1);
    n++;
  }
  if (n === 0) return 0;
  let h = 0;
  for (const v of counts.values()) { const p = v / n; h -= p * Math.log2(p); }
  return h;
}


interface Key {
  client: string;
  domain: string;
  resolver: string;
  dport: number;
  start: number;
  first: number;
  last: number;
  queries: number;
  names: DistinctCounter;
  long: number;
  highEntropy: number;
  rare: number;
  bytes: number;
  maxLabel: number;
  entropySum: number;
  entropyN: number;
  types: Map<string, number>;
  samples: string[];
  alerted: boolean;
  score: number;
}

export class DnsTunnel implements Detector {
  readonly name = 'dns_tunnel';
  readonly consumes: readonly EventType[] = ['dns'];
  readonly keyBy = 'src' as const;
  private readonly keys: LruMap<string, Key>;
  private allow: CidrSet;
  private allowDomains: string[];
  private rare: Set<string>;
  alerts = 0;

  constructor(public cfg: DnsTunnelConfig = DNS_TUNNEL_DEFAULTS) {
    this.keys = new LruMap(cfg.maxKeys);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.dns_tunnel.allow');
    this.allowDomains = cfg.allowDomains.map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, '')).filter((d) => d !== '');
    this.rare = new Set(cfg.rareTypes.map((t) => t.toUpperCase()));
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'dns' || e.is_response || notJudged(e)) return;
    const { domain, sub } = splitName(e.qname);
    if (sub === '' || matchesSuffix(domain, this.allowDomains) || this.allow.has(e.src)) return;
    const id = `${e.src}|${domain}`;
    let k = this.keys.get(id);
    if (k !== undefined && !k.alerted && e.ts - k.start > this.cfg.window) k = undefined; // window over: start again
    if (k === undefined) {
      k = {
        client: e.src, domain, resolver: e.dst, dport: e.dport, start: e.ts, first: e.ts, last: e.ts, queries: 0,
        names: new DistinctCounter(), long: 0, highEntropy: 0, rare: 0, bytes: 0, maxLabel: 0, entropySum: 0, entropyN: 0,
        types: new Map(), samples: [], alerted: false, score: 0,
      };
    }
    this.keys.set(id, k); // most recently active last
    k.queries++;
    if (e.ts > k.last) k.last = e.ts;
    const isNew = k.names.addString(sub);
    if (isNew && k.samples.length < 10) k.samples.push(e.qname);
    let maxLabel = 0;
    for (const l of sub.split('.')) if (l.length > maxLabel) maxLabel = l.length;
    if (maxLabel > k.maxLabel) k.maxLabel = maxLabel;
    if (maxLabel > this.cfg.longLabel) k.long++;
    const chars = sub.length - (sub.split('.').length - 1);
    if (chars >= this.cfg.minEntropyLength) {
      const h = shannon(sub);
      k.entropySum += h;
      k.entropyN++;
      if (h > this.cfg.entropy) k.highEntropy++;
    }
    if (this.rare.has(e.qtype)) k.rare++;
    if (k.types.size < 8 || k.types.has(e.qtype)) k.types.set(e.qtype, (k.types.get(e.qtype) ?? 0) + 1);
    if (isNew) k.bytes += chars;
    if (!k.alerted) this.judge(k, e, emit);
  }

  /** SIGHUP: every setting applies in place; each (client, domain) keeps its counts and episode. */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.dns_tunnel.allow');
    this.cfg = c;
    this.allow = allow;
    this.allowDomains = c.allowDomains.map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, '')).filter((d) => d !== '');
    this.rare = new Set(c.rareTypes.map((t) => t.toUpperCase()));
    this.keys.cap = c.maxKeys;
    return true;
  }

  private points(k: Key): string[] {
    const c = this.cfg, q = k.queries || 1, out: string[] = [];
    if (k.long / q >= c.longShare) out.push('long_labels');
    if (k.highEntropy / q >= c.entropyShare) out.push('high_entropy');
    if (k.rare / q >= c.rareTypeShare) out.push('rare_query_types');
    if (k.bytes >= c.exfilBytes) out.push('data_volume');
    return out;
  }

  private judge(k: Key, e: DnsEvent, emit: Emit): void {
    if (!k.names.reaches(this.cfg.minUnique)) return;
    const pts = this.points(k);
    if (pts.length < this.cfg.minScore) return;
    k.alerted = true;
    k.score = pts.length;
    this.alerts++;
    emit(makeAlert({
      kind: this.name, severity: 'high', confidence: this.confidence(pts.length), src: k.client, dst: k.resolver,
      dport: k.dport, ts: e.ts, ts_first: k.first, ts_last: k.last, technique: 'T1071.004',
      summary: `${k.client} sent ${k.names.count} distinct encoded-looking names under ${k.domain} in ${Math.round(k.last - k.first)} s (DNS tunnel: ${pts.join(', ')})`,
      evidence: this.evidence(k, pts),
    }));
  }

  private confidence(points: number): number { return Math.min(0.95, 0.5 + 0.1 * points); }

  private evidence(k: Key, pts: string[]): Record<string, unknown> {
    const q = k.queries || 1, c = this.cfg;
    return {
      domain: k.domain, queries: k.queries, distinct_names: k.names.count, distinct_exact: k.names.exact,
      long_label_share: round2(k.long / q), high_entropy_share: round2(k.highEntropy / q),
      rare_type_share: round2(k.rare / q), subdomain_bytes: k.bytes, max_label: k.maxLabel,
      mean_entropy: k.entropyN ? round2(k.entropySum / k.entropyN) : 0, query_types: Object.fromEntries(k.types),
      sample_names: k.samples, signs: pts, score: pts.length, min_score: c.minScore, min_unique: c.minUnique,
      long_label: c.longLabel, entropy_threshold: c.entropy, window_s: c.window,
      techniques: k.bytes >= c.exfilBytes ? ['T1071.004', 'T1048'] : ['T1071.004'],
    };
  }

  private finish(k: Key, now: number, emit: Emit): void {
    const pts = this.points(k);
    emit({
      ...makeAlert({
        kind: this.name, severity: 'high', confidence: this.confidence(Math.max(pts.length, k.score)), src: k.client,
        dst: k.resolver, dport: k.dport, ts: now, ts_first: k.first, ts_last: k.last, technique: 'T1071.004',
        summary: `${k.client} DNS tunnel via ${k.domain} ended: ${k.queries} queries, ${k.names.count} distinct names, ${k.bytes} bytes in names`,
        evidence: { ...this.evidence(k, pts), episode_end: true },
      }),
      update: true,
    });
  }

  advance(now: number, emit: Emit): void {
    const soonest = Math.min(this.cfg.idle, this.cfg.window);
    for (const [id, k] of this.keys.entries()) {
      const age = now - k.last;
      if (age <= soonest) break; // least recently active first
      if (age <= (k.alerted ? this.cfg.idle : this.cfg.window)) continue;
      this.keys.delete(id);
      if (k.alerted) this.finish(k, now, emit);
    }
  }

  flush(now: number, emit: Emit): void {
    for (const k of this.keys.values()) if (k.alerted) this.finish(k, now, emit);
    this.keys.clear();
  }

  stats(): Record<string, number> {
    return { keys: this.keys.size, keys_evicted: this.keys.evicted, alerts: this.alerts };
  }
}

