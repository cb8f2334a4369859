/**
 * exfiltration — a host inside HOME_NET sending far more bytes OUT of
 * HOME_NET than its own learned baseline (T1048 Exfiltration Over
 * Alternative Protocol; T1041 over the C2 channel looks the same on the wire).
 *
 * Input: `conn` summaries and `conn_progress` reports. A connection whose originator is inside HOME_NET
 * and responder outside counts its `orig_bytes` for the originator; the
 * reverse roles count `resp_bytes` for the (inside) responder. Both sides
 * inside or both outside: ignored. Bytes are payload bytes as seen on the
 * wire (`payWire`), so a capture cut by a snap length still counts them.
 *
 * Per inside host, outbound bytes are summed in `bucket`-second buckets of
 * packet time (a connection lands in the bucket in which it ended). Each
 * closed *active* bucket (one with outbound bytes; idle minutes are not
 * averaged in, so a bursty host is compared with its own bursts) updates an
 * EWMA mean and variance (weight `alpha`; the first buckets use the running
 * mean so the learning period is unbiased). Once `learnBuckets` active
 * buckets were seen, a bucket — and therefore any single connection in it —
 * alerts when its bytes exceed
 *     max(minBytes, mean + k·sd, ratio × mean).
 * A host without that history is judged against the absolute floor
 * `firstSeenBytes` instead ("first-seen large upload"). Once learned, a
 * bucket that alerted is not learned (the exfiltration does not poison the
 * baseline); while learning every bucket is, so a host that habitually
 * uploads a lot alerts once as first-seen and is then judged by its habit.
 *
 * One alert per host episode: the first crossing alerts (src = the inside
 * host, dst/dport = the biggest receiver in that bucket); further crossing
 * buckets extend the episode; when `idleTimeout` seconds of packet time pass
 * without one (or at end of input) a final alert with `update: true` carries
 * the episode totals — only if the episode grew after the first alert.
 *
 * Defaults, next to the anchors: bucket 60 s, alpha 0.1, 10 learned buckets,
 * k 4, ratio 10 (same k and ratio as size_anomaly), minBytes 10 MiB (size_anomaly's
 * floor), firstSeenBytes 20 MiB, idleTimeout 300 s, ≤ 100k hosts (LRU,
 * evictions counted). No anchor ships a comparable default: Zeek has no
 * per-host volume baseline, ntopng's "data exfiltration" flow check is a
 * DNS/ICMP payload heuristic and its host volume alerts are user-set
 * thresholds, Maltrail's "data leakage" is a trail list.
 *
 * Long transfers are counted while they run: `conn_progress` events (every
 * 10 s of activity or 8 MiB, src/flows/tracker.ts) add the bytes sent since
 * the flow's previous report, and the final `conn` adds only what no report
 * carried, so a 200 MB upload at 25 MB/s alerts about a second after it
 * starts, and a session spread over hours lands in the buckets it ran in.
 * Exfiltration slower than the host's normal upload volume is not seen.
 */
import type { Detector, Emit } from './detector.js';
import type { EventType, NetEvent } from '../events/types.js';
import { makeAlert } from './alert.js';
import { BoundedMap } from './window.js';
import { CidrSet } from '../util/cidr.js';
import { inSet } from './ip.js';
import { mergeSettings } from './bounded-state.js';
import type { DetectorSpec, DetectorContext } from './spec.js';

export interface ExfiltrationConfig {
  /** seconds per bucket of outbound bytes */
  bucket: number;
  /** EWMA weight of each new active bucket */
  alpha: number;
  /** active buckets before the per-host baseline judges */
  learnBuckets: number;
  k: number;
  ratio: number;
  /** floor once a host has a baseline (bytes per bucket) */
  minBytes: number;
  /** floor while a host has no baseline: one connection or one bucket above it alerts */
  firstSeenBytes: number;
  /** seconds without a crossing bucket that end an episode */
  idleTimeout: number;
  maxHosts: number;
  /** CIDRs ignored as inside host or as outside receiver (backup servers, CDNs you upload to) */
  allow: string[];
}

export const EXFILTRATION_DEFAULTS: ExfiltrationConfig = {
  bucket: 60, alpha: 0.1, learnBuckets: 10, k: 4, ratio: 10,
  minBytes: 10 * 1024 * 1024, firstSeenBytes: 20 * 1024 * 1024,
  idleTimeout: 300, maxHosts: 100_000, allow: [],
};

export const exfiltrationSpec: DetectorSpec<ExfiltrationConfig> = {
  name: 'exfiltration', defaults: EXFILTRATION_DEFAULTS, create: (c, ctx) => new Exfiltration(c, ctx),
};

interface Episode {
  first: number; last: number; bytes: number; buckets: number; conns: number; peakBucket: number;
  dst: string; dport: number; rule: string; threshold: number; grew: boolean;
  largest: number; dsts: Set<string>;
}

interface Host {
  bucketIdx: number;
  bucketBytes: number;
  bucketConns: number;
  bucketFirst: number;
  /** the bucket crossed its threshold (counted into the episode once; not learned once the host has a baseline) */
  bucketFlagged: boolean;
  bigBytes: number; bigDst: string; bigDport: number;
  /** up to 10 "dst:port" receivers of this bucket */
  bucketDsts: Set<string>;
  mean: number; var: number; learned: number;
  lastTs: number;
  ep: Episode | null;
}

const MAX_SAMPLES = 10;

export class Exfiltration implements Detector {
  readonly name = 'exfiltration';
  readonly consumes: readonly EventType[] = ['conn', 'conn_progress'];
  /** keyed by the inside party, which is the source or the destination */
  readonly keyBy = 'global' as const;
  private readonly hosts: BoundedMap<string, Host>;
  private readonly home: CidrSet;
  private allow: CidrSet;
  /** hosts with an open episode (a subset of `hosts`, scanned in advance()) */
  private readonly open = new Map<string, Host>();
  alerts = 0;
  conns = 0;

  constructor(public cfg: ExfiltrationConfig = EXFILTRATION_DEFAULTS, ctx?: DetectorContext) {
    this.hosts = new BoundedMap(cfg.maxHosts);
    this.home = ctx?.homeNet ?? CidrSet.parse([]);
    this.allow = CidrSet.parse(cfg.allow, 'detectors.exfiltration.allow');
  }

  onEvent(e: NetEvent, emit: Emit): void {
    if (e.type !== 'conn' && e.type !== 'conn_progress') return;
    if (e.orig_bytes <= 0 && e.resp_bytes <= 0) return; // nothing sent either way (a flood's S0 attempts)
    const srcIn = inSet(this.home, e.src), dstIn = inSet(this.home, e.dst);
    if (srcIn === dstIn) return;
    const host = srcIn ? e.src : e.dst;
    const peer = srcIn ? e.dst : e.src;
    // bytes out not counted yet: a report's new bytes, or what the flow's reports did not carry
    let out: number, first: boolean, end: number;
    if (e.type === 'conn_progress') {
      out = srcIn ? e.orig_bytes_delta : e.resp_bytes_delta;
      first = (srcIn ? e.orig_bytes : e.resp_bytes) === out; // the flow's first outbound report
      end = e.ts;
    } else {
      const reported = srcIn ? e.reported_orig_bytes ?? 0 : e.reported_resp_bytes ?? 0;
      out = (srcIn ? e.orig_bytes : e.resp_bytes) - reported;
      first = reported === 0;
      end = e.ts + e.duration;
    }
    if (out <= 0) return;
    if (!this.allow.empty && (inSet(this.allow, host) || inSet(this.allow, peer))) return;
    if (first) this.conns++;
    this.add(end, host, peer, srcIn ? e.dport : e.sport, out, srcIn ? e.orig_bytes : e.resp_bytes, first ? 1 : 0, emit);
  }

  /** `out` new bytes of a connection that has sent `total` so far; `newConn` 1 when the connection is counted now */
  private add(end: number, host: string, peer: string, port: number, out: number, total: number, newConn: number, emit: Emit): void {
    const c = this.cfg;
    let h = this.hosts.get(host);
    if (h === undefined) {
      h = {
        bucketIdx: -1, bucketBytes: 0, bucketConns: 0, bucketFirst: end, bucketFlagged: false,
        bigBytes: 0, bigDst: peer, bigDport: port, bucketDsts: new Set(),
        mean: 0, var: 0, learned: 0, lastTs: end, ep: null,
      };
    }
    this.hosts.set(host, h); // most recent last (LRU)
    const t = Math.max(end, h.lastTs);
    h.lastTs = t;
    const idx = Math.floor(t / c.bucket);
    if (idx !== h.bucketIdx) {
      this.closeBucket(h);
      h.bucketIdx = idx;
      h.bucketFirst = t;
    }
    h.bucketBytes += out;
    h.bucketConns += newConn;
    if (h.bucketDsts.size < MAX_SAMPLES) h.bucketDsts.add(`${peer}:${port}`);
    if (total > h.bigBytes) { h.bigBytes = total; h.bigDst = peer; h.bigDport = port; }

    const learned = h.learned >= c.learnBuckets;
    const sd = Math.sqrt(Math.max(0, h.var));
    const threshold = learned ? Math.max(c.minBytes, h.mean + c.k * sd, c.ratio * h.mean) : c.firstSeenBytes;
    if (h.bucketBytes > threshold) {
      const newlyFlagged = !h.bucketFlagged;
      h.bucketFlagged = true;
      if (h.ep === null) {
        h.ep = {
          first: h.bucketFirst, last: t, bytes: h.bucketBytes, buckets: 1, conns: h.bucketConns, peakBucket: h.bucketBytes,
          dst: h.bigDst, dport: h.bigDport, rule: learned ? 'baseline' : 'first_seen', threshold, grew: false,
          largest: h.bigBytes, dsts: new Set(h.bucketDsts),
        };
        this.alerts++;
        emit(this.alert(host, h, h.ep, t, false, sd, learned));
      } else {
        const ep = h.ep;
        // bytes of this bucket not yet in the episode: the whole bucket when it just crossed, else this connection
        ep.bytes += newlyFlagged ? h.bucketBytes : out;
        ep.conns += newlyFlagged ? h.bucketConns : newConn;
        if (newlyFlagged) ep.buckets++;
        ep.peakBucket = Math.max(ep.peakBucket, h.bucketBytes);
        ep.largest = Math.max(ep.largest, h.bigBytes);
        ep.last = t;
        ep.grew = true;
        for (const d of h.bucketDsts) if (ep.dsts.size < MAX_SAMPLES) ep.dsts.add(d);
      }
    } else if (h.ep !== null && h.bucketFlagged) {
      // a connection added to a bucket that already crossed
      const ep = h.ep;
      ep.bytes += out; ep.conns += newConn; ep.last = t; ep.grew = true;
      ep.peakBucket = Math.max(ep.peakBucket, h.bucketBytes);
      ep.largest = Math.max(ep.largest, total);
      if (ep.dsts.size < MAX_SAMPLES) ep.dsts.add(`${peer}:${port}`);
    }
    if (h.ep !== null) {
      this.open.set(host, h);
      // amortised: end the episodes of hosts evicted from the bounded map
      if (this.open.size > 2 * c.maxHosts) for (const [k, x] of this.open) if (this.hosts.get(k) !== x) this.endEpisode(k, x, t, emit);
    }
  }

  /** Folds a finished bucket into the host's baseline (unless it alerted). */
  private closeBucket(h: Host): void {
    // while learning every bucket is learned (a host that habitually uploads a lot alerts
    // once as first-seen, then learns); once learned, a bucket that alerted is not
    if (h.bucketIdx >= 0 && h.bucketBytes > 0 && (!h.bucketFlagged || h.learned < this.cfg.learnBuckets)) {
      const x = h.bucketBytes;
      if (h.learned === 0) { h.mean = x; h.var = 0; }
      else {
        const a = Math.max(this.cfg.alpha, 1 / (h.learned + 1));
        const diff = x - h.mean;
        const incr = a * diff;
        h.mean += incr;
        h.var = (1 - a) * (h.var + diff * incr);
      }
      h.learned++;
    }
    h.bucketBytes = 0; h.bucketConns = 0; h.bucketFlagged = false;
    h.bigBytes = 0; h.bucketDsts.clear();
  }

  private alert(host: string, h: Host, ep: Episode, ts: number, update: boolean, sd: number, learned: boolean) {
    const c = this.cfg;
    const mib = (b: number): string => (b / 1048576).toFixed(1);
    const over = ep.peakBucket / Math.max(1, ep.threshold);
    const a = makeAlert({
      kind: this.name,
      severity: over >= 4 || ep.bytes >= 1024 * 1048576 ? 'high' : 'medium',
      confidence: ep.rule === 'baseline' ? Math.min(0.9, 0.5 + 0.1 * Math.log2(over + 1)) : 0.5,
      src: host, dst: ep.dst, dport: ep.dport, ts, ts_first: ep.first, ts_last: ep.last,
      summary: update
        ? `${host} sent ${mib(ep.bytes)} MiB out of HOME_NET in ${ep.buckets} bucket(s) of ${c.bucket} s (episode ended)`
        : ep.rule === 'baseline'
          ? `${host} sent ${mib(ep.peakBucket)} MiB out of HOME_NET in ${c.bucket} s, ${over.toFixed(1)}x its threshold of ${mib(ep.threshold)} MiB (baseline mean ${mib(h.mean)} MiB)`
          : `${host} sent ${mib(ep.peakBucket)} MiB out of HOME_NET in ${c.bucket} s with no baseline yet (first-seen large upload, floor ${mib(c.firstSeenBytes)} MiB)`,
      evidence: {
        rule: ep.rule, bytes_out: ep.bytes, peak_bucket_bytes: ep.peakBucket, buckets: ep.buckets, connections: ep.conns,
        threshold_bytes: Math.round(ep.threshold), bucket_s: c.bucket,
        baseline_mean: Math.round(h.mean), baseline_sd: Math.round(sd), baseline_buckets: h.learned, baseline_learned: learned,
        k: c.k, ratio: c.ratio, min_bytes: c.minBytes, first_seen_bytes: c.firstSeenBytes,
        largest_connection_bytes: ep.largest, sample_receivers: [...ep.dsts],
        ...(update ? { idle_timeout_s: c.idleTimeout } : {}),
      },
      technique: 'T1048',
    });
    if (update) a.update = true;
    return a;
  }

  /**
   * SIGHUP: alpha, learnBuckets, k, ratio, the byte floors, idleTimeout, allow
   * and maxHosts apply in place (baselines and open episodes are kept).
   * `bucket` is the unit of every learned baseline (bytes per bucket): a
   * change rebuilds.
   */
  reconfigure(settings: object): boolean {
    const c = mergeSettings(this.cfg, settings, ['bucket']);
    if (c === null) return false;
    const allow = CidrSet.parse(c.allow, 'detectors.exfiltration.allow');
    this.cfg = c;
    this.allow = allow;
    this.hosts.cap = c.maxHosts;
    return true;
  }

  advance(now: number, emit: Emit): void {
    for (const [host, h] of this.open) {
      if (h.ep === null) { this.open.delete(host); continue; }
      // an episode ends when it goes idle, or when its host was evicted from the bounded map
      if (now - h.ep.last > this.cfg.idleTimeout || this.hosts.get(host) !== h) this.endEpisode(host, h, now, emit);
    }
  }

  private endEpisode(host: string, h: Host, now: number, emit: Emit): void {
    const ep = h.ep!;
    h.ep = null;
    this.open.delete(host);
    if (ep.grew) {
      this.alerts++;
      emit(this.alert(host, h, ep, Math.max(now, ep.last), true, Math.sqrt(Math.max(0, h.var)), h.learned >= this.cfg.learnBuckets));
    }
  }

  flush(now: number, emit: Emit): void {
    for (const [host, h] of [...this.open]) if (h.ep !== null) this.endEpisode(host, h, now, emit);
  }

  stats(): Record<string, number> {
    return { hosts: this.hosts.size, hosts_evicted: this.hosts.evicted, episodes_open: this.open.size, connections_out: this.conns, alerts: this.alerts };
  }
}
