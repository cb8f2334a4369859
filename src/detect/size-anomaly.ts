/**
 * size_anomaly — the seed's "size above threshold × average", made right.
 *
 * Looks at connection summaries (bytes per finished connection, both ways)
 * and flags one that is far above what *that client has sent to or fetched
 * from that service* before: baselines are learned per (client, service),
 * the service being the responder's protocol and port (10.0.0.5 → tcp/443).
 *   ratio rule:  size > ratio × mean of the (client, service) baseline
 *   sigma rule:  size > mean + k · stddev
 * A baseline judges only after `minSamples` connections, and a connection
 * must also exceed `minBytes`, so a client's first big transfer to a new
 * service and a window of tiny flows are not alarms. One global window (the
 * seed's) mixes every host and service: connection sizes are heavy-tailed,
 * and one ordinary download among many small requests looked anomalous.
 *
 * A download (more bytes from the responder than to it) from a server the
 * client already talked to (an earlier connection of the same pair within
 * `window` s) is not alarmed: fetching a large file from a known server is
 * what clients do. Nor is a download INTO HOME_NET (client inside, server
 * outside): inbound data is what workstations fetch from the internet
 * (software, images, updates), and the data this detector guards is data
 * leaving. Measured on pcaps/benign-workday.pcap (15.5 min, two
 * workstations): a first 16 MiB ISO download from a mirror the client had
 * not used before was alerted as "444.5x what 10.77.19.11 usually moves over
 * tcp/80" — the only size_anomaly on ordinary traffic; with HOME_NET set it
 * is not. With an empty or all-private HOME_NET both ends are inside and the
 * rule judges the download as before. Uploads are judged (the exfiltration
 * detector is the HOME_NET-aware, per-host volume version of this rule).
 *
 * Baselines: running mean and variance (EWMA with weight 1/minSamples once
 * learned), a connection that alerted is not learned; a baseline idle for
 * `window` seconds of packet time is forgotten. Bounded: ≤ `maxKeys`
 * baselines and as many known pairs (LRU, evictions counted). One alert per
 * (client, server) pair per `window`.
 *
 * Defaults: both rules must agree, ratio 10, k 4, 10 samples per baseline,
 * 10 MiB, window 3600 s. No anchor ships a comparable default: ntopng's
 * "flow anomaly" and Zeek's conn-size thresholds are per-deployment settings.
 */
import type { Detector, Emit } from './detector.js';
import type { ConnEvent, EventType, NetEvent } from '../events/types.js';
import { BoundedMap } from './window.js';
import { mergeSettings } from './bounded-state.js';
import { makeAlert } from './alert.js';
import type { DetectorContext, DetectorSpec } from './spec.js';
import { CidrSet } from '../util/cidr.js';
import { inSet } from './ip.js';

export interface SizeAnomalyConfig {
  /** which rule must fire: both (default: fewer false alarms on heavy-tailed traffic), either, ratio, sigma */
  rule: 'both' | 'either' | 'ratio' | 'sigma';
  /** seconds of packet time a (client, service) baseline and a known pair are remembered idle */
  window: number;
  ratio: number;
  k: number;
  /** connections a (client, service) baseline has seen before it judges */
  minSamples: number;
  minBytes: number;
  /** cap on baselines (and on known client-server pairs) */
  maxKeys: number;
}

export const SIZE_ANOMALY_DEFAULTS: SizeAnomalyConfig = {
  rule: 'both', window: 3600, ratio: 10, k: 4, minSamples: 10, minBytes: 10 << 20, maxKeys: 100_000,
};

export const sizeAnomalySpec: DetectorSpec<SizeAnomalyConfig> = {
  name: 'size_anomaly', defaults: SIZE_ANOMALY_DEFAULTS, create: (c, ctx) => new SizeAnomaly(c, ctx),
};

interface Baseline { n: number; mean: number; var: number; last: number }

/** Adds one sample: running mean/variance, then an EWMA of weight 1/minSamples (recent habit counts more). */
export function learn(b: Baseline, x: number, minSamples: number): void {
  b.n++;
  const a = Math.max(1 / b.n, 1 / Math.max(1, minSamples));
  const d = x - b.mean;
  b.mean += a * d;
  b.var = b.n === 1 ? 0 : (1 - a) * (b.var + a * d * d);
}

export class SizeAnomaly implements Detector {
  readonly name = 'size_anomaly';
  readonly consumes: readonly EventType[] = ['conn'];
  /** baselines are per client (and service) */
  readonly keyBy = 'src' as const;
  private readonly base: BoundedMap<string, Baseline>;
  /** client|server pairs → packet time they were last seen together */
  private readonly pairs: BoundedMap<string, number>;
  /** client|server pairs alerted: one alert per pair per window */
  private readonly recent = new BoundedMap<string, number>(10_000);
  alerts = 0;
  knownDownloads = 0;
  /** downloads by an inside client from an outside server (not judged) */
  inboundDownloads = 0;
  private readonly home: CidrSet;
  /** connections without payload or without an answer, and without a baseline: not learned (see onEvent) */
  emptySkipped = 0;

  constructor(public cfg: SizeAnomalyConfig = SIZE_ANOMALY_DEFAULTS, ctx?: DetectorContext) {
    this.home = ctx?.homeNet ?? CidrSet.parse([]);
    this.base = new BoundedMap(cfg.maxKeys);
    this.pairs = new BoundedMap(cfg.maxKeys);
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'conn') return;
    const c = this.cfg;
    // A connection that moved nothing or got no answer at all (unanswered SYNs, UDP
    // datagrams to nobody: a spoofed flood is millions of them) starts no baseline and
    // marks no pair: it would only churn both tables (two keys and records per
    // connection; 90 MiB of a 1 M-source DNS query flood). A client's known baseline
    // still learns it.
    if ((e.size === 0 || e.resp_pkts === 0) && !this.base.has(`${e.src}|${e.proto}/${e.dport}`)) { this.emptySkipped++; return; }
    const pair = `${e.src}|${e.dst}`;
    const seenPair = this.pairs.get(pair);
    const known = seenPair !== undefined && e.ts - seenPair <= c.window;
    const end = e.ts + e.duration;
    this.pairs.set(pair, Math.max(end, seenPair ?? end));
    const key = `${e.src}|${e.proto}/${e.dport}`;
    let b = this.base.get(key);
    if (b !== undefined && e.ts - b.last > c.window) b = undefined; // forgotten: idle too long
    if (b === undefined) b = { n: 0, mean: 0, var: 0, last: end };
    this.base.set(key, b);
    b.last = Math.max(b.last, end);
    const size = e.size;
    if (b.n >= c.minSamples && size >= c.minBytes && this.judge(e, b, known, pair, emit)) return; // an alerting connection is not learned
    learn(b, size, c.minSamples);
  }

  /** true when the connection raised an alert */
  private judge(e: ConnEvent, b: Baseline, known: boolean, pair: string, emit: Emit): boolean {
    const c = this.cfg, size = e.size, mean = b.mean, sd = Math.sqrt(Math.max(0, b.var));
    const byRatio = size > c.ratio * mean;
    const bySigma = size > mean + c.k * sd;
    const r = c.rule;
    if (!(r === 'both' ? byRatio && bySigma : r === 'either' ? byRatio || bySigma : r === 'ratio' ? byRatio : bySigma)) return false;
    if (known && e.resp_bytes >= e.orig_bytes) { this.knownDownloads++; return false; }
    if (e.resp_bytes >= e.orig_bytes && inSet(this.home, e.src) && !inSet(this.home, e.dst)) { this.inboundDownloads++; return false; }
    const last = this.recent.get(pair);
    if (last !== undefined && e.ts - last <= c.window) return true;
    this.recent.set(pair, e.ts);
    this.alerts++;
    const dir = e.orig_bytes > e.resp_bytes ? 'upload' : 'download';
    emit(makeAlert({
      kind: this.name, severity: byRatio && bySigma ? 'medium' : 'low', confidence: byRatio && bySigma ? 0.6 : 0.4,
      src: e.src, dst: e.dst, dport: e.dport, ts: e.ts + e.duration, ts_first: e.ts, ts_last: e.ts + e.duration, flow: e,
      summary: `${dir} of ${size} bytes between ${e.src} and ${e.dst}:${e.dport}/${e.proto} is ${(size / (mean || 1)).toFixed(1)}x what ${e.src} usually moves over ${e.proto}/${e.dport}`,
      evidence: {
        bytes: size, orig_bytes: e.orig_bytes, resp_bytes: e.resp_bytes, direction: dir, service: `${e.proto}/${e.dport}`,
        baseline_mean: Math.round(mean), baseline_stddev: Math.round(sd), baseline_samples: b.n, known_server: known,
        window_s: c.window, ratio_threshold: c.ratio, k_threshold: c.k, min_bytes: c.minBytes,
        crossed: [byRatio ? 'ratio' : null, bySigma ? 'sigma' : null].filter(Boolean),
      },
    }));
    return true;
  }

  /** SIGHUP: every setting applies in place (baselines are kept; a smaller maxKeys evicts at the next insertions). */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings);
    if (c === null) return false;
    this.cfg = c;
    this.base.cap = c.maxKeys;
    this.pairs.cap = c.maxKeys;
    return true;
  }

  advance(): void { /* baselines are forgotten lazily (idle check on use) and by the LRU cap */ }
  flush(): void { /* nothing pending: alerts are raised when the connection ends */ }
  stats(): Record<string, number> {
    return { baselines: this.base.size, baselines_evicted: this.base.evicted, pairs: this.pairs.size, known_server_downloads: this.knownDownloads, inbound_downloads: this.inboundDownloads, alerts: this.alerts };
    return { baselines: this.base.size, baselines_evicted: this.base.evicted, empty_unlearned: this.emptySkipped, pairs: this.pairs.size, known_server_downloads: this.knownDownloads, alerts: this.alerts };
  }
}
