import { describe, it, expect } from 'vitest';
import { DnsTunnel, DNS_TUNNEL_DEFAULTS, shannon, type DnsTunnelConfig } from '../../../src/detect/dns-tunnel.js';
import { splitName } from '../../../src/detect/dns-name.js';
import type { DnsEvent } from '../../../src/events/types.js';
import type { Alert } from '../../../src/alerts/types.js';

function query(ts: number, qname: string, qtype = 'TXT', src = '10.1.1.5', dst = '10.1.1.53', port = 53): DnsEvent {
  return {
    ts, tsSec: Math.floor(ts), tsNsec: 0, tsDigits: 6, type: 'dns', src, sport: 50000, dst, dport: port, proto: 'udp',
    size: 40 + qname.length, id: 1, is_response: false, opcode: 0, qname, qtype, rcode: 'NOERROR', qdcount: 1, ancount: 0,
    answers: [], truncated: false,
  };
}

/** deterministic base32-looking payload labels, like iodine/dnscat */
let seed = 12345;
function rnd(): number { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; }
function encoded(len: number): string {
  const a = 'abcdefghijklmnopqrstuvwxyz234567';
  let s = '';
  for (let i = 0; i < len; i++) s += a[rnd() % 32];
  return s;
}
const tunnelName = (i: number): string => `${i.toString(16).padStart(4, '0')}${encoded(44)}.${encoded(30)}.t.evil-tunnel.com`;

function run(cfg: Partial<DnsTunnelConfig> = {}) {
  const d = new DnsTunnel({ ...DNS_TUNNEL_DEFAULTS, ...cfg });
  const alerts: Alert[] = [];
  const emit = (a: Alert): void => { alerts.push(a); };
  return { d, alerts, emit, feed: (e: DnsEvent) => { d.advance(e.ts, emit); d.onEvent(e, emit); } };
}

describe('dns_tunnel helpers', () => {
  it('approximates the registered domain as two labels, three under short second levels of country codes', () => {
    expect(splitName('a.b.example.com')).toEqual({ domain: 'example.com', sub: 'a.b' });
    expect(splitName('WWW.BBC.CO.UK.')).toEqual({ domain: 'bbc.co.uk', sub: 'www' });
    expect(splitName('x.y.example.com.au')).toEqual({ domain: 'example.com.au', sub: 'x.y' });
    expect(splitName('example.com')).toEqual({ domain: 'example.com', sub: '' });
    expect(splitName('foo.example.de')).toEqual({ domain: 'example.de', sub: 'foo' });
  });
  it('measures Shannon entropy in bits per character, ignoring dots', () => {
    expect(shannon('aaaa')).toBe(0);
    expect(shannon('ab.ab')).toBe(1);
    expect(shannon('0123456789abcdef')).toBe(4);
  });
});

describe('dns_tunnel', () => {
  it('stays silent at 49 distinct encoded names and alerts at the 50th', () => {
    const r = run();
    for (let i = 0; i < 49; i++) r.feed(query(1000 + i * 0.05, tunnelName(i)));
    expect(r.alerts).toHaveLength(0);
    r.feed(query(1003, tunnelName(49)));
    expect(r.alerts).toHaveLength(1);
    const a = r.alerts[0]!;
    expect(a).toMatchObject({ kind: 'dns_tunnel', src: '10.1.1.5', dst: '10.1.1.53', dport: 53, technique: 'T1071.004', severity: 'high' });
    expect(a.evidence).toMatchObject({ domain: 'evil-tunnel.com', distinct_names: 50, long_label_share: 1, high_entropy_share: 1, rare_type_share: 1 });
    expect(a.evidence.signs).toEqual(['long_labels', 'high_entropy', 'rare_query_types']);
    expect((a.evidence.sample_names as string[]).length).toBe(10);
  });

  it('needs two signs besides the distinct names: A-record queries with long random labels still alert, one sign alone does not', () => {
    const two = run();
    for (let i = 0; i < 50; i++) two.feed(query(1000 + i, tunnelName(i), 'A'));
    expect(two.alerts).toHaveLength(1);
    expect(two.alerts[0]!.evidence.signs).toEqual(['long_labels', 'high_entropy']);
    // one sign only: 60 distinct short random CDN-ish labels (entropy high, nothing long, type A, few bytes)
    const one = run();
    for (let i = 0; i < 60; i++) one.feed(query(1000 + i, `d${encoded(13)}.cloudfront.net`, 'A'));
    expect(one.alerts).toHaveLength(0);
  });

  it('does not fire on CDN and service names a browser resolves', () => {
    const r = run();
    const names = ['www', 'a', 'a1', 'a2', 'assets', 'games-ak', 'broadband', 'adsatt', 'streak', 'log', 'w88', 'static', 'img', 'api'];
    let t = 1000;
    for (let rep = 0; rep < 20; rep++) {
      for (const n of names) r.feed(query(t += 0.2, `${n}.espncdn.com`, 'A'));
      for (let i = 0; i < 5; i++) r.feed(query(t += 0.2, `r${i}---sn-4g5e6nsz.googlevideo.com`, 'AAAA'));
    }
    r.d.flush(t, r.emit);
    expect(r.alerts).toHaveLength(0);
  });

  it('counts one long name asked again and again as one name', () => {
    const r = run();
    const n = tunnelName(1);
    for (let i = 0; i < 500; i++) r.feed(query(1000 + i, n));
    expect(r.alerts).toHaveLength(0);
  });

  it('starts the window again when 300 s pass without an alert', () => {
    const r = run();
    for (let i = 0; i < 40; i++) r.feed(query(1000 + i, tunnelName(i)));
    for (let i = 40; i < 80; i++) r.feed(query(1301 + i, tunnelName(i))); // a new window: 40 again
    expect(r.alerts).toHaveLength(0);
  });

  it('ignores reverse look-ups, mDNS and allow-listed domains', () => {
    const r = run();
    for (let i = 0; i < 100; i++) {
      const nibbles = encoded(32).replace(/[^a-f0-9]/g, '0').split('').join('.');
      r.feed(query(1000 + i, `${nibbles}.ip6.arpa`, 'PTR'));
      r.feed(query(1000 + i, `${encoded(40)}._tcp.local`, 'TXT', '10.1.1.5', '224.0.0.251', 5353));
      r.feed(query(1000 + i, `${encoded(40)}.${encoded(20)}.sophosxl.net`, 'TXT'));
    }
    expect(r.alerts).toHaveLength(0);
  });

  it('alerts once per (client, domain) and sends the totals when the tunnel goes quiet', () => {
    const r = run();
    for (let i = 0; i < 200; i++) r.feed(query(1000 + i * 0.1, tunnelName(i)));
    expect(r.alerts).toHaveLength(1);
    const last = 1000 + 199 * 0.1;
    r.d.advance(last + 299.9, r.emit);
    expect(r.alerts).toHaveLength(1);
    r.d.advance(last + 300.5, r.emit);
    expect(r.alerts).toHaveLength(2);
    const u = r.alerts[1]!;
    expect(u).toMatchObject({ kind: 'dns_tunnel', src: '10.1.1.5', dst: '10.1.1.53', update: true });
    expect(u.evidence).toMatchObject({ queries: 200, episode_end: true });
    expect(u.evidence.distinct_names as number).toBeGreaterThan(180);
    expect(u.evidence.techniques).toEqual(['T1071.004', 'T1048']); // > 4 KiB carried in names
  });

  it('never alerts on allow-listed clients', () => {
    const r = run({ allow: ['10.1.1.0/24'] });
    for (let i = 0; i < 100; i++) r.feed(query(1000 + i, tunnelName(i)));
    expect(r.alerts).toHaveLength(0);
  });

  it('keeps at most maxKeys keys when a million clients each ask one name', () => {
    const r = run();
    for (let i = 0; i < 1_000_000; i++) {
      r.d.onEvent(query(1000 + i / 1000, `x${i}.example.com`, 'A', `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`), r.emit);
    }
    expect(r.d.stats().keys).toBeLessThanOrEqual(DNS_TUNNEL_DEFAULTS.maxKeys);
    expect(r.d.stats().keys_evicted).toBe(1_000_000 - DNS_TUNNEL_DEFAULTS.maxKeys);
  }, 240_000);

  it('bounds one key however many distinct names it sees', () => {
    const r = run();
    for (let i = 0; i < 100_000; i++) r.d.onEvent(query(1000 + i / 1000, tunnelName(i)), r.emit);
    expect(r.alerts).toHaveLength(1);
    r.d.flush(1100, r.emit);
    const n = r.alerts[1]!.evidence.distinct_names as number;
    expect(Math.abs(n - 100_000) / 100_000).toBeLessThan(0.1); // HyperLogLog estimate in 1 KiB
    expect(r.alerts[1]!.evidence.distinct_exact).toBe(false);
  });
});
