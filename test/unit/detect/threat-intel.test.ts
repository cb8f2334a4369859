import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, utimesSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThreatIntel, THREAT_INTEL_DEFAULTS, ListFileError, buildIndex, parseIpv6, type ThreatIntelConfig } from '../../../src/detect/threat-intel.js';
import { CidrError } from '../../../src/util/cidr.js';
import type { NetEvent, TcpSynEvent, DnsEvent, HttpRequestEvent, DnsAnswer } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'tw-ti-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p; };

const base = (ts: number) => ({ ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6 as const });
const syn = (ts: number, src: string, dst: string, dport = 443): TcpSynEvent => ({ ...base(ts), type: 'tcp_syn', src, sport: 40000, dst, dport, proto: 'tcp', size: 74 });
function dns(ts: number, client: string, qname: string, response = false, answers: DnsAnswer[] = []): DnsEvent {
  return {
    ...base(ts), type: 'dns', src: response ? '10.0.0.53' : client, sport: response ? 53 : 50000, dst: response ? client : '10.0.0.53',
    dport: response ? 50000 : 53, proto: 'udp', size: 60, id: 1, is_response: response, opcode: 0, qname, qtype: 'A',
    rcode: 'NOERROR', qdcount: 1, ancount: answers.length, answers, truncated: false,
  };
}
const http = (ts: number, src: string, dst: string, host: string | null): HttpRequestEvent => ({
  ...base(ts), type: 'http_request', src, sport: 40001, dst, dport: 80, proto: 'tcp', size: 100, method: 'GET', host, uri: '/', version: '1.1', user_agent: null,
});

function make(over: Partial<ThreatIntelConfig>) {
  const d = new ThreatIntel({ ...THREAT_INTEL_DEFAULTS, ...over });
  const alerts: Alert[] = [];
  const emit = (a: Alert) => alerts.push(a);
  const feed = (evs: NetEvent[]) => { for (const e of evs) { d.advance(e.ts, emit); d.onEvent(e, emit); } };
  return { d, alerts, emit, feed };
}

describe('threat_intel: list files', () => {
  it('reads entries with comments, blank lines, Spamhaus-style ";" notes and hosts-file lines; skips and counts bad ones', () => {
    const a = file('a1.txt', '# feed\n\n203.0.113.0/24 ; SBL1\n198.51.100.7   # c2\n2001:db8:bad::/48\nnot-an-ip\n');
    const dm = file('d1.txt', '# domains\nevil.com\n0.0.0.0 tracker.example\n*.wild.example\n.dot.example\nbad/name.example\n');
    const { index, files } = buildIndex([a], [dm]);
    expect(index.addresses).toBe(3);
    expect(index.domains.size).toBe(4);
    expect(files.map((f) => [f.entries, f.invalid])).toEqual([[3, 1], [4, 1]]);
  });

  it('a missing list file is a configuration error naming the file (a CidrError: the CLI exits 2 with one line)', () => {
    const p = join(dir, 'nope.txt');
    expect(() => make({ addressLists: [p] })).toThrow(ListFileError);
    expect(() => make({ addressLists: [p] })).toThrow(`detectors.threat_intel.addressLists: ${p}: no such file`);
    expect(() => make({ domainLists: [p] })).toThrow(/domainLists: .*nope.txt: no such file/);
    expect(new ListFileError('x')).toBeInstanceOf(CidrError);
    const sub = join(dir, 'adir'); mkdirSync(sub);
    expect(() => make({ domainLists: [sub] })).toThrow(/is a directory/);
  });

  it('a file with lines but no valid entry (e.g. a domain list given as an address list) is an error', () => {
    const dm = file('d2.txt', 'evil.com\nbad.example\n');
    expect(() => make({ addressLists: [dm] })).toThrow(/d2.txt: no valid address or CIDR entry \(first bad one: "evil.com"\)/);
    const empty = file('empty.txt', '# nothing yet\n\n');
    expect(() => make({ addressLists: [empty] })).not.toThrow();
  });

  it('parses IPv6 text forms', () => {
    expect(parseIpv6('::1')).toBe(1n);
    expect(parseIpv6('2001:db8::')).toBe(0x20010db8n << 96n);
    expect(parseIpv6('::ffff:1.2.3.4')).toBe((0xffffn << 32n) | 0x01020304n);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    for (const bad of ['1::2::3', '1:2:3', '12345::', ':', 'g::1', '1:2:3:4:5:6:7:8:9']) expect(parseIpv6(bad)).toBeNull();
  });
});

describe('threat_intel: matching', () => {
  it('matches a listed address as destination and as source, CIDR edges included, most specific entry reported', () => {
    const a = file('a2.txt', '203.0.113.0/24\n203.0.113.128/25\n198.51.100.7\n');
    const { alerts, feed } = make({ addressLists: [a] });
    feed([
      syn(1, '10.0.0.5', '203.0.113.0'), syn(2, '10.0.0.6', '203.0.113.255'), syn(3, '10.0.0.7', '203.0.114.0'),
      syn(4, '198.51.100.7', '10.0.0.8', 22), syn(5, '10.0.0.9', '198.51.100.8'),
    ]);
    expect(alerts.map((x) => [x.src, x.dst, (x.evidence as { indicator: string }).indicator, (x.evidence as { field: string }).field])).toEqual([
      ['10.0.0.5', '203.0.113.0', '203.0.113.0/24', 'dst'],
      ['10.0.0.6', '203.0.113.255', '203.0.113.128/25', 'dst'],
      ['198.51.100.7', '10.0.0.8', '198.51.100.7', 'src'],
    ]);
    expect(alerts[0]).toMatchObject({ kind: 'threat_intel', severity: 'high', technique: 'T1071', dport: 443 });
    expect(alerts[0]!.evidence).toMatchObject({ list: a, host: '10.0.0.5', match: 'cidr' });
    expect(alerts[2]!.evidence).toMatchObject({ host: '10.0.0.8', match: 'exact' });
  });

  it('matches IPv6 prefixes', () => {
    const a = file('a3.txt', '2001:db8:dead::/48\n');
    const { alerts, feed } = make({ addressLists: [a] });
    feed([syn(1, 'fd00::5', '2001:db8:dead:1::9'), syn(2, 'fd00::5', '2001:db8:beef::9')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.evidence).toMatchObject({ indicator: '2001:db8:dead::/48', field: 'dst' });
  });

  it('matches DNS names exactly and by parent domain, case and trailing dot ignored, not by a mere suffix string', () => {
    const dm = file('d3.txt', 'evil.com\n');
    const { alerts, feed } = make({ domainLists: [dm] });
    feed([dns(1, '10.0.0.5', 'evil.com'), dns(2, '10.0.0.6', 'A.B.Evil.COM.'), dns(3, '10.0.0.7', 'notevil.com'), dns(4, '10.0.0.8', 'evil.com.au')]);
    expect(alerts.map((x) => [x.src, (x.evidence as { match: string }).match])).toEqual([['10.0.0.5', 'exact'], ['10.0.0.6', 'parent_domain']]);
    expect(alerts[1]!.evidence).toMatchObject({ indicator: 'evil.com', field: 'dns.qname', value: 'A.B.Evil.COM.' });
    expect(alerts[0]!.confidence).toBe(0.9);
    expect(alerts[1]!.confidence).toBe(0.8);
  });

  it('matches DNS answers (addresses and CNAME targets), attributed to the client', () => {
    const a = file('a4.txt', '203.0.113.66\n');
    const dm = file('d4.txt', 'cdn-evil.net\n');
    const { alerts, feed } = make({ addressLists: [a], domainLists: [dm] });
    feed([dns(1, '10.0.0.5', 'innocent.example', true, [
      { name: 'innocent.example', type: 'CNAME', ttl: 60, data: 'x.cdn-evil.net' },
      { name: 'x.cdn-evil.net', type: 'A', ttl: 60, data: '203.0.113.66' },
    ])]);
    expect(alerts.map((x) => [(x.evidence as { field: string }).field, (x.evidence as { indicator: string }).indicator, (x.evidence as { host: string }).host]))
      .toEqual([['dns.answer', 'cdn-evil.net', '10.0.0.5'], ['dns.answer', '203.0.113.66', '10.0.0.5']]);
  });

  it('matches HTTP Host headers with or without a port, and address literals against the address lists', () => {
    const a = file('a5.txt', '192.0.2.0/24\n');
    const dm = file('d5.txt', 'evil.com\n');
    const { alerts, feed } = make({ addressLists: [a], domainLists: [dm] });
    feed([http(1, '10.0.0.5', '10.9.9.9', 'www.evil.com:8080'), http(2, '10.0.0.6', '10.9.9.9', '192.0.2.10:80'), http(3, '10.0.0.7', '10.9.9.9', 'fine.example'), http(4, '10.0.0.8', '10.9.9.9', null)]);
    expect(alerts.map((x) => [(x.evidence as { field: string }).field, (x.evidence as { value: string }).value])).toEqual([['http.host', 'www.evil.com'], ['http.host', '192.0.2.10']]);
  });

  it('stays silent without lists and on traffic that matches nothing', () => {
    const none = make({});
    const dm = file('d6.txt', 'evil.com\n');
    const some = make({ domainLists: [dm] });
    const evs = [syn(1, '10.0.0.5', '93.184.216.34'), dns(2, '10.0.0.5', 'www.wikipedia.org'), http(3, '10.0.0.5', '93.184.216.34', 'example.com')];
    none.feed(evs); some.feed(evs);
    none.d.flush(10, none.emit); some.d.flush(10, some.emit);
    expect(none.alerts).toHaveLength(0);
    expect(some.alerts).toHaveLength(0);
  });
});

describe('threat_intel: one alert per (indicator, host)', () => {
  it('folds repeats within the suppression interval, alerts a second host separately, and again after the interval', () => {
    const a = file('a6.txt', '203.0.113.9\n');
    const { alerts, feed } = make({ addressLists: [a], suppress: 3600, idleTimeout: 1e9 });
    feed([syn(1, '10.0.0.5', '203.0.113.9'), syn(2, '10.0.0.5', '203.0.113.9', 80), syn(3, '10.0.0.6', '203.0.113.9'), syn(3600, '10.0.0.5', '203.0.113.9')]);
    expect(alerts.filter((x) => !x.update).map((x) => x.src)).toEqual(['10.0.0.5', '10.0.0.6']);
    feed([syn(3601, '10.0.0.5', '203.0.113.9')]); // 3600 s after the first alert: a new window
    const firsts = alerts.filter((x) => !x.update);
    expect(firsts.map((x) => x.src)).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.5']);
    // the old window's count went out as an update before the new alert
    expect(alerts.find((x) => x.update)).toMatchObject({ src: '10.0.0.5', evidence: { hits: 3 } });
  });

  it('a DNS lookup and the HTTP request that follows are one (indicator, host): one alert', () => {
    const dm = file('d7.txt', 'evil.com\n');
    const { alerts, feed } = make({ domainLists: [dm] });
    feed([dns(1, '10.0.0.5', 'www.evil.com'), http(2, '10.0.0.5', '203.0.113.9', 'www.evil.com')]);
    expect(alerts).toHaveLength(1);
  });

  it('ends an episode after idleTimeout with an update carrying the hit count', () => {
    const a = file('a7.txt', '203.0.113.9\n');
    const { d, alerts, emit, feed } = make({ addressLists: [a], idleTimeout: 300 });
    feed([syn(1, '10.0.0.5', '203.0.113.9'), syn(10, '10.0.0.5', '203.0.113.9'), syn(20, '10.0.0.5', '203.0.113.9')]);
    d.advance(320, emit);
    expect(alerts).toHaveLength(1);
    d.advance(321, emit);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ update: true, ts_first: 1, ts_last: 20, evidence: { hits: 3 } });
    d.flush(400, emit);
    expect(alerts).toHaveLength(2);
  });

  it('keeps at most maxHits records under a million distinct hosts hitting a listed range', () => {
    const a = file('a8.txt', '203.0.113.0/24\n');
    const d = new ThreatIntel({ ...THREAT_INTEL_DEFAULTS, addressLists: [a], maxHits: 1000 });
    let n = 0;
    const emit = () => { n++; };
    for (let i = 0; i < 1_000_000; i++) d.onEvent(syn(1 + i / 1e4, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '203.0.113.9'), emit);
    expect(d.stats().hit_records).toBe(1000);
    expect(d.stats().hit_records_evicted).toBe(999_000);
    expect(d.stats().episodes_open).toBeLessThanOrEqual(2000);
    expect(n).toBe(1_000_000); // one per host: each is a distinct (indicator, host)
  });
});

describe('threat_intel: reload', () => {
  it('re-reads a changed list on packet time, at most every reloadCheck seconds', () => {
    const dm = file('d8.txt', 'old.example\n');
    const { d, alerts, feed } = make({ domainLists: [dm], reloadCheck: 60 });
    feed([dns(1000, '10.0.0.5', 'new.example')]);
    expect(alerts).toHaveLength(0);
    writeFileSync(dm, 'old.example\nnew.example\n');
    utimesSync(dm, new Date(), new Date(Date.now() + 5000));
    feed([dns(1030, '10.0.0.5', 'new.example')]); // < 60 s since the last check: not re-read yet
    expect(alerts).toHaveLength(0);
    feed([dns(1061, '10.0.0.5', 'new.example')]);
    expect(alerts).toHaveLength(1);
    expect(d.stats()).toMatchObject({ reloads: 1, domain_entries: 2 });
  });

  it('reload() (what SIGHUP calls) re-reads now; a failed reload keeps the old index and says why', () => {
    const a = file('a9.txt', '203.0.113.9\n');
    const { d, alerts, feed } = make({ addressLists: [a] });
    writeFileSync(a, '203.0.113.9\n198.51.100.0/24\n');
    expect(d.reload()).toEqual({ ok: true, addresses: 2, domains: 0 });
    feed([syn(1, '10.0.0.5', '198.51.100.1')]);
    expect(alerts).toHaveLength(1);
    rmSync(a);
    const r = d.reload();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/a9.txt: no such file/);
    feed([syn(2, '10.0.0.6', '198.51.100.1')]);
    expect(alerts).toHaveLength(2); // old index still in use
    expect(d.stats()).toMatchObject({ reload_errors: 1 });
  });
});

describe('threat_intel: scale', () => {
  it('builds 300k domains and 300k CIDRs in under 2 s and matches in O(labels)', () => {
    const doms: string[] = [], cidrs: string[] = [];
    for (let i = 0; i < 300_000; i++) {
      doms.push(`host${i}.bad${i % 977}.example`);
      cidrs.push(`${(i >> 14) + 20}.${(i >> 6) & 255}.${(i & 63) << 2}.0/${22 + (i % 3)}`);
    }
    const dp = file('big-d.txt', doms.join('\n'));
    const ap = file('big-a.txt', cidrs.join('\n'));
    // CPU time, not wall time: the build is measured, not the machine's other load
    const c0 = process.cpuUsage();
    const { index } = buildIndex([ap], [dp]);
    const c1 = process.cpuUsage(c0);
    expect((c1.user + c1.system) / 1000).toBeLessThan(2000);
    expect(index.domains.size).toBe(300_000);
    const c2 = process.cpuUsage();
    let hits = 0;
    for (let i = 0; i < 200_000; i++) {
      if (index.matchDomain(`a.b.host${i}.bad${i % 977}.example`) >= 0) hits++;
      if (index.matchDomain(`x${i}.unlisted.example.org`) >= 0) hits += 100;
      if (index.matchAddress(`${(i >> 14) + 20}.${(i >> 6) & 255}.${(i & 63) << 2}.7`) >= 0) hits++;
    }
    const c3 = process.cpuUsage(c2);
    expect(hits).toBe(400_000);
    expect((c3.user + c3.system) / 1000).toBeLessThan(2000); // 600k lookups
  });
});
