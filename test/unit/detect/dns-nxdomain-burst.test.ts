import { describe, it, expect } from 'vitest';
import { DnsNxdomainBurst, DNS_NXDOMAIN_BURST_DEFAULTS, type DnsNxdomainBurstConfig } from '../../../src/detect/dns-nxdomain-burst.js';
import type { DnsEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

/** a response from the resolver to the client (client = dst) */
function answer(ts: number, qname: string, rcode = 'NXDOMAIN', client = '10.1.1.5', resolver = '10.1.1.53', isResponse = true): DnsEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'dns', src: resolver, sport: 53, dst: client, dport: 50000,
    proto: 'udp', size: 60, id: 7, is_response: isResponse, opcode: 0, qname, qtype: 'A', rcode, qdcount: 1,
    ancount: rcode === 'NOERROR' ? 1 : 0, answers: [], truncated: false,
  };
}
const dga = (i: number): string => `q${(i * 7919).toString(36)}xkzv${i}.${['com', 'net', 'org', 'info', 'ru'][i % 5]}`;

function run(cfg: Partial<DnsNxdomainBurstConfig> = {}) {
  const d = new DnsNxdomainBurst({ ...DNS_NXDOMAIN_BURST_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert): void => { alerts.push(a); };
  return { d, alerts, emit, feed: (e: DnsEvent) => { d.advance(e.ts, emit); d.onEvent(e, emit); } };
}

describe('dns_nxdomain_burst', () => {
  it('stays silent at 49 distinct NXDOMAIN names and alerts at the 50th, naming the client (the response destination)', () => {
    const r = run();
    for (let i = 0; i < 49; i++) r.feed(answer(1000 + i, dga(i)));
    expect(r.alerts).toHaveLength(0);
    r.feed(answer(1049, dga(49)));
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({ kind: 'dns_nxdomain_burst', src: '10.1.1.5', dst: '10.1.1.53', dport: 53, technique: 'T1568.002' });
    expect(r.alerts[0]!.evidence).toMatchObject({ nxdomain_names: 50, nxdomain_domains: 50, nxdomain_ratio: 1 });
  });

  it('needs NXDOMAIN to be at least half of the client\'s answers', () => {
    const busy = run();
    for (let i = 0; i < 51; i++) busy.feed(answer(1000 + i, `host${i}.corp.example`, 'NOERROR'));
    busy.feed(answer(1051, dga(0))); // starts the client's window: NX first
    const mixed = run();
    mixed.feed(answer(1000, dga(0)));
    for (let i = 0; i < 51; i++) mixed.feed(answer(1001 + i * 0.5, `host${i}.corp.example`, 'NOERROR'));
    for (let i = 1; i < 50; i++) mixed.feed(answer(1030 + i, dga(i))); // 50 NX of 101 answers: ratio 0.495
    expect(mixed.alerts).toHaveLength(0);
    mixed.feed(answer(1080, dga(50))); // 51 of 102 = 0.5
    expect(mixed.alerts).toHaveLength(1);
  });

  it('does not take failures under one domain (search-list expansion, a tunnel) for a DGA', () => {
    const r = run();
    for (let i = 0; i < 300; i++) r.feed(answer(1000 + i * 0.1, `${i}abcdef${i}.t.exfil.test`));
    for (let i = 0; i < 100; i++) r.feed(answer(1040 + i * 0.1, `server${i}.corp.example.com.corp.example.com`));
    expect(r.alerts).toHaveLength(0);
  });

  it('ignores queries, reverse look-ups and names under allowDomains', () => {
    const r = run({ allowDomains: ['sinkhole.example'] });
    for (let i = 0; i < 100; i++) {
      r.feed(answer(1000 + i, dga(i), 'NXDOMAIN', '10.1.1.5', '10.1.1.53', false));
      r.feed(answer(1000 + i, `${i}.${i % 250}.168.192.in-addr.arpa`));
      r.feed(answer(1000 + i, `x${i}.y${i}.sinkhole.example`));
    }
    expect(r.alerts).toHaveLength(0);
  });

  it('starts the window again after 300 s without an alert', () => {
    const r = run();
    for (let i = 0; i < 40; i++) r.feed(answer(1000 + i, dga(i)));
    for (let i = 40; i < 80; i++) r.feed(answer(1301 + i, dga(i)));
    expect(r.alerts).toHaveLength(0);
  });

  it('alerts once per burst and sends the totals after 300 s without NXDOMAIN, even while the client resolves normally', () => {
    const r = run();
    for (let i = 0; i < 120; i++) r.feed(answer(1000 + i * 0.5, dga(i)));
    expect(r.alerts).toHaveLength(1);
    for (let i = 0; i < 40; i++) r.feed(answer(1060 + i * 10, 'www.example.com', 'NOERROR'));
    expect(r.alerts).toHaveLength(2);
    expect(r.alerts[1]).toMatchObject({ update: true, src: '10.1.1.5', dst: '10.1.1.53' });
    expect(r.alerts[1]!.evidence).toMatchObject({ nxdomain_names: 120, episode_end: true });
  });

  it('stays silent for a client with a few typos among normal look-ups', () => {
    const r = run();
    for (let i = 0; i < 1000; i++) r.feed(answer(1000 + i, i % 50 === 0 ? `typo${i}.example.com` : `www${i % 20}.example.org`, i % 50 === 0 ? 'NXDOMAIN' : 'NOERROR'));
    r.d.flush(2000, r.emit);
    expect(r.alerts).toHaveLength(0);
  });

  it('keeps at most maxClients clients when a million clients each get one NXDOMAIN', () => {
    const r = run();
    for (let i = 0; i < 1_000_000; i++) {
      r.d.onEvent(answer(1000 + i / 1000, dga(i), 'NXDOMAIN', `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`), r.emit);
    }
    expect(r.d.stats().clients).toBeLessThanOrEqual(DNS_NXDOMAIN_BURST_DEFAULTS.maxClients);
    expect(r.d.stats().clients_evicted).toBe(1_000_000 - DNS_NXDOMAIN_BURST_DEFAULTS.maxClients);
  }, 240_000);
});
