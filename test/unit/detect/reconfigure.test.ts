/**
 * SIGHUP: reconfigure(settings) applies a new threshold in place and keeps
 * what the detector has accumulated (counts, ports, baselines, episodes);
 * it returns false only for settings that size a structure (then the daemon
 * rebuilds the detector).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Detector } from '../../../src/detect/detector.js';
import type { Alert } from '../../../src/alerts/types.js';
import type { ConnEvent, DnsEvent, HttpRequestEvent, HttpResponseEvent, IcmpEvent, NetEvent, SshAuthEvent } from '../../../src/events/types.js';
import { EventRate, EVENT_RATE_DEFAULTS } from '../../../src/detect/event-rate.js';
import { SizeAnomaly, SIZE_ANOMALY_DEFAULTS } from '../../../src/detect/size-anomaly.js';
import { TypeFrequency, TYPE_FREQUENCY_DEFAULTS } from '../../../src/detect/type-frequency.js';
import { PortScan, PORT_SCAN_DEFAULTS } from '../../../src/detect/port-scan.js';
import { HostSweep, HOST_SWEEP_DEFAULTS } from '../../../src/detect/host-sweep.js';
import { SynFlood, SYN_FLOOD_DEFAULTS } from '../../../src/detect/syn-flood.js';
import { IcmpFlood, ICMP_FLOOD_DEFAULTS } from '../../../src/detect/icmp-flood.js';
import { VolumeSurge, VOLUME_SURGE_DEFAULTS } from '../../../src/detect/volume-surge.js';
import { Exfiltration, EXFILTRATION_DEFAULTS } from '../../../src/detect/exfiltration.js';
import { Beaconing, BEACONING_DEFAULTS } from '../../../src/detect/beaconing.js';
import { BehaviorAnomaly, BEHAVIOR_ANOMALY_DEFAULTS } from '../../../src/detect/behavior-anomaly.js';
import { ThreatIntel, THREAT_INTEL_DEFAULTS } from '../../../src/detect/threat-intel.js';
import { SshBruteforce, SSH_BRUTEFORCE_DEFAULTS } from '../../../src/detect/ssh-bruteforce.js';
import { SshLoginAfterBruteforce, SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS } from '../../../src/detect/ssh-login-after-bruteforce.js';
import { DnsTunnel, DNS_TUNNEL_DEFAULTS } from '../../../src/detect/dns-tunnel.js';
import { DnsNxdomainBurst, DNS_NXDOMAIN_BURST_DEFAULTS } from '../../../src/detect/dns-nxdomain-burst.js';
import { HttpScan, HTTP_SCAN_DEFAULTS } from '../../../src/detect/http-scan.js';
import { DETECTORS } from '../../../src/detect/index.js';
import { CidrSet } from '../../../src/util/cidr.js';

const A = '203.0.113.9', V = '10.0.0.5';
const t = (ts: number) => ({ ts, tsSec: Math.floor(ts), tsNsec: Math.round((ts % 1) * 1e9), tsDigits: 6 as const });
let sp = 30000;
const syn = (ts: number, src = A, dst = V, dport = 80): NetEvent => ({ ...t(ts), type: 'tcp_syn', src, sport: sp++ % 60000 + 1024, dst, dport, proto: 'tcp', size: 60 });
const rejected = (ts: number, dport: number, src = A, dst = V): NetEvent => ({ ...t(ts), type: 'conn_rejected', src, sport: 40000, dst, dport, proto: 'tcp', size: 0 });
const conn = (ts: number, o: Partial<ConnEvent> = {}): ConnEvent => ({
  ...t(ts), type: 'conn', src: '10.0.0.7', sport: 40000, dst: '198.51.100.20', dport: 443, proto: 'tcp', size: 0, duration: 1,
  orig_bytes: 0, resp_bytes: 0, orig_pkts: 5, resp_pkts: 5, conn_state: 'SF', history: 'ShADadFf', reason: 'closed', ...o,
});
const echo = (ts: number, src: string, dst = V): IcmpEvent => ({ ...t(ts), type: 'icmp', src, sport: 0, dst, dport: 0, proto: 'icmp', size: 98, icmp_type: 8, icmp_code: 0 });
const dnsq = (ts: number, qname: string, src = '10.0.0.7', qtype = 'A'): DnsEvent => ({
  ...t(ts), type: 'dns', src, sport: 50000, dst: '10.0.0.53', dport: 53, proto: 'udp', size: 60, id: 1, is_response: false, opcode: 0,
  qname, qtype, rcode: 'NOERROR', qdcount: 1, ancount: 0, answers: [], truncated: false,
});
const nx = (ts: number, qname: string, client = '10.1.1.5'): DnsEvent => ({
  ...t(ts), type: 'dns', src: '10.1.1.53', sport: 53, dst: client, dport: 50000, proto: 'udp', size: 60, id: 7, is_response: true, opcode: 0,
  qname, qtype: 'A', rcode: 'NXDOMAIN', qdcount: 1, ancount: 0, answers: [], truncated: false,
});
const auth = (ts: number, outcome: SshAuthEvent['auth']): SshAuthEvent => ({
  ...t(ts), type: 'ssh_auth', src: A, sport: sp++, dst: '10.0.0.22', dport: 22, proto: 'tcp', size: 2000, auth: outcome, attempt: 1,
  client_banner: 'SSH-2.0-libssh_0.10.6', server_banner: 'SSH-2.0-OpenSSH_9.2p1',
});
const req = (ts: number, uri: string, sport: number): HttpRequestEvent => ({
  ...t(ts), type: 'http_request', src: A, sport, dst: '10.0.0.80', dport: 80, proto: 'tcp', size: 120, method: 'GET', host: 'intranet', uri,
  version: '1.1', user_agent: 'Mozilla/5.0',
});
const resp = (ts: number, status: number, cport: number): HttpResponseEvent => ({
  ...t(ts), type: 'http_response', src: '10.0.0.80', sport: 80, dst: A, dport: cport, proto: 'tcp', size: 200, status, version: '1.1',
  reason_phrase: 'Not Found', length: 10,
});

function harness(d: Detector) {
  const alerts: Alert[] = [];
  const emit = (a: Alert): void => { alerts.push(a); };
  let sec = -1;
  const feed = (...evs: NetEvent[]) => { for (const e of evs) { if (Math.floor(e.ts) !== sec) { sec = Math.floor(e.ts); d.advance(e.ts, emit); } d.onEvent(e, emit); } };
  return { alerts, emit, feed, first: () => alerts.filter((a) => !a.update) };
}

describe('reconfigure: every registered detector takes its own defaults in place', () => {
  it('returns true for unchanged settings', () => {
    for (const s of DETECTORS) {
      const d = s.create(structuredClone(s.defaults), { homeNet: CidrSet.parse(['10.0.0.0/8']) });
      expect(d.reconfigure, s.name).toBeTypeOf('function');
      expect(d.reconfigure!(structuredClone(s.defaults)), s.name).toBe(true);
    }
  });
});

describe('reconfigure: rates and shares', () => {
  it('event_rate: the counts of the current second survive a lower maxPerSecond', () => {
    const d = new EventRate({ ...EVENT_RATE_DEFAULTS, maxPerSecond: 100 });
    const h = harness(d);
    for (let i = 0; i < 60; i++) h.feed(syn(1000 + i * 0.01));
    expect(d.reconfigure({ maxPerSecond: 70 })).toBe(true);
    for (let i = 60; i < 71; i++) h.feed(syn(1000 + i * 0.01));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ events_in_second: 71, threshold_per_s: 70 });
  });

  it('type_frequency: the window\'s events survive a lower minEvents; types and maxEvents need a rebuild', () => {
    const d = new TypeFrequency({ ...TYPE_FREQUENCY_DEFAULTS, minEvents: 1000 });
    const h = harness(d);
    for (let i = 0; i < 600; i++) h.feed(i % 3 === 0 ? syn(1000 + i * 0.1) : dnsq(1000 + i * 0.1, 'a.example'));
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ minEvents: 500 })).toBe(true);
    h.feed(dnsq(1060.5, 'a.example'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ type: 'dns', min_events: 500 });
    expect((h.alerts[0]!.evidence as { window_events: number }).window_events).toBeGreaterThan(500);
    expect(d.reconfigure({ maxEvents: 10 })).toBe(false);
    expect(d.reconfigure({ types: ['dns'] })).toBe(false);
  });

  it('size_anomaly: the (client, service) baselines survive a lower minSamples; every setting applies in place', () => {
    const d = new SizeAnomaly({ ...SIZE_ANOMALY_DEFAULTS, minSamples: 40 });
    const h = harness(d);
    for (let i = 0; i < 30; i++) h.feed(conn(1000 + i, { size: 10_000, orig_bytes: 9_000, resp_bytes: 1_000 }));
    h.feed(conn(1031, { size: 50 << 20, orig_bytes: 50 << 20 }));
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ minSamples: 30 })).toBe(true);
    h.feed(conn(1032, { size: 60 << 20, orig_bytes: 60 << 20, dst: '198.51.100.21' }));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ baseline_samples: 31, service: 'tcp/443', direction: 'upload' });
    expect(d.reconfigure({ maxKeys: 10 })).toBe(true);
  });
});

describe('reconfigure: scans', () => {
  it('port_scan: the ports seen survive a lower fastPorts', () => {
    const d = new PortScan(PORT_SCAN_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 10; i++) h.feed(rejected(1000 + i, 20000 + i));
    expect(d.reconfigure({ fastPorts: 12 })).toBe(true);
    h.feed(rejected(1010, 20010));
    expect(h.alerts).toHaveLength(0);
    h.feed(rejected(1011, 20011));
    expect(h.first()).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ distinct_ports: 12, probes: 12, trigger: 'fast', thresholds: { fast_ports: 12 } });
  });

  it('port_scan: a raised threshold grows each pair\'s ring of port times, keeping them', () => {
    const d = new PortScan({ ...PORT_SCAN_DEFAULTS, weightThreshold: 0 });
    const h = harness(d);
    for (let i = 0; i < 14; i++) h.feed(rejected(1000 + i, 20000 + i));
    expect(d.reconfigure({ fastPorts: 40, slowPorts: 40 })).toBe(true); // ring: 25 → 40 entries
    for (let i = 14; i < 39; i++) h.feed(rejected(1000 + i, 20000 + i));
    expect(h.alerts).toHaveLength(0);
    h.feed(rejected(1039, 20039));
    expect(h.first()).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ distinct_ports: 40, trigger: 'fast' });
  });

  it('host_sweep: the hosts seen survive a lower hosts threshold', () => {
    const d = new HostSweep(HOST_SWEEP_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 20; i++) h.feed(rejected(1000 + i, 22, A, `10.1.0.${i + 1}`));
    expect(d.reconfigure({ hosts: 22 })).toBe(true);
    h.feed(rejected(1020, 22, A, '10.1.0.21'));
    expect(h.alerts).toHaveLength(0);
    h.feed(rejected(1021, 22, A, '10.1.0.22'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ distinct_hosts: 22, probes: 22 });
  });
});

describe('reconfigure: floods and surges', () => {
  it('syn_flood: the per-second counts survive a lower rate; window needs a rebuild', () => {
    const d = new SynFlood(SYN_FLOOD_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 400; i++) h.feed(syn(1000 + i * 0.001, `198.18.${i >> 8}.${i & 255}`));
    expect(d.reconfigure({ rate: 210 })).toBe(true); // 420 SYNs in 2 s
    for (let i = 400; i < 419; i++) h.feed(syn(1000 + i * 0.001, `198.18.${i >> 8}.${i & 255}`));
    expect(h.alerts).toHaveLength(0);
    h.feed(syn(1000.419, '198.18.1.164'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ syns_in_window: 420, threshold_syns: 420, rate_per_s: 210 });
    expect(d.reconfigure({ window: 3 })).toBe(false);
  });

  it('icmp_flood: the per-second counts survive a lower rate; window needs a rebuild', () => {
    const d = new IcmpFlood(ICMP_FLOOD_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 300; i++) h.feed(echo(1000 + i * 0.001, `198.18.${i >> 8}.${i & 255}`));
    expect(d.reconfigure({ rate: 155 })).toBe(true); // 310 in 2 s
    for (let i = 300; i < 310; i++) h.feed(echo(1000 + i * 0.001, `198.18.${i >> 8}.${i & 255}`));
    expect(h.alerts).toHaveLength(1);
    expect(d.reconfigure({ window: 5 })).toBe(false);
  });

  it('volume_surge: a learned baseline survives new floors (a rebuilt detector would be learning for 5 minutes)', () => {
    const d = new VolumeSurge(VOLUME_SURGE_DEFAULTS);
    const h = harness(d);
    for (let b = 0; b < 31; b++) for (let i = 0; i < 10; i++) h.feed(syn(1000 + b * 10 + i, `10.9.0.${i + 1}`));
    // 40 messages in a bucket are 4x the baseline but below the default floor (200/s × 10 s): lower the floor
    expect(d.reconfigure({ minRate: 2 })).toBe(true);
    for (let i = 0; i < 40; i++) h.feed(syn(1310 + i * 0.1, '10.9.0.1'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ metric: 'messages', min_rate_per_s: 2 });
    expect((h.alerts[0]!.evidence as { learned_buckets: number }).learned_buckets).toBeGreaterThanOrEqual(30);
    expect(d.reconfigure({ bucket: 60 })).toBe(false);
  });
});

describe('reconfigure: baselines', () => {
  it('exfiltration: the bytes of the open bucket survive a lower first-seen floor; bucket needs a rebuild', () => {
    const d = new Exfiltration(EXFILTRATION_DEFAULTS, { homeNet: CidrSet.parse(['10.0.0.0/8']) });
    const h = harness(d);
    h.feed(conn(1000, { orig_bytes: 15 << 20 }));
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ firstSeenBytes: 16 << 20 })).toBe(true);
    h.feed(conn(1001, { orig_bytes: 2 << 20 }));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ rule: 'first_seen', peak_bucket_bytes: 17 << 20, connections: 2 });
    expect(d.reconfigure({ bucket: 30 })).toBe(false);
  });

  it('behavior_anomaly: learned host and population baselines survive a new threshold', () => {
    const d = new BehaviorAnomaly({ ...BEHAVIOR_ANOMALY_DEFAULTS, learnSeconds: 0, minObservations: 5, threshold: 1e9 });
    const h = harness(d);
    // a host browsing steadily (1 SYN per second for 100 s), then a burst of 60 SYNs to new ports
    for (let i = 0; i < 100; i++) h.feed(syn(1000 + i, '10.0.0.7', '198.51.100.20', 443));
    for (let i = 0; i < 60; i++) h.feed(syn(1100 + i * 0.01, '10.0.0.7', '198.51.100.21', 1000 + i));
    const peak = d.stats().max_score_x1000 / 1000;
    expect(peak).toBeGreaterThan(3);
    expect(d.reconfigure({ threshold: peak / 2 })).toBe(true);
    for (let i = 0; i < 60; i++) h.feed(syn(1101 + i * 0.01, '10.0.0.7', '198.51.100.22', 2000 + i));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ baseline: 'host', threshold: peak / 2 });
    expect((h.alerts[0]!.evidence as { host_samples: number }).host_samples).toBeGreaterThan(90);
  });

  it('beaconing: the beats so far survive a lower minConnections; a smaller maxIntervals keeps the latest', () => {
    const d = new Beaconing({ ...BEACONING_DEFAULTS, minConnections: 20 }, { homeNet: CidrSet.parse(['10.0.0.0/8']) });
    const h = harness(d);
    for (let i = 0; i < 12; i++) h.feed(syn(1000 + i * 10, '10.0.0.7', '198.51.100.9', 8080));
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ minConnections: 5, maxIntervals: 6 })).toBe(true);
    h.feed(syn(1120, '10.0.0.7', '198.51.100.9', 8080));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ connections: 13, intervals_used: 6, period_s: 10, span_s: 120 });
  });
});

describe('reconfigure: authentication, DNS and HTTP', () => {
  it('ssh_bruteforce: the failures so far survive a lower threshold', () => {
    const d = new SshBruteforce(SSH_BRUTEFORCE_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 15; i++) h.feed(auth(1000 + i, 'failure'));
    expect(d.reconfigure({ threshold: 16 })).toBe(true);
    h.feed(auth(1015, 'failure'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ failed_attempts: 16, threshold: 16 });
    // and a raised one: the ring of evidence times grows
    const d2 = new SshBruteforce(SSH_BRUTEFORCE_DEFAULTS);
    const h2 = harness(d2);
    for (let i = 0; i < 15; i++) h2.feed(auth(1000 + i, 'failure'));
    expect(d2.reconfigure({ threshold: 30 })).toBe(true);
    for (let i = 15; i < 29; i++) h2.feed(auth(1000 + i, 'failure'));
    expect(h2.alerts).toHaveLength(0);
    h2.feed(auth(1029, 'failure'));
    expect(h2.alerts).toHaveLength(1);
    expect(h2.alerts[0]!.evidence).toMatchObject({ failed_attempts: 30 });
  });

  it('ssh_login_after_bruteforce: the failures and a pending success survive a lower minFailures', () => {
    const d = new SshLoginAfterBruteforce(SSH_LOGIN_AFTER_BRUTEFORCE_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 8; i++) h.feed(auth(1000 + i, 'failure'));
    h.feed(auth(1009, 'success'));
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ minFailures: 8 })).toBe(true);
    h.feed(auth(1010, 'success'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ failures_before_success: 8, successes: 2 });
  });

  it('dns_tunnel: the distinct names so far survive a lower minUnique', () => {
    const d = new DnsTunnel(DNS_TUNNEL_DEFAULTS);
    const h = harness(d);
    const name = (i: number) => `${'x'.repeat(20)}${(i * 2654435761 >>> 0).toString(36)}q${i}.tun.example.com`;
    for (let i = 0; i < 40; i++) h.feed(dnsq(1000 + i, name(i), '10.0.0.7', 'TXT'));
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ minUnique: 41 })).toBe(true);
    h.feed(dnsq(1040, name(40), '10.0.0.7', 'TXT'));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ distinct_names: 41, min_unique: 41 });
  });

  it('dns_nxdomain_burst: the failed names so far survive a lower minDistinct', () => {
    const d = new DnsNxdomainBurst(DNS_NXDOMAIN_BURST_DEFAULTS);
    const h = harness(d);
    const dga = (i: number) => `q${(i * 7919).toString(36)}xkzv${i}.${['com', 'net', 'org', 'info', 'ru'][i % 5]}`;
    for (let i = 0; i < 40; i++) h.feed(nx(1000 + i, dga(i)));
    expect(d.reconfigure({ minDistinct: 41 })).toBe(true);
    h.feed(nx(1040, dga(40)));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ nxdomain_names: 41, min_distinct: 41 });
  });

  it('http_scan: the paths and answers so far survive a lower minPaths', () => {
    const d = new HttpScan(HTTP_SCAN_DEFAULTS);
    const h = harness(d);
    for (let i = 0; i < 40; i++) { const p = 41000 + Math.floor(i / 20); h.feed(req(1000 + i * 0.01, `/d${i}`, p), resp(1000 + i * 0.01 + 0.005, 404, p)); }
    expect(h.alerts).toHaveLength(0);
    expect(d.reconfigure({ minPaths: 41 })).toBe(true);
    h.feed(req(1001, '/d40', 41002), resp(1001.005, 404, 41002));
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.evidence).toMatchObject({ distinct_paths: 41, errors_4xx: 40, min_paths: 41 }); // judged at the request
  });

  it('threat_intel: hit records survive a new list; a list that cannot be loaded asks for a rebuild', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tw-reconf-'));
    try {
      const a = join(dir, 'a.txt'), b = join(dir, 'b.txt');
      writeFileSync(a, '198.51.100.66\n');
      writeFileSync(b, '198.51.100.77\n');
      const d = new ThreatIntel({ ...THREAT_INTEL_DEFAULTS, addressLists: [a] });
      const h = harness(d);
      h.feed(syn(1000, '10.0.0.7', '198.51.100.66'), syn(1001, '10.0.0.7', '198.51.100.77'));
      expect(h.alerts).toHaveLength(1);
      expect(d.reconfigure({ addressLists: [a, b] })).toBe(true);
      h.feed(syn(1002, '10.0.0.7', '198.51.100.66'), syn(1003, '10.0.0.7', '198.51.100.77'));
      expect(h.first()).toHaveLength(2); // the second indicator is new; the first is still suppressed (its record kept)
      d.flush(1004, h.emit);
      expect(h.alerts.find((x) => x.update && x.dst === '198.51.100.66')?.evidence).toMatchObject({ hits: 2 });
      expect(d.reconfigure({ addressLists: [join(dir, 'missing.txt')] })).toBe(false);
      expect(d.stats().address_entries).toBe(2); // the running index is untouched
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
