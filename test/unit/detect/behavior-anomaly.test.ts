import { describe, it, expect } from 'vitest';
import { BehaviorAnomaly, BEHAVIOR_ANOMALY_DEFAULTS, FEATURE_NAMES, NF, type BehaviorAnomalyConfig } from '../../../src/detect/behavior-anomaly.js';
import type { NetEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const base = (ts: number) => ({ ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6 as const });
const syn = (ts: number, src: string, dst: string, dport: number): NetEvent => ({ ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'tcp_syn', src, sport: 40000, dst, dport, proto: 'tcp', size: 74 });
const est = (ts: number, src: string, dst: string, dport: number): NetEvent => ({ ...base(ts), type: 'conn_established', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 });
const rej = (ts: number, src: string, dst: string, dport: number): NetEvent => ({ ...base(ts), type: 'conn_rejected', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 });
const dnsq = (ts: number, src: string, qname: string): NetEvent => ({
  ...base(ts), type: 'dns', src, sport: 50000, dst: '10.0.0.53', dport: 53, proto: 'udp', size: 40, id: 1, is_response: false, opcode: 0,
  qname, qtype: 'A', rcode: 'NOERROR', qdcount: 1, ancount: 0, answers: [], truncated: false,
});
const conn = (ts: number, src: string, dst: string, dport: number, bytes: number): NetEvent => ({
  ...base(ts), type: 'conn', src, sport: 40000, dst, dport, proto: 'tcp', size: bytes, duration: 0.2, orig_bytes: Math.round(bytes / 10),
  resp_bytes: bytes - Math.round(bytes / 10), orig_pkts: 5, resp_pkts: 8, conn_state: 'SF', history: 'ShADadFf', reason: 'closed',
});

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x / 2 ** 32; };
}

/** one web "page load" by `src` at t: a DNS query, 1–6 connections to one server, outcomes and summaries */
function page(r: () => number, t: number, src: string): NetEvent[] {
  const server = `93.184.${Math.floor(r() * 4)}.${1 + Math.floor(r() * 20)}`;
  const port = r() < 0.8 ? 443 : 80;
  const evs: NetEvent[] = [dnsq(t, src, `www${Math.floor(r() * 20)}.example`)];
  const n = 1 + Math.floor(r() * 6);
  for (let k = 0; k < n; k++) {
    const s = t + 0.02 + k * 0.03;
    evs.push(syn(s, src, server, port));
    if (r() < 0.01) evs.push(rej(s + 0.01, src, server, port));
    else { evs.push(est(s + 0.01, src, server, port)); evs.push(conn(s + 0.5, src, server, port, 2000 + Math.floor(r() * 200_000))); }
  }
  return evs;
}

/** page loads by each host at exponential gaps (mean `gap` s) from t0 to t1, in time order */
function browsing(hosts: string[], t0: number, t1: number, gap: number, seed: number): NetEvent[] {
  const r = rng(seed);
  const evs: NetEvent[] = [];
  for (const h of hosts) for (let t = t0 + r() * gap; t < t1; t += -gap * Math.log(1 - r()) + 0.5) evs.push(...page(r, t, h));
  return evs.sort((a, b) => a.ts - b.ts);
}

/** a SYN scan: `n` ports of one victim in `secs` seconds, each refused */
function scan(t0: number, src: string, victim: string, n: number, secs: number): NetEvent[] {
  const evs: NetEvent[] = [];
  for (let i = 0; i < n; i++) { const t = t0 + (i * secs) / n; evs.push(syn(t, src, victim, 1 + i)); evs.push(rej(t + 0.0005, src, victim, 1 + i)); }
  return evs;
}

function make(over: Partial<BehaviorAnomalyConfig> = {}) {
  const d = new BehaviorAnomaly({ ...BEHAVIOR_ANOMALY_DEFAULTS, ...over });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  let last = 0;
  const feed = (evs: NetEvent[]) => { for (const e of evs) { if (Math.floor(e.ts) !== last) { last = Math.floor(e.ts); d.advance(e.ts, emit); } d.onEvent(e, emit); } };
  return { d, alerts, emit, feed };
}

const H = '10.0.0.5';

describe('behavior_anomaly: features', () => {
  it('has six behaviours at three time scales (half-lives 0.2 s, 1 s, 10 s)', () => {
    expect(NF).toBe(18);
    expect(FEATURE_NAMES.slice(0, 6)).toEqual(['events_per_s@hl0.2s', 'new_dsts_per_s@hl0.2s', 'new_ports_per_s@hl0.2s', 'fail_ratio@hl0.2s', 'dns_per_s@hl0.2s', 'log2_bytes_per_conn@hl0.2s']);
    expect(FEATURE_NAMES[17]).toBe('log2_bytes_per_conn@hl10s');
  });
});

describe('behavior_anomaly: learning period', () => {
  it('judges nothing during learnSeconds, even a scan', () => {
    const { d, alerts, feed } = make();
    feed(browsing([H], 1000, 1500, 10, 1));
    feed(scan(1500, H, '10.0.0.9', 1000, 1));
    expect(alerts).toHaveLength(0);
    expect(d.stats().scored).toBe(0);
  });

  it('judges a host only after minObservations samples of its own when it was not seeded from the population', () => {
    const { alerts, feed } = make({ learnSeconds: 0, minObservations: 60 });
    feed(browsing([H], 1000, 1030, 10, 2)); // a few active seconds only
    feed(scan(1031, H, '10.0.0.9', 1000, 1));
    expect(alerts).toHaveLength(0);
  });
});

describe('behavior_anomaly: a host against its own baseline', () => {
  it('stays silent while a browsing host keeps browsing, then flags its port scan with the top behaviours', () => {
    const { alerts, feed } = make();
    feed(browsing([H], 1000, 2500, 8, 3));
    expect(alerts).toHaveLength(0);
    feed(scan(2500, H, '10.0.0.9', 1000, 2));
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ kind: 'behavior_anomaly', src: H });
    const ev = a.evidence as { score: number; baseline: string; top_features: { feature: string; z: number }[] };
    expect(a.severity).toBe(ev.score >= 16 ? 'medium' : 'low');
    expect(ev.baseline).toBe('host');
    expect(ev.score).toBeGreaterThanOrEqual(8);
    expect(ev.top_features.length).toBeLessThanOrEqual(3);
    expect(ev.top_features.map((f) => f.feature.split('@')[0])).toContain('events_per_s');
    expect(a.confidence).toBeGreaterThanOrEqual(0.3);
  });

  it('raises at the threshold and not just above the peak score (the comparison is score ≥ threshold)', () => {
    const run = (threshold: number) => {
      const m = make({ threshold });
      m.feed(browsing([H], 1000, 2500, 8, 4));
      m.feed(scan(2500, H, '10.0.0.9', 60, 3)); // a mild scan: a moderate score
      return m;
    };
    const probe = run(1e9);
    const peak = probe.d.stats().max_score_x1000 / 1000;
    expect(peak).toBeGreaterThan(1);
    expect(run(peak + 0.002).alerts).toHaveLength(0);
    expect(run(peak - 0.002).alerts).toHaveLength(1);
  });

  it('one alert per episode; the episode ends after idleTimeout with an update, and a later burst is a new episode', () => {
    const { d, alerts, emit, feed } = make({ idleTimeout: 120 });
    feed(browsing([H], 1000, 2500, 8, 5));
    feed(scan(2500, H, '10.0.0.9', 1000, 2));
    feed(scan(2510, H, '10.0.0.10', 1000, 2));
    expect(alerts).toHaveLength(1);
    d.advance(2640, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ update: true, src: H });
    expect((alerts[1]!.evidence as { anomalous_events: number }).anomalous_events).toBeGreaterThan(100);
    feed(browsing([H], 2700, 3000, 8, 6));
    feed(scan(3000, H, '10.0.0.11', 1000, 2));
    expect(alerts.filter((a) => !a.update)).toHaveLength(2);
    d.flush(3100, emit);
    expect(d.stats().episodes_open).toBe(0);
  });
});

describe('behavior_anomaly: new hosts against the population', () => {
  it('judges a host first seen after learning against the population: a new scanner alerts, a new browser does not', () => {
    const hosts = Array.from({ length: 20 }, (_, i) => `10.0.1.${i + 1}`);
    const { alerts, feed } = make();
    feed(browsing(hosts, 1000, 2000, 15, 7));
    feed(browsing(['10.0.2.1'], 2000, 2300, 15, 8));
    expect(alerts).toHaveLength(0);
    feed(scan(2300, '10.0.2.99', '10.0.0.9', 1000, 2));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ src: '10.0.2.99', evidence: { baseline: 'population' } });
  });
});

describe('behavior_anomaly: benign traffic, allow-list and bounded state', () => {
  it('stays silent on 30 minutes of 40 hosts browsing at random', () => {
    const hosts = Array.from({ length: 40 }, (_, i) => `10.0.3.${i + 1}`);
    const { d, alerts, emit, feed } = make();
    feed(browsing(hosts, 1000, 2800, 12, 9));
    d.flush(2800, emit);
    expect(alerts).toHaveLength(0);
    expect(d.stats().scored).toBeGreaterThan(10_000);
  });

  it('never scores an allow-listed host', () => {
    const { d, alerts, feed } = make({ allow: ['10.0.0.0/24'] });
    feed(browsing([H], 1000, 2500, 8, 10));
    feed(scan(2500, H, '10.0.0.9', 1000, 2));
    expect(alerts).toHaveLength(0);
    expect(d.stats().hosts).toBe(0);
  });

  it('keeps at most maxHosts hosts under a million distinct sources (two SYNs each), counting evictions', () => {
    const { d, emit } = make({ maxHosts: 1000, learnSeconds: 0, minObservations: 5 });
    for (let i = 0; i < 1_000_000; i++) {
      const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      d.onEvent(syn(1000 + i / 1e4, src, '10.0.0.9', 80), emit);
      d.onEvent(syn(1000 + i / 1e4, src, '10.0.0.9', 81), emit);
    }
    expect(d.stats().hosts).toBe(1000);
    expect(d.stats().hosts_evicted).toBe(999_000);
  });

  it('creates (almost) no host for a spoofed flood: one SYN per source, outcome and summary never admit', () => {
    const { d, emit } = make({ maxHosts: 1000, learnSeconds: 0, minObservations: 5 });
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const src = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const t = 1000 + i / 1e5;
      d.onEvent(syn(t, src, '10.0.0.9', 80), emit);
      d.onEvent({ ...base(t), type: 'conn_unanswered', src, sport: 40000, dst: '10.0.0.9', dport: 80, proto: 'tcp', size: 0 }, emit);
      d.onEvent(conn(t, src, '10.0.0.9', 80, 0), emit);
    }
    const st = d.stats();
    // the admission filter's false "seen before" (≈ 1 %) is all that gets a record
    expect(st.hosts + st.hosts_evicted).toBeLessThan(N * 0.02);
    expect(st.first_events_filtered).toBeGreaterThan(N * 0.98);
  });

  it('a host is admitted at its second initiated event and its first is replayed (both are scored)', () => {
    const m = make({ learnSeconds: 0, minObservations: 5 });
    m.feed(browsing(['10.0.0.7', '10.0.0.8', '10.0.0.10'], 1000, 1300, 4, 11)); // a population baseline
    const s0 = m.d.stats();
    m.feed([syn(1301, H, '10.0.0.9', 80)]);
    expect(m.d.stats()).toMatchObject({ hosts: s0.hosts, scored: s0.scored }); // one event: no record, nothing scored
    m.feed([rej(1301.001, H, '10.0.0.9', 80)]); // an outcome does not admit
    expect(m.d.stats().hosts).toBe(s0.hosts);
    m.feed([syn(1301.5, H, '10.0.0.9', 81)]);
    expect(m.d.stats()).toMatchObject({ hosts: s0.hosts + 1, scored: s0.scored + 2 }); // the first SYN replayed, then the second
  });
});
