/**
 * The three generic rules (event_rate, type_frequency, size_anomaly) on
 * crafted events: they blame the host that initiates, name who drives a
 * share, stay silent for ordinary servers, and learn sizes per (client,
 * service).
 */
import { describe, it, expect } from 'vitest';
import { EventRate, EVENT_RATE_DEFAULTS } from '../../../src/detect/event-rate.js';
import { TypeFrequency, TYPE_FREQUENCY_DEFAULTS } from '../../../src/detect/type-frequency.js';
import { SizeAnomaly, SIZE_ANOMALY_DEFAULTS, learn } from '../../../src/detect/size-anomaly.js';
import { isInitiation } from '../../../src/events/direction.js';
import { CidrSet } from '../../../src/util/cidr.js';
import type { Detector } from '../../../src/detect/detector.js';
import type { ConnEvent, DnsEvent, IcmpEvent, NetEvent, TcpSynEvent, HttpResponseEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

const A = '203.0.113.9', V = '10.0.0.2';
const t = (ts: number) => ({ ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const });
const icmp = (ts: number, src: string, dst: string, type: number): IcmpEvent => ({ ...t(ts), type: 'icmp', src, sport: 0, dst, dport: 0, proto: 'icmp', size: 98, icmp_type: type, icmp_code: 0 });
const syn = (ts: number, src: string, dst: string, dport = 80): TcpSynEvent => ({ ...t(ts), type: 'tcp_syn', src, sport: 40000, dst, dport, proto: 'tcp', size: 60 });
const dns = (ts: number, src: string, dst: string, response: boolean): DnsEvent => ({
  ...t(ts), type: 'dns', src, sport: response ? 53 : 50000, dst, dport: response ? 50000 : 53, proto: 'udp', size: 60, id: 1, is_response: response,
  opcode: 0, qname: 'www.example.com', qtype: 'A', rcode: 'NOERROR', qdcount: 1, ancount: response ? 1 : 0, answers: [], truncated: false,
});
const resp = (ts: number, src: string, dst: string): HttpResponseEvent => ({
  ...t(ts), type: 'http_response', src, sport: 80, dst, dport: 40000, proto: 'tcp', size: 300, status: 404, version: '1.1', reason_phrase: 'Not Found', length: 0,
});
const conn = (ts: number, src: string, dst: string, dport: number, orig: number, resp_: number): ConnEvent => ({
  ...t(ts), type: 'conn', src, sport: 40000, dst, dport, proto: 'tcp', size: orig + resp_, duration: 1, orig_bytes: orig, resp_bytes: resp_,
  orig_pkts: 10, resp_pkts: 10, conn_state: 'SF', history: 'ShADadFf', reason: 'closed',
});

function run(d: Detector, events: NetEvent[]): Alert[] {
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  for (const e of events) { d.advance(e.ts, emit); d.onEvent(e, emit); }
  return alerts;
}

describe('isInitiation: what a host asks for, not what it answers', () => {
  it('counts SYNs, queries, requests, echo requests and client banners; not responses, replies or errors', () => {
    expect(isInitiation(syn(1, A, V))).toBe(true);
    expect(isInitiation(dns(1, A, V, false))).toBe(true);
    expect(isInitiation(dns(1, V, A, true))).toBe(false);
    expect(isInitiation(icmp(1, A, V, 8))).toBe(true);
    expect(isInitiation(icmp(1, V, A, 0))).toBe(false);
    expect(isInitiation(icmp(1, V, A, 3))).toBe(false);
    expect(isInitiation(resp(1, V, A))).toBe(false);
  });
});

describe('event_rate: counts what a host initiates', () => {
  it('blames the pinger of a 2000/s echo flood, not the victim answering it', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 2000; i++) { ev.push(icmp(1000 + i / 2000, A, V, 8)); ev.push(icmp(1000 + i / 2000 + 1e-5, V, A, 0)); }
    const alerts = run(new EventRate(EVENT_RATE_DEFAULTS), ev);
    expect(alerts.map((a) => a.src)).toEqual([A]);
    expect(alerts[0]!.summary).toMatch(/initiated more than 500/);
  });

  it('does not blame a DNS server answering 1000 queries a second from many clients', () => {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 1000; i++) ev.push(dns(1000 + i / 1000, V, `10.1.${i >> 8}.${i & 255}`, true));
    expect(run(new EventRate(EVENT_RATE_DEFAULTS), ev)).toEqual([]);
  });

  it('does not blame a web server answering a web scan with 800 404s in one second', () => {
    const ev = Array.from({ length: 800 }, (_, i) => resp(1000 + i / 1000, V, A));
    expect(run(new EventRate({ ...EVENT_RATE_DEFAULTS, types: ['http_response', 'http_request'] }), ev)).toEqual([]);
  });
});

describe('type_frequency: names who drives the share, silent for ordinary servers', () => {
  /** 90 s of a mixed background (DNS queries, HTTP responses, pings: a third each), then a burst of `extra` */
  function background(extra: NetEvent[]): NetEvent[] {
    const ev: NetEvent[] = [];
    for (let i = 0; i < 900; i++) {
      const ts = 1000 + i * 0.1, c = `10.0.1.${i % 50}`;
      ev.push(i % 3 === 0 ? dns(ts, c, '10.0.0.53', false) : i % 3 === 1 ? resp(ts, '10.0.0.80', c) : icmp(ts, c, '10.0.0.1', 8));
    }
    return [...ev, ...extra].sort((a, b) => a.ts - b.ts);
  }

  it('a SYN burst from one source: src is that source, top flows name its target', () => {
    const burst = Array.from({ length: 3000 }, (_, i) => syn(1075 + i / 1000, A, V, 1 + (i % 1000)));
    const alerts = run(new TypeFrequency(TYPE_FREQUENCY_DEFAULTS), background(burst));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'type_frequency', src: A, dst: V });
    const ev = alerts[0]!.evidence as { top_sources: { src: string; share: number }[]; top_flows: { src: string; dst: string; dports: number }[] };
    expect(ev.top_sources[0]).toMatchObject({ src: A, share: 1 });
    expect(ev.top_flows[0]).toMatchObject({ src: A, dst: V });
    expect(ev.top_flows[0]!.dports).toBeGreaterThan(500);
    expect(alerts[0]!.summary).toMatch(/100% of them from 203\.0\.113\.9 to 10\.0\.0\.2/);
  });

  it('a resolver answering a burst of lookups (mostly answers) is explained: no alert, counted', () => {
    const burst = Array.from({ length: 3000 }, (_, i) => dns(1075 + i / 1000, '10.0.0.53', `10.0.1.${i % 200}`, true));
    const d = new TypeFrequency(TYPE_FREQUENCY_DEFAULTS);
    expect(run(d, background(burst))).toEqual([]);
    expect(d.stats().explained).toBe(1);
  });

  it('many clients sending requests to one server, none dominant, is a busy server: no alert', () => {
    const burst = Array.from({ length: 3000 }, (_, i) => syn(1075 + i / 1000, `10.0.2.${i % 40}`, '10.0.0.80', 443));
    const d = new TypeFrequency(TYPE_FREQUENCY_DEFAULTS);
    expect(run(d, background(burst))).toEqual([]);
    expect(d.stats().explained).toBe(1);
  });
});

describe('size_anomaly: per (client, service) baselines', () => {
  const C = '10.0.0.5', S = '198.51.100.20';
  /** 12 small exchanges of C with S:443 */
  const habit = Array.from({ length: 12 }, (_, i) => conn(1000 + i * 10, C, S, 443, 2_000, 20_000));

  it('learn(): running mean and variance of the samples', () => {
    const b = { n: 0, mean: 0, var: 0, last: 0 };
    for (const x of [2, 4, 6]) learn(b, x, 10);
    expect(b.mean).toBeCloseTo(4);
    expect(b.var).toBeCloseTo(8 / 3);
  });

  it('a 50 MiB upload from a client that moves 22 kB to that service is alerted, naming client, server and service', () => {
    const alerts = run(new SizeAnomaly(SIZE_ANOMALY_DEFAULTS), [...habit, conn(1200, C, S, 443, 50 << 20, 10_000)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'size_anomaly', src: C, dst: S, dport: 443 });
    expect(alerts[0]!.evidence).toMatchObject({ direction: 'upload', service: 'tcp/443', baseline_samples: 12 });
  });

  it('one large download from a server the client already talks to is not alarmed', () => {
    const d = new SizeAnomaly(SIZE_ANOMALY_DEFAULTS);
    expect(run(d, [...habit, conn(1200, C, S, 443, 2_000, 80 << 20)])).toEqual([]);
    expect(d.stats().known_server_downloads).toBe(1);
  });

  it('a large download into HOME_NET from an outside server it never used is not alarmed; from inside HOME_NET it is', () => {
    const big = conn(1200, C, '203.0.113.9', 443, 2_000, 80 << 20);
    const home = { homeNet: CidrSet.parse(['10.0.0.0/8']) };
    const d = new SizeAnomaly(SIZE_ANOMALY_DEFAULTS, home);
    expect(run(d, [...habit, big])).toEqual([]);
    expect(d.stats().inbound_downloads).toBe(1);
    // the same download when the server is inside too (an internal transfer): judged as before
    expect(run(new SizeAnomaly(SIZE_ANOMALY_DEFAULTS, { homeNet: CidrSet.parse(['10.0.0.0/8', '203.0.113.0/24']) }), [...habit, big])).toHaveLength(1);
    // and an upload from inside to outside is judged as before
    expect(run(new SizeAnomaly(SIZE_ANOMALY_DEFAULTS, home), [...habit, conn(1200, C, S, 443, 50 << 20, 10_000)])).toHaveLength(1);
  });

  it('another client\'s habits do not judge this one: a client with no baseline for the service is not judged', () => {
    expect(run(new SizeAnomaly(SIZE_ANOMALY_DEFAULTS), [...habit, conn(1200, '10.0.0.6', S, 443, 50 << 20, 0)])).toEqual([]);
  });

  it('a baseline idle longer than the window is forgotten (judged again only after minSamples new connections)', () => {
    expect(run(new SizeAnomaly(SIZE_ANOMALY_DEFAULTS), [...habit, conn(1111 + 3700, C, S, 443, 50 << 20, 0)])).toEqual([]);
  });
});
